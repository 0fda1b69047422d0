import { spawnOffWorkerCore } from "./cpu";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { request } from "node:http";
import * as path from "node:path";
import { stopProcess, tail } from "./workerd";

/** One fixed-duration load run against one URL. */
export interface LoadOptions {
  url: string;
  headers: Record<string, string>;
  connections: number;
  threads: number;
  durationSeconds: number;
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  requests: number;
  /** Responses outside 2xx/3xx, plus socket errors: a run with many of these measured failures. */
  errors: number;
  /** CPU time the serving workerd used during the run, where it was read (throughput rounds). */
  cpuNs?: number;
}

export type LoadGenerator = "wrk" | "autocannon";

export const wrkBinary = "/usr/bin/wrk";
const autocannonBinary = path.join(__dirname, "..", "node_modules", ".bin", "autocannon");

/** Prefers wrk: it is native, so it takes less CPU from the processes being measured. */
export function pickLoadGenerator(): LoadGenerator {
  return existsSync(wrkBinary) ? "wrk" : "autocannon";
}

const unitsToMs: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses wrk's latency figures (`53.00us`, `1.23ms`, `2.00s`, `1.00m`) into milliseconds. */
export function parseWrkDuration(value: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(value.trim());
  const unit = match?.[2];
  if (!match?.[1] || !unit) throw new Error(`unrecognised wrk duration "${value}"`);
  return Number(match[1]) * (unitsToMs[unit] ?? NaN);
}

/** Reads the figures out of `wrk --latency` output; throws if any is missing. */
export function parseWrkOutput(output: string): LoadResult {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(output)?.[1];
  const p50 = /^\s*50%\s+(\S+)/m.exec(output)?.[1];
  const requests = /^\s*(\d+) requests in /m.exec(output)?.[1];
  if (rps === undefined || p50 === undefined || requests === undefined) {
    throw new Error(`could not read wrk output:\n${output}`);
  }
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
    output,
  );
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  return {
    requestsPerSecond: Number(rps),
    p50Ms: parseWrkDuration(p50),
    requests: Number(requests),
    errors: non2xx + socketErrors,
  };
}

/** Reads the figures out of `autocannon --json` output. */
export function parseAutocannonJson(output: string): LoadResult {
  const result = JSON.parse(output) as {
    requests?: { average?: number; total?: number };
    latency?: { p50?: number };
    non2xx?: number;
    errors?: number;
  };
  const rps = result.requests?.average;
  const p50 = result.latency?.p50;
  if (rps === undefined || p50 === undefined) {
    throw new Error(`could not read autocannon output:\n${output.slice(0, 2000)}`);
  }
  return {
    requestsPerSecond: rps,
    p50Ms: p50,
    requests: result.requests?.total ?? 0,
    errors: (result.non2xx ?? 0) + (result.errors ?? 0),
  };
}

export function loadArgs(generator: LoadGenerator, options: LoadOptions): string[] {
  const headers = Object.entries(options.headers).map(([name, value]) => `${name}: ${value}`);
  if (generator === "wrk") {
    return [
      `-t${Math.min(options.threads, options.connections)}`,
      `-c${options.connections}`,
      `-d${options.durationSeconds}s`,
      "--latency",
      ...headers.flatMap((h) => ["-H", h]),
      options.url,
    ];
  }
  return [
    "-c",
    String(options.connections),
    "-d",
    String(options.durationSeconds),
    "-j",
    ...headers.flatMap((h) => ["-H", h]),
    options.url,
  ];
}

/**
 * Runs the load generator as a child process, so its own CPU use is not mixed
 * into the Node process that plays the origin; it is killed if it overruns.
 */
export async function runLoad(generator: LoadGenerator, options: LoadOptions): Promise<LoadResult> {
  const binary = generator === "wrk" ? wrkBinary : autocannonBinary;
  const child = spawnOffWorkerCore(binary, loadArgs(generator, options), {
    stdio: ["ignore", "pipe", "pipe"],
  });
  activeLoad.add(child);
  let stdout = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  const output = tail(child);
  const deadline = setTimeout(() => void stopProcess(child), (options.durationSeconds + 15) * 1000);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once("error", reject);
      // "close", not "exit": a process can exit before its output has all been read.
      child.once("close", (exitCode) => resolve(exitCode));
    });
    if (code !== 0) throw new Error(`${generator} exited with ${code}:\n${output()}`);
    return generator === "wrk" ? parseWrkOutput(stdout) : parseAutocannonJson(stdout);
  } finally {
    clearTimeout(deadline);
    activeLoad.delete(child);
  }
}

/** Load generators still running, so an interrupted run can stop them. */
export const activeLoad = new Set<ChildProcess>();

export interface ProbeResult {
  status: number;
  body: string;
}

/** One request with full control of `Host`, which `fetch` does not allow. */
export function probe(url: string, headers: Record<string, string>, timeoutMs = 10_000) {
  return new Promise<ProbeResult>((resolve, reject) => {
    const req = request(url, { headers, timeout: timeoutMs, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk.slice(0, 4096 - body.length)));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once("timeout", () => req.destroy(new Error(`no answer from ${url} in ${timeoutMs} ms`)));
    req.once("error", reject);
    req.end();
  });
}
