/**
 * Turns the browser's checks into findings a person can act on: what failed,
 * why, and what to change in this stack (config keys) or which of the guide's
 * options applies.
 */
import { accessEvidence, accessLoginLocation, isFromAccess } from "./access";
import {
  checkActual,
  checkPreflight,
  getHeader,
  isRedirectStatus,
  preflightReasons,
  type CheckResult,
  type CheckStatus,
  type CorsRequest,
  type ResponseView,
} from "./cors-check";
import { redactUrl } from "./redact";

export type Phase = "preflight" | "actual";

/**
 * Names used in `fixKeys`: the stack's config keys, plus the guide's options.
 * `log-in-first` and `worker` are the guide's options 1 and 2 for simple
 * requests; `preflight` covers its CORS-settings and OPTIONS-bypass options.
 */
export type FixKey =
  | "corsAllowedOrigins"
  | "corsAllowedMethods"
  | "corsAllowedHeaders"
  | "corsAllowCredentials"
  | "corsMaxAge"
  | "preflight"
  | "log-in-first"
  | "worker"
  | "api-cors"
  | "request";

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
  const reasons = preflightReasons(request);
  const findings: Finding[] = [];
  let notJudged: NotJudged | undefined;
  if (obs.preflight !== undefined) {
    findings.push(...diagnosePreflight(request, obs.preflight, obs.routePrefix));
  }
  if (obs.actual !== undefined) {
    const actual = diagnoseActualResponse(request, obs.actual, obs.loginGiven === true, route);
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
  return diagnoseActualResponse(req, res, loginGiven, workerRoute(req.origin, routePrefix))
    .findings;
}

function diagnoseActualResponse(
  req: CorsRequest,
  res: ResponseView,
  loginGiven: boolean,
  route: string,
): { findings: Finding[]; notJudged?: NotJudged } {
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
  if (res.status === 421) return { findings: [misdirectedFinding("actual", req, res)] };
  const login = accessLoginLocation(res, req.url);
  if (login !== null) {
    return {
      findings: [accessLoginFinding(req, res, login, loginGiven, route)],
      notJudged: notJudged(`${res.status} to the Access login page`),
    };
  }
  if ((res.status === 401 || res.status === 403) && isFromAccess(res)) {
    return {
      findings: [accessDeniedFinding(req, res, loginGiven, route)],
      notJudged: notJudged(`${res.status} from Access`),
    };
  }
  const findings = rootCauseFirst(
    checkActual(req, res).map((c) => explain("actual", c, req, res, route)),
  );
  if (isRedirectStatus(res.status)) {
    const location = redactUrl(getHeader(res.headers, "location") ?? "");
    const failed = findings.some((f) => !f.ok);
    findings.push({
      phase: "actual",
      step: "redirect",
      ok: true,
      severity: "warn",
      summary: failed
        ? `the response is a ${res.status} redirect to ${location}`
        : `${res.status} redirect to ${location}`,
      cause: failed
        ? "Browsers run the CORS check on every redirect hop, so the redirect itself needs CORS headers."
        : `The browser follows this redirect and runs the same CORS check on ${location}, which the doctor does not follow.`,
      fix: failed
        ? `Call the final URL directly (--url ${location}), or make the redirect carry the same CORS headers.`
        : `Check the target too: --url ${location}`,
      fixKeys: ["request"],
    });
  }
  // The API's own refusal of a request without a login: its CORS headers
  // still decide what the page sees, but a logged-in person gets another answer.
  const refused = res.status === 401 || res.status === 403;
  return { findings, notJudged: refused ? notJudged(`${res.status} from the API`) : undefined };
}

/** A page that sends the service token itself hands it to every visitor. */
function serviceTokenFinding(req: CorsRequest, route: string): Finding | null {
  const names = req.headers
    .map((h) => h.name.toLowerCase())
    .filter((n) => n === "cf-access-client-id" || n === "cf-access-client-secret");
  if (names.length === 0) return null;
  return {
    phase: "actual",
    step: "service-token",
    ok: true,
    severity: "warn",
    summary: `the page sends ${[...new Set(names)].join(", ")}`,
    cause:
      "The service token's credentials are sent from the browser, so every visitor can read them; they also make the request need a preflight.",
    fix: `Keep the token server-side: call the API through this stack's Worker on ${route}, which adds the service token itself, and rotate the exposed token.`,
    fixKeys: ["worker"],
  };
}

/** Why Access turned away a login the doctor was given, and how to get one it accepts. */
function refusedLogin(req: CorsRequest): { cause: string; fix: string } {
  return {
    cause:
      "Access did not accept the login given with --access-token/--cookie: it has expired, belongs to another Access application, or names an identity the API app's allow policy does not admit.",
    fix: `Get a fresh token for this API (\`cloudflared access token -app=${redactUrl(req.url)}\`, after \`cloudflared access login\` if it has none) and check that your identity is in the API app's allow policy (\`allowedEmails\`, \`allowedEmailDomains\`).`,
  };
}

function accessLoginFinding(
  req: CorsRequest,
  res: ResponseView,
  location: string,
  loginGiven: boolean,
  route: string,
): Finding {
  const api = originOf(req.url);
  const base = {
    phase: "actual" as const,
    step: "access-login",
    ok: false,
    severity: "fail" as const,
    summary: `${res.status} redirect to the Access login page`,
    fixKeys: ["log-in-first", "worker"] as FixKey[],
  };
  const redirect = `Access redirected the request to its login page (${redactUrl(location)})`;
  if (loginGiven) {
    const refused = refusedLogin(req);
    return { ...base, cause: `${redirect}. ${refused.cause}`, fix: refused.fix };
  }
  const noCreds = req.credentials
    ? ""
    : " Note that without `credentials: 'include'` the browser never sends the CF_Authorization cookie, even after logging in.";
  return {
    ...base,
    cause:
      `${redirect}: the request carried no CF_Authorization cookie for ${api}; in a browser, that means you are not logged in to the API. ` +
      `The redirect carries no CORS headers, so the page only sees a CORS error.${noCreds}`,
    fix:
      `Guide option 1: log in to ${api} in this browser first, then reload ${req.origin} (the request must use \`credentials: 'include'\`). ` +
      `Guide option 2: call the API through this stack's Worker on ${route} (the route is frontendHostname + routePrefix), which adds the service token so no second login is needed; the API then learns who called from X-Access-Bridge-Identity, a statement the Worker signs and the API verifies with the stack's identityJwks.`,
  };
}

function accessDeniedFinding(
  req: CorsRequest,
  res: ResponseView,
  loginGiven: boolean,
  route: string,
): Finding {
  const base = {
    phase: "actual" as const,
    step: "access-denied",
    ok: false,
    severity: "fail" as const,
    summary: `${res.status} from Access (${accessEvidence(res.headers).join(", ")})`,
    fixKeys: ["log-in-first", "worker"] as FixKey[],
  };
  const refusedHere = `Access refused the request with ${res.status} before it reached the API; its error page carries no CORS headers, so the page sees a CORS error.`;
  if (loginGiven) {
    const refused = refusedLogin(req);
    return { ...base, cause: `${refusedHere} ${refused.cause}`, fix: refused.fix };
  }
  return {
    ...base,
    cause: refusedHere,
    fix: `Log in to ${originOf(req.url)} with an identity the API app's allow policy admits, or call the API through this stack's Worker on ${route}, whose service token matches the Service Auth policy.`,
  };
}

function where(phase: Phase): string {
  return phase === "preflight"
    ? "with `preflight: cloudflare`, Access answers preflights from `corsAllowed*`; with `preflight: origin`, your API's CORS configuration answers them"
    : "the actual response's CORS headers come from your API: make its CORS configuration match";
}

/** One check result in words, with the stack-specific fix; `route` is the Worker's, as `workerRoute` spells it. */
export function explain(
  phase: Phase,
  c: CheckResult,
  req: CorsRequest,
  res: ResponseView,
  route = workerRoute(req.origin),
): Finding {
  const d = c.data;
  const base = { phase, step: c.step, ok: c.status !== "fail", severity: c.status };
  const acao = `Access-Control-Allow-Origin`;
  switch (c.code) {
    case "status-ok":
      return { ...base, summary: `${res.status} (ok status)`, fixKeys: [] };
    case "status-redirect":
      return preflightRedirect(base, req, res, route);
    case "status-not-ok":
      return preflightNotOk(base, req, res, route);
    case "acao-ok":
      return { ...base, summary: `${acao}: ${String(d.allowOrigin)} matches`, fixKeys: [] };
    case "acao-wildcard":
      return { ...base, summary: `${acao}: * (allowed without credentials)`, fixKeys: [] };
    case "acao-missing":
      return {
        ...base,
        summary: `no ${acao}`,
        cause: `The ${phase} response has no ${acao} header, so the browser rejects it.${evidenceNote(res)}`,
        fix: `Allow ${req.origin}: add it to \`corsAllowedOrigins\` (${where(phase)}).`,
        fixKeys: ["corsAllowedOrigins", ...(phase === "actual" ? (["api-cors"] as const) : [])],
      };
    case "acao-multiple":
      return {
        ...base,
        summary: `${acao} has several values`,
        cause: `${acao} is \`${String(d.allowOrigin)}\`; browsers accept exactly one origin (or \`*\`), never a list.`,
        fix: `Send only the request's own origin when it is allowed: keep the list in \`corsAllowedOrigins\` and let the responder echo one match (${where(phase)}).`,
        fixKeys: ["corsAllowedOrigins"],
      };
    case "acao-wildcard-with-credentials":
      return {
        ...base,
        summary: `${acao}: * with credentials`,
        cause: `${acao} is \`*\` but the request carries credentials (cookies such as CF_Authorization); browsers never accept \`*\` for a credentialed request.`,
        fix: `List the exact origin instead of \`*\`: put ${req.origin} in \`corsAllowedOrigins\` and keep \`corsAllowCredentials: true\` (${where(phase)}). If the page needs no cookies, drop \`credentials: 'include'\` instead.`,
        fixKeys: ["corsAllowedOrigins"],
      };
    case "acao-mismatch":
      return {
        ...base,
        summary: `${acao}: ${String(d.allowOrigin)} does not match ${req.origin}`,
        cause: `${acao} is \`${String(d.allowOrigin)}\` but the page's origin is \`${req.origin}\` (they differ by: ${String(d.difference)}). Browsers compare the two byte for byte.`,
        fix: `Write the origin exactly as the browser sends it, scheme://host[:port] with no path and no trailing slash: \`${req.origin}\` in \`corsAllowedOrigins\` (${where(phase)}).`,
        fixKeys: ["corsAllowedOrigins"],
      };
    case "acac-not-needed":
      return {
        ...base,
        summary: "no credentials sent, Access-Control-Allow-Credentials not needed",
        fixKeys: [],
      };
    case "acac-ok":
      return { ...base, summary: "Access-Control-Allow-Credentials: true", fixKeys: [] };
    case "acac-missing":
    case "acac-not-true":
      return {
        ...base,
        summary:
          c.code === "acac-missing"
            ? "no Access-Control-Allow-Credentials"
            : `Access-Control-Allow-Credentials: ${String(d.value)}`,
        cause:
          c.code === "acac-missing"
            ? `The request carries credentials but the ${phase} response has no Access-Control-Allow-Credentials; browsers require it to be exactly \`true\`.`
            : `Access-Control-Allow-Credentials is \`${String(d.value)}\`; browsers accept only the exact lower-case value \`true\`.`,
        fix: `Set \`corsAllowCredentials: true\` (${where(phase)}; send exactly \`true\`).`,
        fixKeys: ["corsAllowCredentials"],
      };
    case "methods-ok":
      return { ...base, summary: `method ${req.method} is allowed`, fixKeys: [] };
    case "methods-safelisted":
      return {
        ...base,
        summary: `method ${req.method} is CORS-safelisted, need not be listed`,
        fixKeys: [],
      };
    case "methods-wildcard":
      return {
        ...base,
        summary: `method ${req.method} allowed by * (no credentials)`,
        fixKeys: [],
      };
    case "methods-missing": {
      const listed = listOrNone(d.allowed);
      const caseNote =
        d.caseMismatch !== undefined
          ? ` \`${String(d.caseMismatch)}\` is listed, but method names match case-sensitively.`
          : "";
      return {
        ...base,
        summary: `method ${req.method} not allowed`,
        cause: `The preflight asked for method ${req.method}; Access-Control-Allow-Methods is ${listed}.${caseNote}`,
        fix: `Add \`${req.method}\` (in capitals) to \`corsAllowedMethods\` (${where(phase)}).`,
        fixKeys: ["corsAllowedMethods"],
      };
    }
    case "methods-wildcard-with-credentials":
      return {
        ...base,
        summary: `method ${req.method} not allowed (* with credentials)`,
        cause: `Access-Control-Allow-Methods is \`*\`, which for a credentialed request means only a method literally named "*".`,
        fix: `List \`${req.method}\` explicitly in \`corsAllowedMethods\` (${where(phase)}).`,
        fixKeys: ["corsAllowedMethods"],
      };
    case "headers-none":
      return { ...base, summary: "no non-safelisted request headers", fixKeys: [] };
    case "headers-ok":
      return { ...base, summary: `headers allowed: ${list(d.requested)}`, fixKeys: [] };
    case "headers-wildcard":
      return {
        ...base,
        summary: `headers allowed by * (no credentials): ${list(d.requested)}`,
        fixKeys: [],
      };
    case "headers-missing":
      return {
        ...base,
        summary: `header(s) not allowed: ${list(d.missing)}`,
        cause: `The preflight asked for ${list(d.requested)}; Access-Control-Allow-Headers is ${listOrNone(d.allowed)} and does not list ${list(d.missing)}. (Header names compare case-insensitively, so letter case is never the problem.)`,
        fix: `Add ${list(d.missing)} to \`corsAllowedHeaders\` (${where(phase)}).`,
        fixKeys: ["corsAllowedHeaders"],
      };
    case "headers-wildcard-with-credentials":
      return {
        ...base,
        summary: `header(s) not allowed (* with credentials): ${list(d.missing)}`,
        cause: `Access-Control-Allow-Headers is \`*\`, which for a credentialed request means only a header literally named "*".`,
        fix: `List ${list(d.missing)} explicitly in \`corsAllowedHeaders\` (${where(phase)}).`,
        fixKeys: ["corsAllowedHeaders"],
      };
    case "headers-authorization-wildcard":
      return {
        ...base,
        summary: "Authorization not covered by *",
        cause:
          "Access-Control-Allow-Headers is `*`, but browsers never let `*` cover the Authorization header.",
        fix: `Add \`authorization\` explicitly to \`corsAllowedHeaders\` (${where(phase)}).`,
        fixKeys: ["corsAllowedHeaders"],
      };
    case "max-age-ok":
      return { ...base, summary: `preflight cached for ${String(d.seconds)} s`, fixKeys: [] };
    case "max-age-default":
      return {
        ...base,
        summary: "no Access-Control-Max-Age (browsers cache the preflight for 5 s)",
        cause:
          "Without Access-Control-Max-Age the browser repeats the preflight after 5 seconds, adding a round trip to most requests.",
        fix: "Set `corsMaxAge` (for example 600; Chromium caps it at 7200 s, Firefox at 86400 s).",
        fixKeys: ["corsMaxAge"],
      };
    case "max-age-invalid":
      return {
        ...base,
        summary: `Access-Control-Max-Age \`${String(d.value)}\` is not a number (browsers use 5 s)`,
        cause:
          "Browsers ignore a max-age that is not a plain number of seconds and fall back to 5 s.",
        fix: "Set `corsMaxAge` to a whole number of seconds, at most 7200.",
        fixKeys: ["corsMaxAge"],
      };
    case "max-age-capped":
      return {
        ...base,
        summary: `Access-Control-Max-Age ${String(d.seconds)} s exceeds Chromium's cap`,
        cause: `Chromium caches preflights for at most ${String(d.chromium)} s and Firefox for ${String(d.firefox)} s here, so the value does not do what it says.`,
        fix: "Set `corsMaxAge` to 7200 or less so every browser behaves the same.",
        fixKeys: ["corsMaxAge"],
      };
    case "vary-ok":
    case "vary-not-needed":
      return {
        ...base,
        summary: c.code === "vary-ok" ? "Vary includes Origin" : "Vary: Origin not needed",
        fixKeys: [],
      };
    case "vary-missing":
      return {
        ...base,
        summary: "Vary lacks Origin",
        cause: `The ${phase} response echoes the origin in ${acao} without \`Vary: Origin\`; a cache (the browser's or a CDN's) may replay it to a page on another origin, which then fails intermittently.`,
        fix: `Add \`Vary: Origin\` wherever ${acao} is computed from the request (${where(phase)}).`,
        fixKeys: phase === "preflight" ? ["preflight"] : ["api-cors"],
      };
  }
}

type Base = Pick<Finding, "phase" | "step" | "ok" | "severity">;

const PREFLIGHT_OPTIONS =
  "Set `preflight: cloudflare` and list the page in `corsAllowedOrigins` (with `corsAllowedMethods`/`corsAllowedHeaders`) so Access answers preflights itself (the guide's CORS settings); " +
  "or `preflight: origin` if your API answers OPTIONS with CORS headers (the guide's OPTIONS bypass); " +
  "or call the API through this stack's Worker on";

function preflightRedirect(
  base: Base,
  req: CorsRequest,
  res: ResponseView,
  route: string,
): Finding {
  const location = getHeader(res.headers, "location") ?? "";
  if (accessLoginLocation(res, req.url) !== null) {
    return {
      ...base,
      summary: `preflight redirected to the Access login page (${res.status})`,
      cause: `Access answered the OPTIONS preflight with a redirect to its login page (${redactUrl(location)}). Browsers never send cookies on a preflight and never follow a preflight's redirect, so logging in does not help: the API's Access app has no CORS settings and no OPTIONS bypass.`,
      fix: `${PREFLIGHT_OPTIONS} ${route}, which is same-origin and needs no preflight.`,
      fixKeys: ["preflight", "corsAllowedOrigins", "worker"],
    };
  }
  return {
    ...base,
    summary: `preflight redirected (${res.status})`,
    cause: `The preflight was answered with ${res.status} to ${redactUrl(location)}; browsers treat any preflight redirect as a failure.`,
    fix: "Call the final URL directly (a missing trailing slash or http→https upgrade is the usual cause), so OPTIONS is answered with 2xx at the URL the page uses.",
    fixKeys: ["request"],
  };
}

/**
 * 421 Misdirected Request: the connection reached a server that does not
 * serve the URL's host, typically an API called by address. The answer says
 * nothing about CORS, so no CORS fix is offered.
 */
function misdirectedFinding(phase: Phase, req: CorsRequest, res: ResponseView): Finding {
  let host = req.url;
  let port = "";
  try {
    const url = new URL(req.url);
    host = url.hostname;
    port = url.port !== "" ? url.port : url.protocol === "https:" ? "443" : "80";
  } catch {
    // The URL was checked on the command line; keep the raw text otherwise.
  }
  return {
    phase,
    step: "status",
    ok: false,
    severity: "fail",
    summary: `${res.status} Misdirected Request: the server reached does not serve ${host}`,
    cause: `The connection reached a server that does not serve ${host} (an API called by address, or a name mapped to the wrong server), so it answered 421 instead of the API's answer. Nothing here is about CORS yet.`,
    fix: `Call the API by its own name in --url; if that name does not lead to the server from here, map it with --resolve ${host}:${port}:<address> (the lab prints such a command).`,
    fixKeys: ["request"],
  };
}

function preflightNotOk(base: Base, req: CorsRequest, res: ResponseView, route: string): Finding {
  if (res.status === 421) return misdirectedFinding("preflight", req, res);
  const evidence = accessEvidence(res.headers);
  if (res.status === 403 && evidence.length > 0) {
    // The guide's symptom: Access answers every OPTIONS with 403 when the app has
    // neither CORS settings nor a bypass. `server: cloudflare` alone could also be a WAF rule.
    const who = isFromAccess(res)
      ? `Access blocked the OPTIONS preflight (${evidence.join(", ")}).`
      : "Cloudflare refused the OPTIONS preflight (server: cloudflare, no cf-access-* header): most likely Access, otherwise a WAF rule.";
    return {
      ...base,
      summary: `preflight refused by ${isFromAccess(res) ? "Access" : "Cloudflare"} (403)`,
      cause: `${who} Browsers never send cookies on a preflight, so Access cannot see a login: the API's Access app has neither CORS settings nor an OPTIONS bypass.`,
      fix: `${PREFLIGHT_OPTIONS} ${route}, which is same-origin and needs no preflight.`,
      fixKeys: ["preflight", "corsAllowedOrigins", "worker"],
    };
  }
  return {
    ...base,
    summary: `preflight answered ${res.status}`,
    cause: `The OPTIONS preflight was answered with ${res.status}; browsers need a 2xx status before they read any CORS header.`,
    fix: `With \`preflight: origin\`, your API must answer OPTIONS on this path with 2xx and CORS headers; or set \`preflight: cloudflare\` so Access answers it from \`corsAllowedOrigins\`.`,
    fixKeys: ["preflight"],
  };
}

function evidenceNote(res: ResponseView): string {
  return isFromAccess(res)
    ? ` The response came from Access (${accessEvidence(res.headers).join(", ")}), not from your API.`
    : "";
}

function list(v: string | number | string[] | undefined): string {
  return Array.isArray(v) ? v.map((x) => `\`${x}\``).join(", ") : `\`${String(v)}\``;
}

function listOrNone(v: string | number | string[] | undefined): string {
  return Array.isArray(v) && v.length === 0 ? "absent" : list(v);
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
