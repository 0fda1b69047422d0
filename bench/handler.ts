import { readFileSync } from "node:fs";
import { Miniflare } from "miniflare";
import { bundleWorker, compatibilityDate } from "../worker/build";
import {
  apiSetCookie,
  benchDeployment,
  benchPath,
  frontendHostname,
  guideWorkerPath,
  workerRequestHeaders,
} from "./deployment";
import { median } from "./report";

/**
 * The Worker's own cost, without the network: each Worker's fetch handler is
 * called in a loop inside workerd, its upstream `fetch` answered at once by a
 * stub shaped like the benchmark's origin. What the throughput rounds of
 * `npm run bench` cannot resolve on a noisy machine (a change of 1-2% of a
 * request), this can: the loop runs in one isolate, so scheduler noise falls
 * on a whole sample, and samples alternate between the Workers.
 */

export interface HandlerPlan {
  /** Requests per sample. Each arms a timeout, and workerd allows 10,000 at once. */
  requestsPerSample: number;
  samples: number;
  browserHeaders: boolean;
  /** The stubbed API sets a cookie on every answer, as `--api-cookie` asks. */
  apiCookie: boolean;
}

/** What one Worker's first request did, checked before any figure counts. */
export interface HandlerCheck {
  status: number;
  upstreamCalls: number;
  tokenSent: boolean;
}

export interface HandlerResult {
  name: string;
  check: HandlerCheck;
  /** µs per request, one per sample. */
  micros: number[];
}

/**
 * The module that drives a bundle: it stubs `fetch`, answering the certs URL
 * with the keys and anything else as the origin would, and calls the
 * bundle's handler `n` times per request it gets. The env goes in as JSON.
 */
export function driverModule(
  env: Record<string, string>,
  jwks: object,
  headers: object,
  setCookie?: string,
): string {
  const cookie =
    setCookie === undefined ? "" : `\n      "set-cookie": ${JSON.stringify(setCookie)},`;
  return `import worker from "./worker.js";
const env = ${JSON.stringify(env)};
const jwks = ${JSON.stringify(JSON.stringify(jwks))};
const requestHeaders = ${JSON.stringify(headers)};
const ctx = { waitUntil() {}, passThroughOnException() {} };
let upstreamCalls = 0;
let tokenSent = false;
globalThis.fetch = async (input, init) => {
  const request = input instanceof Request && init === undefined ? input : new Request(input, init);
  if (request.url.endsWith("/cdn-cgi/access/certs")) {
    return new Response(jwks, { headers: { "content-type": "application/json" } });
  }
  upstreamCalls++;
  tokenSent = request.headers.get("cf-access-client-id") === env.CF_ACCESS_CLIENT_ID;
  return new Response('{"ok":true,"service":"bench-origin"}', {
    headers: {
      connection: "keep-alive",
      "content-type": "application/json",
      date: new Date().toUTCString(),
      "keep-alive": "timeout=5",${cookie}
    },
  });
};
export default {
  async fetch(request) {
    const n = Number(new URL(request.url).searchParams.get("n"));
    upstreamCalls = 0;
    tokenSent = false;
    let status = 0;
    for (let i = 0; i < n; i++) {
      const incoming = new Request("https://${frontendHostname}${benchPath}", { headers: requestHeaders });
      const response = await worker.fetch(incoming, env, ctx);
      status = response.status;
    }
    return Response.json({ status, upstreamCalls, tokenSent });
  },
};
`;
}

/** Runs the Workers' handlers side by side, alternating their order sample by sample. */
export async function measureHandlers(
  bundles: { name: string; source: string }[],
  plan: HandlerPlan,
): Promise<HandlerResult[]> {
  const { keys, bindings, assertion } = benchDeployment();
  const headers = workerRequestHeaders(assertion, plan.browserHeaders);
  const driver = driverModule(
    bindings,
    keys.jwks,
    headers,
    plan.apiCookie ? apiSetCookie : undefined,
  );

  const runtimes = bundles.map(({ name, source }) => ({
    name,
    mf: new Miniflare({
      modulesRoot: "/bench",
      modules: [
        { type: "ESModule", path: "/bench/driver.js", contents: driver },
        { type: "ESModule", path: "/bench/worker.js", contents: source },
      ],
      compatibilityDate,
    }),
  }));
  try {
    const results: HandlerResult[] = [];
    for (const { name, mf } of runtimes) {
      // The first request verifies the assertion and warms the isolate up.
      const check = (await (await mf.dispatchFetch("http://bench/?n=200")).json()) as HandlerCheck;
      results.push({ name, check, micros: [] });
    }
    for (let sample = 0; sample < plan.samples; sample++) {
      const order = sample % 2 === 0 ? runtimes : [...runtimes].reverse();
      for (const { name, mf } of order) {
        const started = process.hrtime.bigint();
        await (await mf.dispatchFetch(`http://bench/?n=${plan.requestsPerSample}`)).text();
        const micros = Number(process.hrtime.bigint() - started) / 1000 / plan.requestsPerSample;
        results.find((r) => r.name === name)?.micros.push(micros);
      }
    }
    return results;
  } finally {
    for (const { mf } of runtimes) await mf.dispose();
  }
}

/** A Worker's figures, or why they do not count. */
export function formatHandlerReport(results: HandlerResult[], plan: HandlerPlan): string {
  const lines = [
    `handler cost in workerd, upstream stubbed: ${plan.samples} samples of ` +
      `${plan.requestsPerSample} requests each, order alternating; ` +
      `${plan.browserHeaders ? "browser-like request headers" : "Host and assertion only"}` +
      `${plan.apiCookie ? "; the API sets a cookie" : ""}`,
  ];
  const guide = results.find((r) => r.name === "guide");
  for (const result of results) {
    const { status, upstreamCalls, tokenSent } = result.check;
    if (status !== 200 || upstreamCalls === 0 || !tokenSent) {
      lines.push(
        `${result.name}: answered ${status}, upstream called ${upstreamCalls} time(s), ` +
          `token ${tokenSent ? "sent" : "not sent"}: its figures do not count`,
      );
      continue;
    }
    const m = median(result.micros);
    const spread = `${Math.min(...result.micros).toFixed(1)}-${Math.max(...result.micros).toFixed(1)}`;
    const vsGuide =
      guide && result !== guide
        ? `, ${(m - median(guide.micros)).toFixed(1)} µs over the guide`
        : "";
    lines.push(`${result.name.padEnd(8)} ${m.toFixed(1)} µs/request (samples ${spread})${vsGuide}`);
  }
  return lines.join("\n");
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  // `--baseline <bundle>`, repeatable: earlier builds of ours, measured alongside.
  const baselinePaths = argv.flatMap((arg, i) =>
    arg === "--baseline" && argv[i + 1] ? [argv[i + 1] as string] : [],
  );
  const plan: HandlerPlan = {
    requestsPerSample: 5000,
    samples: argv.includes("--quick") ? 3 : 31,
    browserHeaders: argv.includes("--browser-headers"),
    apiCookie: argv.includes("--api-cookie"),
  };
  const bundles = [
    { name: "guide", source: readFileSync(guideWorkerPath, "utf8") },
    { name: "ours", source: bundleWorker() },
    ...baselinePaths.map((file, i) => ({
      name: baselinePaths.length === 1 ? "baseline" : `baseline${i + 1}`,
      source: readFileSync(file, "utf8"),
    })),
  ];
  const results = await measureHandlers(bundles, plan);
  process.stdout.write(`${formatHandlerReport(results, plan)}\n`);
  const ours = results.find((r) => r.name === "ours");
  for (const baseline of results.filter((r) => r.name.startsWith("baseline"))) {
    if (!ours) break;
    const diff = median(ours.micros) - median(baseline.micros);
    process.stdout.write(`ours - ${baseline.name}: ${diff.toFixed(1)} µs/request\n`);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench:handler failed: ${String(error)}\n`);
    process.exit(1);
  });
}
