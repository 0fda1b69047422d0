import type { LabLog } from "./log";
import type { CorsSettings, LabApi, LabTopology } from "./topology";
import type { KeySet } from "./tokens";

/** Everything the emulated parties of one scenario share. */
export interface ScenarioContext {
  topology: LabTopology;
  keys: KeySet;
  log: LabLog;
  /** An API's demo stand-in's own CORS policy: what it enforces when preflights bypass Access. */
  originCors(api: LabApi): CorsSettings;
  /** Runs the API's declared Worker in workerd. */
  dispatchWorker(api: LabApi, request: Request): Promise<Response>;
  /** What stands behind the API's Access edge: a demo API, or for the first API the user's with `--api`. */
  callApi(api: LabApi, request: Request): Promise<Response>;
}

export function noStore(headers: Record<string, string> = {}): Record<string, string> {
  return { "cache-control": "no-store", ...headers };
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body, null, 2), {
    status,
    headers: noStore({ "content-type": "application/json; charset=utf-8", ...headers }),
  });
}

export function html(body: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status,
    headers: noStore({ "content-type": "text/html; charset=utf-8", ...headers }),
  });
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
