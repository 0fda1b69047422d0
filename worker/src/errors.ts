/**
 * An error whose status and message are safe to show the caller. Anything
 * else that escapes the handler becomes a generic 500.
 */
export class HttpError extends Error {
  override name = "HttpError";

  constructor(
    readonly status: number,
    /** Shown to the caller; must never carry internal detail. */
    readonly publicMessage: string,
    /** Logged only, under the request id. */
    readonly detail?: string,
  ) {
    super(publicMessage);
  }

  toResponse(requestId: string): Response {
    return jsonError(this.status, this.publicMessage, requestId);
  }
}

export function jsonError(status: number, error: string, requestId: string): Response {
  return new Response(JSON.stringify({ error, requestId }), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

export const notFound = (): HttpError => new HttpError(404, "not found");
export const missingAssertion = (): HttpError =>
  new HttpError(401, "missing Cloudflare Access assertion");
export const invalidAssertion = (detail: string): HttpError =>
  new HttpError(403, "invalid Cloudflare Access assertion", detail);
export const keysUnavailable = (detail: string): HttpError =>
  new HttpError(503, "cannot verify Cloudflare Access assertion right now", detail);
export const crossSiteWrite = (): HttpError => new HttpError(403, "cross-site request refused");
export const badGateway = (detail: string): HttpError =>
  new HttpError(502, "upstream unreachable", detail);
export const gatewayTimeout = (detail: string): HttpError =>
  new HttpError(504, "upstream timed out", detail);
