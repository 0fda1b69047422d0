/**
 * Local stand-ins for an API behind Access: node:http servers on 127.0.0.1
 * that answer preflights and actual requests the way each failure mode does.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Reply {
  status: number;
  headers: Record<string, string | string[]>;
}

/** How one server answers: `options` for preflights, `actual` for everything else. */
export interface Behaviour {
  options: Reply;
  actual: Reply;
}

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface TestServer {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  base: string;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

export async function startServer(behaviour: Behaviour): Promise<TestServer> {
  const received: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    const reply = req.method === "OPTIONS" ? behaviour.options : behaviour.actual;
    res.writeHead(reply.status, reply.headers);
    res.end(reply.status === 204 || req.method === "OPTIONS" ? undefined : "{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** A port nothing listens on: bound, read, then released. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
