/**
 * The local lab: one HTTPS server on 127.0.0.1 that plays every party of the
 * guide's set-up for the active scenario, routed by the request's host.
 *
 *   <team>.cloudflareaccess.com  the identity side (login, certs)      idp.ts
 *   <frontendHostname>           the front end's Access edge → each     edges.ts, workerd.ts
 *                                route's Worker, the lab's page under
 *                                /__lab/, else the demo page or
 *                                --frontend                             frontend-origin.ts
 *   each API's hostname          its Access edge → a demo API, or for   edges.ts, demo-api.ts
 *                                the first API --api                    api-origin.ts
 *
 * The same port answers plain HTTP with the team's signing keys, for an API
 * under development that verifies `Cf-Access-Jwt-Assertion` (listener.ts).
 *
 * Everything here is emulation; the product (infra/, worker/) is only read,
 * through what the program declares.
 */
import { randomBytes } from "node:crypto";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { createServer, type Server } from "node:https";
import type { Duplex } from "node:stream";
import { declareStack, stackConfig, stackFileOf } from "../checker/recorder";
import { sampleEmail } from "./access-rules";
import { userApi } from "./api-origin";
import type { ScenarioContext } from "./context";
import { escapeHtml, html, json } from "./context";
import { handleDemoApi } from "./demo-api";
import {
  admittedPerson,
  accessHeaders,
  frontendParty,
  handleApiEdge,
  handleFrontendEdge,
  labPath,
} from "./edges";
import { explainFailure, isCrossSite, thirdPartyCookieNote, type Setting } from "./explain";
import {
  headersOf,
  originRequestHeaders,
  passRequest,
  passUpgrade,
  type OriginCall,
} from "./frontend-origin";
import { sendFetchResponse, sendRawResponse, toFetchRequest } from "./http";
import { certsPath, handleTeamDomain, sessionSeconds } from "./idp";
import { listen } from "./listener";
import { LabLog } from "./log";
import { loadPageAssets, type PageAssets } from "./page-assets";
import { apiSettings, originPolicy, probeHeader, scenariosFor, type Scenario } from "./scenarios";
import type { LabCertificate } from "./tls";
import { newCertificate } from "./tls";
import { unreachable } from "./upstream";
import { accessClaims, newKeySet, signToken, type KeySet } from "./tokens";
import { apiByHost, apiByRoute, topologyOf, type LabApi, type LabTopology } from "./topology";
import { startWorkers, type RunningWorkers } from "./workerd";

export interface LabOptions {
  /** The stack the scenarios are built on; default `dev`. */
  stack?: string;
  /** The stack's config file; default `stacks/Pulumi.<stack>.yaml`. */
  configFile?: string;
  /** Port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  /** Supplies the TLS certificate for the lab's hosts; default a fresh in-memory one. */
  certificate?: (hosts: string[]) => Promise<LabCertificate>;
  /** The scenario to start with; default the first. */
  scenario?: string;
  /**
   * Called when a client ends the TLS handshake because it does not trust the
   * lab's certificate (a browser started without the lab's flags shows
   * NET::ERR_CERT_AUTHORITY_INVALID and the lab would otherwise see nothing).
   */
  onCertificateRefused?: (alert: string) => void;
  /** The user's front-end dev server, e.g. `http://localhost:5173`, served outside the route prefix. */
  frontend?: string;
  /** The user's API, e.g. `http://localhost:8080`, behind the first API's Access edge. */
  api?: string;
}

/** TLS alerts a client sends when it does not trust the server's certificate. */
const CERTIFICATE_REFUSED = new Set([
  "ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN",
  "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA",
  "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE",
]);

/** A token for one of the active scenario's API apps, as `cloudflared access token` would print one. */
export interface ApiToken {
  token: string;
  email: string;
  /** The API's host name. */
  host: string;
}

/** What an API behind the lab checks `Cf-Access-Jwt-Assertion` against. */
export interface ApiJwtCheck {
  /** The team's keys over plain HTTP on the lab's port, for a server that does not trust the lab's certificate. */
  certs: string;
  /** The team's usual certs URL, served by the lab over HTTPS. */
  teamCerts: string;
  issuer: string;
  /** The API app's AUD tag, as the program declared it. */
  audience: string;
}

export interface ActiveScenario {
  scenario: Scenario;
  topology: LabTopology;
  /** The custom header the page's preflighted request sends to each API, by its host name. */
  probeHeaders: Record<string, string | null>;
}

/** A service token the lab's program run handed out, and the API whose Worker holds it. */
export interface ApiServiceToken {
  hostname: string;
  clientId: string;
  clientSecret: string;
}

export interface Lab {
  port: number;
  hosts: string[];
  certificate: LabCertificate;
  scenarios: Scenario[];
  log: LabLog;
  /** The first API's service token, the one the lab's program run was given, to check what the API saw. */
  serviceToken: { clientId: string; clientSecret: string };
  /** Every API's service token, in the order of the APIs. */
  serviceTokens(): ApiServiceToken[];
  active(): ActiveScenario;
  use(name: string): Promise<ActiveScenario>;
  /** `https://<frontendHostname>/` of the active scenario. */
  frontendUrl(): string;
  /** The lab's page: `/__lab/` when the front end is the user's, else the front end's root. */
  pageUrl(): string;
  /** The user's servers the lab stands in front of, as given. */
  upstreams: { frontend?: string; api?: string };
  /** How an API (by default the first) verifies the assertions Access sends it, for the active scenario. */
  apiJwt(hostname?: string): ApiJwtCheck;
  /** A person's token for an API app (by default the first) of the active scenario, valid while this lab runs. */
  apiToken(hostname?: string): ApiToken;
  close(): Promise<void>;
}

interface Runtime extends ActiveScenario {
  ctx: ScenarioContext;
  workers: RunningWorkers;
  workerKey: string;
}

function hostsOf(t: LabTopology): string[] {
  return [t.frontend.hostname, ...t.apis.map((a) => a.app.hostname), t.teamDomain];
}

/**
 * The header the page's preflighted request sends each API: the one the
 * stack as configured allows, so that a variant leaving it out shows the
 * refusal. A variant on other hosts keeps the APIs' order.
 */
function probeHeadersOf(
  config: Record<string, unknown>,
  t: LabTopology,
): ActiveScenario["probeHeaders"] {
  const configured = apiSettings(config);
  return Object.fromEntries(
    t.apis.map((a, i) => {
      const own = configured.find((c) => c.hostname === a.app.hostname) ?? configured[i];
      return [a.app.hostname, own ? probeHeader(own.config) : null];
    }),
  );
}

/** The API with a host name, or the first; an unknown name is a mistake worth naming. */
function apiNamed(t: LabTopology, hostname?: string): LabApi {
  if (hostname === undefined) return t.apis[0]!;
  const api = apiByHost(t, hostname);
  if (!api)
    throw new Error(
      `no API ${hostname} in this lab; its APIs: ${t.apis.map((a) => a.app.hostname).join(", ")}`,
    );
  return api;
}

async function declareScenario(
  scenario: Scenario,
  token: Lab["serviceToken"],
  configFile: string,
): Promise<LabTopology> {
  const declared = await declareStack(scenario.stack, {
    config: scenario.config,
    serviceToken: token,
    configFile,
  });
  const topology = topologyOf(declared);
  if (scenario.dropCorsHeaders)
    topology.apis = topology.apis.map((a) => ({
      ...a,
      app: { ...a.app, corsHeaders: undefined, optionsPreflightBypass: false },
    }));
  return topology;
}

export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const stack = options.stack ?? "dev";
  const configFile = options.configFile ?? stackFileOf(stack);
  const configOf = (overrides: Record<string, unknown> = {}) =>
    stackConfig(stack, overrides, configFile);
  const scenarios = scenariosFor(stack, configOf(), { ownApi: options.api !== undefined });
  const serviceToken = {
    clientId: `${randomBytes(8).toString("hex")}.access`,
    clientSecret: randomBytes(32).toString("hex"),
  };
  const keys: KeySet = newKeySet();
  const log = new LabLog();
  const page: PageAssets = await loadPageAssets();
  const apiOrigin = options.api !== undefined ? userApi(options.api, log) : undefined;
  const frontendOrigin = options.frontend !== undefined ? new URL(options.frontend) : undefined;
  const pageUrlOf = (t: LabTopology): string =>
    `https://${t.frontend.hostname}${frontendOrigin ? labPath : "/"}`;

  // Only overrides of the host names change hosts, so declaring the first
  // scenario with each pair of names tells every name the certificate must
  // cover. The other scenarios are declared in the background, ready before
  // they are used.
  const topologies = new Map<string, Promise<LabTopology>>();
  const declare = (s: Scenario): Promise<LabTopology> => {
    let t = topologies.get(s.name);
    if (!t) {
      t = declareScenario(s, serviceToken, configFile);
      topologies.set(s.name, t);
    }
    return t;
  };
  const hosts = new Set<string>();
  const hostKey = (s: Scenario): string => {
    const config = configOf(s.config);
    return JSON.stringify([config["frontendHostname"], apiSettings(config).map((a) => a.hostname)]);
  };
  for (const key of new Set(scenarios.map(hostKey))) {
    hostsOf(await declare(scenarios.find((x) => hostKey(x) === key)!)).forEach((h) => hosts.add(h));
  }
  const certificate = await (options.certificate ?? newCertificate)([...hosts]);
  for (const s of scenarios) void declare(s).catch(() => undefined);

  let current: Runtime | undefined;
  let switching: Promise<Runtime> | undefined;

  async function activate(name: string): Promise<Runtime> {
    const scenario = scenarios.find((s) => s.name === name);
    if (!scenario)
      throw new Error(
        `unknown scenario ${name}; known: ${scenarios.map((s) => s.name).join(", ")}`,
      );
    const topology = await declare(scenario);
    const missing = hostsOf(topology).filter((h) => !certificate.hosts.includes(h));
    if (missing.length > 0)
      throw new Error(`scenario ${name} uses hosts outside the certificate: ${missing.join(", ")}`);

    const settings = apiSettings(configOf(scenario.config));
    const configFor = (api: LabApi) =>
      settings.find((a) => a.hostname === api.app.hostname)?.config ?? configOf(scenario.config);
    const first = topology.apis[0]!;
    const ctx: ScenarioContext = {
      topology,
      keys,
      log,
      originCors: (api) =>
        api.app.corsHeaders ??
        originPolicy(configFor(api), topology.frontend.hostname, scenario.originAdmitsFrontend),
      dispatchWorker: (api, request) => active().workers.fetch(api.worker.scriptName, request),
      callApi: (api, request) =>
        apiOrigin && api.app.hostname === first.app.hostname
          ? apiOrigin(request)
          : handleDemoApi(ctx, api, request),
    };
    // Variants of one stack upload the same Workers with the same bindings;
    // keep them running rather than restart workerd for each.
    const workerKey = JSON.stringify([topology.apis.map((a) => a.worker), topology.teamDomain]);
    const reuse = current?.workerKey === workerKey;
    const workers = reuse
      ? current!.workers
      : await startWorkers(
          topology.apis.map((a) => a.worker),
          (request) => outbound(active().ctx, request),
          log,
        );
    const previous = current;
    const probeHeaders = probeHeadersOf(configOf(), topology);
    current = { scenario, topology, probeHeaders, ctx, workers, workerKey };
    if (previous && !reuse) await previous.workers.dispose();
    log.add("lab", "USE", `https://${topology.frontend.hostname}/`, 0, `scenario ${scenario.name}`);
    return current;
  }

  async function use(name: string): Promise<Runtime> {
    await switching?.catch(() => undefined);
    switching = activate(name);
    return switching;
  }

  const active = (): Runtime => current!;

  function outbound(ctx: ScenarioContext, request: Request): Promise<Response> {
    const host = new URL(request.url).hostname;
    if (host === ctx.topology.teamDomain) return handleTeamDomain(ctx, request);
    const api = apiByHost(ctx.topology, host);
    if (api) return handleApiEdge(ctx, api, request);
    ctx.log.add(
      "worker",
      request.method,
      request.url,
      502,
      "the Worker called a host the lab does not serve",
    );
    return Promise.resolve(json({ error: "the lab does not serve this host" }, 502));
  }

  async function servePage(rt: Runtime, request: Request, email: string): Promise<Response> {
    const url = new URL(request.url);
    const root = url.pathname === "/" || url.pathname === "/index.html";
    if (url.pathname === labPath || (root && !frontendOrigin)) return html(page.html);
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
    return json({ error: "not found" }, 404);
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

  /** Why the browser refused one of the page's requests, from what the lab answered it. */
  function explain(rt: Runtime, params: URLSearchParams): unknown {
    const url = params.get("url") ?? "";
    const page = {
      url,
      origin: `https://${rt.topology.frontend.hostname}`,
      method: params.get("method") ?? "GET",
      headers: (params.get("headers") ?? "").split(",").filter((h) => h !== ""),
      credentials: params.get("credentials") === "include",
    };
    return explainFailure(page, log.forUrl(url), settingOf(rt, apiOfUrl(rt.topology, url)));
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
        upstream: i === 0 ? (options.api ?? null) : null,
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
      scenarios: scenarios.map((s) => ({ name: s.name, title: s.title })),
      email,
      frontendOrigin: `https://${t.frontend.hostname}`,
      frontendManagedElsewhere: t.frontendManagedElsewhere,
      apis,
      crossSite: crossSite.length > 0 ? crossSite.join(" ") : null,
      upstreams: { frontend: options.frontend ?? null, api: options.api ?? null },
      logSeq: log.last,
    };
  }

  async function route(request: Request): Promise<Response> {
    const rt = current!;
    const url = new URL(request.url);
    const t = rt.topology;
    if (url.pathname === `${labPath}use` && hosts.has(url.hostname)) {
      const next = await use(url.searchParams.get("scenario") ?? "");
      return new Response(null, {
        status: 302,
        headers: { location: pageUrlOf(next.topology), "cache-control": "no-store" },
      });
    }
    if (url.hostname === t.teamDomain) return handleTeamDomain(rt.ctx, request);
    if (url.hostname === t.frontend.hostname)
      return handleFrontendEdge(rt.ctx, request, (r, email) => servePage(rt, r, email));
    const api = apiByHost(t, url.hostname);
    if (api) return handleApiEdge(rt.ctx, api, request);
    return html(
      `<!doctype html><meta charset="utf-8"><p>${url.hostname} is not part of the active scenario (${rt.scenario.title}).</p>
<p><a href="https://${t.frontend.hostname}/">Go to its front end</a> or <a href="/__lab/use?scenario=${scenarios.find((s) => s.stack !== rt.scenario.stack)?.name ?? ""}">switch scenario</a>.</p>`,
      421,
    );
  }

  await use(options.scenario ?? scenarios[0]!.name);

  /**
   * A request for the user's front end that the front end's edge lets
   * through, ready to pass on; undefined for anything the fetch-style
   * handlers answer (the login redirect among them).
   */
  function frontendCall(req: IncomingMessage, upgrade?: string): OriginCall | undefined {
    const rt = current;
    if (!frontendOrigin || !rt) return undefined;
    const url = new URL(req.url ?? "/", `https://${(req.headers.host ?? "").replace(/:\d+$/, "")}`);
    const { frontend, apis } = rt.topology;
    if (url.hostname !== frontend.hostname) return undefined;
    const routes = apis.map((a) => a.routePattern);
    if (frontendParty(routes, url.hostname, url.pathname) !== "origin") return undefined;
    const who = admittedPerson(rt.ctx, frontend, headersOf(req.headers));
    if (!who) return undefined;
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
    const message = unreachable("--frontend", options.frontend ?? "", reason);
    log.add("frontend", method, url, 502, message);
    return html(
      `<!doctype html><meta charset="utf-8"><title>Front end not reachable</title>
<p>The lab could not reach your front end: ${escapeHtml(message)}.</p>
<p>Start your dev server and reload. The lab's own page is at <a href="${labPath}">${labPath}</a>.</p>`,
      502,
      { "x-lab-served-by": "lab" },
    );
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const call = frontendCall(req);
    if (call) {
      const url = `${call.publicOrigin}${call.path}`;
      passRequest(req, res, call, (reason) => {
        void sendFetchResponse(res, frontendUnreachable(url, req.method ?? "GET", reason));
      });
      return;
    }
    await sendFetchResponse(res, await route(await toFetchRequest(req)));
  }

  /**
   * A WebSocket upgrade: piped to the user's dev server when its edge lets
   * the person in; anything else gets the answer the same request would get
   * without the upgrade (a login redirect, the Worker's answer), on the socket.
   */
  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => socket.destroy());
    const call = frontendCall(req, req.headers.upgrade);
    if (call) {
      const url = `${call.publicOrigin}${call.path}`;
      passUpgrade(socket, head, req.method ?? "GET", call, (result) => {
        if ("failed" in result) frontendUnreachable(url, req.method ?? "GET", result.failed);
        else
          log.add(
            "frontend",
            req.method ?? "GET",
            url,
            result.status,
            `WebSocket upgrade passed to ${options.frontend}`,
          );
      });
      return;
    }
    await sendRawResponse(socket, await route(await toFetchRequest(req)));
  }

  const server: Server = createServer(
    { key: certificate.key, cert: certificate.cert },
    (req, res) => {
      serve(req, res).catch((err: unknown) => {
        log.add(
          "lab",
          req.method ?? "",
          req.url ?? "",
          500,
          `lab error: ${(err as Error).message}`,
        );
        // Once an answer has started, cutting it short is the only honest signal left.
        if (res.headersSent) return void res.destroy();
        res.writeHead(500, { "content-type": "text/plain" });
        res.end("lab error; see the terminal");
        console.error(err);
      });
    },
  );
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgrade(req, socket, head).catch((err: unknown) => {
      log.add("lab", req.method ?? "", req.url ?? "", 500, `lab error: ${(err as Error).message}`);
      socket.destroy();
    });
  });
  server.on("tlsClientError", (err: Error & { code?: string }) => {
    if (err.code === undefined || !CERTIFICATE_REFUSED.has(err.code)) return;
    log.add("lab", "TLS", "", 0, `a client refused the lab's certificate (${err.code})`);
    options.onCertificateRefused?.(err.code);
  });

  // Plain HTTP on the same port: the team's signing keys for a server under
  // development, which has no reason to trust the lab's certificate. Only
  // public keys are served this way; everything else is HTTPS.
  const plain = createHttpServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if ((req.method === "GET" || req.method === "HEAD") && path === certsPath) {
      log.add(
        "idp",
        req.method,
        `http://127.0.0.1:${port}${certsPath}`,
        200,
        "signing keys (plain HTTP)",
      );
      void sendFetchResponse(res, json(keys.jwks));
      return;
    }
    void sendFetchResponse(
      res,
      new Response(
        `The lab speaks HTTPS: open ${pageUrlOf(current!.topology)} in the Chromium that npm start printed.\n` +
          `Plain HTTP on this port serves only ${certsPath}, the team's signing keys, for an API under development.\n`,
        { status: 400, headers: { "content-type": "text/plain; charset=utf-8" } },
      ),
    );
  });
  const listener = await listen(options.port ?? 0, server, plain);
  const port = listener.port;

  return {
    port,
    hosts: [...hosts].sort(),
    certificate,
    scenarios,
    log,
    serviceToken,
    serviceTokens: () =>
      current!.topology.apis.map((a) => ({
        hostname: a.app.hostname,
        clientId: a.worker.bindings["CF_ACCESS_CLIENT_ID"] ?? "",
        clientSecret: a.worker.bindings["CF_ACCESS_CLIENT_SECRET"] ?? "",
      })),
    active,
    use,
    frontendUrl: () => `https://${current!.topology.frontend.hostname}/`,
    pageUrl: () => pageUrlOf(current!.topology),
    upstreams: {
      ...(options.frontend !== undefined ? { frontend: options.frontend } : {}),
      ...(options.api !== undefined ? { api: options.api } : {}),
    },
    apiJwt(hostname) {
      const t = current!.topology;
      return {
        certs: `http://127.0.0.1:${port}${certsPath}`,
        teamCerts: `https://${t.teamDomain}${certsPath}`,
        issuer: `https://${t.teamDomain}`,
        audience: apiNamed(t, hostname).app.aud,
      };
    },
    apiToken(hostname) {
      const t = current!.topology;
      const { app } = apiNamed(t, hostname);
      const email = sampleEmail(app.access);
      const claims = accessClaims(t.teamDomain, app.aud, { email }, sessionSeconds);
      return { token: signToken(keys, claims), email, host: app.hostname };
    },
    async close() {
      await listener.close();
      await current?.workers.dispose();
    },
  };
}
