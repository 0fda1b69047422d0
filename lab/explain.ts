/**
 * Why the browser refused one of the page's requests, from what the lab's
 * parties answered it: the rule that failed, in the stack's terms, and the
 * sentence Chromium's console prints for it. Pure: the lab's log and the
 * page's request in, explanations out.
 *
 * The checks are the doctor's (doctor/cors-check.ts). Chromium reads a
 * preflight's Access-Control-Allow-Origin and -Credentials before its status
 * (Fetch: "CORS-preflight fetch", step 7), so its message can name a missing
 * header where the root cause is a 403; `rule` and `detail` name the cause,
 * `browser` what Chromium says.
 */
import {
  checkAllowCredentials,
  checkAllowHeaders,
  checkAllowMethods,
  checkAllowOrigin,
  checkPreflightStatus,
  type CheckResult,
  type CorsRequest,
  type ResponseView,
} from "../doctor/cors-check";
import type { LogEntry } from "./log";

/** What the page asked the browser for. */
export interface PageRequest {
  url: string;
  origin: string;
  method: string;
  /** Names of the headers the page set (lower case). */
  headers: string[];
  credentials: boolean;
}

/** The facts about the scenario that decide the wording. */
export interface Setting {
  frontendHost: string;
  apiHost: string;
  /** `origin` when preflights bypass Access and the API's own CORS policy answers. */
  preflight: "cloudflare" | "origin" | "none";
}

export interface Explanation {
  /** Short name of the failed rule, e.g. `header not allowed`. */
  rule: string;
  /** The rule in the stack's terms, ending with the config key or setting to change. */
  detail: string;
  /** Chromium's console message, after "… has been blocked by CORS policy: ". */
  browser: string;
}

/** Multi-label public suffixes common enough to matter; a full list would be a dependency. */
const TWO_LABEL_SUFFIXES = new Set([
  "co.uk",
  "org.uk",
  "ac.uk",
  "com.au",
  "net.au",
  "co.jp",
  "co.nz",
  "com.br",
]);

/** The registrable domain ("site") of a host name, for telling same-site from cross-site. */
export function siteOf(host: string): string {
  const labels = host.toLowerCase().split(".");
  const keep = TWO_LABEL_SUFFIXES.has(labels.slice(-2).join(".")) ? 3 : 2;
  return labels.slice(-keep).join(".");
}

export function isCrossSite(setting: Pick<Setting, "frontendHost" | "apiHost">): boolean {
  return siteOf(setting.frontendHost) !== siteOf(setting.apiHost);
}

/** The third-party-cookie fact, for a note on the page and for failed direct calls. */
export function thirdPartyCookieNote(setting: Pick<Setting, "frontendHost" | "apiHost">): string {
  return (
    `${setting.frontendHost} and ${setting.apiHost} are on different sites (${siteOf(setting.frontendHost)}, ${siteOf(setting.apiHost)}): ` +
    "the browser withholds the API's CF_Authorization cookie as a third-party cookie (third-party cookies are blocked), even after you log in to the API, " +
    "so direct calls reach Access without a login and only the Worker path works."
  );
}

const PREFLIGHT = "Response to preflight request doesn't pass access control check: ";
const NO_ACAO = "No 'Access-Control-Allow-Origin' header is present on the requested resource.";

/** Chromium's console sentence for a failed check. */
function browserMessage(c: CheckResult, req: CorsRequest): string {
  switch (c.code) {
    case "acao-missing":
      return NO_ACAO;
    case "acao-mismatch":
      return `The 'Access-Control-Allow-Origin' header has a value '${String(c.data.allowOrigin)}' that is not equal to the supplied origin.`;
    case "acao-multiple":
      return `The 'Access-Control-Allow-Origin' header contains multiple values '${String(c.data.allowOrigin)}', but only one is allowed.`;
    case "acao-wildcard-with-credentials":
      return "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'.";
    case "acac-missing":
    case "acac-not-true":
      return `The value of the 'Access-Control-Allow-Credentials' header in the response is '${String(c.data.value ?? "")}' which must be 'true' when the request's credentials mode is 'include'.`;
    case "status-not-ok":
      return "It does not have HTTP ok status.";
    case "status-redirect":
      return "Redirect is not allowed for a preflight request.";
    case "methods-missing":
    case "methods-wildcard-with-credentials":
      return `Method ${req.method} is not allowed by Access-Control-Allow-Methods in preflight response.`;
    default: {
      const missing = Array.isArray(c.data.missing) ? c.data.missing : [];
      return `Request header field ${missing[0] ?? ""} is not allowed by Access-Control-Allow-Headers in preflight response.`;
    }
  }
}

/** Where the failing header's value comes from, as the thing to change. */
function source(setting: Setting, key: string): string {
  return setting.preflight === "origin" ? "the API's own CORS policy" : key;
}

function words(
  c: CheckResult,
  req: CorsRequest,
  answeredBy: string,
  setting: Setting,
): Pick<Explanation, "rule" | "detail"> {
  const d = c.data;
  switch (c.code) {
    case "acao-missing":
      return {
        rule: "origin not allowed",
        detail: `Access-Control-Allow-Origin missing for ${req.origin} (${source(setting, "corsAllowedOrigins")})`,
      };
    case "acao-mismatch":
    case "acao-multiple":
      return {
        rule: "origin not allowed",
        detail: `Access-Control-Allow-Origin is ${String(d.allowOrigin)}, not ${req.origin} (${source(setting, "corsAllowedOrigins")})`,
      };
    case "acao-wildcard-with-credentials":
      return {
        rule: "origin wildcard with credentials",
        detail: `Access-Control-Allow-Origin is * but the request carries credentials (${source(setting, "corsAllowedOrigins")})`,
      };
    case "acac-missing":
      return {
        rule: "credentials off",
        detail: `Access-Control-Allow-Credentials missing (${source(setting, "corsAllowCredentials")})`,
      };
    case "acac-not-true":
      return {
        rule: "credentials off",
        detail: `Access-Control-Allow-Credentials is ${String(d.value)}, not true (${source(setting, "corsAllowCredentials")})`,
      };
    case "methods-missing":
    case "methods-wildcard-with-credentials":
      return {
        rule: "method not allowed",
        detail: `${req.method} is not in Access-Control-Allow-Methods (${source(setting, "corsAllowedMethods")})`,
      };
    case "status-redirect":
      return {
        rule: "preflight redirected",
        detail: `${answeredBy} answered the preflight with ${String(d.status)}; a browser never follows a preflight's redirect`,
      };
    case "status-not-ok":
      return answeredBy === "Access"
        ? {
            rule: "preflight refused",
            detail: `Access answered the preflight with ${String(d.status)}: a preflight carries no cookie, and the API app has neither CORS settings nor OPTIONS bypass (preflight)`,
          }
        : {
            rule: "preflight refused",
            detail: `the API answered the preflight with ${String(d.status)}: its own CORS policy does not admit ${req.origin}`,
          };
    default: {
      const missing = Array.isArray(d.missing) ? d.missing : [];
      return {
        rule: "header not allowed",
        detail: `${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not in Access-Control-Allow-Headers (${source(setting, "corsAllowedHeaders")})`,
      };
    }
  }
}

const answerOf = (e: LogEntry): ResponseView => ({
  status: e.status,
  headers: Object.entries(e.answer?.headers ?? {}).map(([name, value]) => ({ name, value })),
});

const answeredByOf = (e: LogEntry): string => (e.party === "api-edge" ? "Access" : "the API");

function explainPreflight(req: CorsRequest, entry: LogEntry, setting: Setting): Explanation | null {
  const res = answerOf(entry);
  const status = checkPreflightStatus(res);
  // Chromium's order: allow-origin, credentials, then status, methods, headers.
  const browserOrder = [
    checkAllowOrigin(req, res),
    checkAllowCredentials(req, res),
    status,
    ...(status.status === "pass" ? [checkAllowMethods(req, res), checkAllowHeaders(req, res)] : []),
  ];
  const seen = browserOrder.find((c) => c.status === "fail");
  if (seen === undefined) return null;
  // The root cause: a refused preflight's missing headers follow from the refusal.
  const cause = status.status === "fail" ? status : seen;
  const prefix = seen.step === "methods" || seen.step === "headers" ? "" : PREFLIGHT;
  return {
    ...words(cause, req, answeredByOf(entry), setting),
    browser: prefix + browserMessage(seen, req),
  };
}

function explainLoginRedirect(entry: LogEntry, setting: Setting): Explanation {
  if (isCrossSite(setting)) {
    return {
      rule: "third-party cookie",
      detail: `no CF_Authorization cookie reached ${setting.apiHost}, so Access answered 302 to its login page, a redirect without CORS headers. ${thirdPartyCookieNote(setting)}`,
      browser: NO_ACAO,
    };
  }
  return entry.login === "not accepted"
    ? {
        rule: "API login not accepted",
        detail: `the request's CF_Authorization cookie for ${setting.apiHost} is expired or for another app, so Access answered 302 to its login page, a redirect without CORS headers (log in to the API again, or use the Worker)`,
        browser: NO_ACAO,
      }
    : {
        rule: "not logged in to the API",
        detail: `the request carried no CF_Authorization cookie for ${setting.apiHost}, so Access answered 302 to its login page, a redirect without CORS headers (log in to the API first, or use the Worker)`,
        browser: NO_ACAO,
      };
}

/**
 * Why the browser refused `page`'s request, from the log entries for its URL.
 * Empty when nothing the lab answered fails a browser check (the failure
 * happened elsewhere, e.g. the network).
 */
export function explainFailure(
  page: PageRequest,
  entries: LogEntry[],
  setting: Setting,
): Explanation[] {
  const req: CorsRequest = {
    url: page.url,
    origin: page.origin,
    method: page.method,
    headers: page.headers.map((name) => ({ name })),
    credentials: page.credentials,
  };
  const answered = entries.filter((e) => e.answer !== undefined);
  const preflight = answered.filter((e) => e.method === "OPTIONS").at(-1);
  const actual = answered.filter((e) => e.method !== "OPTIONS").at(-1);
  const out: Explanation[] = [];
  const fromPreflight = preflight !== undefined ? explainPreflight(req, preflight, setting) : null;
  if (fromPreflight !== null) {
    out.push(fromPreflight);
  } else if (actual !== undefined && actual.party === "api-edge" && actual.status === 302) {
    out.push(explainLoginRedirect(actual, setting));
  } else if (actual !== undefined) {
    const res = answerOf(actual);
    const failed = [checkAllowOrigin(req, res), checkAllowCredentials(req, res)].find(
      (c) => c.status === "fail",
    );
    if (failed !== undefined) {
      out.push({
        ...words(failed, req, answeredByOf(actual), setting),
        browser: browserMessage(failed, req),
      });
    }
  }
  return out;
}
