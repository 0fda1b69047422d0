import { spawnOnWorkerCore } from "./cpu";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

/**
 * The native binary, as the workerd package resolves it for this platform.
 * `node_modules/.bin/workerd` is a Node wrapper until the package's install
 * script replaces it, and npm may skip that script; the wrapper does not hand
 * the control fd on, so workerd could never report its ports through it.
 */
export const workerdBinary = (createRequire(__filename)("workerd") as { default: string }).default;

/** One Worker served on its own loopback socket. */
export interface WorkerSpec {
  /** Names the service and its socket; letters and digits only. */
  name: string;
  moduleName: string;
  source: string;
  compatibilityDate: string;
  /** Text bindings, as `wrangler secret`/`vars` would give them. */
  bindings: Record<string, string>;
}

export interface Workerd {
  /** Port of each Worker's socket, by Worker name. */
  ports: Map<string, number>;
  /** The workerd process, for reading its CPU time. */
  pid: number | undefined;
  /** The last lines workerd wrote, for error messages. */
  recentOutput(): string;
  stop(): Promise<void>;
  /** Last resort for a process that is exiting and cannot wait. */
  killNow(): void;
}

const outboundService = "upstream";

/**
 * Renders a workerd text config: each Worker on `127.0.0.1:0`, and all their
 * outbound fetches sent as plain HTTP to `upstreamAddress`, whatever host or
 * scheme the URL names (that is what an `external` service does).
 */
export function renderConfig(workers: WorkerSpec[], upstreamAddress: string): string {
  for (const worker of workers) {
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(worker.name)) {
      throw new Error(`worker name "${worker.name}" must be letters and digits`);
    }
  }
  const services = [
    ...workers.map((w) => `    (name = ${text(w.name)}, worker = .${w.name}Worker),`),
    `    (name = ${text(outboundService)}, external = (address = ${text(upstreamAddress)}, http = ())),`,
  ];
  const sockets = workers.map(
    (w) =>
      `    (name = ${text(w.name)}, address = "127.0.0.1:0", http = (), service = ${text(w.name)}),`,
  );
  const definitions = workers.map((w) => {
    const bindings = Object.entries(w.bindings).map(
      ([name, value]) => `    (name = ${text(name)}, text = ${text(value)}),`,
    );
    return [
      `const ${w.name}Worker :Workerd.Worker = (`,
      `  modules = [(name = ${text(w.moduleName)}, esModule = embed ${text(modulePath(w))})],`,
      `  compatibilityDate = ${text(w.compatibilityDate)},`,
      `  bindings = [`,
      ...bindings,
      `  ],`,
      `  globalOutbound = ${text(outboundService)},`,
      `);`,
    ].join("\n");
  });
  return [
    `using Workerd = import "/workerd/workerd.capnp";`,
    ``,
    `const config :Workerd.Config = (`,
    `  services = [`,
    ...services,
    `  ],`,
    `  sockets = [`,
    ...sockets,
    `  ],`,
    `);`,
    ``,
    ...definitions,
    ``,
  ].join("\n");
}

/** Where a Worker's module is written, relative to the config file that embeds it. */
export function modulePath(worker: WorkerSpec): string {
  return `${worker.name}/${worker.moduleName}`;
}

// JSON string syntax is a subset of Cap'n Proto's text literal syntax.
function text(value: string): string {
  return JSON.stringify(value);
}

/**
 * Writes the config and modules to a fresh temp dir and starts workerd on it.
 * Resolves once every socket has reported its port and accepts connections.
 */
export async function startWorkerd(
  workers: WorkerSpec[],
  upstreamPort: number,
  timeoutMs = 20_000,
): Promise<Workerd> {
  const dir = mkdtempSync(path.join(tmpdir(), "access-bridge-bench-"));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  let child: ChildProcess | undefined;
  let output = () => "";
  try {
    for (const worker of workers) {
      const file = path.join(dir, modulePath(worker));
      mkdirSync(path.dirname(file), { recursive: true });
      // The module holds no secrets, but the config does: both stay owner-only.
      writeFileSync(file, worker.source, { mode: 0o600 });
    }
    const configPath = path.join(dir, "bench.capnp");
    writeFileSync(configPath, renderConfig(workers, `127.0.0.1:${upstreamPort}`), { mode: 0o600 });

    child = spawnOnWorkerCore(
      workerdBinary,
      ["serve", "--experimental", "--control-fd=3", configPath],
      {
        stdio: ["ignore", "pipe", "pipe", "pipe"],
      },
    );
    output = tail(child);
    const exited = new Promise<never>((_, reject) => {
      child?.once("exit", (code, signal) =>
        reject(new Error(`workerd exited early (${signal ?? code})\n${output()}`)),
      );
      child?.once("error", reject);
    });
    exited.catch(() => undefined);
    const ports = await withTimeout(
      Promise.race([readPorts(child.stdio[3] as Readable, workers.length), exited]),
      timeoutMs,
      () => `workerd did not report its sockets within ${timeoutMs} ms\n${output()}`,
    );
    for (const port of ports.values()) {
      await withTimeout(
        Promise.race([waitForConnect(port), exited]),
        timeoutMs,
        () => `workerd socket ${port} did not accept connections\n${output()}`,
      );
    }
    const running = child;
    return {
      ports,
      pid: running.pid,
      recentOutput: output,
      stop: async () => {
        await stopProcess(running);
        removeDir();
      },
      killNow: () => {
        running.kill("SIGKILL");
        removeDir();
      },
    };
  } catch (error) {
    if (child) await stopProcess(child);
    removeDir();
    const message = error instanceof Error ? error.message : String(error);
    // workerd explains a bad config or module only on its own output.
    throw new Error(message.includes(output()) ? message : `${message}\n${output()}`, {
      cause: error,
    });
  }
}

/** workerd writes one JSON line per socket to the control fd once it listens. */
async function readPorts(control: Readable, expected: number): Promise<Map<string, number>> {
  const ports = new Map<string, number>();
  const lines = createInterface({ input: control });
  try {
    for await (const line of lines) {
      const message = JSON.parse(line) as { event?: string; socket?: string; port?: number };
      if (message.event === "listen" && message.socket && message.port) {
        ports.set(message.socket, message.port);
        if (ports.size === expected) return ports;
      }
    }
  } finally {
    lines.close();
  }
  throw new Error(`workerd closed its control channel after ${ports.size} of ${expected} sockets`);
}

async function waitForConnect(port: number): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Keeps the last few KB of a child's output, so failures can say why. */
export function tail(child: ChildProcess, limit = 8192): () => string {
  let buffer = "";
  const keep = (chunk: Buffer) => {
    buffer = (buffer + chunk.toString("utf8")).slice(-limit);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return () => buffer;
}

/** SIGTERM, then SIGKILL if the process has not gone within `graceMs`. */
export async function stopProcess(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await gone;
  clearTimeout(timer);
}

export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  message: () => string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
