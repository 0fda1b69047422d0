/**
 * The scenarios the lab runs: each declared by the real program, checked
 * against the lab's certificate, and run with its Workers in workerd. One
 * scenario is active at a time; switching declares nothing twice and keeps
 * workerd running when the Workers are the same.
 */
import { declareStack, stackConfig, stackFileOf } from "../checker/recorder";
import type { LabFaults, ScenarioContext } from "./context";
import { json } from "./context";
import { handleDemoApi } from "./demo-api";
import { handleApiEdge } from "./edges";
import { handleTeamDomain } from "./idp";
import type { LabLog } from "./log";
import { apiSettings, originPolicy, probeHeader, scenariosFor, type Scenario } from "./scenarios";
import type { LabCertificate } from "./tls";
import type { KeySet } from "./tokens";
import { apiByHost, topologyOf, type LabApi, type LabTopology } from "./topology";
import { startWorkers, type RunningWorkers } from "./workerd";

export interface ActiveScenario {
  scenario: Scenario;
  topology: LabTopology;
  /** The custom header the page's preflighted request sends to each API, by its host name. */
  probeHeaders: Record<string, string | null>;
}

/** The active scenario with what runs it. */
export interface Runtime extends ActiveScenario {
  ctx: ScenarioContext;
  workers: RunningWorkers;
  workerKey: string;
}

export interface ScenarioOptions {
  stack: string;
  /** The stack's config file; default `stacks/Pulumi.<stack>.yaml`. */
  configFile?: string;
  /** The service token the program's run hands the first API's Worker. */
  serviceToken: { clientId: string; clientSecret: string };
  keys: KeySet;
  log: LabLog;
  /** Issues the certificate for every host the scenarios use. */
  certificate: (hosts: string[]) => Promise<LabCertificate>;
  /** The user's API (`--api`), which stands behind the first API's Access edge instead of a demo API. */
  userApi?: (request: Request) => Promise<Response>;
}

export interface ScenarioRunner {
  scenarios: Scenario[];
  /** Every host name a scenario uses; the certificate covers them all. */
  hosts: ReadonlySet<string>;
  certificate: LabCertificate;
  /** What the person broke from the page; it outlasts a change of scenario. */
  faults: LabFaults;
  active(): Runtime;
  /** Makes a scenario active, after any switch under way. */
  use(name: string): Promise<Runtime>;
  close(): Promise<void>;
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

async function declareScenario(
  scenario: Scenario,
  token: ScenarioOptions["serviceToken"],
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

/** Where a Worker's own requests go: the team's domain and the APIs' Access edges. */
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

export async function startScenarios(options: ScenarioOptions): Promise<ScenarioRunner> {
  const { stack, serviceToken, keys, log, userApi } = options;
  const configFile = options.configFile ?? stackFileOf(stack);
  const configOf = (overrides: Record<string, unknown> = {}) =>
    stackConfig(stack, overrides, configFile);
  const scenarios = scenariosFor(stack, configOf(), { ownApi: userApi !== undefined });

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
  const certificate = await options.certificate([...hosts]);
  for (const s of scenarios) void declare(s).catch(() => undefined);

  const faults: LabFaults = { endedSessions: new Set(), tokenRevoked: false };
  let current: Runtime | undefined;
  let switching: Promise<Runtime> | undefined;
  const active = (): Runtime => current!;

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
      faults,
      originCors: (api) =>
        api.app.corsHeaders ??
        originPolicy(configFor(api), topology.frontend.hostname, scenario.originAdmitsFrontend),
      dispatchWorker: (api, request) => active().workers.fetch(api.worker.scriptName, request),
      upgradeWorker: (api, request) => active().workers.upgrade(api.worker.scriptName, request),
      callApi: (api, request) =>
        userApi && api.app.hostname === first.app.hostname
          ? userApi(request)
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

  return {
    scenarios,
    hosts,
    certificate,
    faults,
    active,
    async use(name) {
      await switching?.catch(() => undefined);
      switching = activate(name);
      return switching;
    },
    async close() {
      await current?.workers.dispose();
    },
  };
}
