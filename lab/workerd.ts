/**
 * Runs the declared Worker, byte for byte and with the declared bindings, in
 * workerd through miniflare. Its outbound fetches go to the emulated parties
 * (the team's certs endpoint, the API's Access edge) and nowhere else.
 */
import { Miniflare } from "miniflare";
import type { LabLog } from "./log";
import { crossedResponse } from "./http";
import type { LabWorker } from "./topology";

export interface RunningWorker {
  fetch(request: Request): Promise<Response>;
  dispose(): Promise<void>;
}

export async function startWorker(
  worker: LabWorker,
  outbound: (request: Request) => Promise<Response>,
  log: LabLog,
): Promise<RunningWorker> {
  const mf = new Miniflare({
    modules: [{ type: "ESModule", path: worker.mainModule, contents: worker.content }],
    compatibilityDate: worker.compatibilityDate,
    compatibilityFlags: worker.compatibilityFlags,
    bindings: worker.bindings,
    outboundService: (async (request: Request) => {
      const copy = new Request(request.url, {
        method: request.method,
        headers: [...request.headers],
        body: ["GET", "HEAD"].includes(request.method) ? undefined : await request.arrayBuffer(),
        redirect: "manual",
      });
      return outbound(copy);
    }) as never,
    handleStructuredLogs: ({ level, message }: { level: string; message: string }) => {
      if (level === "error" || level === "warn")
        log.add("worker", "LOG", "", 0, `${level}: ${message}`);
    },
  } as ConstructorParameters<typeof Miniflare>[0]);
  await mf.ready;
  return {
    async fetch(request: Request): Promise<Response> {
      const hasBody = !["GET", "HEAD"].includes(request.method);
      const response = await mf.dispatchFetch(request.url, {
        method: request.method,
        headers: [...request.headers],
        body: hasBody ? await request.arrayBuffer() : undefined,
        redirect: "manual",
      } as never);
      return crossedResponse(response as unknown as Response);
    },
    dispose: () => mf.dispose(),
  };
}
