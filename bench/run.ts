import { cpuTimeNs, pinningNote, pinSelfOffWorkerCore } from "./cpu";
import {
  apiHostname,
  apiSetCookie,
  benchDeployment,
  benchPath,
  frontendHostname,
  guideWorkerPath,
  teamDomain,
  workerRequestHeaders,
} from "./deployment";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import * as path from "node:path";
import {
  bundleWorker,
  compatibilityDate,
  workerBundlePath,
  workerModuleName,
} from "../worker/build";
import {
  activeLoad,
  pickLoadGenerator,
  probe,
  runLoad,
  type LoadGenerator,
  type LoadResult,
} from "./load";
import {
  cpuMicrosPerRequest,
  formatReport,
  summarize,
  verdicts,
  type Measurements,
  type Pair,
  type WorkerName,
} from "./report";
import { startUpstream, type Upstream } from "./servers";
import { startWorkerd, workerdBinary, type Workerd } from "./workerd";

/**
 * Durations in seconds. On a shared machine the noise comes in bursts that
 * swing a Worker's req/s by a third between one window and the next, so the
 * Workers are only ever compared within a pair measured at the same moment:
 * throughput with both loaded at once (each in its own workerd on the same
 * core, so the scheduler splits that core between them and each one's share
 * of requests shows its cost per request), latency in short back-to-back
 * windows. Many pairs let the median skip the ones a burst still spoiled.
 * `--quick` is for checking the harness, not for figures.
 */
const plan = process.argv.includes("--quick")
  ? { warmup: 1, throughput: 2, throughputRounds: 1, latency: 1, latencyPairs: 2, connections: 32 }
  : {
      warmup: 3,
      throughput: 4,
      throughputRounds: 8,
      latency: 1,
      latencyPairs: 30,
      connections: 32,
    };
/** Send what a browser's request carries, not just `Host` and the assertion. */
const withBrowserHeaders = process.argv.includes("--browser-headers");
/** The stand-in API sets a cookie on every answer, as most APIs do. */
const withApiCookie = process.argv.includes("--api-cookie");
/** `--baseline <bundle>`: an earlier build of ours, measured in the same rounds. */
const baselineIndex = process.argv.indexOf("--baseline");
const baselinePath = baselineIndex > 0 ? process.argv[baselineIndex + 1] : undefined;
const resultsPath = path.join(
  __dirname,
  "results",
  `latest${withBrowserHeaders ? "-browser-headers" : ""}${withApiCookie ? "-api-cookie" : ""}.json`,
);
/** The whole run stops itself after this, whatever state it is in. */
const runBudgetMs = 300_000;

type TargetName = "floor" | "baseline" | WorkerName;

interface Target {
  name: TargetName;
  url: string;
  headers: Record<string, string>;
  /** The workerd serving it, whose CPU time a throughput round reads. */
  pid?: number;
}

/** Everything started so far, stopped in reverse order on success, error or signal. */
const running: { upstream?: Upstream; workerds: Workerd[] } = { workerds: [] };

async function cleanUp(): Promise<void> {
  for (const child of activeLoad) child.kill("SIGKILL");
  for (const workerd of running.workerds.splice(0).reverse()) await workerd.stop();
  await running.upstream?.close();
  running.upstream = undefined;
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<void> {
  pinSelfOffWorkerCore();
  const generator = pickLoadGenerator();
  const bundle = bundleWorker();
  const bundleBytes = Buffer.byteLength(bundle);
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    log(`WARNING: ${message}`);
  };
  if (!existsSync(workerBundlePath) || readFileSync(workerBundlePath, "utf8") !== bundle) {
    warn("worker/dist/index.js differs from a fresh build; run `npm run build:worker`");
  }

  const { keys, bindings, assertion } = benchDeployment();
  const clientId = bindings.CF_ACCESS_CLIENT_ID;

  running.upstream = await startUpstream(
    { apiHostname, teamDomain },
    keys.jwks,
    withApiCookie ? apiSetCookie : undefined,
  );
  const upstream = running.upstream;
  const workerHeaders = workerRequestHeaders(assertion, withBrowserHeaders);
  // One workerd per Worker: two Workers in one workerd would share its single
  // event loop, which serves both at the same pace whatever each one costs.
  const serve = async (name: WorkerName | "baseline", moduleName: string, source: string) => {
    const workerd = await startWorkerd(
      [{ name, moduleName, source, compatibilityDate, bindings }],
      upstream.port,
    );
    running.workerds.push(workerd);
    const target: Target = {
      name,
      url: `http://127.0.0.1:${workerd.ports.get(name)}${benchPath}`,
      headers: workerHeaders,
      pid: workerd.pid,
    };
    return target;
  };
  const guide = await serve("guide", "worker.js", readFileSync(guideWorkerPath, "utf8"));
  const ours = await serve("ours", workerModuleName, bundle);
  const baseline = baselinePath
    ? await serve("baseline", workerModuleName, readFileSync(baselinePath, "utf8"))
    : undefined;
  const floor: Target = {
    name: "floor",
    url: `http://127.0.0.1:${upstream.port}${benchPath}`,
    headers: { Host: apiHostname },
  };

  const oursVerified = await checkTargets({ floor, guide, ours }, upstream, clientId, warn);

  log(
    `\nload: ${generator}; warm-up ${plan.warmup}s each; req/s at ${plan.connections} connections ` +
      `over ${plan.throughputRounds} round(s) of ${plan.throughput}s with both Workers loaded at once; ` +
      `p50 at 1 connection over ${plan.latencyPairs} pair(s) of ${plan.latency}s windows; ` +
      `${withBrowserHeaders ? "browser-like request headers" : "Host and assertion only"}; ` +
      `${withApiCookie ? "the API sets a cookie; " : ""}${pinningNote()}`,
  );
  const keysFetchesBefore = upstream.counters.keys;
  const measurements = await measureAll(generator, { floor, guide, ours }, baseline);
  const keysFetchesUnderLoad = upstream.counters.keys - keysFetchesBefore;
  const summary = summarize(measurements);
  const checks = verdicts(summary, bundleBytes, oursVerified);

  log(`\n${formatReport(summary, checks, bundleBytes)}`);
  log(`keys endpoint fetched ${keysFetchesUnderLoad} time(s) while measuring`);
  if (upstream.counters.unexpected > 0) {
    warn(`${upstream.counters.unexpected} request(s) reached the upstream for an unknown host`);
  }

  mkdirSync(path.dirname(resultsPath), { recursive: true });
  writeFileSync(
    resultsPath,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        worker: oursVerified ? "verifying" : "not verifying (see warnings)",
        loadGenerator: generator,
        requestHeaders: withBrowserHeaders ? "browser-like" : "Host and assertion only",
        apiSetsCookie: withApiCookie,
        plan,
        machine: { cpus: cpus().length, node: process.version, workerd: workerdVersion() },
        bundle: { path: "worker/dist/index.js", bytes: bundleBytes },
        summary,
        checks,
        measurements,
        keysFetchesUnderLoad,
        unexpectedUpstreamRequests: upstream.counters.unexpected,
        warnings,
      },
      null,
      2,
    )}\n`,
  );
  log(`\nwrote ${path.relative(process.cwd(), resultsPath)}`);
}

/**
 * One request per target before any load: each must reach the origin once with
 * the service token. Ours failing is reported, not fatal, so the harness also
 * runs against an unfinished Worker. Returns whether ours verified and forwarded.
 */
async function checkTargets(
  targets: Record<"floor" | WorkerName, Target>,
  upstream: Upstream,
  clientId: string,
  warn: (message: string) => void,
): Promise<boolean> {
  let oursVerified = true;
  for (const target of [targets.floor, targets.guide, targets.ours]) {
    const before = upstream.counters.origin;
    const answer = await probe(target.url, target.headers);
    const forwarded = upstream.counters.origin - before;
    const ok = answer.status === 200 && forwarded === 1;
    log(`check ${target.name}: status ${answer.status}, origin called ${forwarded} time(s)`);
    if (target.name !== "floor" && ok) {
      // Compared, never printed.
      const sent = upstream.counters.lastOriginHeaders?.["cf-access-client-id"];
      if (sent !== clientId) warn(`${target.name} did not send the service token to the origin`);
    }
    if (ok) continue;
    if (target.name === "ours") {
      oursVerified = false;
      warn(
        `ours answered ${answer.status} to a valid assertion (origin called ${forwarded} times); ` +
          `its figures measure that answer, not verification and forwarding`,
      );
    } else {
      throw new Error(`${target.name} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
    }
  }
  const beforeUnsigned = upstream.counters.origin;
  const unsigned = await probe(targets.ours.url, { Host: frontendHostname });
  if (unsigned.status === 200 || upstream.counters.origin !== beforeUnsigned) {
    warn(`ours forwarded a request without an assertion (status ${unsigned.status})`);
  } else {
    log(`check ours without assertion: status ${unsigned.status}, origin not called`);
  }
  return oursVerified;
}

/** Warms every target up, then takes the floor alone and the Workers in pairs. */
async function measureAll(
  generator: LoadGenerator,
  targets: Record<"floor" | WorkerName, Target>,
  baseline: Target | undefined,
): Promise<Measurements> {
  for (const target of [
    targets.floor,
    targets.guide,
    targets.ours,
    ...(baseline ? [baseline] : []),
  ]) {
    await measure(generator, target, plan.connections, plan.warmup);
  }
  const floor = {
    throughput: await measure(generator, targets.floor, plan.connections, plan.throughput),
    latency: await measure(generator, targets.floor, 1, plan.latency),
  };
  log(
    `  floor: ${floor.throughput.requestsPerSecond.toFixed(0)} req/s, ` +
      `p50 ${floor.latency.p50Ms.toFixed(3)} ms`,
  );

  const throughput: Pair[] = [];
  const baselineRounds: LoadResult[] = [];
  for (let round = 0; round < plan.throughputRounds; round++) {
    const [g, o, b] = await Promise.all([
      measureWithCpu(generator, targets.guide),
      measureWithCpu(generator, targets.ours),
      baseline ? measureWithCpu(generator, baseline) : undefined,
    ]);
    throughput.push({ guide: g, ours: o });
    if (b) baselineRounds.push(b);
    log(
      `  req/s round ${round + 1}: guide ${g.requestsPerSecond.toFixed(0)}, ` +
        `ours ${o.requestsPerSecond.toFixed(0)} (${(o.requestsPerSecond / g.requestsPerSecond).toFixed(2)}x)` +
        (b
          ? `, baseline ${b.requestsPerSecond.toFixed(0)} (${(b.requestsPerSecond / g.requestsPerSecond).toFixed(2)}x)`
          : "") +
        `; CPU µs/request: ${[g, o, b]
          .filter((r) => r !== undefined)
          .map((r) => cpuMicrosPerRequest(r)?.toFixed(1) ?? "-")
          .join(", ")}`,
    );
  }

  const latency: Pair[] = [];
  for (let pair = 0; pair < plan.latencyPairs; pair++) {
    // Alternate which goes first, so a drift within a pair falls on both alike.
    const first = pair % 2 === 0 ? targets.guide : targets.ours;
    const second = first === targets.guide ? targets.ours : targets.guide;
    const a = await measure(generator, first, 1, plan.latency);
    const b = await measure(generator, second, 1, plan.latency);
    const [g, o] = first === targets.guide ? [a, b] : [b, a];
    latency.push({ guide: g, ours: o });
  }
  const p50s = (name: WorkerName) => latency.map((p) => p[name].p50Ms.toFixed(3)).join(" ");
  log(`  p50 ms, guide: ${p50s("guide")}`);
  log(`  p50 ms, ours:  ${p50s("ours")}`);
  return { floor, throughput, latency, ...(baseline ? { baseline: baselineRounds } : {}) };
}

/** A throughput round for one target, with the CPU its workerd spent meanwhile. */
async function measureWithCpu(generator: LoadGenerator, target: Target): Promise<LoadResult> {
  const before = target.pid === undefined ? undefined : cpuTimeNs(target.pid);
  const result = await measure(generator, target, plan.connections, plan.throughput, 1);
  const after = target.pid === undefined ? undefined : cpuTimeNs(target.pid);
  return before === undefined || after === undefined
    ? result
    : { ...result, cpuNs: after - before };
}

async function measure(
  generator: LoadGenerator,
  target: Target,
  connections: number,
  durationSeconds: number,
  threads = 2,
): Promise<LoadResult> {
  return runLoad(generator, {
    url: target.url,
    headers: target.headers,
    connections,
    threads,
    durationSeconds,
  });
}

function workerdVersion(): string {
  return execFileSync(workerdBinary, ["--version"], { encoding: "utf8" }).trim();
}

let stopping = false;
async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await cleanUp().catch((error: unknown) => log(`cleanup failed: ${String(error)}`));
  }
  process.exit(code);
}

process.once("SIGINT", () => void stop(130));
process.once("SIGTERM", () => void stop(143));
// Synchronous last resort if something calls process.exit before cleanup ran.
process.once("exit", () => {
  for (const child of activeLoad) child.kill("SIGKILL");
  for (const workerd of running.workerds) workerd.killNow();
});
const budget = setTimeout(() => {
  log(`bench: gave up after ${runBudgetMs / 1000} s`);
  void stop(1);
}, runBudgetMs);
budget.unref();

main().then(
  () => stop(0),
  (error: unknown) => {
    // An interrupted run fails by design once its load generator is killed.
    if (stopping) return;
    log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return stop(1);
  },
);
