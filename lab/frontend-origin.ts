/**
 * The user's front-end dev server behind the front end's Access edge
 * (`--frontend`), on every path the edge does not keep for the Worker or the
 * lab. A dev server must keep working as it does without the lab, so this
 * works at the socket level rather than through the fetch-style handlers:
 * bodies stream both ways unbuffered (server-sent events, large uploads) and
 * a WebSocket upgrade (hot reload) is piped byte for byte once Access has let
 * the person in.
 *
 * The dev server sees Host as its own address, as it does without the lab
 * (Vite refuses hosts outside `server.allowedHosts`); the name the browser
 * used is in X-Forwarded-Host.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { rawResponse } from "./http";
import { connectUpstream, failureReason, HOP_BY_HOP, upstreamRequest } from "./upstream";

/** Header values by lower-case name; a list where a header repeats (set-cookie). */
export type HeaderMap = Record<string, string | string[]>;

function hopByHop(rawHeaders: string[]): Set<string> {
  const names = new Set(HOP_BY_HOP);
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === "connection") {
      for (const listed of rawHeaders[i + 1]!.split(",")) names.add(listed.trim().toLowerCase());
    }
  }
  return names;
}

function add(headers: HeaderMap, name: string, value: string): void {
  const had = headers[name];
  headers[name] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
}

export interface OriginRequestFacts {
  /** The dev server's `host:port`, for its Host header. */
  originHost: string;
  /** The name the browser used, e.g. `www.example.com`. */
  publicHost: string;
  /** The browser's address, as the lab saw it. */
  clientIp: string;
  /** What the Access edge adds, set over anything the browser sent under those names. */
  access: Record<string, string>;
  /** A WebSocket upgrade keeps its Connection and Upgrade headers; they are the request. */
  upgrade: string | undefined;
}

/** The headers the dev server receives: the browser's, minus one hop's, plus Access's and the forwarding ones. */
export function originRequestHeaders(rawHeaders: string[], facts: OriginRequestFacts): HeaderMap {
  const drop = hopByHop(rawHeaders);
  const replaced = new Set([
    "host",
    "x-forwarded-host",
    "x-forwarded-proto",
    ...Object.keys(facts.access).map((n) => n.toLowerCase()),
  ]);
  const headers: HeaderMap = {};
  let forwardedFor: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    if (name === "x-forwarded-for") forwardedFor = value;
    else if (!drop.has(name) && !replaced.has(name)) add(headers, name, value);
  }
  headers["host"] = facts.originHost;
  for (const [name, value] of Object.entries(facts.access)) headers[name.toLowerCase()] = value;
  headers["x-forwarded-host"] = facts.publicHost;
  headers["x-forwarded-proto"] = "https";
  headers["x-forwarded-for"] =
    forwardedFor === undefined ? facts.clientIp : `${forwardedFor}, ${facts.clientIp}`;
  if (facts.upgrade !== undefined) {
    headers["connection"] = "Upgrade";
    headers["upgrade"] = facts.upgrade;
  }
  return headers;
}

/**
 * A redirect to the dev server's own address goes back to the name the
 * browser used, as a reverse proxy rewrites it; anything else is left alone.
 */
export function publicLocation(location: string, originUrl: string, publicOrigin: string): string {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return location;
  }
  if (url.origin !== new URL(originUrl).origin) return location;
  return `${publicOrigin}${url.pathname}${url.search}${url.hash}`;
}

/** The dev server's response headers for the browser: one hop's dropped, a redirect to itself mapped back. */
export function browserResponseHeaders(
  rawHeaders: string[],
  originUrl: string,
  publicOrigin: string,
): HeaderMap {
  const drop = hopByHop(rawHeaders);
  const headers: HeaderMap = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    if (drop.has(name)) continue;
    add(
      headers,
      name,
      name === "location" ? publicLocation(value, originUrl, publicOrigin) : value,
    );
  }
  return headers;
}

/** A request line and headers as HTTP/1.1 writes them, for a WebSocket upgrade sent on a raw socket. */
export function requestHead(method: string, path: string, headers: HeaderMap): string {
  const clean = (s: string): string => s.replace(/[\r\n]/g, "");
  const lines = [`${clean(method)} ${clean(path)} HTTP/1.1`];
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value])
      lines.push(`${clean(name)}: ${clean(v)}`);
  }
  return `${lines.join("\r\n")}\r\n\r\n`;
}

/** What the lab asks the dev server for. */
export interface OriginCall {
  /** The dev server, e.g. `http://localhost:5173`. */
  origin: URL;
  /** The path and query, as the edge normalized them (and matched them against the route). */
  path: string;
  headers: HeaderMap;
  /** `https://<frontendHostname>`, for mapping redirects back. */
  publicOrigin: string;
}

/**
 * Streams a request to the dev server and its answer back, without buffering
 * either body. `failed` answers the browser when the dev server cannot be
 * reached; once its answer has started, a failure can only cut it short.
 */
export function passRequest(
  req: IncomingMessage,
  res: ServerResponse,
  call: OriginCall,
  failed: (reason: string) => void,
): void {
  const out = upstreamRequest(call.origin, {
    method: req.method,
    path: call.path,
    headers: call.headers,
  });
  out.once("response", (answer) => {
    res.writeHead(
      answer.statusCode ?? 502,
      answer.statusMessage,
      browserResponseHeaders(answer.rawHeaders, call.origin.href, call.publicOrigin),
    );
    answer.pipe(res);
    answer.once("error", () => res.destroy());
  });
  out.once("error", (err: Error & { code?: string }) => {
    req.unpipe(out);
    if (res.headersSent) res.destroy();
    else failed(failureReason(err));
  });
  // A browser that goes away (a closed tab, a cancelled stream) ends the dev server's side too.
  res.once("close", () => {
    if (!res.writableFinished) out.destroy();
  });
  req.pipe(out);
}

/** The status an upgrade's answer starts with, e.g. 101; 0 when it is not an HTTP response. */
export function answerStatus(first: Buffer): number {
  return Number(/^HTTP\/1\.[01] (\d{3})/.exec(first.toString("latin1", 0, 16))?.[1] ?? 0);
}

/**
 * Pipes a WebSocket upgrade to the dev server: the request head the lab
 * rewrote, then both sockets joined, so the dev server's own answer (101 or
 * a refusal) and every frame after it pass through untouched.
 */
export function passUpgrade(
  socket: Duplex,
  head: Buffer,
  method: string,
  call: OriginCall,
  done: (result: { status: number } | { failed: string }) => void,
): void {
  const { socket: conn, ready } = connectUpstream(call.origin);
  let joined = false;
  conn.once(ready, () => {
    joined = true;
    conn.write(requestHead(method, call.path, call.headers));
    if (head.length > 0) conn.write(head);
    conn.once("data", (first: Buffer) => done({ status: answerStatus(first) }));
    conn.pipe(socket);
    socket.pipe(conn);
  });
  conn.on("error", (err: Error & { code?: string }) => {
    if (joined) return socket.destroy();
    const reason = failureReason(err);
    done({ failed: reason });
    socket.end(rawResponse(502, { "content-type": "text/plain; charset=utf-8" }, reason));
  });
  socket.on("error", () => conn.destroy());
  conn.once("close", () => socket.destroy());
  socket.once("close", () => conn.destroy());
}

/** A Node request's headers as fetch `Headers`, for the edge's login check. */
export function headersOf(incoming: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return headers;
}
