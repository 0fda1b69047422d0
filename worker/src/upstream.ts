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
export function forwardedBody(request: Request): ReadableStream | null {
  const method = request.method.toUpperCase();
  return method === "GET" || method === "HEAD" ? null : request.body;
}

/**
 * Calls the API; the body streams through and redirects come back to the
 * caller. The request is built once from the client's and its headers are
 * rewritten in place, so headers are copied a single time. The timeout covers
 * the wait for the response headers only: once the API answers, a long
 * download is not cut off halfway.
 */
export async function callUpstream(
  url: string,
  request: Request,
  rewriteHeaders: (headers: Headers) => void,
  timeoutMs: number,
): Promise<Response> {
  const controller = new AbortController();
  const body = forwardedBody(request);
  const upstreamRequest = new Request(url, {
    method: request.method,
    headers: request.headers,
    body,
    redirect: "manual",
    signal: controller.signal,
  });
  rewriteHeaders(upstreamRequest.headers);
  // A dropped body takes the length that described it along.
  if (body === null && request.body !== null) upstreamRequest.headers.delete("content-length");
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await fetch(upstreamRequest);
  } catch (err) {
    if (controller.signal.aborted) {
      throw gatewayTimeout(`no response within ${timeoutMs} ms`);
    }
    throw badGateway(errorSummary(err));
  } finally {
    clearTimeout(timer);
  }
}
