/**
 * Why the browser refused one of the page's requests, or why the stack's
 * route failed it, from what the lab's parties answered it: the rule that
 * failed, in the stack's terms, and the sentence Chromium's console prints
 * for it. Pure: the lab's log and the page's request in, explanations out.
 *
 * The checks are the doctor's (doctor/cors-check.ts), and so are the words
 * (doctor/findings.ts). Chromium reads a preflight's Access-Control-Allow-Origin
 * and -Credentials before its status (Fetch: "CORS-preflight fetch", step 7),
 * so its message can name a missing header where the root cause is a 403;
 * `rule` and `detail` name the cause, `browser` what Chromium says.
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
import type { PageContext, Setting } from "../doctor/finding-text";
import { FINDINGS, type RefusalCode } from "../doctor/findings";
import { isCrossSite } from "../doctor/sites";
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

export interface Explanation {
  /** Short name of the failed rule, e.g. `header not allowed`. */
  rule: string;
  /** The rule in the stack's terms, ending with the config key or setting to change. */
  detail: string;
  /** Chromium's console message, after "… has been blocked by CORS policy: ". */
  browser: string;
}

const PREFLIGHT = "Response to preflight request doesn't pass access control check: ";

const answerOf = (e: LogEntry): ResponseView => ({
  status: e.status,
  headers: Object.entries(e.answer?.headers ?? {}).map(([name, value]) => ({ name, value })),
});

/** What the page's words for one log entry are about. */
function contextOf(
  req: CorsRequest,
  entry: LogEntry,
  setting: Setting,
  data: CheckResult["data"] = {},
): PageContext {
  const answeredBy = entry.party === "api-edge" ? "Access" : "the API";
  return { req, data, status: entry.status, answeredBy, setting };
}

/** `cause` explains the refusal; `seen`, the check Chromium's message is about, when it differs. */
function explanation(
  code: RefusalCode,
  cause: PageContext,
  seen: { code: RefusalCode; context: PageContext; prefix?: string } = { code, context: cause },
): Explanation {
  return {
    rule: FINDINGS[code].title,
    detail: FINDINGS[code].detail(cause),
    browser: (seen.prefix ?? "") + FINDINGS[seen.code].browser(seen.context),
  };
}

function failed(c: CheckResult): c is CheckResult & { status: "fail" } {
  return c.status === "fail";
}

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
  const seen = browserOrder.find(failed);
  if (seen === undefined) return null;
  // The root cause: a refused preflight's missing headers follow from the refusal.
  const cause = failed(status) ? status : seen;
  const refusedByAccess = cause.code === "status-not-ok" && entry.party === "api-edge";
  return explanation(
    refusedByAccess ? "preflight-refused" : cause.code,
    contextOf(req, entry, setting, cause.data),
    {
      code: seen.code,
      context: contextOf(req, entry, setting, seen.data),
      prefix: seen.step === "methods" || seen.step === "headers" ? "" : PREFLIGHT,
    },
  );
}

function explainLoginRedirect(req: CorsRequest, entry: LogEntry, setting: Setting): Explanation {
  const code = isCrossSite(setting)
    ? "third-party-cookie"
    : entry.login === "not accepted"
      ? "access-login-not-accepted"
      : "access-login";
  return explanation(code, contextOf(req, entry, setting));
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
  // The route's own failures come first: nothing of the API's answered them.
  const refused = entries.find(
    (e) => e.party === "worker" && e.workerLog?.reason === "service_token_refused",
  );
  if (refused !== undefined) {
    return [explanation("service-token-refused", contextOf(req, refused, setting))];
  }
  const ended = entries.find((e) => e.party === "frontend-edge" && e.login === "not accepted");
  if (ended !== undefined) return [explanation("session-ended", contextOf(req, ended, setting))];

  const answered = entries.filter((e) => e.answer !== undefined);
  const preflight = answered.filter((e) => e.method === "OPTIONS").at(-1);
  const actual = answered.filter((e) => e.method !== "OPTIONS").at(-1);
  const out: Explanation[] = [];
  const fromPreflight = preflight !== undefined ? explainPreflight(req, preflight, setting) : null;
  if (fromPreflight !== null) {
    out.push(fromPreflight);
  } else if (actual !== undefined && actual.party === "api-edge" && actual.status === 302) {
    out.push(explainLoginRedirect(req, actual, setting));
  } else if (actual !== undefined) {
    const res = answerOf(actual);
    const refused = [checkAllowOrigin(req, res), checkAllowCredentials(req, res)].find(failed);
    if (refused !== undefined) {
      out.push(explanation(refused.code, contextOf(req, actual, setting, refused.data)));
    }
  }
  return out;
}
