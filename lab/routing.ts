/**
 * Which party of the active scenario answers a request, by its host: the
 * team's domain, the front end's Access edge (with the lab's own endpoints
 * under /__lab/ and, with --frontend, the user's dev server), or an API's
 * Access edge.
 */
import type { IncomingMessage } from "node:http";
import type { Setting } from "../doctor/finding-text";
import { thirdPartyCookieNote } from "../doctor/answer-findings";
import { isCrossSite } from "../doctor/sites";
import { escapeHtml, html, json } from "./context";
import {
  accessHeaders,
  admittedPerson,
  frontendParty,
  handleApiEdge,
  handleFrontendEdge,
  handleFrontendUpgrade,
  labPath,
  sessionEndedFor,
} from "./edges";
import { unemulatedNote } from "./access-rules";
import { explainFailure } from "./explain";
import { headersOf, originRequestHeaders, type OriginCall } from "./frontend-origin";
import { handleTeamDomain } from "./idp";
import type { LabLog } from "./log";
import type { PageAssets } from "./page-assets";
import type { Runtime, ScenarioRunner } from "./scenario-runner";
import { apiByHost, apiByRoute, type LabApi, type LabTopology } from "./topology";
import { unreachable } from "./upstream";
import type { SocketAnswer } from "./websocket";

export interface RouterOptions {
  runner: ScenarioRunner;
  log: LabLog;
  page: PageAssets;
  /** The user's servers, as given with `--frontend` and `--api`. */
  upstreams: { frontend?: string; api?: string };
}

export interface LabRouter {
  /** The answer of the party the request's host names, as the fetch-style handlers give it. */
  route(request: Request): Promise<Response>;
  /** The same for a WebSocket upgrade: on a route, the Worker's socket when it lets the upgrade through. */
  upgrade(request: Request): Promise<Response | SocketAnswer>;
  /**
   * A request for the user's front end that the front end's edge lets
   * through, ready to pass on; undefined for anything `route` answers (the
   * login redirect among them).
   */
  frontendCall(req: IncomingMessage, upgrade?: string): OriginCall | undefined;
  /** What the browser gets when the user's front end cannot be reached, logged. */
  frontendUnreachable(url: string, method: string, reason: string): Response;
  /** The lab's page for a topology: `/__lab/` when the front end is the user's, else its root. */
  pageUrl(t: LabTopology): string;
}

function settingOf(rt: Runtime, api: LabApi): Setting {
  return {
    frontendHost: rt.topology.frontend.hostname,
    apiHost: api.app.hostname,
    preflight: api.app.optionsPreflightBypass
      ? "origin"
      : api.app.corsHeaders
        ? "cloudflare"
        : "none",
  };
}

/** The API a URL the page called is about: the API's own host, or a route on the front end. */
function apiOfUrl(t: LabTopology, url: string): LabApi {
  try {
    const { hostname, pathname } = new URL(url);
    return apiByHost(t, hostname) ?? apiByRoute(t, hostname, pathname) ?? t.apis[0]!;
  } catch {
    return t.apis[0]!;
  }
}

export function labRouter(options: RouterOptions): LabRouter {
  const { runner, log, page, upstreams } = options;
  const frontendOrigin = upstreams.frontend !== undefined ? new URL(upstreams.frontend) : undefined;
  const pageUrl = (t: LabTopology): string =>
    `https://${t.frontend.hostname}${frontendOrigin ? labPath : "/"}`;

  /** Why the browser refused one of the page's requests, from what the lab answered it. */
  function explain(rt: Runtime, params: URLSearchParams): unknown {
    const url = params.get("url") ?? "";
    const request = {
      url,
      origin: `https://${rt.topology.frontend.hostname}`,
      method: params.get("method") ?? "GET",
      headers: (params.get("headers") ?? "").split(",").filter((h) => h !== ""),
      credentials: params.get("credentials") === "include",
    };
    return explainFailure(request, log.forUrl(url), settingOf(rt, apiOfUrl(rt.topology, url)));
  }

  function stateOf(rt: Runtime, email: string): Record<string, unknown> {
    const { topology: t, scenario } = rt;
    const apis = t.apis.map((api, i) => {
      const setting = settingOf(rt, api);
      return {
        host: api.app.hostname,
        origin: `https://${api.app.hostname}`,
        routePrefix: api.routePrefix,
        routePattern: api.routePattern,
        probeHeader: rt.probeHeaders[api.app.hostname] ?? null,
        preflight: setting.preflight,
        crossSite: isCrossSite(setting) ? thirdPartyCookieNote(setting) : null,
        corsHeaders: api.app.corsHeaders ?? null,
        upstream: i === 0 ? (upstreams.api ?? null) : null,
      };
    });
    const crossSite = [...new Set(apis.map((a) => a.crossSite).filter((n) => n !== null))];
    return {
      scenario: {
        name: scenario.name,
        title: scenario.title,
        summary: scenario.summary,
        stack: scenario.stack,
      },
      scenarios: runner.scenarios.map((s) => ({ name: s.name, title: s.title })),
      email,
      frontendOrigin: `https://${t.frontend.hostname}`,
      frontendManagedElsewhere: t.frontendManagedElsewhere,
      unemulated: [
        ...new Set([t.frontend, ...t.apis.map((a) => a.app)].map((a) => unemulatedNote(a.access))),
      ].filter((note) => note !== ""),
      apis,
      crossSite: crossSite.length > 0 ? crossSite.join(" ") : null,
      upstreams: { frontend: upstreams.frontend ?? null, api: upstreams.api ?? null },
      faults: { tokenRevoked: runner.faults.tokenRevoked },
      logSeq: log.last,
    };
  }

  /**
   * The page's controls that break what production breaks: the person's
   * session ends (the token the request carries is refused from now on, so
   * logging in again restores it), or the APIs' Access stops admitting the
   * Workers' service tokens until the page restores them or is loaded again.
   */
  function control(request: Request, action: string): Response {
    if (request.method !== "POST") return json({ error: "POST only" }, 405, { allow: "POST" });
    const { faults } = runner;
    if (action === "end-session") {
      faults.endedSessions.add(request.headers.get("cf-access-jwt-assertion") ?? "");
    } else if (action === "revoke-token" || action === "restore-token") {
      faults.tokenRevoked = action === "revoke-token";
    } else return json({ error: "not found" }, 404);
    log.add("lab", "POST", request.url, 200, `control: ${action}`);
    return json({ tokenRevoked: faults.tokenRevoked });
  }

  /** The lab's page and what it asks for, once the front end's edge has let the person in. */
  async function servePage(rt: Runtime, request: Request, email: string): Promise<Response> {
    const url = new URL(request.url);
    const root = url.pathname === "/" || url.pathname === "/index.html";
    if (url.pathname === labPath || (root && !frontendOrigin)) {
      // A revoked token belongs to the page that revoked it.
      runner.faults.tokenRevoked = false;
      return html(page.html);
    }
    if (url.pathname === labPath.slice(0, -1))
      return new Response(null, { status: 301, headers: { location: labPath } });
    if (url.pathname === `${labPath}main.js`) {
      return new Response(page.script, {
        headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-store" },
      });
    }
    if (url.pathname === `${labPath}state`) return json(stateOf(rt, email));
    if (url.pathname === `${labPath}explain`) return json(explain(rt, url.searchParams));
    if (url.pathname === `${labPath}log`)
      return json(log.since(Number(url.searchParams.get("since") ?? "0")));
    const controls = `${labPath}control/`;
    if (url.pathname.startsWith(controls))
      return control(request, url.pathname.slice(controls.length));
    return json({ error: "not found" }, 404);
  }

  async function route(request: Request): Promise<Response> {
    const rt = runner.active();
    const url = new URL(request.url);
    const t = rt.topology;
    if (url.pathname === `${labPath}use` && runner.hosts.has(url.hostname)) {
      const next = await runner.use(url.searchParams.get("scenario") ?? "");
      return new Response(null, {
        status: 302,
        headers: { location: pageUrl(next.topology), "cache-control": "no-store" },
      });
    }
    if (url.hostname === t.teamDomain) return handleTeamDomain(rt.ctx, request);
    if (url.hostname === t.frontend.hostname)
      return handleFrontendEdge(rt.ctx, request, (r, email) => servePage(rt, r, email));
    const api = apiByHost(t, url.hostname);
    if (api) return handleApiEdge(rt.ctx, api, request);
    const other = runner.scenarios.find((s) => s.stack !== rt.scenario.stack)?.name ?? "";
    return html(
      `<!doctype html><meta charset="utf-8"><p>${url.hostname} is not part of the active scenario (${rt.scenario.title}).</p>
<p><a href="https://${t.frontend.hostname}/">Go to its front end</a> or <a href="/__lab/use?scenario=${other}">switch scenario</a>.</p>`,
      421,
    );
  }

  async function upgrade(request: Request): Promise<Response | SocketAnswer> {
    const rt = runner.active();
    if (new URL(request.url).hostname !== rt.topology.frontend.hostname) return route(request);
    return handleFrontendUpgrade(rt.ctx, request, (r, email) => servePage(rt, r, email));
  }

  function frontendCall(req: IncomingMessage, upgrade?: string): OriginCall | undefined {
    if (!frontendOrigin) return undefined;
    const rt = runner.active();
    const url = new URL(req.url ?? "/", `https://${(req.headers.host ?? "").replace(/:\d+$/, "")}`);
    const { frontend, apis } = rt.topology;
    if (url.hostname !== frontend.hostname) return undefined;
    const routes = apis.map((a) => a.routePattern);
    if (frontendParty(routes, url.hostname, url.pathname) !== "origin") return undefined;
    const who = admittedPerson(rt.ctx, frontend, headersOf(req.headers));
    if (!who || sessionEndedFor(rt.ctx, who)) return undefined;
    return {
      origin: frontendOrigin,
      path: `${url.pathname}${url.search}`,
      publicOrigin: url.origin,
      headers: originRequestHeaders(req.rawHeaders, {
        originHost: frontendOrigin.host,
        publicHost: frontend.hostname,
        clientIp: req.socket.remoteAddress ?? "127.0.0.1",
        access: accessHeaders(who),
        upgrade,
      }),
    };
  }

  function frontendUnreachable(url: string, method: string, reason: string): Response {
    const message = unreachable("--frontend", upstreams.frontend ?? "", reason);
    log.add("frontend", method, url, 502, message);
    return html(
      `<!doctype html><meta charset="utf-8"><title>Front end not reachable</title>
<p>The lab could not reach your front end: ${escapeHtml(message)}.</p>
<p>Start your dev server and reload. The lab's own page is at <a href="${labPath}">${labPath}</a>.</p>`,
      502,
      { "x-lab-served-by": "lab" },
    );
  }

  return { route, upgrade, frontendCall, frontendUnreachable, pageUrl };
}
