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
 * may still send one; dropping it (and the length that described it) serves
 * the request instead of failing it.
 */
export function forwardedBody(request: Request, headers: Headers): ReadableStream | null {
  const method = request.method.toUpperCase();
  if (method !== "GET" && method !== "HEAD") return request.body;
  if (request.body !== null) headers.delete("content-length");
  return null;
}

/**
 * Calls the API; the body streams through and redirects come back to the
 * caller. The timeout covers the wait for the response headers only: once the
 * API answers, a long download is not cut off halfway.
 */
export async function callUpstream(
  url: string,
  request: Request,
  headers: Headers,
  timeoutMs: number,
): Promise<Response> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await fetch(url, {
      method: request.method,
      headers,
      body: forwardedBody(request, headers),
      redirect: "manual",
      signal: controller.signal,
    });
  } catch (err) {
    if (controller.signal.aborted) {
      throw gatewayTimeout(`no response within ${timeoutMs} ms`);
    }
    throw badGateway(errorSummary(err));
  } finally {
    clearTimeout(timer);
  }
}
