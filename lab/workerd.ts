/**
 * Runs the declared Workers, byte for byte and each with its declared
 * bindings, in one workerd through miniflare. Their outbound fetches go to the
 * emulated parties (the team's certs endpoint, the APIs' Access edges) and
 * nowhere else.
 */
import { Miniflare } from "miniflare";
import type { LabLog } from "./log";
import { crossedResponse } from "./http";
import type { LabWorker } from "./topology";

export interface RunningWorkers {
  /** Sends a request to the Worker uploaded as `scriptName`. */
  fetch(scriptName: string, request: Request): Promise<Response>;
  dispose(): Promise<void>;
}

/** Miniflare's header naming the worker a dispatched request goes to, whatever its URL. */
const routeOverride = "MF-Route-Override";

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
  const mf = new Miniflare({
    workers: workers.map((worker) => ({
      name: worker.scriptName,
      modules: [{ type: "ESModule", path: worker.mainModule, contents: worker.content }],
      compatibilityDate: worker.compatibilityDate,
      compatibilityFlags: worker.compatibilityFlags,
      bindings: worker.bindings,
      outboundService,
    })),
    handleStructuredLogs: ({ level, message }: { level: string; message: string }) => {
      if (level === "error" || level === "warn")
        log.add("worker", "LOG", "", 0, `${level}: ${message}`);
    },
  } as unknown as ConstructorParameters<typeof Miniflare>[0]);
  await mf.ready;
  const names = new Set(workers.map((w) => w.scriptName));
  return {
    async fetch(scriptName: string, request: Request): Promise<Response> {
      if (!names.has(scriptName)) throw new Error(`no Worker ${scriptName} runs in this lab`);
      const hasBody = !["GET", "HEAD"].includes(request.method);
      const response = await mf.dispatchFetch(request.url, {
        method: request.method,
        // Miniflare acts on its own MF-* headers, so none from the browser gets through.
        headers: [
          ...[...request.headers].filter(([name]) => !name.toLowerCase().startsWith("mf-")),
          [routeOverride, scriptName],
        ],
        body: hasBody ? await request.arrayBuffer() : undefined,
        redirect: "manual",
      } as never);
      return crossedResponse(response as unknown as Response);
    },
    dispose: () => mf.dispose(),
  };
}
