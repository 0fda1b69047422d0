/**
 * The user's own servers behind the lab's Access edges (`--frontend`, `--api`):
 * how their URLs are read, how the lab checks at start that they answer, and
 * how a failure to reach one is worded, always naming the flag and the URL so
 * the person knows which terminal to look at.
 */
import { request as httpRequest, type ClientRequest, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect as netConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { HOP_BY_HOP as WORKER_HOP_BY_HOP } from "../worker/src/headers";

// The same connection-level headers the Worker drops: each hop of the lab's
// sets its own.
export const HOP_BY_HOP: ReadonlySet<string> = new Set(WORKER_HOP_BY_HOP);

export type UpstreamFlag = "--frontend" | "--api";

/** How long the start-up check waits for an upstream's first answer. */
export const probeTimeoutMs = 5_000;

/**
 * The origin a `--frontend` or `--api` value names, e.g. `http://localhost:5173`.
 * Only an origin: the lab forwards each request's own path, as Access does.
 */
export function parseUpstream(flag: UpstreamFlag, value: string): string {
  const example = flag === "--frontend" ? "http://localhost:5173" : "http://localhost:8080";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${flag} ${value}: not a URL (for example ${example})`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new Error(`${flag} ${value}: not an http:// or https:// URL (for example ${example})`);
  if (url.username !== "" || url.password !== "" || url.pathname !== "/" || url.search !== "")
    throw new Error(`${flag} ${value}: give the server's origin alone (for example ${example})`);
  return url.origin;
}

/** Why a connection to an upstream failed, in words; the error's code stays in brackets for searching. */
export function failureReason(err: { code?: string; message: string }): string {
  const code = err.code;
  switch (code) {
    case "ECONNREFUSED":
      return "nothing answers (ECONNREFUSED)";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `no such host (${code})`;
    case "ECONNRESET":
      return "it closed the connection without answering (ECONNRESET)";
    case "EPROTO":
    case "ERR_SSL_WRONG_VERSION_NUMBER":
      return `it does not speak TLS (${code}); use http://`;
    default:
      return code !== undefined ? `${err.message} (${code})` : err.message;
  }
}

/** The sentence for an upstream the lab cannot reach: `--frontend http://localhost:5173: nothing answers (ECONNREFUSED)`. */
export function unreachable(flag: UpstreamFlag, origin: string, reason: string): string {
  return `${flag} ${origin}: ${reason}`;
}

/**
 * A request to an upstream. Dev servers use self-signed certificates, so an
 * https:// upstream's certificate is not checked: it is the person's own
 * server on their own machine.
 */
export function upstreamRequest(origin: URL, options: RequestOptions): ClientRequest {
  const { secure, host, port } = endpointOf(origin);
  return (secure ? httpsRequest : httpRequest)({
    protocol: origin.protocol,
    hostname: host,
    port,
    ...(secure ? unverifiedTls(host) : {}),
    ...options,
  });
}

/** Where to connect for an upstream origin: IPv6 brackets removed, default ports filled in. */
function endpointOf(origin: URL): { secure: boolean; host: string; port: number } {
  const secure = origin.protocol === "https:";
  const host = origin.hostname.replace(/^\[|\]$/g, "");
  return { secure, host, port: Number(origin.port || (secure ? 443 : 80)) };
}

// The certificate is not checked (see upstreamRequest), and SNI carries names
// only (RFC 6066), so an address gets none.
const unverifiedTls = (host: string) =>
  ({ rejectUnauthorized: false, servername: isIP(host) ? "" : host }) as const;

/**
 * A raw connection to an upstream, TLS for https:// (unchecked, as in
 * upstreamRequest), and the event that says it is ready for bytes.
 */
export function connectUpstream(origin: URL): {
  socket: Socket;
  ready: "connect" | "secureConnect";
} {
  const { secure, host, port } = endpointOf(origin);
  return secure
    ? { socket: tlsConnect({ host, port, ...unverifiedTls(host) }), ready: "secureConnect" }
    : { socket: netConnect({ host, port }), ready: "connect" };
}

/**
 * Whether an upstream answers at all: it accepts a connection (and, for
 * https://, completes a TLS handshake). No request is sent, because a dev
 * server may take longer than the check to build its first page. Resolves to
 * the reason it does not answer, or undefined; never waits longer than
 * `timeoutMs`.
 */
export function probeUpstream(
  origin: string,
  timeoutMs = probeTimeoutMs,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const { socket, ready } = connectUpstream(new URL(origin));
    const settle = (reason: string | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reason);
    };
    const timer = setTimeout(() => settle(`no answer within ${timeoutMs / 1000} s`), timeoutMs);
    socket.once(ready, () => settle(undefined));
    socket.once("error", (err: Error & { code?: string }) => settle(failureReason(err)));
  });
}

/** The start-up check: one sentence per upstream that does not answer. */
export async function checkUpstreams(
  upstreams: { flag: UpstreamFlag; origin: string }[],
  timeoutMs = probeTimeoutMs,
): Promise<string[]> {
  const reasons = await Promise.all(upstreams.map((u) => probeUpstream(u.origin, timeoutMs)));
  return upstreams.flatMap((u, i) =>
    reasons[i] === undefined ? [] : [unreachable(u.flag, u.origin, reasons[i])],
  );
}
