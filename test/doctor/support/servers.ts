/**
 * Local stand-ins for an API behind Access: node:http servers on 127.0.0.1
 * that answer preflights and actual requests the way each failure mode does.
 */
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";

export interface Reply {
  status: number;
  headers: Record<string, string | string[]>;
  /** The body; `{}` when not given. */
  body?: string;
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
  port: number;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

export async function startServer(behaviour: Behaviour): Promise<TestServer> {
  return startHandler((req) => (req.method === "OPTIONS" ? behaviour.options : behaviour.actual));
}

/** A server whose answer depends on the request, e.g. on the login it carries. */
export async function startHandler(answer: (req: ReceivedRequest) => Reply): Promise<TestServer> {
  const received: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    const seen = { method: req.method ?? "", url: req.url ?? "", headers: req.headers };
    received.push(seen);
    const reply = answer(seen);
    res.writeHead(reply.status, reply.headers);
    res.end(reply.status === 204 || req.method === "OPTIONS" ? undefined : (reply.body ?? "{}"));
  });
  return listen(server, received, "http");
}

/** An HTTPS server for `cert`, e.g. one issued for a name that does not resolve. */
export async function startHttpsHandler(
  tls: { key: string; cert: string },
  answer: (req: ReceivedRequest) => Reply,
): Promise<TestServer> {
  const received: ReceivedRequest[] = [];
  const server = https.createServer(tls, (req, res) => {
    const seen = { method: req.method ?? "", url: req.url ?? "", headers: req.headers };
    received.push(seen);
    const reply = answer(seen);
    res.writeHead(reply.status, reply.headers);
    res.end();
  });
  return listen(server, received, "https");
}

async function listen(
  server: http.Server,
  received: ReceivedRequest[],
  scheme: "http" | "https",
): Promise<TestServer> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `${scheme}://127.0.0.1:${port}`,
    port,
    received,
    // Closing twice is harmless, so an afterEach may close what a test already closed.
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (!server.listening) return resolve();
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
