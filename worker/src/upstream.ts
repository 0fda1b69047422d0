import { badGateway, gatewayTimeout, HttpError } from "./errors";

/**
 * The API URL for a request path. The host is a constant and the path is
 * concatenated after it, then parsed back to prove no path (such as
 * `//evil.com`) moved the request to another host.
 */
export function upstreamUrl(apiHostname: string, path: string, search: string): string {
  const target = `https://${apiHostname}${path}${search}`;
  if (new URL(target).host !== apiHostname) {
    throw new HttpError(400, "bad request", `path would change the upstream host: ${path}`);
  }
  return target;
}

/** Calls the API; the body streams through and redirects come back to the caller. */
export async function callUpstream(
  url: string,
  request: Request,
  headers: Headers,
  timeoutMs: number,
): Promise<Response> {
  try {
    return await fetch(url, {
      method: request.method,
      headers,
      body: request.body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const name = (err as { name?: unknown } | null)?.name;
    if (name === "TimeoutError") {
      throw gatewayTimeout(`no response within ${timeoutMs} ms`);
    }
    const message = (err as { message?: unknown } | null)?.message;
    throw badGateway(`${String(name)}: ${String(message)}`);
  }
}
