/**
 * A HAR 1.2 capture as the triage reads it: the file's shape, its checks,
 * the secrets it holds, and what each entry shows (the page's origin, the
 * headers the page set, the answer, the browser's own failure).
 */
import {
  getHeader,
  isForbiddenRequestHeader,
  type CorsRequest,
  type HeaderField,
  type ResponseView,
} from "./cors-check";
import { secretsInHeaders, secretsInUrl } from "./redact";
import { workerAnswerOfEntry } from "./worker-answer";

/** The parts of HAR 1.2 the triage reads (http://www.softwareishard.com/blog/har-12-spec/). */
export interface HarNameValue {
  name: string;
  value: string;
}

export interface HarEntry {
  pageref?: string;
  startedDateTime?: string;
  request: {
    method: string;
    url: string;
    headers: HarNameValue[];
    cookies?: HarNameValue[];
    queryString?: HarNameValue[];
    /** The rest of HAR's fields, and exporters' `_custom` ones, are carried but not read. */
    [field: string]: unknown;
  };
  response: {
    status: number;
    statusText?: string;
    headers: HarNameValue[];
    cookies?: HarNameValue[];
    redirectURL?: string;
    _error?: string | null;
    [field: string]: unknown;
  };
  _error?: string | null;
  _resourceType?: string;
  [field: string]: unknown;
}

export interface Har {
  log: {
    version?: string;
    creator?: { name: string; version: string };
    pages?: Array<{ id: string; title?: string; startedDateTime?: string }>;
    entries: HarEntry[];
  };
}

export class HarError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HarError";
  }
}

export function parseHar(text: string): Har {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new HarError(`not JSON: ${(err as Error).message}`);
  }
  const log = (data as { log?: { entries?: unknown } } | null)?.log;
  if (log === undefined || !Array.isArray(log.entries)) {
    throw new HarError("not a HAR file: no log.entries array");
  }
  for (const [i, e] of (log.entries as unknown[]).entries()) {
    const entry = e as Partial<HarEntry> | null;
    if (
      typeof entry?.request?.url !== "string" ||
      typeof entry.request.method !== "string" ||
      typeof entry.response?.status !== "number"
    ) {
      throw new HarError(`entry ${i} lacks request.url, request.method or response.status`);
    }
    entry.request.headers ??= [];
    entry.response.headers ??= [];
  }
  return data as Har;
}

/** Every secret value in the capture, so output can be scrubbed of all of them. */
export function harSecrets(har: Har): string[] {
  const out: string[] = [];
  for (const e of har.log.entries) {
    out.push(...secretsInHeaders(e.request.headers), ...secretsInHeaders(e.response.headers));
    out.push(...secretsInUrl(e.request.url));
    for (const c of [...(e.request.cookies ?? []), ...(e.response.cookies ?? [])]) {
      if (c.value.length > 0) out.push(c.value);
    }
    const location = getHeader(e.response.headers, "location") ?? e.response.redirectURL ?? "";
    if (location !== "") out.push(...secretsInUrl(location));
  }
  return out;
}

export function urlOrigin(raw: string): string | null {
  try {
    const u = new URL(raw);
    return u.protocol === "http:" || u.protocol === "https:" ? u.origin : null;
  } catch {
    return null;
  }
}

/** The page's origin: the request's Origin header, else its page's URL, else Referer, else the request's own for one the browser marked same-origin. */
export function pageOrigin(entry: HarEntry, har: Har): string | null {
  const origin = getHeader(entry.request.headers, "origin");
  if (origin !== null && origin !== "null") return origin;
  const page = har.log.pages?.find((p) => p.id === entry.pageref);
  const fromPage = page?.title !== undefined ? urlOrigin(page.title) : null;
  if (fromPage !== null) return fromPage;
  const referer = getHeader(entry.request.headers, "referer");
  const fromReferer = referer !== null ? urlOrigin(referer) : null;
  if (fromReferer !== null) return fromReferer;
  // A same-origin fetch carries no Origin, and a page may send no Referer.
  const site = getHeader(entry.request.headers, "sec-fetch-site");
  return site?.toLowerCase() === "same-origin" ? urlOrigin(entry.request.url) : null;
}

export function isPreflight(entry: HarEntry): boolean {
  return (
    entry._resourceType === "preflight" ||
    (entry.request.method === "OPTIONS" &&
      getHeader(entry.request.headers, "access-control-request-method") !== null)
  );
}

/**
 * Headers the browser adds itself; a capture lists them beside the page's own,
 * and they must not count as non-safelisted headers the page asked for.
 */
const BROWSER_OWNED = new Set([
  "user-agent",
  "cache-control",
  "pragma",
  "priority",
  "upgrade-insecure-requests",
  "authority",
]);

export function pageSetHeaders(headers: HarNameValue[]): CorsRequest["headers"] {
  return headers
    .filter((h) => !h.name.startsWith(":"))
    .filter((h) => !isForbiddenRequestHeader(h.name) && !BROWSER_OWNED.has(h.name.toLowerCase()))
    .map((h) => ({ name: h.name, value: h.value }));
}

/**
 * Only requests made in CORS mode get a CORS check. Navigations (a login
 * form's redirects carry the team domain as Referer) and no-cors loads do not,
 * even across origins. `Sec-Fetch-Mode` says so where the capture has it.
 */
export function isCorsMode(entry: HarEntry): boolean {
  const mode = getHeader(entry.request.headers, "sec-fetch-mode");
  if (mode !== null) return mode.toLowerCase() === "cors";
  return entry._resourceType !== "document";
}

/** Exporters mark a request that got no response with status 0 (Chrome) or -1 (Playwright). */
export function hasResponse(entry: HarEntry): boolean {
  return entry.response.status > 0;
}

export function failedInBrowser(entry: HarEntry): string | null {
  const error = entry.response._error ?? entry._error ?? entry.response["_failureText"];
  if (typeof error === "string" && error.length > 0) return error;
  if (!hasResponse(entry)) return `status ${entry.response.status}`;
  return null;
}

export function responseView(entry: HarEntry): ResponseView | undefined {
  if (!hasResponse(entry)) return undefined;
  const headers: HeaderField[] = [...entry.response.headers];
  // Some exporters keep the redirect target only in redirectURL.
  if (getHeader(headers, "location") === null && (entry.response.redirectURL ?? "") !== "") {
    headers.push({ name: "location", value: entry.response.redirectURL ?? "" });
  }
  const worker = workerAnswerOfEntry(entry);
  return { status: entry.response.status, headers, ...(worker ? { worker } : {}) };
}
