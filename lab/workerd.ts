/**
 * Runs the declared Workers, byte for byte and each with its declared
 * bindings, in one workerd through miniflare. Their outbound fetches go to the
 * emulated parties (the team's certs endpoint, the APIs' Access edges) and
 * nowhere else.
 */
import { randomBytes } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { Miniflare, type Response as MiniflareResponse } from "miniflare";
import type { LabLog, WorkerLogLine } from "./log";
import { crossedResponse } from "./http";
import type { LabWorker } from "./topology";
import type { RuntimeSocket, SocketAnswer } from "./websocket";

export interface RunningWorkers {
  /** Sends a request to the Worker uploaded as `scriptName`. */
  fetch(scriptName: string, request: Request): Promise<Response>;
  /** The same for a WebSocket upgrade: the socket when the Worker let it through, else its answer. */
  upgrade(scriptName: string, request: Request): Promise<Response | SocketAnswer>;
  dispose(): Promise<void>;
}

/** Miniflare's header naming the worker a dispatched request goes to, whatever its URL. */
const routeOverride = "MF-Route-Override";

/**
 * The browser's own handshake headers: miniflare's client opens the socket to
 * workerd with a key and extensions of its own, and the lab answers the
 * browser's handshake itself (websocket.ts).
 */
const HANDSHAKE = new Set([
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
]);

/** How long a call waits for its Worker's log line, which workerd writes after the answer. */
const LOG_LINE_WAIT_MS = 500;

/** A ray id as Cloudflare's edge gives every request: 16 hex digits and where it landed. */
const newRay = (): string => `${randomBytes(8).toString("hex")}-LAB`;

/** The Worker's per-request log line, if `message` is one: a JSON object with a reason and an id. */
export function workerLogLine(message: string): WorkerLogLine | undefined {
  if (!message.startsWith("{")) return undefined;
  try {
    const parsed = JSON.parse(message) as Partial<WorkerLogLine>;
    return typeof parsed.reason === "string" && typeof parsed.requestId === "string"
      ? (parsed as WorkerLogLine)
      : undefined;
  } catch {
    return undefined;
  }
}

export async function startWorkers(
  workers: LabWorker[],
  outbound: (request: Request) => Promise<Response>,
  log: LabLog,
): Promise<RunningWorkers> {
  const outboundService = async (request: Request) => {
    const copy = new Request(request.url, {
      method: request.method,
      headers: [...request.headers],
      body: ["GET", "HEAD"].includes(request.method) ? undefined : await request.arrayBuffer(),
      redirect: "manual",
    });
    return outbound(copy);
  };
  // Calls waiting for their Worker's log line, by the ray the lab gave them.
  const waiting = new Map<string, (line: WorkerLogLine) => void>();
  const mf = new Miniflare({
    workers: workers.map((worker) => ({
      name: worker.scriptName,
      modules: [{ type: "ESModule", path: worker.mainModule, contents: worker.content }],
      compatibilityDate: worker.compatibilityDate,
      compatibilityFlags: worker.compatibilityFlags,
      bindings: worker.bindings,
      analyticsEngineDatasets: worker.analyticsDatasets,
      outboundService,
    })),
    handleStructuredLogs: ({ level, message }: { level: string; message: string }) => {
      if (level === "error" || level === "warn") {
        log.add("worker", "LOG", "", 0, `${level}: ${message}`);
        return;
      }
      const line = level === "log" ? workerLogLine(message) : undefined;
      if (line !== undefined) waiting.get(line.requestId)?.(line);
    },
  } as unknown as ConstructorParameters<typeof Miniflare>[0]);
  await mf.ready;
  const names = new Set(workers.map((w) => w.scriptName));

  /** Sends a request to a Worker as the edge would, and shows its log line with the call. */
  async function dispatch(scriptName: string, request: Request): Promise<MiniflareResponse> {
    if (!names.has(scriptName)) throw new Error(`no Worker ${scriptName} runs in this lab`);
    const hasBody = !["GET", "HEAD"].includes(request.method);
    // As Cloudflare's edge does, every request gets a ray id of the lab's, whatever the client sent.
    const ray = newRay();
    const logged = new Promise<WorkerLogLine | undefined>((resolve) => waiting.set(ray, resolve));
    try {
      const response = await mf.dispatchFetch(request.url, {
        method: request.method,
        // Miniflare acts on its own MF-* headers, so none from the browser gets through.
        headers: [
          ...[...request.headers].filter(([name]) => {
            const lower = name.toLowerCase();
            return !lower.startsWith("mf-") && lower !== "cf-ray" && !HANDSHAKE.has(lower);
          }),
          ["cf-ray", ray],
          [routeOverride, scriptName],
        ],
        body: hasBody ? await request.arrayBuffer() : undefined,
        redirect: "manual",
      } as never);
      // The wait starts once the answer is back: a cold first call takes longer than the wait.
      const line = await Promise.race([logged, delay(LOG_LINE_WAIT_MS, undefined, { ref: false })]);
      if (line !== undefined) log.workerLine(request.url, line, JSON.stringify(line));
      return response;
    } finally {
      waiting.delete(ray);
    }
  }

  return {
    async fetch(scriptName, request) {
      return crossedResponse((await dispatch(scriptName, request)) as unknown as Response);
    },
    async upgrade(scriptName, request) {
      const response = await dispatch(scriptName, request);
      if (response.status === 101 && response.webSocket !== null) {
        return {
          status: 101,
          headers: new Headers([...response.headers]),
          socket: response.webSocket as unknown as RuntimeSocket,
        };
      }
      return crossedResponse(response as unknown as Response);
    },
    dispose: () => mf.dispose(),
  };
}
