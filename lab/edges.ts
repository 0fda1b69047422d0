/**
 * The emulated Access edges: what Cloudflare does in front of the front end
 * and in front of each API, driven by the declared apps and policies.
 *
 * Documented behaviour they follow (Cloudflare One docs):
 * - An unauthenticated request to a self-hosted app is redirected to the team
 *   domain's login; a fetch() that meets that redirect cross-origin fails as a
 *   CORS error: "If you make a simple CORS request to an Access-protected
 *   domain and have not yet logged in, the request will return a CORS error."
 *   (…/authorization-cookie/cors/)
 * - Authenticated requests reach the origin with the `Cf-Access-Jwt-Assertion`
 *   header (…/identity/authorization-cookie/validating-json/).
 * - Preflights: "the browser never includes cookies with OPTIONS requests, by
 *   design. Cloudflare will therefore block the preflight request" with a 403,
 *   unless the app bypasses OPTIONS to the origin (`optionsPreflightBypass`)
 *   or answers them from its CORS settings (`corsHeaders`) (…/authorization-cookie/cors/).
 * - A session that ended is sent to the login like no session at all, except
 *   that "in order to receive a 401 for expired session, add the following
 *   header to all AJAX requests: X-Requested-With: XMLHttpRequest"
 *   (…/identity/users/session-management/).
 * - A service token no Service Auth policy admits any more (expired, revoked)
 *   is no credential: the request is sent to the login, as without one.
 */
import {
  authorizationCookie,
  clearedAuthorizationCookie,
  cookieValue,
  matchServiceToken,
  personAllowed,
} from "./access-rules";
import { isMarkedXhr } from "../doctor/access";
import type { ScenarioContext } from "./context";
import { json } from "./context";
import { answerPreflight, readPreflight } from "./cors";
import { loginUrl, sessionSeconds } from "./idp";
import type { SocketAnswer } from "./websocket";
import type { LabApi, LabApp } from "./topology";
import { apiByRoute, routeFor } from "./topology";
import type { AccessClaims } from "./tokens";
import { accessClaims, signToken, verifyToken } from "./tokens";

/** A response header naming which emulated party produced a response; emulation only. */
export const servedByHeader = "x-lab-served-by";

const authorizedPath = "/cdn-cgi/access/authorized";
const logoutPath = "/cdn-cgi/access/logout";

/** The lab's own path on the front end's host: its page and what the page asks for. */
export const labPath = "/__lab/";

/** Who answers a path on the front end's host once Access has let the person in. */
export type FrontendParty = "access" | "lab" | "worker" | "origin";

/**
 * `/cdn-cgi/` belongs to Cloudflare on every proxied host, the lab's path to
 * the lab, each route to its Worker, and the rest to the front end's origin
 * (the demo page, or the user's dev server).
 */
export function frontendParty(
  routePatterns: string | readonly string[],
  host: string,
  pathname: string,
): FrontendParty {
  if (pathname.startsWith("/cdn-cgi/")) return "access";
  if (pathname === labPath.slice(0, -1) || pathname.startsWith(labPath)) return "lab";
  const patterns = typeof routePatterns === "string" ? [routePatterns] : routePatterns;
  if (routeFor(patterns, host, pathname) !== undefined) return "worker";
  return "origin";
}

function withHeaders(request: Request, set: Record<string, string>): Request {
  const headers = new Headers(request.headers);
  for (const [name, value] of Object.entries(set)) headers.set(name, value);
  return new Request(request.url, {
    method: request.method,
    headers,
    body: request.body,
    redirect: "manual",
    duplex: "half",
  } as RequestInit);
}

function redirectToLogin(
  ctx: ScenarioContext,
  app: LabApp,
  request: Request,
  party: "frontend-edge" | "api-edge",
  why?: string,
): Response {
  const headers = {
    location: loginUrl(ctx.topology.teamDomain, app.hostname, request.url),
    "cache-control": "no-store",
    [servedByHeader]: party,
  };
  const carried = why !== undefined || tokenIn(request.headers) !== undefined;
  const note = carried
    ? `${why ?? "Access credential not accepted"}: redirected to login`
    : "no Access credential: redirected to login";
  ctx.log.add(party, request.method, request.url, 302, note, {
    answer: { headers },
    login: carried ? "not accepted" : "none",
  });
  return new Response(null, { status: 302, headers });
}

/** The note the front end's edge logs for a request whose session the person ended. */
const SESSION_ENDED = "session ended";

/** Access's answer to a request whose session ended: the login redirect, or a 401 for a script that asked for one. */
function sessionEnded(ctx: ScenarioContext, app: LabApp, request: Request): Response {
  if (!isMarkedXhr(request.headers.get("x-requested-with")))
    return redirectToLogin(ctx, app, request, "frontend-edge", SESSION_ENDED);
  const headers = {
    "content-type": "text/plain; charset=utf-8",
    "cache-control": "no-store",
    [servedByHeader]: "frontend-edge",
  };
  ctx.log.add(
    "frontend-edge",
    request.method,
    request.url,
    401,
    `${SESSION_ENDED}: X-Requested-With: XMLHttpRequest gets 401 in place of the login redirect`,
    { answer: { headers }, login: "not accepted" },
  );
  return new Response("Unauthorized", { status: 401, headers });
}

/** The app's `/cdn-cgi/access/authorized` endpoint: turns the login's token into the app's cookie. */
function authorized(ctx: ScenarioContext, app: LabApp, request: Request): Response {
  const url = new URL(request.url);
  const token = url.searchParams.get("token") ?? "";
  if (!verifyToken(ctx.keys, token, app.aud))
    return json({ error: "invalid or expired login token" }, 403);
  let target = `https://${app.hostname}/`;
  try {
    const wanted = new URL(url.searchParams.get("redirect_url") ?? target);
    if (wanted.protocol === "https:" && wanted.hostname === app.hostname) target = wanted.href;
  } catch {
    // A malformed redirect_url falls back to the app's root.
  }
  return new Response(null, {
    status: 302,
    headers: {
      location: target,
      "set-cookie": authorizationCookie(token, sessionSeconds),
      "cache-control": "no-store",
    },
  });
}

function logout(app: LabApp): Response {
  return new Response(`Logged out of ${app.hostname}.`, {
    headers: {
      "set-cookie": clearedAuthorizationCookie,
      "content-type": "text/plain",
      "cache-control": "no-store",
    },
  });
}

/**
 * The app token a request presents: the `CF_Authorization` cookie, or the
 * `cf-access-token` header, which Access accepts in its place (the way
 * `cloudflared access token` and the doctor's --access-token send it).
 */
function tokenIn(headers: Headers): string | undefined {
  return cookieValue(headers, "CF_Authorization") ?? headers.get("cf-access-token") ?? undefined;
}

export interface AdmittedPerson {
  token: string;
  claims: AccessClaims & { email: string };
  by: "cookie" | "cf-access-token";
}

/** The person behind a request's app token, if the token is valid for this app and its policies admit them. */
export function admittedPerson(
  ctx: ScenarioContext,
  app: LabApp,
  headers: Headers,
): AdmittedPerson | undefined {
  const token = tokenIn(headers);
  if (!token) return undefined;
  const claims = verifyToken(ctx.keys, token, app.aud);
  const amr = Array.isArray(claims?.amr) ? claims.amr : [];
  if (!claims?.email || !personAllowed(app.access, claims.email, amr)) return undefined;
  const by = cookieValue(headers, "CF_Authorization") === token ? "cookie" : "cf-access-token";
  return { token, claims: { ...claims, email: claims.email }, by };
}

/** What an Access edge adds to a request it lets through to its origin. */
export function accessHeaders(who: AdmittedPerson): Record<string, string> {
  return {
    "cf-access-jwt-assertion": who.token,
    "cf-access-authenticated-user-email": who.claims.email,
  };
}

/** Whether the person ended the session this login belongs to ("end my session"). */
export function sessionEndedFor(ctx: ScenarioContext, who: AdmittedPerson): boolean {
  return ctx.faults.endedSessions.has(who.token);
}

/** What the front end's edge lets through, and to whom: a route's Worker, or the page and origin. */
type Admission = { answer: Response } | { who: AdmittedPerson; forwarded: Request; api?: LabApi };

function admitToFrontend(ctx: ScenarioContext, request: Request): Admission {
  const app = ctx.topology.frontend;
  const url = new URL(request.url);
  if (url.pathname === authorizedPath) return { answer: authorized(ctx, app, request) };
  if (url.pathname === logoutPath) return { answer: logout(app) };

  const who = admittedPerson(ctx, app, request.headers);
  if (!who) return { answer: redirectToLogin(ctx, app, request, "frontend-edge") };
  const routes = ctx.topology.apis.map((a) => a.routePattern);
  const party = frontendParty(routes, url.hostname, url.pathname);
  // The lab's own endpoints stay open, so that the page can still show what happened.
  if (party !== "lab" && sessionEndedFor(ctx, who))
    return { answer: sessionEnded(ctx, app, request) };
  const forwarded = withHeaders(request, accessHeaders(who));
  const api = party === "worker" ? apiByRoute(ctx.topology, url.hostname, url.pathname) : undefined;
  return { who, forwarded, ...(api ? { api } : {}) };
}

export async function handleFrontendEdge(
  ctx: ScenarioContext,
  request: Request,
  servePage: (request: Request, email: string) => Promise<Response>,
): Promise<Response> {
  const admitted = admitToFrontend(ctx, request);
  if ("answer" in admitted) return admitted.answer;
  const { who, forwarded, api } = admitted;
  if (api) {
    const response = await ctx.dispatchWorker(api, forwarded);
    ctx.log.add(
      "worker",
      request.method,
      request.url,
      response.status,
      `route ${api.routePattern}`,
    );
    return response;
  }
  return servePage(forwarded, who.claims.email);
}

/**
 * A WebSocket upgrade on the front end: Access lets it in as any request,
 * and on a route the Worker decides; anything else is answered as the same
 * request without the upgrade would be.
 */
export async function handleFrontendUpgrade(
  ctx: ScenarioContext,
  request: Request,
  servePage: (request: Request, email: string) => Promise<Response>,
): Promise<Response | SocketAnswer> {
  const admitted = admitToFrontend(ctx, request);
  if ("answer" in admitted) return admitted.answer;
  const { who, forwarded, api } = admitted;
  if (!api) return servePage(forwarded, who.claims.email);
  const answer = await ctx.upgradeWorker(api, forwarded);
  ctx.log.add(
    "worker",
    request.method,
    request.url,
    answer.status,
    `route ${api.routePattern}, WebSocket`,
  );
  return answer;
}

export async function handleApiEdge(
  ctx: ScenarioContext,
  api: LabApi,
  request: Request,
): Promise<Response> {
  const app = api.app;
  const url = new URL(request.url);
  if (url.pathname === authorizedPath) return authorized(ctx, app, request);
  if (url.pathname === logoutPath) return logout(app);

  if (request.method === "OPTIONS") {
    if (app.optionsPreflightBypass) {
      ctx.log.add(
        "api-edge",
        request.method,
        request.url,
        0,
        "optionsPreflightBypass: passed to the origin unauthenticated",
      );
      return ctx.callApi(api, request);
    }
    if (app.corsHeaders) {
      const answer = answerPreflight(app.corsHeaders, readPreflight(request.headers));
      const granted =
        "access-control-allow-origin" in answer.headers
          ? "answered from corsHeaders"
          : "origin not allowed by corsHeaders";
      ctx.log.add("api-edge", request.method, request.url, answer.status, granted, {
        answer: { headers: answer.headers },
      });
      return new Response(null, {
        status: answer.status,
        headers: { ...answer.headers, [servedByHeader]: "api-edge" },
      });
    }
    const headers = { "content-type": "text/plain", "cache-control": "no-store" };
    ctx.log.add(
      "api-edge",
      request.method,
      request.url,
      403,
      "preflight carries no cookie and the app has neither corsHeaders nor optionsPreflightBypass",
      { answer: { headers } },
    );
    return new Response("Forbidden", {
      status: 403,
      headers: { ...headers, [servedByHeader]: "api-edge" },
    });
  }

  const token = matchServiceToken(app.access, request.headers);
  if (token && ctx.faults.tokenRevoked) {
    const why = `service token ${token.clientId} revoked (the page's control)`;
    return redirectToLogin(ctx, app, request, "api-edge", why);
  }
  if (token) {
    ctx.log.add(
      "api-edge",
      request.method,
      request.url,
      0,
      `service token ${token.clientId} passed the Service Auth policy`,
    );
    const assertion = signToken(
      ctx.keys,
      accessClaims(ctx.topology.teamDomain, app.aud, { clientId: token.clientId }),
    );
    return ctx.callApi(api, withHeaders(request, { "cf-access-jwt-assertion": assertion }));
  }
  const who = admittedPerson(ctx, app, request.headers);
  if (who) {
    ctx.log.add(
      "api-edge",
      request.method,
      request.url,
      0,
      `${who.claims.email} passed the allow policy by ${who.by}`,
    );
    return ctx.callApi(api, withHeaders(request, accessHeaders(who)));
  }
  return redirectToLogin(ctx, app, request, "api-edge");
}
