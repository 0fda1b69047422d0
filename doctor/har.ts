/**
 * HAR triage: finds the cross-origin requests in a browser capture that a
 * page would have seen fail, and explains each with the live check's rules.
 */
import { accessLoginLocation, isAccessLoginUrl } from "./access";
import {
  getHeader,
  headerList,
  isForbiddenRequestHeader,
  isSafelistedRequestHeader,
  type CorsRequest,
  type HeaderField,
  type ResponseView,
} from "./cors-check";
import { diagnose, type Diagnosis, type Finding } from "./diagnose";
import { redactUrl, secretsInHeaders, secretsInUrl } from "./redact";

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

export interface TriageItem {
  /** Index of the request in log.entries (of the preflight when no actual request was recorded). */
  entry: number;
  preflightEntry?: number;
  method: string;
  /** Redacted. */
  url: string;
  origin: string;
  status: number;
  credentials: boolean;
  diagnosis: Diagnosis;
  /** The same exchange as a live check, to confirm a fix. */
  rerun: string;
}

export interface Triage {
  entries: number;
  crossOrigin: number;
  items: TriageItem[];
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

function urlOrigin(raw: string): string | null {
  try {
    const u = new URL(raw);
    return u.protocol === "http:" || u.protocol === "https:" ? u.origin : null;
  } catch {
    return null;
  }
}

/** The page's origin: the request's Origin header, else its page's URL, else Referer. */
export function pageOrigin(entry: HarEntry, har: Har): string | null {
  const origin = getHeader(entry.request.headers, "origin");
  if (origin !== null && origin !== "null") return origin;
  const page = har.log.pages?.find((p) => p.id === entry.pageref);
  const fromPage = page?.title !== undefined ? urlOrigin(page.title) : null;
  if (fromPage !== null) return fromPage;
  const referer = getHeader(entry.request.headers, "referer");
  return referer !== null ? urlOrigin(referer) : null;
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

function pageSetHeaders(headers: HarNameValue[]): CorsRequest["headers"] {
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
function hasResponse(entry: HarEntry): boolean {
  return entry.response.status > 0;
}

function failedInBrowser(entry: HarEntry): string | null {
  const error = entry.response._error ?? entry._error ?? entry.response["_failureText"];
  if (typeof error === "string" && error.length > 0) return error;
  if (!hasResponse(entry)) return `status ${entry.response.status}`;
  return null;
}

function responseView(entry: HarEntry): ResponseView | undefined {
  if (!hasResponse(entry)) return undefined;
  const headers: HeaderField[] = [...entry.response.headers];
  // Some exporters keep the redirect target only in redirectURL.
  if (getHeader(headers, "location") === null && (entry.response.redirectURL ?? "") !== "") {
    headers.push({ name: "location", value: entry.response.redirectURL ?? "" });
  }
  return { status: entry.response.status, headers };
}

export function triageHar(har: Har): Triage {
  const entries = har.log.entries;
  const preflights = new Map<number, HarEntry>();
  entries.forEach((e, i) => {
    if (isPreflight(e)) preflights.set(i, e);
  });
  const usedPreflights = new Set<number>();
  const items: TriageItem[] = [];
  let crossOrigin = 0;

  entries.forEach((entry, i) => {
    if (preflights.has(i)) return;
    // The login page a redirect led to: the redirect itself is the finding.
    if (isAccessLoginUrl(entry.request.url) || !isCorsMode(entry)) return;
    const origin = pageOrigin(entry, har);
    const target = urlOrigin(entry.request.url);
    if (origin === null || target === null || origin === target) return;
    crossOrigin++;

    const preflightIndex = findPreflight(entries, preflights, usedPreflights, i);
    if (preflightIndex !== undefined) usedPreflights.add(preflightIndex);
    const preflightEntry = preflightIndex !== undefined ? entries[preflightIndex] : undefined;

    const headers =
      preflightEntry !== undefined
        ? [
            ...(
              headerList(preflightEntry.request.headers, "access-control-request-headers") ?? []
            ).map((name) => ({ name })),
            ...pageSetHeaders(entry.request.headers).filter((h) => hasSafelistedName(h.name)),
          ]
        : pageSetHeaders(entry.request.headers);
    // A capture does not record the credentials mode; a sent cookie is the evidence.
    const request: CorsRequest = {
      url: entry.request.url,
      origin,
      method: entry.request.method,
      headers: dedupeHeaders(headers),
      credentials:
        getHeader(entry.request.headers, "cookie") !== null ||
        (entry.request.cookies ?? []).length > 0,
    };
    const preflight = preflightEntry !== undefined ? responseView(preflightEntry) : undefined;
    const actual = responseView(entry);
    const diagnosis = diagnose({ request, preflight, actual });
    const failed = failedInBrowser(entry);
    const loginRedirect = actual !== undefined && accessLoginLocation(actual, request.url) !== null;

    if (failed !== null && diagnosis.verdict === "allowed") {
      diagnosis.findings.push(noResponseFinding(failed, request, preflightEntry));
      diagnosis.verdict = "blocked";
    }
    if (diagnosis.verdict === "blocked" || loginRedirect) {
      items.push(item(i, request, entry.response.status, diagnosis, preflightIndex));
    }
  });

  // A preflight whose actual request was never recorded: the browser stopped there.
  for (const [i, pre] of preflights) {
    if (usedPreflights.has(i)) continue;
    const origin = pageOrigin(pre, har);
    const target = urlOrigin(pre.request.url);
    if (origin === null || target === null || origin === target) continue;
    crossOrigin++;
    const request: CorsRequest = {
      url: pre.request.url,
      origin,
      method: getHeader(pre.request.headers, "access-control-request-method") ?? "GET",
      headers: (headerList(pre.request.headers, "access-control-request-headers") ?? []).map(
        (name) => ({ name }),
      ),
      credentials: false,
    };
    const preflight = responseView(pre);
    const diagnosis = diagnose({ request, preflight });
    const failed = failedInBrowser(pre);
    if (failed !== null && diagnosis.verdict === "allowed") {
      diagnosis.findings.push(noResponseFinding(failed, request, undefined));
      diagnosis.verdict = "blocked";
    }
    if (diagnosis.verdict === "blocked") {
      items.push(item(i, request, pre.response.status, diagnosis, i));
    }
  }
  items.sort((a, b) => a.entry - b.entry);
  return { entries: entries.length, crossOrigin, items };
}

/** The nearest earlier unpaired preflight for the same URL and method. */
function findPreflight(
  entries: HarEntry[],
  preflights: Map<number, HarEntry>,
  used: Set<number>,
  actualIndex: number,
): number | undefined {
  const actual = entries[actualIndex];
  if (actual === undefined) return undefined;
  for (let j = actualIndex - 1; j >= 0; j--) {
    const pre = preflights.get(j);
    if (pre === undefined || used.has(j)) continue;
    if (
      pre.request.url === actual.request.url &&
      getHeader(pre.request.headers, "access-control-request-method") === actual.request.method
    ) {
      return j;
    }
  }
  return undefined;
}

/**
 * With a preflight recorded, its request-headers list is the authority on
 * non-safelisted names; the actual request only adds values for the headers
 * whose safelisting depends on them.
 */
function hasSafelistedName(name: string): boolean {
  const lower = name.toLowerCase();
  return ["accept", "accept-language", "content-language", "content-type", "range"].includes(lower);
}

function dedupeHeaders(headers: CorsRequest["headers"]): CorsRequest["headers"] {
  const seen = new Map<string, CorsRequest["headers"][number]>();
  for (const h of headers) {
    const key = h.name.toLowerCase();
    const prior = seen.get(key);
    if (prior === undefined || (prior.value === undefined && h.value !== undefined)) {
      seen.set(key, h.value === undefined ? { name: key } : h);
    }
  }
  return [...seen.values()];
}

function noResponseFinding(
  failed: string,
  request: CorsRequest,
  preflightEntry: HarEntry | undefined,
): Finding {
  const after = preflightEntry !== undefined ? " after a preflight that passed every check" : "";
  return {
    phase: "actual",
    step: "no-response",
    ok: false,
    severity: "fail",
    summary: `the browser recorded no usable response (${failed})`,
    cause: `The request failed in the browser (${failed})${after}. A HAR file does not record why; the browser's console log names the CORS rule, or the network failed.`,
    fix: `Re-run the exchange live to see each step: ${rerunCommand(request)}`,
    fixKeys: ["request"],
  };
}

export function rerunCommand(req: CorsRequest): string {
  const parts = [
    "npm run doctor --",
    `--url '${redactUrl(req.url)}'`,
    `--origin ${req.origin}`,
    `--method ${req.method}`,
  ];
  // Safelisted headers (a browser's default Accept, a form Content-Type) change nothing.
  for (const h of req.headers.filter((x) => !isSafelistedRequestHeader(x.name, x.value))) {
    if (h.value !== undefined && h.name.toLowerCase() === "content-type") {
      parts.push(`--header '${h.name}: ${h.value}'`);
    } else {
      parts.push(`--header ${h.name}`);
    }
  }
  if (req.credentials) parts.push("--credentials");
  return parts.join(" ");
}

function item(
  entry: number,
  request: CorsRequest,
  status: number,
  diagnosis: Diagnosis,
  preflightEntry: number | undefined,
): TriageItem {
  return {
    entry,
    ...(preflightEntry !== undefined && preflightEntry !== entry ? { preflightEntry } : {}),
    method: request.method,
    url: redactUrl(request.url),
    origin: request.origin,
    status,
    credentials: request.credentials,
    diagnosis,
    rerun: rerunCommand(request),
  };
}
