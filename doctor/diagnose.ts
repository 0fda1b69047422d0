/**
 * Turns the browser's checks into findings a person can act on: what failed,
 * why, and what to change in this stack (config keys) or which of the guide's
 * options applies. The words are findings.ts's; this decides which apply.
 */
import { accessEvidence, accessLoginLocation, isFromAccess, isMarkedXhr } from "./access";
import {
  checkActual,
  checkPreflight,
  isRedirectStatus,
  preflightReasons,
  type CheckResult,
  type CheckStatus,
  type CorsRequest,
  type ResponseView,
} from "./cors-check";
import type { FixKey, Phase, ReportContext } from "./finding-text";
import { FINDINGS, type FindingCode, type RefusalCode } from "./findings";
import { redactUrl } from "./redact";
import { isOnRoute, isSameOrigin, originOf } from "./sites";
import { workerReasonOf } from "./worker-answer";

/**
 * `not-evaluated`: a step after one that makes the browser stop (a non-ok
 * preflight status, a failed allow-origin). The browser never reads it, so it
 * is neither a problem nor a pass.
 */
export type Severity = CheckStatus | "not-evaluated";

export interface Finding {
  phase: Phase;
  step: string;
  /** False only for a failure: the one kind of finding that blocks the request. */
  ok: boolean;
  severity: Severity;
  summary: string;
  cause?: string;
  fix?: string;
  fixKeys: FixKey[];
}

/** The program's route prefix when a stack sets none, e.g. `example.com/api/*`. */
export { DEFAULT_ROUTE_PREFIX as defaultRoutePrefix } from "../worker/src/env";
import { DEFAULT_ROUTE_PREFIX as defaultRoutePrefix } from "../worker/src/env";

/** The stack's Worker route in front of the API, as the fixes name it: `https://<front end><prefix>/*`. */
export function workerRoute(origin: string, routePrefix = defaultRoutePrefix): string {
  return `${origin}${routePrefix}/*`;
}

/** What was observed; a missing response means the browser would not have sent that request. */
export interface Observation {
  request: CorsRequest;
  /**
   * The route prefix of the stack's Worker in front of this API (its
   * `routePrefix`), so that fixes name that route; default `/api`. A stack
   * with several APIs has one Worker and route per API.
   */
  routePrefix?: string;
  preflight?: ResponseView;
  actual?: ResponseView;
  /** Whether the actual request carried a login given to the doctor (cookie or Access token). */
  loginGiven?: boolean;
}

/**
 * The API asked for a login the doctor did not have, so what it answered is
 * what a browser that is not logged in gets, not what the person gets.
 */
export interface NotJudged {
  /** The API's origin, e.g. `https://api.example.com`. */
  api: string;
  /** What came back instead, e.g. `302 to the Access login page`. */
  answer: string;
  /** Prints a token for the API's Access app. */
  tokenCommand: string;
}

export interface Diagnosis {
  /**
   * `not-judged`: the page could read the answer, but the answer was the one
   * for a browser that is not logged in; the logged-in one was never seen.
   */
  verdict: "allowed" | "blocked" | "not-judged";
  preflightNeeded: boolean;
  preflightReasons: string[];
  findings: Finding[];
  notJudged?: NotJudged;
}

export function diagnose(obs: Observation): Diagnosis {
  const { request } = obs;
  const route = workerRoute(request.origin, obs.routePrefix);
  // A browser sends no preflight to its own origin.
  const reasons = isSameOrigin(request) ? [] : preflightReasons(request);
  const findings: Finding[] = [];
  let notJudged: NotJudged | undefined;
  if (obs.preflight !== undefined) {
    findings.push(...diagnosePreflight(request, obs.preflight, obs.routePrefix));
  }
  if (obs.actual !== undefined) {
    const prefix = obs.routePrefix ?? defaultRoutePrefix;
    const actual = diagnoseActualResponse(request, obs.actual, obs.loginGiven === true, prefix);
    findings.push(...actual.findings);
    notJudged = actual.notJudged;
  }
  const token = serviceTokenFinding(request, route);
  if (token !== null) findings.push(token);
  const blocked = findings.some((f) => !f.ok);
  return {
    verdict: blocked ? "blocked" : notJudged !== undefined ? "not-judged" : "allowed",
    preflightNeeded: reasons.length > 0,
    preflightReasons: reasons,
    findings,
    ...(notJudged !== undefined ? { notJudged } : {}),
  };
}

/** Steps whose failure ends the browser's check: it reads nothing after them. */
const STOPPING_STEPS: ReadonlySet<string> = new Set(["status", "allow-origin"]);

/**
 * Root cause first: after a step that makes the browser stop, the later
 * steps are reported as not evaluated. (When Access leaves out every CORS
 * header for an origin it does not allow, the missing credentials, methods
 * and headers are not further problems: they follow from the first.)
 */
export function rootCauseFirst(findings: Finding[]): Finding[] {
  const stop = findings.findIndex((f) => !f.ok && STOPPING_STEPS.has(f.step));
  if (stop < 0) return findings;
  const at = findings[stop]!;
  return findings.map((f, i) =>
    i <= stop
      ? f
      : {
          phase: f.phase,
          step: f.step,
          ok: true,
          severity: "not-evaluated",
          summary: `not evaluated: the browser stops at the failed ${at.step} check`,
          fixKeys: [],
        },
  );
}

export function diagnosePreflight(
  req: CorsRequest,
  res: ResponseView,
  routePrefix?: string,
): Finding[] {
  const checks = checkPreflight(req, res);
  const route = workerRoute(req.origin, routePrefix);
  return rootCauseFirst(checks.map((c) => explain("preflight", c, req, res, route)));
}

export function diagnoseActual(
  req: CorsRequest,
  res: ResponseView,
  loginGiven = false,
  routePrefix?: string,
): Finding[] {
  return diagnoseActualResponse(req, res, loginGiven, routePrefix ?? defaultRoutePrefix).findings;
}

/**
 * Access on the front end turning a request away because the person's
 * session ended: its login redirect, or on the route the 401 it gives a
 * request marked as a script's, which carries none of the Worker's reason.
 */
function sessionEnded(req: CorsRequest, res: ResponseView, routePrefix: string): boolean {
  if (!isSameOrigin(req)) return false;
  if (accessLoginLocation(res, req.url) !== null) return true;
  const marked = isMarkedXhr(req.headers.find((h) => /^x-requested-with$/i.test(h.name))?.value);
  return (
    res.status === 401 && marked && isOnRoute(req, routePrefix) && workerReasonOf(res) === undefined
  );
}

function diagnoseActualResponse(
  req: CorsRequest,
  res: ResponseView,
  loginGiven: boolean,
  routePrefix: string,
): { findings: Finding[]; notJudged?: NotJudged } {
  const route = workerRoute(req.origin, routePrefix);
  // Only a credentialed request carries a login; without one the doctor saw
  // what a browser that is not logged in gets, and cannot say more.
  const notJudged = (answer: string): NotJudged | undefined =>
    req.credentials && !loginGiven
      ? {
          api: originOf(req.url),
          answer,
          tokenCommand: `cloudflared access token -app=${redactUrl(req.url)}`,
        }
      : undefined;
  const context: ReportContext = { phase: "actual", req, res, data: {}, route };
  if (res.status === 421) return { findings: [refusal("misdirected", "status", context)] };
  // Root causes on the stack's own route, before any CORS reading of the answer.
  if (workerReasonOf(res) === "service_token_refused") {
    return { findings: [refusal("service-token-refused", "worker", context)] };
  }
  if (sessionEnded(req, res, routePrefix)) {
    return {
      findings: [refusal("session-ended", "access-session", context)],
      notJudged: notJudged(`${res.status} from the front end's Access`),
    };
  }
  if (isSameOrigin(req)) return { findings: [finding("same-origin", "cors", "pass", context)] };
  if (accessLoginLocation(res, req.url) !== null) {
    const code = loginGiven ? "access-login-not-accepted" : "access-login";
    return {
      findings: [refusal(code, "access-login", context)],
      notJudged: notJudged(`${res.status} to the Access login page`),
    };
  }
  if ((res.status === 401 || res.status === 403) && isFromAccess(res)) {
    const code = loginGiven ? "access-denied-login-not-accepted" : "access-denied";
    return {
      findings: [refusal(code, "access-denied", context)],
      notJudged: notJudged(`${res.status} from Access`),
    };
  }
  const findings = rootCauseFirst(
    checkActual(req, res).map((c) => explain("actual", c, req, res, route)),
  );
  if (isRedirectStatus(res.status)) {
    const failed = findings.some((f) => !f.ok);
    findings.push(finding(failed ? "redirect-failed" : "redirect", "redirect", "warn", context));
  }
  // The API's own refusal of a request without a login: its CORS headers
  // still decide what the page sees, but a logged-in person gets another answer.
  const refused = res.status === 401 || res.status === 403;
  return { findings, notJudged: refused ? notJudged(`${res.status} from the API`) : undefined };
}

/** A page that sends the service token itself hands it to every visitor. */
function serviceTokenFinding(req: CorsRequest, route: string): Finding | null {
  const sent = [
    ...new Set(
      req.headers
        .map((h) => h.name.toLowerCase())
        .filter((n) => n === "cf-access-client-id" || n === "cf-access-client-secret"),
    ),
  ];
  if (sent.length === 0) return null;
  const res = { status: 0, headers: [] };
  const context = { phase: "actual" as const, req, res, data: { headers: sent.join(", ") }, route };
  return finding("service-token", "service-token", "warn", context);
}

/** A finding in the catalogue's words. */
function finding(
  code: FindingCode,
  step: string,
  severity: CheckStatus,
  c: ReportContext,
): Finding {
  const text = FINDINGS[code];
  const problem = "cause" in text ? text : undefined;
  return {
    phase: c.phase,
    step,
    ok: severity !== "fail",
    severity,
    summary: text.summary(c),
    ...(problem !== undefined ? { cause: problem.cause(c), fix: problem.fix(c) } : {}),
    fixKeys:
      problem === undefined
        ? []
        : typeof problem.fixKeys === "function"
          ? problem.fixKeys(c)
          : [...problem.fixKeys],
  };
}

function refusal(code: RefusalCode, step: string, c: ReportContext): Finding {
  return finding(code, step, "fail", c);
}

/**
 * A preflight's status check names the refusal more closely from who
 * answered: Access's login page, Access's 403, or a server that does not
 * serve the host.
 */
function preflightCode(c: CheckResult, req: CorsRequest, res: ResponseView): FindingCode {
  if (c.code === "status-redirect" && accessLoginLocation(res, req.url) !== null) {
    return "preflight-access-login";
  }
  if (c.code !== "status-not-ok") return c.code;
  if (res.status === 421) return "misdirected";
  // The guide's symptom: Access answers every OPTIONS with 403 when the app has
  // neither CORS settings nor a bypass.
  if (res.status === 403 && accessEvidence(res.headers).length > 0) return "preflight-refused";
  return c.code;
}

/** One check result in words, with the stack-specific fix; `route` is the Worker's, as `workerRoute` spells it. */
export function explain(
  phase: Phase,
  c: CheckResult,
  req: CorsRequest,
  res: ResponseView,
  route = workerRoute(req.origin),
): Finding {
  const context: ReportContext = { phase, req, res, data: c.data, route };
  return finding(preflightCode(c, req, res), c.step, c.status, context);
}
