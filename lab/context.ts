import type { LabLog } from "./log";
import type { CorsSettings, LabApi, LabTopology } from "./topology";
import type { KeySet } from "./tokens";
import type { SocketAnswer } from "./websocket";

/**
 * What the person broke on purpose from the lab's page, for the whole lab:
 * the failures a stack meets in production, shown as Cloudflare produces them.
 */
export interface LabFaults {
  /** Front-end app tokens whose session the person ended ("end my session"); a new login gets a new token. */
  endedSessions: Set<string>;
  /** "Revoke the service token": every API's Access refuses its Worker's token. */
  tokenRevoked: boolean;
}

/** Everything the emulated parties of one scenario share. */
export interface ScenarioContext {
  topology: LabTopology;
  keys: KeySet;
  log: LabLog;
  faults: LabFaults;
  /** An API's demo stand-in's own CORS policy: what it enforces when preflights bypass Access. */
  originCors(api: LabApi): CorsSettings;
  /** Runs the API's declared Worker in workerd. */
  dispatchWorker(api: LabApi, request: Request): Promise<Response>;
  /** The same for a WebSocket upgrade: the socket when the Worker let it through, else its answer. */
  upgradeWorker(api: LabApi, request: Request): Promise<Response | SocketAnswer>;
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
