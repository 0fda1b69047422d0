import { errorSummary, HttpError } from "./errors";
import type { Outcome } from "./outcome";

/**
 * The API URL for a request path. The host is a constant and the path is
 * appended after it. A path that starts with `/` always ends the authority
 * (the URL parser has already turned `\\` into `/`), so `//evil.com` or
 * `/@evil.com` stay paths on the API host; anything else is refused.
 */
export function upstreamUrl(apiHostname: string, path: string, search: string): string {
  // The route's checks already keep every such path out: reaching this is a bug.
  if (!path.startsWith("/"))
    throw new HttpError("internal", "a path would change the upstream host");
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
 * Every caller's request carries the same service token, so an answer the
 * edge cached for one (a `.png` or `.csv` path is cacheable by default, and
 * so is anything the API marks `public`) would be served to the next without
 * the API seeing them. `no-store` (from compatibility date 2024-11-11) makes
 * the edge neither look in its cache nor store the answer. Spread into the
 * request's init because Node's `RequestInit`, which the unit tests type this
 * file against, has no `cache`.
 */
const NOT_CACHED = { cache: "no-store" } as const;

/**
 * Calls the API and returns its response with what `read` makes of it. The
 * request body streams through and redirects come back to the caller. The
 * upstream request copies the client's headers natively and `rewriteHeaders`
 * edits that copy in place, so no header is copied twice.
 *
 * The timeout is the runtime's own `AbortSignal.timeout`: one native timer
 * that needs no clearing (an `AbortController` with `setTimeout` and
 * `clearTimeout` cost 3-4% of throughput). It bounds the wait for the
 * response headers and for whatever `read` reads of the body before the
 * browser gets anything: past it the caller gets 504. A body the runtime
 * streams natively is not tied to the signal once the API has answered, so
 * a long download is not cut off halfway; one that JavaScript has read from
 * is, which only the rest of a long error body `read` began scanning can be.
 *
 * `call` is the request's outcome: the method comes from it, read from the
 * request once, and it gets the API's status once it answers and how long
 * the call took once it ends, answered or not, counted from `startedMs` (the
 * clock only moves at I/O, so the caller's last reading is the call's start).
 */
export async function callUpstream<T>(
  url: string,
  request: Request,
  rewriteHeaders: (headers: Headers) => void,
  timeoutMs: number,
  read: (upstream: Response) => T | Promise<T>,
  call: Pick<Outcome, "method" | "upstreamStatus" | "upstreamMs">,
  startedMs: number,
): Promise<[Response, T]> {
  const signal = AbortSignal.timeout(timeoutMs);
  const method = call.method;
  const clientBody = request.body;
  const body = forwardedBody(method, clientBody);
  const upstreamRequest = new Request(url, {
    method,
    headers: request.headers,
    body,
    redirect: "manual",
    ...NOT_CACHED,
    signal,
  });
  const headers = upstreamRequest.headers;
  rewriteHeaders(headers);
  // A dropped body takes the length that described it along.
  if (body === null && clientBody !== null) headers.delete("content-length");
  try {
    const upstream = await fetch(upstreamRequest);
    call.upstreamStatus = upstream.status;
    const passed = read(upstream);
    return [upstream, passed instanceof Promise ? await passed : passed];
  } catch (err) {
    if (err instanceof HttpError) throw err;
    if (signal.aborted) {
      throw new HttpError("upstream_timeout", `not answered within ${timeoutMs} ms`);
    }
    throw new HttpError("upstream_unreachable", errorSummary(err));
  } finally {
    call.upstreamMs = Date.now() - startedMs;
  }
}
