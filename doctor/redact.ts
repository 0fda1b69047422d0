/**
 * Secrets never leave the doctor: cookies, Access service-token credentials,
 * Access JWTs and Authorization values are replaced before anything is printed.
 */
import type { HeaderField } from "./cors-check";

export const REDACTED = "[redacted]";

/** Header and query-parameter names whose values are secrets, compared without case, `-` or `_`. */
const SECRET_NAMES = [
  "cookie",
  "set-cookie",
  "authorization",
  "proxy-authorization",
  "cf-access-client-secret",
  "cf-access-client-id",
  "cf-access-jwt-assertion",
  "cf-access-token",
  "cf_authorization",
  "cf_appsession",
  "token",
  "access_token",
  "id_token",
];

function normalise(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, "");
}

const SECRET_SET = new Set(SECRET_NAMES.map(normalise));

export function isSecretName(name: string): boolean {
  return SECRET_SET.has(normalise(name));
}

/** Three base64url segments: a JWT, whatever header or parameter carries it. */
const JWT_PATTERN = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;

export function redactHeaders(headers: HeaderField[]): HeaderField[] {
  return headers.map((h) => ({
    name: h.name,
    value: isSecretName(h.name) ? REDACTED : redactText(h.value),
  }));
}

/** Blanks the values of secret query parameters; the URL otherwise reads as it was. */
export function redactUrl(raw: string): string {
  const q = raw.indexOf("?");
  if (q < 0) return redactText(raw);
  const hashAt = raw.indexOf("#", q);
  const query = raw.slice(q + 1, hashAt < 0 ? undefined : hashAt);
  const rest = hashAt < 0 ? "" : raw.slice(hashAt);
  const params = query.split("&").map((pair) => {
    const eq = pair.indexOf("=");
    if (eq < 0) return pair;
    const name = safeDecode(pair.slice(0, eq));
    return isSecretName(name) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
  });
  return redactText(`${raw.slice(0, q)}?${params.join("&")}${rest}`);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return s;
  }
}

/** Removes anything shaped like a JWT from free text. */
export function redactText(text: string): string {
  return text.replace(JWT_PATTERN, REDACTED);
}

/**
 * Last line of defence: removes every known secret value (and its URL-encoded
 * form) from a finished output, whatever path it took to get there.
 */
export function scrub(text: string, secrets: Iterable<string>): string {
  let out = redactText(text);
  const values = [...new Set(secrets)].filter((s) => s.length >= 4);
  // Longest first, so a secret that contains another is removed whole.
  values.sort((a, b) => b.length - a.length);
  for (const value of values) {
    for (const form of new Set([
      value,
      encodeURIComponent(value),
      JSON.stringify(value).slice(1, -1),
    ])) {
      out = out.split(form).join(REDACTED);
    }
  }
  return out;
}

/** Secret values in a header list: whole values and each cookie's value. */
export function secretsInHeaders(headers: HeaderField[]): string[] {
  const out: string[] = [];
  for (const h of headers) {
    if (!isSecretName(h.name)) continue;
    out.push(h.value);
    const lower = h.name.toLowerCase();
    if (lower === "cookie" || lower === "set-cookie") {
      const pairs = lower === "cookie" ? h.value.split(";") : [h.value.split(";")[0] ?? ""];
      for (const pair of pairs) {
        const eq = pair.indexOf("=");
        if (eq >= 0) out.push(pair.slice(eq + 1).trim());
      }
    }
    const bearer = /^\s*\w+\s+(.+)$/.exec(h.value);
    if (lower.endsWith("authorization") && bearer?.[1] !== undefined) out.push(bearer[1]);
  }
  return out.filter((s) => s.length > 0);
}

/** Secret values in a URL's query string. */
export function secretsInUrl(raw: string): string[] {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const [name, value] of url.searchParams) {
    if (isSecretName(name) && value.length > 0) out.push(value);
  }
  return out;
}
