import { pinningNote, pinSelfOffWorkerCore } from "./cpu";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import * as path from "node:path";
import {
  bundleWorker,
  compatibilityDate,
  workerBundlePath,
  workerModuleName,
} from "../worker/build";
// The benchmark plays the team's Access the same way the local lab does.
import { accessClaims, newKeySet, signToken } from "../lab/tokens";
import {
  activeLoad,
  pickLoadGenerator,
  probe,
  runLoad,
  type LoadGenerator,
  type LoadResult,
} from "./load";
import {
  formatReport,
  ratios,
  summarize,
  verdicts,
  type TargetName,
  type TargetSummary,
} from "./report";
import { startUpstream, type Upstream } from "./servers";
import { startWorkerd, workerdBinary, type Workerd } from "./workerd";

const apiHostname = "api.mysite.com";
const frontendHostname = "app.mysite.com";
const teamDomain = "bench.cloudflareaccess.com";
const benchPath = "/api/bench";
const guideWorkerPath = path.join(__dirname, "..", "test", "fixtures", "guide-worker.js");
const resultsPath = path.join(__dirname, "results", "latest.json");

/**
 * Durations in seconds. Many short rounds rather than a few long ones: on a
 * shared machine the noise comes in bursts, and more interleaved samples let
 * the median skip them. `--quick` is for checking the harness, not for figures.
 */
const plan = process.argv.includes("--quick")
  ? { warmup: 1, throughput: 2, latency: 2, rounds: 1, connections: 32, threads: 2 }
  : { warmup: 3, throughput: 5, latency: 4, rounds: 5, connections: 32, threads: 2 };
/** The whole run stops itself after this, whatever state it is in. */
const runBudgetMs = 300_000;

interface Target {
  name: TargetName;
  url: string;
  headers: Record<string, string>;
}

/** Everything started so far, stopped in reverse order on success, error or signal. */
const running: { upstream?: Upstream; workerd?: Workerd } = {};

async function cleanUp(): Promise<void> {
  for (const child of activeLoad) child.kill("SIGKILL");
  await running.workerd?.stop();
  running.workerd = undefined;
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

  const keys = newKeySet();
  const aud = randomBytes(32).toString("hex");
  const clientId = `${randomBytes(16).toString("hex")}.access`;
  const bindings = {
    CF_ACCESS_CLIENT_ID: clientId,
    CF_ACCESS_CLIENT_SECRET: randomBytes(32).toString("hex"),
    API_HOSTNAME: apiHostname,
    ACCESS_TEAM_DOMAIN: teamDomain,
    ACCESS_AUD: aud,
    ROUTE_PREFIX: "/api",
    STRIP_ROUTE_PREFIX: "false",
  };
  const assertion = signToken(keys, accessClaims(teamDomain, aud, { email: "bench@mysite.com" }));

  running.upstream = await startUpstream({ apiHostname, teamDomain }, keys.jwks);
  const upstream = running.upstream;
  running.workerd = await startWorkerd(
    [
      {
        name: "guide",
        moduleName: "worker.js",
        source: readFileSync(guideWorkerPath, "utf8"),
        compatibilityDate,
        bindings,
      },
      { name: "ours", moduleName: workerModuleName, source: bundle, compatibilityDate, bindings },
    ],
    upstream.port,
  );
  const ports = running.workerd.ports;

  // Access adds the assertion to every request, whichever Worker serves the
  // route, so both Workers get the same request; only ours reads it.
  const workerHeaders = { Host: frontendHostname, "Cf-Access-Jwt-Assertion": assertion };
  const floor: Target = {
    name: "floor",
    url: `http://127.0.0.1:${upstream.port}${benchPath}`,
    headers: { Host: apiHostname },
  };
  const guide: Target = {
    name: "guide",
    url: `http://127.0.0.1:${ports.get("guide")}${benchPath}`,
    headers: workerHeaders,
  };
  const ours: Target = {
    name: "ours",
    url: `http://127.0.0.1:${ports.get("ours")}${benchPath}`,
    headers: workerHeaders,
  };

  const oursVerified = await checkTargets({ floor, guide, ours }, upstream, clientId, warn);

  log(
    `\nload: ${generator}; warm-up ${plan.warmup}s, req/s over ${plan.throughput}s at ` +
      `${plan.connections} connections, p50 over ${plan.latency}s at 1 connection; ` +
      `${plan.rounds} round(s), guide and ours alternating; ${pinningNote()}`,
  );
  const keysFetchesBefore = upstream.counters.keys;
  const samples = await measureAll(generator, { floor, guide, ours });
  const keysFetchesUnderLoad = upstream.counters.keys - keysFetchesBefore;
  const summaries: Record<TargetName, TargetSummary> = {
    floor: summarize(samples.floor.throughput, samples.floor.latency),
    guide: summarize(samples.guide.throughput, samples.guide.latency),
    ours: summarize(samples.ours.throughput, samples.ours.latency),
  };
  const r = ratios(summaries.ours, summaries.guide);
  const checks = verdicts(r, bundleBytes, summaries, oursVerified);

  log(`\n${formatReport(summaries, r, checks, bundleBytes)}`);
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
        plan,
        machine: { cpus: cpus().length, node: process.version, workerd: workerdVersion() },
        bundle: { path: "worker/dist/index.js", bytes: bundleBytes },
        targets: summaries,
        ratios: r,
        checks,
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
  targets: Record<TargetName, Target>,
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

/** Warms every target up, then measures in rounds; returns every sample by target. */
async function measureAll(generator: LoadGenerator, targets: Record<TargetName, Target>) {
  for (const target of [targets.floor, targets.guide, targets.ours]) {
    await measure(generator, target, plan.connections, plan.warmup);
  }
  const samples: Record<TargetName, { throughput: LoadResult[]; latency: LoadResult[] }> = {
    floor: { throughput: [], latency: [] },
    guide: { throughput: [], latency: [] },
    ours: { throughput: [], latency: [] },
  };
  for (let round = 0; round < plan.rounds; round++) {
    // Alternate the order so drift in machine load falls on both Workers alike.
    // The floor only frames the figures, so it is measured once.
    const order =
      round === 0
        ? [targets.floor, targets.guide, targets.ours]
        : round % 2 === 0
          ? [targets.guide, targets.ours]
          : [targets.ours, targets.guide];
    for (const target of order) {
      const throughput = await measure(generator, target, plan.connections, plan.throughput);
      const latency = await measure(generator, target, 1, plan.latency);
      samples[target.name].throughput.push(throughput);
      samples[target.name].latency.push(latency);
      log(
        `  ${target.name.padEnd(5)} round ${round + 1}: ${throughput.requestsPerSecond.toFixed(0)} req/s, ` +
          `p50 ${latency.p50Ms.toFixed(3)} ms`,
      );
    }
  }
  return samples;
}

async function measure(
  generator: LoadGenerator,
  target: Target,
  connections: number,
  durationSeconds: number,
): Promise<LoadResult> {
  return runLoad(generator, {
    url: target.url,
    headers: target.headers,
    connections,
    threads: plan.threads,
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
  running.workerd?.killNow();
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
