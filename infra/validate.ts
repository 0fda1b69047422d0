/**
 * Pure validators for the stack's config. Each returns either the normalised
 * value or a sentence saying what is wrong, so the caller can collect every
 * problem and report them all at once, before anything is declared.
 */
import { quote, type Checked } from "../worker/src/env";
import { corsMethods } from "./cloudflare";

// The route prefix's check and the value type are the Worker's binding module's,
// so the program, the Worker and the doctor hold one definition of each.
export { checkRoutePrefix, quote, type Checked } from "../worker/src/env";

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const bad = <T>(problem: string): Checked<T> => ({ ok: false, problem });

/** The request methods Access accepts in an application's CORS settings: the provider's own list. */
export const accessCorsMethods = corsMethods;

function looksLikeUrl(value: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) || value.includes("/");
}

const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * A DNS hostname with at least two labels; lower-cased, and a fully qualified
 * name's trailing dot dropped; not an IP address or URL.
 */
export function checkHostname(value: unknown): Checked<string> {
  if (typeof value !== "string" || value.trim() === "")
    return bad("must be a hostname, e.g. api.example.com");
  const host = value
    .trim()
    .toLowerCase()
    .replace(/(?<=[a-z0-9])\.$/, "");
  if (looksLikeUrl(host)) {
    return bad(
      `must be a hostname only, without scheme or path (e.g. api.example.com), got ${quote(value)}`,
    );
  }
  const labels = host.split(".");
  const tld = labels[labels.length - 1] ?? "";
  if (
    host.length > 253 ||
    labels.length < 2 ||
    !labels.every((l) => label.test(l)) ||
    /^[0-9]+$/.test(tld)
  ) {
    return bad(`must be a hostname like api.example.com, got ${quote(value)}`);
  }
  return ok(host);
}

/** `<team>.cloudflareaccess.com`, the Zero Trust team domain that issues the Access JWTs. */
export function checkTeamDomain(value: unknown): Checked<string> {
  if (typeof value !== "string" || value.trim() === "") {
    return bad("must be your team domain, <team>.cloudflareaccess.com");
  }
  const host = value.trim().toLowerCase();
  if (looksLikeUrl(host)) {
    return bad(
      `must be the team domain only, without scheme or path (<team>.cloudflareaccess.com), got ${quote(value)}`,
    );
  }
  if (!/^(?!-)[a-z0-9-]{1,63}(?<!-)\.cloudflareaccess\.com$/.test(host)) {
    return bad(`must be <team>.cloudflareaccess.com, got ${quote(value)}`);
  }
  return ok(host);
}

/**
 * A Cloudflare account or zone id. Real ids are 32 hex characters, but only
 * what is clearly not an id (a URL, an email, a name with spaces) is refused
 * here: placeholder ids in examples and tests must still run.
 */
export function checkCloudflareId(value: unknown): Checked<string> {
  if (typeof value !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(value.trim())) {
    return bad(
      `must be a Cloudflare id (32 hex characters, from the dashboard's Overview page), got ${quote(value)}`,
    );
  }
  return ok(value.trim());
}

/**
 * An origin as browsers send it: `scheme://host[:port]`, nothing after. A
 * trailing slash is dropped and scheme/host lower-cased, since that is clearly
 * what was meant; `*` passes through for the caller to treat as "all origins".
 */
export function checkOrigin(value: unknown): Checked<string> {
  if (typeof value !== "string")
    return bad(`must be an origin like https://app.example.com, got ${quote(value)}`);
  const raw = value.trim();
  if (raw === "*") return ok("*");
  const match = /^(https?):\/\/([^/:?#]+)(?::(\d{1,5}))?\/?$/i.exec(raw);
  if (!match) {
    return bad(
      `must be an origin scheme://host[:port] with no path, e.g. https://app.example.com, got ${quote(value)}`,
    );
  }
  const [, scheme, host, port] = match;
  const checkedHost = checkHostname(host);
  const isLocal = host?.toLowerCase() === "localhost";
  if (!checkedHost.ok && !isLocal) {
    return bad(`must be an origin scheme://host[:port] with a valid host, got ${quote(value)}`);
  }
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    return bad(`has a port outside 1..65535, got ${quote(value)}`);
  }
  const hostPart = checkedHost.ok ? checkedHost.value : "localhost";
  return ok(
    `${scheme!.toLowerCase()}://${hostPart}${port !== undefined ? `:${Number(port)}` : ""}`,
  );
}

/** An HTTP method from the set Access accepts; lower case is upper-cased. */
export function checkMethod(value: unknown): Checked<string> {
  if (typeof value !== "string") return bad(`must be an HTTP method, got ${quote(value)}`);
  const method = value.trim().toUpperCase();
  if (method === "*") return ok("*");
  if (!(accessCorsMethods as readonly string[]).includes(method)) {
    return bad(`${quote(value)} is not a method Access accepts (${accessCorsMethods.join(", ")})`);
  }
  return ok(method);
}

/** A header field name: an RFC 9110 token (section 5.1). */
export function checkHeaderName(value: unknown): Checked<string> {
  if (typeof value !== "string") return bad(`must be a header name, got ${quote(value)}`);
  const name = value.trim();
  if (name === "*") return ok("*");
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
    return bad(`${quote(value)} is not a valid header name`);
  }
  return ok(name.toLowerCase());
}

/** An email address whose domain part is a hostname. */
export function checkEmail(value: unknown): Checked<string> {
  if (typeof value !== "string") return bad(`must be an email address, got ${quote(value)}`);
  const email = value.trim();
  const at = email.lastIndexOf("@");
  const local = email.slice(0, at);
  if (at < 1 || /[\s@]/.test(local) || !checkHostname(email.slice(at + 1)).ok) {
    return bad(`${quote(value)} is not an email address`);
  }
  return ok(`${local}@${email.slice(at + 1).toLowerCase()}`);
}

/** An email domain such as example.com; a leading `@` is dropped. */
export function checkEmailDomain(value: unknown): Checked<string> {
  if (typeof value !== "string") return bad(`must be an email domain, got ${quote(value)}`);
  const domain = value.trim().replace(/^@/, "");
  const host = checkHostname(domain);
  return host.ok ? host : bad(`${quote(value)} is not an email domain like example.com`);
}

/** A Go duration (`300ms`, `2h45m`), the format Access uses for session and token lifetimes. */
export function checkDuration(value: unknown): Checked<string> {
  if (typeof value !== "string" || !/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(value.trim())) {
    return bad(
      `must be a duration like 24h or 30m (units ns, us, ms, s, m, h), got ${quote(value)}`,
    );
  }
  const duration = value.trim();
  if (!/[1-9]/.test(duration.replace(/(ns|us|µs|ms|s|m|h)/g, ""))) {
    return bad(`must be longer than zero, got ${quote(value)}`);
  }
  return ok(duration);
}

/** A whole number within bounds; numeric strings are accepted, as config arrives as text. */
export function checkInteger(value: unknown, min: number, max: number): Checked<number> {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    return bad(`must be an integer ${range}, got ${quote(value)}`);
  }
  return ok(n);
}

/**
 * A share of requests: above 0 and at most 1. Cloudflare takes 0 to 1; 0
 * would keep no log at all, which `workerLogs: false` says plainly.
 * Numeric strings are accepted, as config arrives as text.
 */
export function checkRate(value: unknown): Checked<number> {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n) || n <= 0 || n > 1) {
    return bad(
      `must be a number above 0 and at most 1 (0.1 keeps one in ten), got ${quote(value)}`,
    );
  }
  return ok(n);
}

/**
 * An Analytics Engine dataset, or "" for none. The name is the table the SQL
 * API queries (`FROM <dataset>`); Cloudflare's own names use letters, digits,
 * `_` and `-` (`some_dataset`, `example-dataset`), and anything else (a
 * space, a quote, a dot) could not stand in a query's FROM clause as written.
 */
export function checkDatasetName(value: unknown): Checked<string> {
  if (value === undefined || value === null) return ok("");
  const name = typeof value === "string" ? value.trim() : undefined;
  if (name === "") return ok("");
  if (name === undefined || !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) {
    return bad(
      `must be an Analytics Engine dataset name (letters, digits, _ and -, starting with a letter or _), got ${quote(value)}`,
    );
  }
  return ok(name);
}

/** `true` or `false`, as a boolean or as text. */
export function checkBoolean(value: unknown): Checked<boolean> {
  if (value === true || value === "true") return ok(true);
  if (value === false || value === "false") return ok(false);
  return bad(`must be true or false, got ${quote(value)}`);
}

/** One of a fixed set of words. */
export function checkOneOf<T extends string>(value: unknown, allowed: readonly T[]): Checked<T> {
  if (typeof value === "string" && (allowed as readonly string[]).includes(value.trim())) {
    return ok(value.trim() as T);
  }
  return bad(`must be one of ${allowed.map((a) => `"${a}"`).join(" or ")}, got ${quote(value)}`);
}

/**
 * A list of strings. Config arrives as JSON text; a bare comma-separated
 * string is accepted too, since that is what `pulumi config set` gives.
 */
export function checkStringList(value: unknown): Checked<string[]> {
  let list = value;
  if (typeof value === "string") {
    const text = value.trim();
    if (text.startsWith("[")) {
      try {
        list = JSON.parse(text);
      } catch {
        return bad(`must be a JSON list of strings, got ${quote(value)}`);
      }
    } else {
      list = text === "" ? [] : text.split(",").map((s) => s.trim());
    }
  }
  if (!Array.isArray(list) || !list.every((item) => typeof item === "string")) {
    return bad(`must be a list of strings, got ${quote(value)}`);
  }
  return ok(list as string[]);
}

/** Checks every item of a list; reports each bad item and removes duplicates. */
export function checkEach<T>(value: unknown, check: (item: unknown) => Checked<T>): Checked<T[]> {
  const list = checkStringList(value);
  if (!list.ok) return list;
  const problems: string[] = [];
  const out: T[] = [];
  for (const item of list.value) {
    const checked = check(item);
    if (!checked.ok) problems.push(checked.problem);
    else if (!out.includes(checked.value)) out.push(checked.value);
  }
  return problems.length > 0 ? bad(problems.join("; ")) : ok(out);
}

/** A version number that is raised by one to rotate something: 1 or more. */
export const checkVersion = (value: unknown): Checked<number> =>
  checkInteger(value, 1, Number.MAX_SAFE_INTEGER);

/**
 * What an API's resources are named by: a short slug that stays valid inside
 * a Worker's script name, which doubles as a subdomain label.
 */
export function checkResourceKey(value: unknown): Checked<string> {
  const key = typeof value === "string" ? value.trim() : "";
  return /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/.test(key)
    ? ok(key)
    : bad(
        `must be a name of lower-case letters, digits and - (at most 32, not starting or ending with -), got ${quote(value)}`,
      );
}

/** An id of something the account already has (a policy, an identity provider), as Cloudflare shows it. */
export function checkObjectId(value: unknown): Checked<string> {
  return typeof value === "string" && /^[A-Za-z0-9._-]{1,128}$/.test(value.trim())
    ? ok(value.trim())
    : bad(
        `must be an id as Cloudflare shows it (letters, digits, -, _ and .), got ${quote(value)}`,
      );
}

/** Ids of what a hand-made set-up already has, for the stack to adopt instead of creating anew. */
export interface AdoptIds {
  frontendAppId?: string;
  apiAppId?: string;
  peoplePolicyId?: string;
  serviceAuthPolicyId?: string;
  serviceTokenId?: string;
  routeId?: string;
}

export const adoptKeys = [
  "frontendAppId",
  "apiAppId",
  "peoplePolicyId",
  "serviceAuthPolicyId",
  "serviceTokenId",
  "routeId",
] as const satisfies readonly (keyof AdoptIds)[];

/** The aud tag of an Access application: 64 hex characters. */
export function checkAud(value: unknown): Checked<string> {
  const aud = typeof value === "string" ? value.trim().toLowerCase() : "";
  return /^[0-9a-f]{64}$/.test(aud)
    ? { ok: true, value: aud }
    : {
        ok: false,
        problem: `must be the aud tag of the front end's Access app (64 hex characters, under the app's Overview), got ${quote(value)}`,
      };
}

/** Text `pulumi config set` stored that is not the JSON of a value. */
export const NOT_JSON = Symbol("not JSON");

/**
 * A structured value (a list or an object) as YAML in the stack file gives it,
 * or parsed from the JSON text the CLI stores; NOT_JSON where that text is none.
 */
export function structured(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return NOT_JSON;
  }
}

/** `apis`: a non-empty list of objects, as YAML in the stack file or JSON text from the CLI. */
export function checkApiList(value: unknown): Checked<Record<string, unknown>[]> {
  const list = structured(value);
  const example = `e.g. [{"hostname": "api.example.com", "routePrefix": "/api"}]`;
  if (
    !Array.isArray(list) ||
    !list.every((e) => typeof e === "object" && e !== null && !Array.isArray(e))
  ) {
    return { ok: false, problem: `must be a list of APIs, ${example}, got ${quote(value)}` };
  }
  if (list.length === 0) return { ok: false, problem: `must list at least one API, ${example}` };
  return { ok: true, value: list as Record<string, unknown>[] };
}

/**
 * The previous secret must outlive the update that hands the Worker the new
 * one; with no grace at all, calls fail between the token's update and the
 * Worker's.
 */
export function checkGraceHours(value: unknown): Checked<number> {
  if (checkInteger(value, 0, 0).ok) {
    return {
      ok: false,
      problem:
        "must be at least 1: with 0 the previous secret stops working before the Worker has the new one, " +
        "and calls fail in between; to cut off a leaked secret at once, rotate twice (docs/runbooks.md)",
    };
  }
  return checkInteger(value, 1, 8760);
}

/** The `adopt` object: only its known keys, each a non-empty id. */
export function checkAdopt(value: unknown): Checked<AdoptIds> {
  const object = structured(value);
  if (typeof object !== "object" || object === null || Array.isArray(object)) {
    return {
      ok: false,
      problem: `must be an object of ids, e.g. {"apiAppId": "..."}, got ${quote(value)}`,
    };
  }
  const known: readonly string[] = adoptKeys;
  const problems: string[] = [];
  const ids: AdoptIds = {};
  for (const [key, id] of Object.entries(object)) {
    if (!known.includes(key)) {
      problems.push(`has no key ${quote(key)} (known: ${adoptKeys.join(", ")})`);
    } else if (typeof id !== "string" || !/^[A-Za-z0-9._-]{1,128}$/.test(id.trim())) {
      problems.push(`${key} must be an id as Cloudflare shows it, got ${quote(id)}`);
    } else {
      ids[key as keyof AdoptIds] = id.trim();
    }
  }
  return problems.length > 0
    ? { ok: false, problem: problems.join("; ") }
    : { ok: true, value: ids };
}
