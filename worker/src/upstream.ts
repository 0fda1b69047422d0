import { badGateway, errorSummary, gatewayTimeout, HttpError } from "./errors";

/**
 * The API URL for a request path. The host is a constant and the path is
 * appended after it. A path that starts with `/` always ends the authority
 * (the URL parser has already turned `\\` into `/`), so `//evil.com` or
 * `/@evil.com` stay paths on the API host; anything else is refused.
 */
export function upstreamUrl(apiHostname: string, path: string, search: string): string {
  if (!path.startsWith("/")) {
    throw new HttpError(400, "bad request", `path would change the upstream host: ${path}`);
  }
  return `https://${apiHostname}${path}${search}`;
}

/**
 * The body to forward. `fetch` refuses a GET or HEAD with a body, and a client
 * may still send one; dropping it serves the request instead of failing it.
 */
export function forwardedBody(method: string, body: ReadableStream | null): ReadableStream | null {
  const upper = method.toUpperCase();
  return upper === "GET" || upper === "HEAD" ? null : body;
}

/**
 * Calls the API; the body streams through and redirects come back to the
 * caller. The upstream request copies the client's headers natively and
 * `rewriteHeaders` edits that copy in place, so no header is copied twice.
 *
 * The timeout is the runtime's own `AbortSignal.timeout`: one native timer
 * that needs no clearing. It covers the wait for the response headers only:
 * once the API answers, the runtime no longer ties the body to the signal, so
 * a long download is not cut off halfway.
 */
export function callUpstream(
  url: string,
  request: Request,
  rewriteHeaders: (headers: Headers) => void,
  timeoutMs: number,
): Promise<Response> {
  const signal = AbortSignal.timeout(timeoutMs);
  const clientBody = request.body;
  const body = forwardedBody(request.method, clientBody);
  const upstreamRequest = new Request(url, {
    method: request.method,
    headers: request.headers,
    body,
    redirect: "manual",
    signal,
  });
  const headers = upstreamRequest.headers;
  rewriteHeaders(headers);
  // A dropped body takes the length that described it along.
  if (body === null && clientBody !== null) headers.delete("content-length");
  return fetch(upstreamRequest).catch((err: unknown) => {
    if (signal.aborted) throw gatewayTimeout(`no response within ${timeoutMs} ms`);
    throw badGateway(errorSummary(err));
  });
}
