/**
 * The local lab: one HTTPS server on 127.0.0.1 that plays every party of the
 * guide's set-up for the active scenario, routed by the request's host.
 *
 *   <team>.cloudflareaccess.com  the identity side (login, certs)      idp.ts
 *   <frontendHostname>           the front end's Access edge → Worker   edges.ts, workerd.ts
 *                                route, else the lab page
 *   <apiHostname>                the API's Access edge → demo API       edges.ts, demo-api.ts
 *
 * Everything here is emulation; the product (infra/, worker/) is only read,
 * through what the program declares.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { declareStack, stackConfig, stackFileOf } from "../infra/recorder";
import { sampleEmail } from "./access-rules";
import type { ScenarioContext } from "./context";
import { html, json } from "./context";
import { handleApiEdge, handleFrontendEdge } from "./edges";
import { explainFailure, isCrossSite, thirdPartyCookieNote, type Setting } from "./explain";
import { sendFetchResponse, toFetchRequest } from "./http";
import { handleTeamDomain, sessionSeconds } from "./idp";
import { LabLog } from "./log";
import { loadPageAssets, type PageAssets } from "./page-assets";
import { originPolicy, probeHeader, scenariosFor, type Scenario } from "./scenarios";
import type { LabCertificate } from "./tls";
import { newCertificate } from "./tls";
import { accessClaims, newKeySet, signToken, type KeySet } from "./tokens";
import { topologyOf, type LabTopology } from "./topology";
import { startWorker, type RunningWorker } from "./workerd";

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
}

/** TLS alerts a client sends when it does not trust the server's certificate. */
const CERTIFICATE_REFUSED = new Set([
  "ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN",
  "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA",
  "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE",
]);

/** A token for the active scenario's API app, as `cloudflared access token` would print one. */
export interface ApiToken {
  token: string;
  email: string;
  /** The API's host name. */
  host: string;
}

export interface ActiveScenario {
  scenario: Scenario;
  topology: LabTopology;
  probeHeader: string | null;
}

export interface Lab {
  port: number;
  hosts: string[];
  certificate: LabCertificate;
  scenarios: Scenario[];
  log: LabLog;
  /** The service token the lab's program run handed out, to check what the API saw. */
  serviceToken: { clientId: string; clientSecret: string };
  active(): ActiveScenario;
  use(name: string): Promise<ActiveScenario>;
  /** `https://<frontendHostname>/` of the active scenario. */
  frontendUrl(): string;
  /** A person's token for the active API app, valid while this lab runs. */
  apiToken(): ApiToken;
  close(): Promise<void>;
}

interface Runtime extends ActiveScenario {
  ctx: ScenarioContext;
  worker: RunningWorker;
  workerKey: string;
}

function hostsOf(t: LabTopology): string[] {
  return [t.frontend.hostname, t.api.hostname, t.teamDomain];
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
    topology.api = { ...topology.api, corsHeaders: undefined, optionsPreflightBypass: false };
  return topology;
}

export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const stack = options.stack ?? "dev";
  const configFile = options.configFile ?? stackFileOf(stack);
  const configOf = (overrides: Record<string, unknown> = {}) =>
    stackConfig(stack, overrides, configFile);
  const scenarios = scenariosFor(stack, configOf());
  const serviceToken = {
    clientId: `${randomBytes(8).toString("hex")}.access`,
    clientSecret: randomBytes(32).toString("hex"),
  };
  const keys: KeySet = newKeySet();
  const log = new LabLog();
  const page: PageAssets = await loadPageAssets();

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
  const hostKey = (s: Scenario) => `${s.config.frontendHostname}|${s.config.apiHostname}`;
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

    const config = configOf(scenario.config);
    const ctx: ScenarioContext = {
      topology,
      keys,
      log,
      originCors:
        topology.api.corsHeaders ??
        originPolicy(config, topology.frontend.hostname, scenario.originAdmitsFrontend),
      dispatchWorker: (request) => active().worker.fetch(request),
    };
    // Variants of one stack upload the same Worker with the same bindings;
    // keep it running rather than restart workerd for each.
    const workerKey = JSON.stringify([topology.worker, topology.api.hostname, topology.teamDomain]);
    const reuse = current?.workerKey === workerKey;
    const worker = reuse
      ? current!.worker
      : await startWorker(topology.worker, (request) => outbound(active().ctx, request), log);
    const previous = current;
    current = {
      scenario,
      topology,
      probeHeader: probeHeader(configOf()),
      ctx,
      worker,
      workerKey,
    };
    if (previous && !reuse) await previous.worker.dispose();
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
    if (host === ctx.topology.api.hostname) return handleApiEdge(ctx, request);
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
    if (url.pathname === "/" || url.pathname === "/index.html") return html(page.html);
    if (url.pathname === "/main.js") {
      return new Response(page.script, {
        headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-store" },
      });
    }
    if (url.pathname === "/__lab/state") return json(stateOf(rt, email));
    if (url.pathname === "/__lab/explain") return json(explain(rt, url.searchParams));
    if (url.pathname === "/__lab/log")
      return json(log.since(Number(url.searchParams.get("since") ?? "0")));
    return json({ error: "not found" }, 404);
  }

  function settingOf(rt: Runtime): Setting {
    const t = rt.topology;
    return {
      frontendHost: t.frontend.hostname,
      apiHost: t.api.hostname,
      preflight: t.api.optionsPreflightBypass
        ? "origin"
        : t.api.corsHeaders
          ? "cloudflare"
          : "none",
    };
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
    return explainFailure(page, log.forUrl(url), settingOf(rt));
  }

  function stateOf(rt: Runtime, email: string): Record<string, unknown> {
    const { topology: t, scenario } = rt;
    const setting = settingOf(rt);
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
      apiOrigin: `https://${t.api.hostname}`,
      routePrefix: t.worker.bindings["ROUTE_PREFIX"] ?? "/api",
      routePattern: t.routePattern,
      probeHeader: rt.probeHeader,
      preflight: setting.preflight,
      crossSite: isCrossSite(setting) ? thirdPartyCookieNote(setting) : null,
      corsHeaders: t.api.corsHeaders ?? null,
      logSeq: log.last,
    };
  }

  async function route(request: Request): Promise<Response> {
    const rt = current!;
    const url = new URL(request.url);
    const t = rt.topology;
    if (url.pathname === "/__lab/use" && hosts.has(url.hostname)) {
      const next = await use(url.searchParams.get("scenario") ?? "");
      return new Response(null, {
        status: 302,
        headers: {
          location: `https://${next.topology.frontend.hostname}/`,
          "cache-control": "no-store",
        },
      });
    }
    if (url.hostname === t.teamDomain) return handleTeamDomain(rt.ctx, request);
    if (url.hostname === t.frontend.hostname)
      return handleFrontendEdge(rt.ctx, request, (r, email) => servePage(rt, r, email));
    if (url.hostname === t.api.hostname) return handleApiEdge(rt.ctx, request);
    return html(
      `<!doctype html><meta charset="utf-8"><p>${url.hostname} is not part of the active scenario (${rt.scenario.title}).</p>
<p><a href="https://${t.frontend.hostname}/">Go to its front end</a> or <a href="/__lab/use?scenario=${scenarios.find((s) => s.stack !== rt.scenario.stack)?.name ?? ""}">switch scenario</a>.</p>`,
      421,
    );
  }

  await use(options.scenario ?? scenarios[0]!.name);

  const server: Server = createServer(
    { key: certificate.key, cert: certificate.cert },
    (req, res) => {
      void (async () => {
        try {
          await sendFetchResponse(res, await route(await toFetchRequest(req)));
        } catch (err) {
          log.add(
            "lab",
            req.method ?? "",
            req.url ?? "",
            500,
            `lab error: ${(err as Error).message}`,
          );
          if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
          res.end("lab error; see the terminal");
          console.error(err);
        }
      })();
    },
  );
  server.on("tlsClientError", (err: Error & { code?: string }) => {
    if (err.code === undefined || !CERTIFICATE_REFUSED.has(err.code)) return;
    log.add("lab", "TLS", "", 0, `a client refused the lab's certificate (${err.code})`);
    options.onCertificateRefused?.(err.code);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    hosts: [...hosts].sort(),
    certificate,
    scenarios,
    log,
    serviceToken,
    active,
    use,
    frontendUrl: () => `https://${current!.topology.frontend.hostname}/`,
    apiToken() {
      const { api } = current!.topology;
      const email = sampleEmail(api.access);
      const claims = accessClaims(current!.topology.teamDomain, api.aud, { email }, sessionSeconds);
      return { token: signToken(keys, claims), email, host: api.hostname };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await current?.worker.dispose();
    },
  };
}
