/**
 * The browser's side of CORS, after the Fetch standard:
 * https://fetch.spec.whatwg.org/#cors-check and
 * https://fetch.spec.whatwg.org/#cors-preflight-fetch
 *
 * Everything here is pure: it takes what a browser would send and what came
 * back, and returns machine-readable check results. Wording and fixes live in
 * findings.ts.
 */
import type { WorkerAnswer } from "./worker-answer";

export interface HeaderField {
  name: string;
  value: string;
}

/** What the page asks the browser to do, in the terms a browser decides on. */
export interface CorsRequest {
  url: string;
  /** Serialized origin of the page, e.g. `https://app.example.com`. */
  origin: string;
  method: string;
  /** Headers set by the page's script. A missing value means "unknown". */
  headers: Array<{ name: string; value?: string }>;
  /** `credentials: "include"` (cookies, e.g. CF_Authorization, are sent). */
  credentials: boolean;
}

/** A response as the checks need it; header names compare case-insensitively. */
export interface ResponseView {
  status: number;
  headers: HeaderField[];
  /** When the stack's Worker answered itself: its reason, from the body. */
  worker?: WorkerAnswer;
}

export type CheckStatus = "pass" | "fail" | "warn";

/** Codes of checks the response passes. */
export type PassCode =
  | "status-ok"
  | "acao-ok"
  | "acao-wildcard"
  | "acac-ok"
  | "acac-not-needed"
  | "methods-safelisted"
  | "methods-ok"
  | "methods-wildcard"
  | "headers-none"
  | "headers-ok"
  | "headers-wildcard"
  | "max-age-ok"
  | "vary-ok"
  | "vary-not-needed";

/** Codes of checks the browser lets pass but that deserve a change. */
export type WarnCode = "max-age-default" | "max-age-capped" | "max-age-invalid" | "vary-missing";

/** Codes of checks whose failure makes the browser refuse the request. */
export type FailCode =
  | "status-redirect"
  | "status-not-ok"
  | "acao-missing"
  | "acao-multiple"
  | "acao-wildcard-with-credentials"
  | "acao-mismatch"
  | "acac-missing"
  | "acac-not-true"
  | "methods-missing"
  | "methods-wildcard-with-credentials"
  | "headers-missing"
  | "headers-wildcard-with-credentials"
  | "headers-authorization-wildcard";

export type CheckCode = PassCode | WarnCode | FailCode;

export type CheckStep =
  "status" | "allow-origin" | "credentials" | "methods" | "headers" | "max-age" | "vary";

/** A code's status is fixed, so a failing code always has the words a refusal needs. */
export type CheckResult = {
  step: CheckStep;
  /** Values the wording needs: what was sent, what came back, what is missing. */
  data: Record<string, string | number | string[]>;
} & (
  | { status: "pass"; code: PassCode }
  | { status: "warn"; code: WarnCode }
  | { status: "fail"; code: FailCode }
);

/** Methods a preflight never has to list (Fetch: CORS-safelisted method). */
export const SAFELISTED_METHODS: readonly string[] = ["GET", "HEAD", "POST"];

/** Browsers cap the preflight cache; a larger Access-Control-Max-Age is silently cut. */
export const MAX_AGE_CAPS = { chromium: 7200, firefox: 86400 } as const;

/** Fetch's default when Access-Control-Max-Age is absent. */
export const DEFAULT_MAX_AGE = 5;

const SAFELISTED_CONTENT_TYPES = [
  "application/x-www-form-urlencoded",
  "multipart/form-data",
  "text/plain",
];

/**
 * Header names a page cannot set (Fetch: forbidden request-header). The
 * browser adds them itself, so they never appear in a preflight's
 * Access-Control-Request-Headers.
 */
const FORBIDDEN_REQUEST_HEADERS = new Set([
  "accept-charset",
  "accept-encoding",
  "access-control-request-headers",
  "access-control-request-method",
  "connection",
  "content-length",
  "cookie",
  "cookie2",
  "date",
  "dnt",
  "expect",
  "host",
  "keep-alive",
  "origin",
  "referer",
  "set-cookie",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "via",
]);

export function isForbiddenRequestHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return (
    FORBIDDEN_REQUEST_HEADERS.has(lower) || lower.startsWith("proxy-") || lower.startsWith("sec-")
  );
}

/** Fetch: CORS-safelisted request-header. Without a value only name-only rules can apply. */
export function isSafelistedRequestHeader(name: string, value?: string): boolean {
  const lower = name.toLowerCase();
  if (value !== undefined && value.length > 128) return false;
  switch (lower) {
    case "accept":
    case "accept-language":
    case "content-language":
      return true;
    case "content-type": {
      if (value === undefined) return false;
      const essence = value.split(";")[0]?.trim().toLowerCase() ?? "";
      return SAFELISTED_CONTENT_TYPES.includes(essence);
    }
    case "range":
      return value !== undefined && /^bytes=\d+-\d*$/.test(value.trim());
    default:
      return false;
  }
}

/**
 * Fetch: CORS-unsafe request-header names: lower-cased, unique, sorted. This
 * is exactly what a browser puts in Access-Control-Request-Headers.
 */
export function corsUnsafeHeaderNames(headers: CorsRequest["headers"]): string[] {
  const names = new Set<string>();
  for (const h of headers) {
    if (isForbiddenRequestHeader(h.name)) continue;
    if (!isSafelistedRequestHeader(h.name, h.value)) names.add(h.name.toLowerCase());
  }
  return [...names].sort();
}

/** Why a browser would send a preflight first; empty when it would not. */
export function preflightReasons(req: CorsRequest): string[] {
  const reasons: string[] = [];
  if (!SAFELISTED_METHODS.includes(req.method)) {
    reasons.push(`method ${req.method} is not GET, HEAD or POST`);
  }
  const unsafe = corsUnsafeHeaderNames(req.headers);
  if (unsafe.length > 0)
    reasons.push(`request sets non-safelisted header(s): ${unsafe.join(", ")}`);
  return reasons;
}

/** The headers a browser puts on the OPTIONS preflight (it never sends cookies on it). */
export function preflightRequestHeaders(req: CorsRequest): HeaderField[] {
  const fields: HeaderField[] = [
    { name: "Origin", value: req.origin },
    { name: "Access-Control-Request-Method", value: req.method },
  ];
  const unsafe = corsUnsafeHeaderNames(req.headers);
  if (unsafe.length > 0) {
    fields.push({ name: "Access-Control-Request-Headers", value: unsafe.join(",") });
  }
  return fields;
}

/** All values of a header, in order; names compare case-insensitively. */
export function headerValues(headers: HeaderField[], name: string): string[] {
  const lower = name.toLowerCase();
  return headers.filter((h) => h.name.toLowerCase() === lower).map((h) => h.value);
}

/** Fetch "get": values combined with ", ", or null when the header is absent. */
export function getHeader(headers: HeaderField[], name: string): string | null {
  const values = headerValues(headers, name);
  return values.length === 0 ? null : values.join(", ");
}

/** Fetch "extract header list values" for comma lists (methods, headers, Vary). */
export function headerList(headers: HeaderField[], name: string): string[] | null {
  const value = getHeader(headers, name);
  if (value === null) return null;
  return value
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

export function isRedirectStatus(status: number): boolean {
  return [301, 302, 303, 307, 308].includes(status);
}

/** Fetch: ok status. A preflight must answer with one; redirects are not followed. */
export function checkPreflightStatus(res: ResponseView): CheckResult {
  if (res.status >= 200 && res.status <= 299) {
    return { step: "status", status: "pass", code: "status-ok", data: { status: res.status } };
  }
  const location = getHeader(res.headers, "location") ?? "";
  if (isRedirectStatus(res.status)) {
    return {
      step: "status",
      status: "fail",
      code: "status-redirect",
      data: { status: res.status, location },
    };
  }
  return { step: "status", status: "fail", code: "status-not-ok", data: { status: res.status } };
}

/** Fetch: CORS check, split into its allow-origin and credentials halves. */
export function checkAllowOrigin(req: CorsRequest, res: ResponseView): CheckResult {
  const values = headerValues(res.headers, "access-control-allow-origin");
  const step = "allow-origin";
  const origin = req.origin;
  if (values.length === 0) {
    return { step, status: "fail", code: "acao-missing", data: { origin } };
  }
  const allowOrigin = values.join(", ");
  if (values.length > 1 || allowOrigin.includes(",")) {
    return { step, status: "fail", code: "acao-multiple", data: { origin, allowOrigin } };
  }
  if (allowOrigin === "*") {
    return req.credentials
      ? {
          step,
          status: "fail",
          code: "acao-wildcard-with-credentials",
          data: { origin, allowOrigin },
        }
      : { step, status: "pass", code: "acao-wildcard", data: { origin, allowOrigin } };
  }
  if (allowOrigin !== origin) {
    return {
      step,
      status: "fail",
      code: "acao-mismatch",
      data: { origin, allowOrigin, difference: describeOriginDifference(origin, allowOrigin) },
    };
  }
  return { step, status: "pass", code: "acao-ok", data: { origin, allowOrigin } };
}

export function checkAllowCredentials(req: CorsRequest, res: ResponseView): CheckResult {
  const step = "credentials";
  const value = getHeader(res.headers, "access-control-allow-credentials");
  if (!req.credentials) {
    return { step, status: "pass", code: "acac-not-needed", data: { value: value ?? "" } };
  }
  if (value === null) return { step, status: "fail", code: "acac-missing", data: {} };
  // Fetch compares bytes: `True` or `true ` fail just like `false`.
  if (value !== "true") return { step, status: "fail", code: "acac-not-true", data: { value } };
  return { step, status: "pass", code: "acac-ok", data: { value } };
}

export function checkAllowMethods(req: CorsRequest, res: ResponseView): CheckResult {
  const step = "methods";
  const allowed = headerList(res.headers, "access-control-allow-methods") ?? [];
  const data = { method: req.method, allowed };
  // Method names match byte for byte: `patch` does not allow `PATCH`.
  if (allowed.includes(req.method)) return { step, status: "pass", code: "methods-ok", data };
  if (SAFELISTED_METHODS.includes(req.method)) {
    return { step, status: "pass", code: "methods-safelisted", data };
  }
  if (allowed.includes("*")) {
    return req.credentials
      ? { step, status: "fail", code: "methods-wildcard-with-credentials", data }
      : { step, status: "pass", code: "methods-wildcard", data };
  }
  const caseOnly = allowed.find((m) => m.toUpperCase() === req.method.toUpperCase());
  return {
    step,
    status: "fail",
    code: "methods-missing",
    data: caseOnly === undefined ? data : { ...data, caseMismatch: caseOnly },
  };
}

export function checkAllowHeaders(req: CorsRequest, res: ResponseView): CheckResult {
  const step = "headers";
  const requested = corsUnsafeHeaderNames(req.headers);
  const allowed = headerList(res.headers, "access-control-allow-headers") ?? [];
  const allowedLower = allowed.map((h) => h.toLowerCase());
  const data = { requested, allowed };
  if (requested.length === 0) return { step, status: "pass", code: "headers-none", data };

  const missing = requested.filter((name) => !allowedLower.includes(name));
  if (missing.length === 0) return { step, status: "pass", code: "headers-ok", data };
  if (!allowedLower.includes("*")) {
    return { step, status: "fail", code: "headers-missing", data: { ...data, missing } };
  }
  if (req.credentials) {
    return {
      step,
      status: "fail",
      code: "headers-wildcard-with-credentials",
      data: { ...data, missing },
    };
  }
  // Fetch: `Authorization` is a CORS non-wildcard request-header name.
  if (missing.includes("authorization")) {
    return {
      step,
      status: "fail",
      code: "headers-authorization-wildcard",
      data: { ...data, missing: ["authorization"] },
    };
  }
  return { step, status: "pass", code: "headers-wildcard", data };
}

export function checkMaxAge(res: ResponseView): CheckResult {
  const step = "max-age";
  const raw = getHeader(res.headers, "access-control-max-age");
  if (raw === null) {
    return { step, status: "warn", code: "max-age-default", data: { seconds: DEFAULT_MAX_AGE } };
  }
  if (!/^\d+$/.test(raw.trim())) {
    return { step, status: "warn", code: "max-age-invalid", data: { value: raw } };
  }
  const seconds = Number(raw.trim());
  if (seconds > MAX_AGE_CAPS.chromium) {
    return {
      step,
      status: "warn",
      code: "max-age-capped",
      data: {
        seconds,
        chromium: MAX_AGE_CAPS.chromium,
        firefox: Math.min(seconds, MAX_AGE_CAPS.firefox),
      },
    };
  }
  return { step, status: "pass", code: "max-age-ok", data: { seconds } };
}

/**
 * A response whose allow-origin depends on the request's Origin must say so in
 * Vary, or a cache (the browser's or a CDN's) can replay it to another origin.
 */
export function checkVary(res: ResponseView): CheckResult {
  const step = "vary";
  const allowOrigin = getHeader(res.headers, "access-control-allow-origin");
  if (allowOrigin === null || allowOrigin === "*") {
    return { step, status: "pass", code: "vary-not-needed", data: {} };
  }
  const vary = (headerList(res.headers, "vary") ?? []).map((v) => v.toLowerCase());
  if (vary.includes("origin") || vary.includes("*")) {
    return { step, status: "pass", code: "vary-ok", data: { vary } };
  }
  return { step, status: "warn", code: "vary-missing", data: { vary } };
}

/**
 * Fetch: CORS-preflight fetch, step by step. Stops where the browser stops:
 * a non-ok status ends the preflight before any header is read.
 */
export function checkPreflight(req: CorsRequest, res: ResponseView): CheckResult[] {
  const status = checkPreflightStatus(res);
  if (status.status === "fail") return [status];
  return [
    status,
    checkAllowOrigin(req, res),
    checkAllowCredentials(req, res),
    checkAllowMethods(req, res),
    checkAllowHeaders(req, res),
    checkMaxAge(res),
    checkVary(res),
  ];
}

/** Fetch: CORS check on the actual response (and on every redirect it takes). */
export function checkActual(req: CorsRequest, res: ResponseView): CheckResult[] {
  return [checkAllowOrigin(req, res), checkAllowCredentials(req, res), checkVary(res)];
}

/** Names the one thing that differs between the page's origin and the allowed one. */
export function describeOriginDifference(origin: string, allowOrigin: string): string {
  if (allowOrigin === "null") return "allow-origin is the opaque origin `null`";
  if (allowOrigin.replace(/\/+$/, "") === origin) return "trailing slash";
  if (allowOrigin.toLowerCase() === origin.toLowerCase()) return "letter case";
  let a: URL;
  let b: URL;
  try {
    a = new URL(origin);
    b = new URL(allowOrigin);
  } catch {
    return "not an origin";
  }
  if (b.pathname !== "/" || b.search !== "" || b.hash !== "") return "has a path";
  const parts: string[] = [];
  if (a.protocol !== b.protocol) parts.push("scheme");
  if (a.hostname !== b.hostname) parts.push("host");
  // URL drops a scheme's default port, so an empty port means "the default".
  if (a.port !== b.port) parts.push("port");
  else if (/:\d+$/.test(allowOrigin) !== /:\d+$/.test(origin)) parts.push("explicit default port");
  return parts.length > 0 ? parts.join(" and ") : "spelling";
}
