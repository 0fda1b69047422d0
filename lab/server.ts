/**
 * The lab's server on one port of 127.0.0.1 (listener.ts tells the protocols
 * apart): HTTPS for the browser and the tools, with WebSocket upgrades, and
 * plain HTTP for the team's signing keys only.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { createServer } from "node:https";
import type { Duplex } from "node:stream";
import { json } from "./context";
import { passRequest, passUpgrade } from "./frontend-origin";
import { sendFetchResponse, sendRawResponse, toFetchRequest } from "./http";
import { certsPath } from "./idp";
import { listen, type Listener } from "./listener";
import type { LabLog } from "./log";
import type { LabRouter } from "./routing";
import type { LabCertificate } from "./tls";
import type { KeySet } from "./tokens";
import { isSocketAnswer, isWebSocketRequest, joinBrowserSocket } from "./websocket";

export interface ServerOptions {
  /** Port on 127.0.0.1; 0 picks a free one. */
  port: number;
  certificate: LabCertificate;
  keys: KeySet;
  log: LabLog;
  router: LabRouter;
  /** The user's front-end dev server, as given with `--frontend`. */
  frontend?: string;
  /** The lab's page, for a client that came over plain HTTP. */
  pageUrl(): string;
  /** Called when a client ends the TLS handshake because it does not trust the certificate. */
  onCertificateRefused?: (alert: string) => void;
}

/** TLS alerts a client sends when it does not trust the server's certificate. */
const CERTIFICATE_REFUSED = new Set([
  "ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN",
  "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA",
  "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE",
]);

export async function serveLab(options: ServerOptions): Promise<Listener> {
  const { certificate, keys, log, router } = options;

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const call = router.frontendCall(req);
    if (call) {
      const url = `${call.publicOrigin}${call.path}`;
      passRequest(req, res, call, (reason) => {
        void sendFetchResponse(res, router.frontendUnreachable(url, req.method ?? "GET", reason));
      });
      return;
    }
    await sendFetchResponse(res, await router.route(await toFetchRequest(req)));
  }

  /**
   * A WebSocket upgrade: piped to the user's dev server when its edge lets
   * the person in; on a route, joined to the socket the Worker hands back
   * when it lets the upgrade through; anything else gets its answer (a login
   * redirect, the Worker's refusal) on the socket.
   */
  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => socket.destroy());
    const call = router.frontendCall(req, req.headers.upgrade);
    if (call) {
      const url = `${call.publicOrigin}${call.path}`;
      passUpgrade(socket, head, req.method ?? "GET", call, (result) => {
        if ("failed" in result) router.frontendUnreachable(url, req.method ?? "GET", result.failed);
        else
          log.add(
            "frontend",
            req.method ?? "GET",
            url,
            result.status,
            `WebSocket upgrade passed to ${options.frontend}`,
          );
      });
      return;
    }
    const key = req.headers["sec-websocket-key"];
    const websocket =
      isWebSocketRequest(req.method ?? "", req.headers.upgrade) && key !== undefined;
    const request = await toFetchRequest(req, websocket);
    const answer = websocket ? await router.upgrade(request) : await router.route(request);
    if (!isSocketAnswer(answer)) await sendRawResponse(socket, answer);
    else if (key !== undefined) joinBrowserSocket(socket, key, head, answer);
  }

  const server = createServer({ key: certificate.key, cert: certificate.cert }, (req, res) => {
    serve(req, res).catch((err: unknown) => {
      log.add("lab", req.method ?? "", req.url ?? "", 500, `lab error: ${(err as Error).message}`);
      // Once an answer has started, cutting it short is the only honest signal left.
      if (res.headersSent) return void res.destroy();
      res.writeHead(500, { "content-type": "text/plain" });
      res.end("lab error; see the terminal");
      console.error(err);
    });
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgrade(req, socket, head).catch((err: unknown) => {
      log.add("lab", req.method ?? "", req.url ?? "", 500, `lab error: ${(err as Error).message}`);
      socket.destroy();
    });
  });
  server.on("tlsClientError", (err: Error & { code?: string }) => {
    if (err.code === undefined || !CERTIFICATE_REFUSED.has(err.code)) return;
    log.add("lab", "TLS", "", 0, `a client refused the lab's certificate (${err.code})`);
    options.onCertificateRefused?.(err.code);
  });

  // Plain HTTP on the same port: the team's signing keys for a server under
  // development, which has no reason to trust the lab's certificate. Only
  // public keys are served this way; everything else is HTTPS.
  const plain = createHttpServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if ((req.method === "GET" || req.method === "HEAD") && path === certsPath) {
      log.add(
        "idp",
        req.method,
        `http://127.0.0.1:${listener.port}${certsPath}`,
        200,
        "signing keys (plain HTTP)",
      );
      void sendFetchResponse(res, json(keys.jwks));
      return;
    }
    void sendFetchResponse(
      res,
      new Response(
        `The lab speaks HTTPS: open ${options.pageUrl()} in the Chromium that npm start printed.\n` +
          `Plain HTTP on this port serves only ${certsPath}, the team's signing keys, for an API under development.\n`,
        { status: 400, headers: { "content-type": "text/plain; charset=utf-8" } },
      ),
    );
  });
  const listener = await listen(options.port, server, plain);
  return listener;
}
