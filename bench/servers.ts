import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** What the stand-in API and keys endpoint have seen; the run reads it between phases. */
export interface UpstreamCounters {
  origin: number;
  keys: number;
  /** Requests for a host that is neither, which would mean a Worker went somewhere unplanned. */
  unexpected: number;
  lastOriginHeaders: IncomingHttpHeaders | undefined;
}

export interface Upstream {
  port: number;
  counters: UpstreamCounters;
  close(): Promise<void>;
}

export interface UpstreamHosts {
  apiHostname: string;
  teamDomain: string;
}

/** Small and fixed, so the figures measure the proxy rather than the payload. */
export const originBody = JSON.stringify({ ok: true, service: "bench-origin" });

/** The host a request was meant for, without the port a Worker may have kept. */
export function hostOf(header: string | undefined): string {
  return (header ?? "").replace(/:\d+$/, "").toLowerCase();
}

/**
 * Starts the stand-in API and the Access keys endpoint behind one loopback port.
 * With `setCookie`, every API answer carries that `Set-Cookie`.
 *
 * workerd's `external` service sends every outbound fetch to one address whatever
 * the URL says, but keeps the `Host` header, so one server dispatching on `Host`
 * plays both sites without an extra proxy hop in the measured path.
 */
export async function startUpstream(
  hosts: UpstreamHosts,
  jwks: object,
  setCookie?: string,
): Promise<Upstream> {
  const counters: UpstreamCounters = {
    origin: 0,
    keys: 0,
    unexpected: 0,
    lastOriginHeaders: undefined,
  };
  const jwksBody = JSON.stringify(jwks);
  const server = createServer((req, res) => {
    const host = hostOf(req.headers.host);
    if (host === hosts.apiHostname) {
      counters.origin += 1;
      counters.lastOriginHeaders = req.headers;
      // Drain any body so keep-alive connections stay usable.
      req.resume();
      res.writeHead(200, {
        "content-type": "application/json",
        ...(setCookie === undefined ? {} : { "set-cookie": setCookie }),
      });
      res.end(originBody);
      return;
    }
    if (host === hosts.teamDomain && req.url === "/cdn-cgi/access/certs") {
      counters.keys += 1;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(jwksBody);
      return;
    }
    counters.unexpected += 1;
    res.writeHead(421, { "content-type": "text/plain" });
    res.end("misdirected\n");
  });
  // Longer than any pause between phases, so pooled connections are not reset mid-run.
  server.keepAliveTimeout = 60_000;
  await listen(server);
  const { port } = server.address() as AddressInfo;
  return { port, counters, close: () => close(server) };
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
