import { errorSummary, HttpError, RESOURCE_POLICY } from "./errors";
import type { TokenFinder } from "./headers";
import { responseChanges } from "./headers";
import type { Outcome } from "./outcome";

/** A request to become a WebSocket: a GET with `Upgrade: websocket` (RFC 6455 §4.1). */
export function isWebSocketUpgrade(method: string, upgrade: string | undefined): boolean {
  return method === "GET" && upgrade !== undefined && upgrade.trim().toLowerCase() === "websocket";
}

/**
 * Browsers apply no CORS to WebSockets: a page on any site can open one to
 * the route and the person's cookie goes along, so Access lets it in and
 * the API would take it as theirs (cross-site WebSocket hijacking). An
 * upgrade passes only with the front end's own `Origin`, which a browser
 * always sends on one and a page cannot forge.
 */
export function isOwnOrigin(origin: string | undefined, frontendOrigin: string): boolean {
  return origin !== undefined && origin.toLowerCase() === frontendOrigin;
}

/**
 * Calls the API for an upgrade. The request's headers are rewritten as any
 * request's, but `Upgrade` is kept: it is what makes the runtime open a
 * WebSocket to the API. The wait for the API's answer is bounded by a timer
 * cleared once it answers, not by an abort signal, which would go on to
 * close the socket when it fired.
 */
export async function callUpgrade(
  url: string,
  request: Request,
  rewriteHeaders: (headers: Headers) => void,
  timeoutMs: number,
  call: Pick<Outcome, "upstreamStatus" | "upstreamMs">,
  startedMs: number,
): Promise<Response> {
  const upstreamRequest = new Request(url, {
    method: "GET",
    headers: request.headers,
    redirect: "manual",
  });
  rewriteHeaders(upstreamRequest.headers);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new HttpError("upstream_timeout", `not answered within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    const upstream = await Promise.race([fetch(upstreamRequest), timedOut]);
    call.upstreamStatus = upstream.status;
    return upstream;
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError("upstream_unreachable", errorSummary(err));
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    call.upstreamMs = Date.now() - startedMs;
  }
}

/**
 * The API's `101` as the browser gets it: its socket, and its headers with
 * the same hygiene as any answer's (no cookie, nothing of the Worker's own,
 * nothing that carries the token or the statement).
 */
export function socketToBrowser(
  upstream: Response,
  socket: WebSocket,
  carriesToken: TokenFinder,
  signature: string,
): Response {
  const headers = new Headers(upstream.headers);
  for (const name of responseChanges(upstream.headers, carriesToken, signature).dropped) {
    headers.delete(name);
  }
  headers.set(...RESOURCE_POLICY);
  return new Response(null, { status: 101, webSocket: socket, headers });
}
