import type { Server as HttpServer } from "node:http";
import type { AddressInfo, Server } from "node:net";

/** Starts a server on a free loopback port and resolves to its `http://` origin. */
export async function listening(server: Server): Promise<URL> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

/** Closes an HTTP server, its kept-alive connections first, so the close does not wait on them. */
export function closed(server: HttpServer): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
