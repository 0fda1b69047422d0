/**
 * The words for every finding, one entry per code: the doctor's report line,
 * cause and fix, and for a refusal the lab page's rule, its one-line reason
 * and Chromium's console message (finding-text.ts says what each must have).
 * Every CORS check's code must have its entry here; the findings no check
 * names are answer-findings.ts's, whose keys are their codes.
 */
import { accessEvidence, isFromAccess } from "./access";
import { ANSWER_PASSES, ANSWER_REFUSALS, ANSWER_WARNINGS, ROUTE_REFUSALS } from "./answer-findings";
import type { CheckResult, FailCode, PassCode, ResponseView, WarnCode } from "./cors-check";
import type { WorkerAnswer } from "./worker-answer";
import type { Reason } from "../worker/src/reasons";
import {
  CHROMIUM,
  location,
  type FixKey,
  type PageContext,
  type Passed,
  type Phase,
  type Refusal,
  type Setting,
  type Warning,
} from "./finding-text";

type CheckCatalogue = { [K in PassCode]: Passed } & { [K in WarnCode]: Warning } & {
  [K in FailCode]: Refusal;
};

const ACAO = "Access-Control-Allow-Origin";

/** Where the fix is made: who answers the CORS headers of this phase. */
function where(phase: Phase): string {
  return phase === "preflight"
    ? "with `preflight: cloudflare`, Access answers preflights from `corsAllowed*`; with `preflight: origin`, your API's CORS configuration answers them"
    : "the actual response's CORS headers come from your API: make its CORS configuration match";
}

/** Where the failing header's value comes from on the lab's stack, as the thing to change. */
function source(setting: Setting, key: FixKey): string {
  return setting.preflight === "origin" ? "the API's own CORS policy" : key;
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

function missing(c: { data: CheckResult["data"] }): string[] {
  return Array.isArray(c.data.missing) ? c.data.missing : [];
}

const credentialsOff: Pick<Refusal, "title" | "fix" | "fixKeys" | "browser"> = {
  title: "credentials off",
  fix: (c) => `Set \`corsAllowCredentials: true\` (${where(c.phase)}; send exactly \`true\`).`,
  fixKeys: ["corsAllowCredentials"],
  browser: (c) =>
    `The value of the 'Access-Control-Allow-Credentials' header in the response is '${String(c.data.value ?? "")}' which must be 'true' when the request's credentials mode is 'include'.`,
};

const methodRefused = (c: PageContext): string =>
  `Method ${c.req.method} is not allowed by Access-Control-Allow-Methods in preflight response.`;

const headerRefused = (c: PageContext): string =>
  `Request header field ${missing(c)[0] ?? ""} is not allowed by Access-Control-Allow-Headers in preflight response.`;

const CHECKS: CheckCatalogue = {
  // The preflight's status.
  "status-ok": { summary: (c) => `${c.res.status} (ok status)` },
  "status-redirect": {
    title: "preflight redirected",
    summary: (c) => `preflight redirected (${c.res.status})`,
    cause: (c) =>
      `The preflight was answered with ${c.res.status} to ${location(c)}; browsers treat any preflight redirect as a failure.`,
    fix: () =>
      "Call the final URL directly (a missing trailing slash or http→https upgrade is the usual cause), so OPTIONS is answered with 2xx at the URL the page uses.",
    fixKeys: ["request"],
    detail: (c) =>
      `${c.answeredBy} answered the preflight with ${c.status}; a browser never follows a preflight's redirect`,
    browser: () => CHROMIUM.redirected,
  },
  "status-not-ok": {
    title: "preflight refused",
    summary: (c) => `preflight answered ${c.res.status}`,
    cause: (c) =>
      `The OPTIONS preflight was answered with ${c.res.status}; browsers need a 2xx status before they read any CORS header.`,
    fix: () =>
      "With `preflight: origin`, your API must answer OPTIONS on this path with 2xx and CORS headers; or set `preflight: cloudflare` so Access answers it from `corsAllowedOrigins`.",
    fixKeys: ["preflight"],
    detail: (c) =>
      `the API answered the preflight with ${c.status}: its own CORS policy does not admit ${c.req.origin}`,
    browser: () => CHROMIUM.notOk,
  },

  // Access-Control-Allow-Origin.
  "acao-ok": { summary: (c) => `${ACAO}: ${String(c.data.allowOrigin)} matches` },
  "acao-wildcard": { summary: () => `${ACAO}: * (allowed without credentials)` },
  "acao-missing": {
    title: "origin not allowed",
    summary: () => `no ${ACAO}`,
    cause: (c) =>
      `The ${c.phase} response has no ${ACAO} header, so the browser rejects it.${evidenceNote(c.res)}`,
    fix: (c) => `Allow ${c.req.origin}: add it to \`corsAllowedOrigins\` (${where(c.phase)}).`,
    fixKeys: (c) => [
      "corsAllowedOrigins",
      ...(c.phase === "actual" ? (["api-cors"] as const) : []),
    ],
    detail: (c) =>
      `${ACAO} missing for ${c.req.origin} (${source(c.setting, "corsAllowedOrigins")})`,
    browser: () => CHROMIUM.noAllowOrigin,
  },
  "acao-multiple": {
    title: "origin not allowed",
    summary: () => `${ACAO} has several values`,
    cause: (c) =>
      `${ACAO} is \`${String(c.data.allowOrigin)}\`; browsers accept exactly one origin (or \`*\`), never a list.`,
    fix: (c) =>
      `Send only the request's own origin when it is allowed: keep the list in \`corsAllowedOrigins\` and let the responder echo one match (${where(c.phase)}).`,
    fixKeys: ["corsAllowedOrigins"],
    detail: (c) =>
      `${ACAO} is ${String(c.data.allowOrigin)}, a list where browsers accept one origin (${source(c.setting, "corsAllowedOrigins")})`,
    browser: (c) =>
      `The 'Access-Control-Allow-Origin' header contains multiple values '${String(c.data.allowOrigin)}', but only one is allowed.`,
  },
  "acao-wildcard-with-credentials": {
    title: "origin wildcard with credentials",
    summary: () => `${ACAO}: * with credentials`,
    cause: () =>
      `${ACAO} is \`*\` but the request carries credentials (cookies such as CF_Authorization); browsers never accept \`*\` for a credentialed request.`,
    fix: (c) =>
      `List the exact origin instead of \`*\`: put ${c.req.origin} in \`corsAllowedOrigins\` and keep \`corsAllowCredentials: true\` (${where(c.phase)}). If the page needs no cookies, drop \`credentials: 'include'\` instead.`,
    fixKeys: ["corsAllowedOrigins"],
    detail: (c) =>
      `${ACAO} is * but the request carries credentials (${source(c.setting, "corsAllowedOrigins")})`,
    browser: () =>
      "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'.",
  },
  "acao-mismatch": {
    title: "origin not allowed",
    summary: (c) => `${ACAO}: ${String(c.data.allowOrigin)} does not match ${c.req.origin}`,
    cause: (c) =>
      `${ACAO} is \`${String(c.data.allowOrigin)}\` but the page's origin is \`${c.req.origin}\` (they differ by: ${String(c.data.difference)}). Browsers compare the two byte for byte.`,
    fix: (c) =>
      `Write the origin exactly as the browser sends it, scheme://host[:port] with no path and no trailing slash: \`${c.req.origin}\` in \`corsAllowedOrigins\` (${where(c.phase)}).`,
    fixKeys: ["corsAllowedOrigins"],
    detail: (c) =>
      `${ACAO} is ${String(c.data.allowOrigin)}, not ${c.req.origin} (${source(c.setting, "corsAllowedOrigins")})`,
    browser: (c) =>
      `The 'Access-Control-Allow-Origin' header has a value '${String(c.data.allowOrigin)}' that is not equal to the supplied origin.`,
  },

  // Access-Control-Allow-Credentials.
  "acac-ok": { summary: () => "Access-Control-Allow-Credentials: true" },
  "acac-not-needed": {
    summary: () => "no credentials sent, Access-Control-Allow-Credentials not needed",
  },
  "acac-missing": {
    ...credentialsOff,
    summary: () => "no Access-Control-Allow-Credentials",
    cause: (c) =>
      `The request carries credentials but the ${c.phase} response has no Access-Control-Allow-Credentials; browsers require it to be exactly \`true\`.`,
    detail: (c) =>
      `Access-Control-Allow-Credentials missing (${source(c.setting, "corsAllowCredentials")})`,
  },
  "acac-not-true": {
    ...credentialsOff,
    summary: (c) => `Access-Control-Allow-Credentials: ${String(c.data.value)}`,
    cause: (c) =>
      `Access-Control-Allow-Credentials is \`${String(c.data.value)}\`; browsers accept only the exact lower-case value \`true\`.`,
    detail: (c) =>
      `Access-Control-Allow-Credentials is ${String(c.data.value)}, not true (${source(c.setting, "corsAllowCredentials")})`,
  },

  // Access-Control-Allow-Methods.
  "methods-ok": { summary: (c) => `method ${c.req.method} is allowed` },
  "methods-safelisted": {
    summary: (c) => `method ${c.req.method} is CORS-safelisted, need not be listed`,
  },
  "methods-wildcard": { summary: (c) => `method ${c.req.method} allowed by * (no credentials)` },
  "methods-missing": {
    title: "method not allowed",
    summary: (c) => `method ${c.req.method} not allowed`,
    cause: (c) => {
      const caseNote =
        c.data.caseMismatch !== undefined
          ? ` \`${String(c.data.caseMismatch)}\` is listed, but method names match case-sensitively.`
          : "";
      return `The preflight asked for method ${c.req.method}; Access-Control-Allow-Methods is ${listOrNone(c.data.allowed)}.${caseNote}`;
    },
    fix: (c) =>
      `Add \`${c.req.method}\` (in capitals) to \`corsAllowedMethods\` (${where(c.phase)}).`,
    fixKeys: ["corsAllowedMethods"],
    detail: (c) =>
      `${c.req.method} is not in Access-Control-Allow-Methods (${source(c.setting, "corsAllowedMethods")})`,
    browser: methodRefused,
  },
  "methods-wildcard-with-credentials": {
    title: "method not allowed",
    summary: (c) => `method ${c.req.method} not allowed (* with credentials)`,
    cause: () =>
      `Access-Control-Allow-Methods is \`*\`, which for a credentialed request means only a method literally named "*".`,
    fix: (c) =>
      `List \`${c.req.method}\` explicitly in \`corsAllowedMethods\` (${where(c.phase)}).`,
    fixKeys: ["corsAllowedMethods"],
    detail: (c) =>
      `Access-Control-Allow-Methods is *, which with credentials does not cover ${c.req.method} (${source(c.setting, "corsAllowedMethods")})`,
    browser: methodRefused,
  },

  // Access-Control-Allow-Headers.
  "headers-none": { summary: () => "no non-safelisted request headers" },
  "headers-ok": { summary: (c) => `headers allowed: ${list(c.data.requested)}` },
  "headers-wildcard": {
    summary: (c) => `headers allowed by * (no credentials): ${list(c.data.requested)}`,
  },
  "headers-missing": {
    title: "header not allowed",
    summary: (c) => `header(s) not allowed: ${list(c.data.missing)}`,
    cause: (c) =>
      `The preflight asked for ${list(c.data.requested)}; Access-Control-Allow-Headers is ${listOrNone(c.data.allowed)} and does not list ${list(c.data.missing)}. (Header names compare case-insensitively, so letter case is never the problem.)`,
    fix: (c) => `Add ${list(c.data.missing)} to \`corsAllowedHeaders\` (${where(c.phase)}).`,
    fixKeys: ["corsAllowedHeaders"],
    detail: (c) =>
      `${missing(c).join(", ")} ${missing(c).length === 1 ? "is" : "are"} not in Access-Control-Allow-Headers (${source(c.setting, "corsAllowedHeaders")})`,
    browser: headerRefused,
  },
  "headers-wildcard-with-credentials": {
    title: "header not allowed",
    summary: (c) => `header(s) not allowed (* with credentials): ${list(c.data.missing)}`,
    cause: () =>
      `Access-Control-Allow-Headers is \`*\`, which for a credentialed request means only a header literally named "*".`,
    fix: (c) =>
      `List ${list(c.data.missing)} explicitly in \`corsAllowedHeaders\` (${where(c.phase)}).`,
    fixKeys: ["corsAllowedHeaders"],
    detail: (c) =>
      `Access-Control-Allow-Headers is *, which with credentials does not cover ${missing(c).join(", ")} (${source(c.setting, "corsAllowedHeaders")})`,
    browser: headerRefused,
  },
  "headers-authorization-wildcard": {
    title: "header not allowed",
    summary: () => "Authorization not covered by *",
    cause: () =>
      "Access-Control-Allow-Headers is `*`, but browsers never let `*` cover the Authorization header.",
    fix: (c) => `Add \`authorization\` explicitly to \`corsAllowedHeaders\` (${where(c.phase)}).`,
    fixKeys: ["corsAllowedHeaders"],
    detail: (c) =>
      `Access-Control-Allow-Headers is *, which never covers authorization (${source(c.setting, "corsAllowedHeaders")})`,
    browser: headerRefused,
  },

  // Access-Control-Max-Age.
  "max-age-ok": { summary: (c) => `preflight cached for ${String(c.data.seconds)} s` },
  "max-age-default": {
    summary: () => "no Access-Control-Max-Age (browsers cache the preflight for 5 s)",
    cause: () =>
      "Without Access-Control-Max-Age the browser repeats the preflight after 5 seconds, adding a round trip to most requests.",
    fix: () =>
      "Set `corsMaxAge` (for example 600; Chromium caps it at 7200 s, Firefox at 86400 s).",
    fixKeys: ["corsMaxAge"],
  },
  "max-age-invalid": {
    summary: (c) =>
      `Access-Control-Max-Age \`${String(c.data.value)}\` is not a number (browsers use 5 s)`,
    cause: () =>
      "Browsers ignore a max-age that is not a plain number of seconds and fall back to 5 s.",
    fix: () => "Set `corsMaxAge` to a whole number of seconds, at most 7200.",
    fixKeys: ["corsMaxAge"],
  },
  "max-age-capped": {
    summary: (c) => `Access-Control-Max-Age ${String(c.data.seconds)} s exceeds Chromium's cap`,
    cause: (c) =>
      `Chromium caches preflights for at most ${String(c.data.chromium)} s and Firefox for ${String(c.data.firefox)} s here, so the value does not do what it says.`,
    fix: () => "Set `corsMaxAge` to 7200 or less so every browser behaves the same.",
    fixKeys: ["corsMaxAge"],
  },

  // Vary.
  "vary-ok": { summary: () => "Vary includes Origin" },
  "vary-not-needed": { summary: () => "Vary: Origin not needed" },
  "vary-missing": {
    summary: () => "Vary lacks Origin",
    cause: (c) =>
      `The ${c.phase} response echoes the origin in ${ACAO} without \`Vary: Origin\`; a cache (the browser's or a CDN's) may replay it to a page on another origin, which then fails intermittently.`,
    fix: (c) =>
      `Add \`Vary: Origin\` wherever ${ACAO} is computed from the request (${where(c.phase)}).`,
    fixKeys: (c) => (c.phase === "preflight" ? ["preflight"] : ["api-cors"]),
  },
};

export type RefusalCode = FailCode | keyof typeof ANSWER_REFUSALS | keyof typeof ROUTE_REFUSALS;
export type WarningCode = WarnCode | keyof typeof ANSWER_WARNINGS;
export type PassedCode = PassCode | keyof typeof ANSWER_PASSES;
export type FindingCode = PassedCode | WarningCode | RefusalCode;

export const FINDINGS: { [K in PassedCode]: Passed } & { [K in WarningCode]: Warning } & {
  [K in RefusalCode]: Refusal;
} = { ...CHECKS, ...ANSWER_REFUSALS, ...ROUTE_REFUSALS, ...ANSWER_PASSES, ...ANSWER_WARNINGS };

/**
 * What each of the Worker's reasons means to whoever meets its answer, and
 * where to look: one entry per reason, so a reason the Worker gains is a
 * compile error here until it is explained.
 */
export const WORKER_REASONS: { [R in Reason]: string } = {
  forwarded: "the Worker forwarded the request; the answer is the API's own",
  not_found:
    "the path is outside the Worker's route prefix, or one it refuses as a possible step out of it: call a path under the prefix",
  missing_assertion:
    "the request reached the Worker without Access's Cf-Access-Jwt-Assertion: the route's host is not behind the front end's Access app",
  malformed_assertion:
    "the Cf-Access-Jwt-Assertion is not spelt as Access spells it (three base64url segments, at most 8 KB)",
  invalid_assertion:
    "the assertion failed a check (signature, key, expiry, audience or issuer): an expired login, or a front-end app other than the one the Worker trusts; the Worker's log line says which check",
  no_identity: "the assertion names neither a person (email) nor a service token (common_name)",
  keys_unavailable:
    "the Worker could not fetch the team's signing keys from <accessTeamDomain>/cdn-cgi/access/certs: check accessTeamDomain",
  method_not_allowed: "the Worker forwards only GET, HEAD, POST, PUT, PATCH, DELETE and OPTIONS",
  cross_site:
    "the Worker refuses another site's request: a cross-site fetch, or a write whose Origin is not the front end's",
  upstream_unreachable: "the Worker could not reach the API",
  upstream_leak:
    "the API's error body carried the service token, so the Worker withheld it: fix the API's error page",
  upstream_timeout: "the API did not answer within upstreamTimeoutMs",
  service_token_refused:
    "the API's Access refused the Worker's service token (expired, revoked, its secret rotated past the grace period, or no Service Auth policy admits it): renew or rotate it (docs/runbooks.md) and check the API app's Service Auth policy",
  misconfigured:
    "a binding of the Worker is missing or invalid: run `pulumi up` again; the Worker's log line names the binding",
  internal: "the Worker failed unexpectedly; its log line under this request id says why",
};

/** One line naming the Worker's reason for an answer, with its request id and its meaning. */
export function workerAnswerText({ reason, requestId }: WorkerAnswer): string {
  return `the stack's Worker answered: reason ${reason} (requestId ${requestId}): ${WORKER_REASONS[reason]}`;
}
