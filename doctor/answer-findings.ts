/**
 * The words for the findings no CORS check names: Access, or a server on the
 * way, answered in the API's place; the actual request was redirected; the
 * page sends the service token. Each key is the finding's code, so a new one
 * is one entry here; findings.ts puts them in the catalogue.
 */
import { accessEvidence, isFromAccess } from "./access";
import {
  CHROMIUM,
  location,
  type Passed,
  type Refusal,
  type ReportContext,
  type Setting,
  type Warning,
} from "./finding-text";
import { redactUrl } from "./redact";
import { hostOf, originOf, siteOf } from "./sites";

/** Why Access turned away a login the doctor was given, and how to get one it accepts. */
const REFUSED_LOGIN =
  "Access did not accept the login given with --access-token/--cookie: it has expired, belongs to another Access application, or names an identity the API app's allow policy does not admit.";

function refusedLoginFix(c: ReportContext): string {
  return `Get a fresh token for this API (\`cloudflared access token -app=${redactUrl(c.req.url)}\`, after \`cloudflared access login\` if it has none) and check that your identity is in the API app's allow policy (\`allowedEmails\`, \`allowedEmailDomains\`).`;
}

function loginRedirect(c: ReportContext): string {
  return `Access redirected the request to its login page (${location(c)})`;
}

function accessRefused(c: ReportContext): string {
  return `Access refused the request with ${c.res.status} before it reached the API; its error page carries no CORS headers, so the page sees a CORS error.`;
}

/** The port a `--resolve` rule for the URL names; empty when the URL does not parse. */
function portOf(url: string): string {
  try {
    const u = new URL(url);
    return u.port !== "" ? u.port : u.protocol === "https:" ? "443" : "80";
  } catch {
    return "";
  }
}

function preflightOptions(c: ReportContext): string {
  return (
    "Set `preflight: cloudflare` and list the page in `corsAllowedOrigins` (with `corsAllowedMethods`/`corsAllowedHeaders`) so Access answers preflights itself (the guide's CORS settings); " +
    "or `preflight: origin` if your API answers OPTIONS with CORS headers (the guide's OPTIONS bypass); " +
    `or call the API through this stack's Worker on ${c.route}, which is same-origin and needs no preflight.`
  );
}

/** The third-party-cookie fact, for a note on the lab's page and for failed direct calls. */
export function thirdPartyCookieNote(setting: Pick<Setting, "frontendHost" | "apiHost">): string {
  return (
    `${setting.frontendHost} and ${setting.apiHost} are on different sites (${siteOf(setting.frontendHost)}, ${siteOf(setting.apiHost)}): ` +
    "the browser withholds the API's CF_Authorization cookie as a third-party cookie (third-party cookies are blocked), even after you log in to the API, " +
    "so direct calls reach Access without a login and only the Worker path works."
  );
}

/** The path a request names, as the route's findings quote it. */
function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

function sessionAnswer(status: number): string {
  return status === 401
    ? "401, the answer Access gives a request marked X-Requested-With: XMLHttpRequest"
    : `${status} to its login page, a redirect without CORS headers`;
}

/** Chromium's console line for an answer it lets the page read but that failed. */
export const FAILED_TO_LOAD = (status: number, text: string): string =>
  `Failed to load resource: the server responded with a status of ${status} (${text})`;

/** Refusals no CORS check names: Access, or the way to the API, answered in its place. */
export const ANSWER_REFUSALS = {
  "preflight-access-login": {
    title: "preflight redirected",
    summary: (c) => `preflight redirected to the Access login page (${c.res.status})`,
    cause: (c) =>
      `Access answered the OPTIONS preflight with a redirect to its login page (${location(c)}). Browsers never send cookies on a preflight and never follow a preflight's redirect, so logging in does not help: the API's Access app has no CORS settings and no OPTIONS bypass.`,
    fix: preflightOptions,
    fixKeys: ["preflight", "corsAllowedOrigins", "worker"],
    detail: (c) =>
      `Access answered the preflight with ${c.status} to its login page: a preflight carries no cookie, and the API app has neither CORS settings nor OPTIONS bypass (preflight)`,
    browser: () => CHROMIUM.redirected,
  },
  "preflight-refused": {
    title: "preflight refused",
    summary: (c) => `preflight refused by ${isFromAccess(c.res) ? "Access" : "Cloudflare"} (403)`,
    cause: (c) =>
      `${
        isFromAccess(c.res)
          ? `Access blocked the OPTIONS preflight (${accessEvidence(c.res.headers).join(", ")}).`
          : "Cloudflare refused the OPTIONS preflight (server: cloudflare, no cf-access-* header): most likely Access, otherwise a WAF rule."
      } Browsers never send cookies on a preflight, so Access cannot see a login: the API's Access app has neither CORS settings nor an OPTIONS bypass.`,
    fix: preflightOptions,
    fixKeys: ["preflight", "corsAllowedOrigins", "worker"],
    detail: (c) =>
      `Access answered the preflight with ${c.status}: a preflight carries no cookie, and the API app has neither CORS settings nor OPTIONS bypass (preflight)`,
    browser: () => CHROMIUM.notOk,
  },

  // The answer says nothing about CORS, so no CORS fix is offered.
  misdirected: {
    title: "misdirected request",
    summary: (c) =>
      `${c.res.status} Misdirected Request: the server reached does not serve ${hostOf(c.req.url)}`,
    cause: (c) =>
      `The connection reached a server that does not serve ${hostOf(c.req.url)} (an API called by address, or a name mapped to the wrong server), so it answered 421 instead of the API's answer. Nothing here is about CORS yet.`,
    fix: (c) =>
      `Call the API by its own name in --url; if that name does not lead to the server from here, map it with --resolve ${hostOf(c.req.url)}:${portOf(c.req.url)}:<address> (the lab prints such a command).`,
    fixKeys: ["request"],
    detail: (c) =>
      `the server reached answered ${c.status}: it does not serve ${hostOf(c.req.url)}, so nothing here is about CORS yet`,
    browser: () => CHROMIUM.noAllowOrigin,
  },

  // Access in the API's place, on the actual request.
  "access-login": {
    title: "not logged in to the API",
    summary: (c) => `${c.res.status} redirect to the Access login page`,
    cause: (c) => {
      const noCreds = c.req.credentials
        ? ""
        : " Note that without `credentials: 'include'` the browser never sends the CF_Authorization cookie, even after logging in.";
      return (
        `${loginRedirect(c)}: the request carried no CF_Authorization cookie for ${originOf(c.req.url)}; in a browser, that means you are not logged in to the API. ` +
        `The redirect carries no CORS headers, so the page only sees a CORS error.${noCreds}`
      );
    },
    fix: (c) =>
      `Guide option 1: log in to ${originOf(c.req.url)} in this browser first, then reload ${c.req.origin} (the request must use \`credentials: 'include'\`). ` +
      `Guide option 2: call the API through this stack's Worker on ${c.route} (the route is frontendHostname + routePrefix), which adds the service token so no second login is needed; the API then learns who called from X-Access-Bridge-Identity, a statement the Worker signs and the API verifies with the stack's identityJwks.`,
    fixKeys: ["log-in-first", "worker"],
    detail: (c) =>
      `the request carried no CF_Authorization cookie for ${c.setting.apiHost}, so Access answered ${c.status} to its login page, a redirect without CORS headers (log in to the API first, or use the Worker)`,
    browser: () => CHROMIUM.noAllowOrigin,
  },
  "access-login-not-accepted": {
    title: "API login not accepted",
    summary: (c) => `${c.res.status} redirect to the Access login page`,
    cause: (c) => `${loginRedirect(c)}. ${REFUSED_LOGIN}`,
    fix: refusedLoginFix,
    fixKeys: ["log-in-first", "worker"],
    detail: (c) =>
      `the request's CF_Authorization cookie for ${c.setting.apiHost} is expired or for another app, so Access answered ${c.status} to its login page, a redirect without CORS headers (log in to the API again, or use the Worker)`,
    browser: () => CHROMIUM.noAllowOrigin,
  },
  "access-denied": {
    title: "refused by Access",
    summary: (c) => `${c.res.status} from Access (${accessEvidence(c.res.headers).join(", ")})`,
    cause: accessRefused,
    fix: (c) =>
      `Log in to ${originOf(c.req.url)} with an identity the API app's allow policy admits, or call the API through this stack's Worker on ${c.route}, whose service token matches the Service Auth policy.`,
    fixKeys: ["log-in-first", "worker"],
    detail: (c) =>
      `Access answered ${c.status} before the request reached the API, an error page without CORS headers (log in to the API with an identity its allow policy admits, or use the Worker)`,
    browser: () => CHROMIUM.noAllowOrigin,
  },
  "access-denied-login-not-accepted": {
    title: "API login not accepted",
    summary: (c) => `${c.res.status} from Access (${accessEvidence(c.res.headers).join(", ")})`,
    cause: (c) => `${accessRefused(c)} ${REFUSED_LOGIN}`,
    fix: refusedLoginFix,
    fixKeys: ["log-in-first", "worker"],
    detail: (c) =>
      `Access answered ${c.status} to the request's CF_Authorization cookie for ${c.setting.apiHost}, an error page without CORS headers: the login is expired, for another app, or for someone the API app does not admit (log in to the API again, or use the Worker)`,
    browser: () => CHROMIUM.noAllowOrigin,
  },
  "third-party-cookie": {
    title: "third-party cookie",
    summary: (c) => `${c.res.status} redirect to the Access login page`,
    cause: (c) =>
      `${loginRedirect(c)}: no CF_Authorization cookie reached ${originOf(c.req.url)}. ${thirdPartyCookieNote({ frontendHost: hostOf(c.req.origin), apiHost: hostOf(c.req.url) })}`,
    fix: (c) =>
      `Call the API through this stack's Worker on ${c.route} (the route is frontendHostname + routePrefix), which adds the service token, so no cookie for the API is needed.`,
    fixKeys: ["worker"],
    detail: (c) =>
      `no CF_Authorization cookie reached ${c.setting.apiHost}, so Access answered ${c.status} to its login page, a redirect without CORS headers. ${thirdPartyCookieNote(c.setting)}`,
    browser: () => CHROMIUM.noAllowOrigin,
  },
} satisfies Record<string, Refusal>;

/**
 * Failures on the stack's own route, same-origin for the page: the person's
 * session ended before the Worker ran, or the API's Access refused the
 * Worker's service token behind it.
 */
export const ROUTE_REFUSALS = {
  "session-ended": {
    title: "session ended",
    summary: (c) =>
      c.res.status === 401
        ? "401 from Access with no X-Access-Bridge-Reason: the session ended"
        : `${c.res.status} redirect to the Access login page: the session ended`,
    cause: (c) =>
      `Access on ${originOf(c.req.url)} answered ${pathOf(c.req.url)} before the Worker ran, with ${
        c.res.status === 401
          ? "401: the request carried X-Requested-With: XMLHttpRequest, and the answer carries no X-Access-Bridge-Reason, which everything that passed the Worker carries"
          : `a redirect to its login page (${location(c)})`
      }. The request carried no live login for the front end: in a browser, the person's Access session ended (the front end app's sessionDuration ran out). A fetch follows the redirect to the team's login page and fails with a CORS error, so the page learns nothing of the session.`,
    fix: (c) =>
      `Log in again: load ${c.req.origin}/ at the top level, and Access sends the person through its login and back. In the front end, call ${c.route} with bridgeFetch from access-bridge/client: it sends X-Requested-With: XMLHttpRequest, so Access answers 401 instead of the redirect, and it calls your onSessionExpired (or reloads the page to log in again) instead of failing with a CORS error.`,
    fixKeys: ["bridge-fetch", "log-in-first"],
    detail: (c) =>
      `the front end's Access session ended, so Access answered ${pathOf(c.req.url)} with ${sessionAnswer(c.status)}, before the Worker ran (log in again; bridgeFetch sends X-Requested-With: XMLHttpRequest to get a 401 instead and recovers)`,
    browser: (c) =>
      c.status === 401 ? FAILED_TO_LOAD(401, "Unauthorized") : CHROMIUM.noAllowOrigin,
  },
  "service-token-refused": {
    title: "service token refused",
    summary: (c) =>
      `${c.res.status} from the stack's Worker: the API's Access refused its service token (reason service_token_refused)`,
    cause: (c) =>
      `The Worker answered ${c.res.status} with reason service_token_refused${
        c.res.worker !== undefined ? ` (requestId ${c.res.worker.requestId})` : ""
      }: the API's Access sent the Worker's request to its login page instead of passing it to the API, so it no longer admits the stack's service token. The token expired, was revoked, its secret was rotated past the grace period, or no Service Auth policy of the API's app includes it. Every call through the route fails the same way until it is fixed; the Worker's log line for the request names the API.`,
    fix: () =>
      "Renew the token (docs/runbooks.md, Renew the service token before it expires), or rotate its secret and run `npx pulumi up` so the Worker holds the one Access accepts (docs/runbooks.md, Rotate the service token's secret); check that the API's Access app still has the stack's Service Auth (non_identity) policy including the token (`npx pulumi preview` shows one removed by hand).",
    fixKeys: ["service-token"],
    detail: (c) =>
      `the API's Access (${c.setting.apiHost}) sent the Worker's service token to its login, so the Worker answered ${c.status} service_token_refused: the token expired, was revoked, was rotated past its grace period, or no Service Auth policy admits it (renew or rotate it, docs/runbooks.md, and check the API app's Service Auth policy)`,
    browser: (c) => FAILED_TO_LOAD(c.status, "Bad Gateway"),
  },
} satisfies Record<string, Refusal>;

/** Steps passed that no CORS check names. */
export const ANSWER_PASSES = {
  "same-origin": {
    summary: () => "same-origin request: the browser applies no CORS check to it",
  },
} satisfies Record<string, Passed>;

/** Warnings no CORS check names. */
export const ANSWER_WARNINGS = {
  redirect: {
    summary: (c) => `${c.res.status} redirect to ${location(c)}`,
    cause: (c) =>
      `The browser follows this redirect and runs the same CORS check on ${location(c)}, which the doctor does not follow.`,
    fix: (c) => `Check the target too: --url ${location(c)}`,
    fixKeys: ["request"],
  },
  "redirect-failed": {
    summary: (c) => `the response is a ${c.res.status} redirect to ${location(c)}`,
    cause: () =>
      "Browsers run the CORS check on every redirect hop, so the redirect itself needs CORS headers.",
    fix: (c) =>
      `Call the final URL directly (--url ${location(c)}), or make the redirect carry the same CORS headers.`,
    fixKeys: ["request"],
  },
  "service-token": {
    summary: (c) => `the page sends ${String(c.data.headers)}`,
    cause: () =>
      "The service token's credentials are sent from the browser, so every visitor can read them; they also make the request need a preflight.",
    fix: (c) =>
      `Keep the token server-side: call the API through this stack's Worker on ${c.route}, which adds the service token itself, and rotate the exposed token.`,
    fixKeys: ["worker"],
  },
} satisfies Record<string, Warning>;
