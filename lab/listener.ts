/**
 * The lab's one port on 127.0.0.1, for two protocols: HTTPS for the browser
 * and the tools, and plain HTTP for what a server under development fetches
 * without the lab's certificate (the team's signing keys, see server.ts). A TLS
 * connection opens with a handshake record, byte 0x16; an HTTP request opens
 * with a method name, so the first byte tells them apart.
 *
 * Every connection is tracked, so closing the lab also ends piped WebSockets,
 * which no HTTP server counts as its own any more.
 */
import type { Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import { createServer, type AddressInfo, type Socket } from "node:net";

/** The first byte of a TLS record carrying a handshake (RFC 8446 §5.1, ContentType 22). */
const TLS_HANDSHAKE = 0x16;

export interface Listener {
  port: number;
  close(): Promise<void>;
}

export async function listen(
  port: number,
  secure: HttpsServer,
  plain: HttpServer,
): Promise<Listener> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    // A client that resets before saying anything must not take the lab down.
    socket.on("error", () => socket.destroy());
    socket.once("data", (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      (first[0] === TLS_HANDSHAKE ? secure : plain).emit("connection", socket);
      process.nextTick(() => socket.resume());
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
