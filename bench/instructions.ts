import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Readable } from "node:stream";
import { createInterface } from "node:readline";
import { bundleWorker, compatibilityDate, workerModuleName } from "../worker/build";
import {
  apiHostname,
  apiSetCookie,
  benchDeployment,
  benchPath,
  guideWorkerPath,
  teamDomain,
  workerRequestHeaders,
} from "./deployment";
import { startUpstream } from "./servers";
import { modulePath, renderConfig, workerdBinary } from "./workerd";

/**
 * Instructions per request, counted by valgrind's callgrind in each Worker's
 * own workerd: a count, not a time, so the machine's noise does not enter.
 * Each workerd is warmed up, its counters zeroed, then served `n` requests
 * one after another on one connection and dumped.
 */

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const valueOf = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const n = Number(valueOf("--requests") ?? 1000);
const warmup = Number(valueOf("--warmup") ?? 1000);
const baselines = argv.flatMap((arg, i) =>
  arg === "--baseline" && argv[i + 1] ? [argv[i + 1]!] : [],
);

/**
 * One request; sent once more if the kept-alive connection was closed under
 * it (workerd, slowed by callgrind, can close an idle one as it is reused).
 */
async function send(agent: Agent, port: number, headers: Record<string, string>): Promise<number> {
  try {
    return await sendOnce(agent, port, headers);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ECONNRESET") throw err;
    return sendOnce(agent, port, headers);
  }
}

function sendOnce(agent: Agent, port: number, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: benchPath, headers, agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

async function readPort(control: Readable): Promise<number> {
  const lines = createInterface({ input: control });
  for await (const line of lines) {
    const message = JSON.parse(line) as { event?: string; port?: number };
    if (message.event === "listen" && message.port) return message.port;
  }
  throw new Error("no port");
}

async function measure(
  name: string,
  source: string,
  bindings: Record<string, string>,
  upstreamPort: number,
  headers: Record<string, string>,
): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), "access-bridge-cg-"));
  const spec = { name, moduleName: workerModuleName, source, compatibilityDate, bindings };
  const file = path.join(dir, modulePath(spec));
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, source);
  const config = path.join(dir, "bench.capnp");
  writeFileSync(config, renderConfig([spec], `127.0.0.1:${upstreamPort}`));
  const out = path.join(dir, "cg.out");
  const child: ChildProcess = spawn(
    "valgrind",
    [
      "--tool=callgrind",
      "--smc-check=all-non-file",
      `--callgrind-out-file=${out}`,
      workerdBinary,
      "serve",
      "--experimental",
      "--control-fd=3",
      config,
    ],
    { stdio: ["ignore", "ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  try {
    const port = await readPort(child.stdio[3] as Readable);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < warmup; i++) {
      const status = await send(agent, port, headers);
      if (status !== 200) throw new Error(`${name} answered ${status}`);
    }
    execFileSync("callgrind_control", ["-z", String(child.pid)], { stdio: "ignore" });
    for (let i = 0; i < n; i++) await send(agent, port, headers);
    execFileSync("callgrind_control", ["-d", String(child.pid)], { stdio: "ignore" });
    agent.destroy();
    const dumps = readdirSync(dir).filter((f) => f.startsWith("cg.out."));
    const last = dumps.sort().at(-1);
    const text = readFileSync(path.join(dir, last!), "utf8");
    const keep = valueOf("--keep");
    if (keep) writeFileSync(path.join(keep, `${name}.cg`), text);
    const total = /^(?:summary|totals):\s+(\d+)/m.exec(text);
    return Number(total![1]) / n;
  } catch (err) {
    throw new Error(`${String(err)}\n${stderr}`, { cause: err });
  } finally {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { keys, bindings, assertion } = benchDeployment();
  const upstream = await startUpstream(
    { apiHostname, teamDomain },
    keys.jwks,
    flag("--api-cookie") ? apiSetCookie : undefined,
  );
  const headers = workerRequestHeaders(assertion, flag("--browser-headers"));
  const workers = [
    ...(flag("--no-guide")
      ? []
      : [{ name: "guide", source: readFileSync(guideWorkerPath, "utf8") }]),
    { name: "ours", source: bundleWorker() },
    ...baselines.map((file, i) => ({
      name: `baseline${i + 1}`,
      source: readFileSync(file, "utf8"),
    })),
  ];
  const rounds = Number(valueOf("--rounds") ?? 1);
  for (let round = 0; round < rounds; round++) {
    for (const { name, source } of workers) {
      const ir = await measure(name, source, bindings, upstream.port, headers);
      process.stdout.write(`${name}\t${(ir / 1000).toFixed(1)} k instructions/request\n`);
    }
  }
  await upstream.close();
}

main().catch((err) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
