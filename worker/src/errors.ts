import { ALLOWED_METHODS } from "./methods";

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
    /** Headers the status calls for, such as a 405's `Allow`. */
    readonly headers?: Record<string, string>,
  ) {
    super(publicMessage);
  }

  toResponse(requestId: string): Response {
    return jsonError(this.status, this.publicMessage, requestId, this.headers);
  }
}

/**
 * On every response, the API's and the Worker's own. A page on another site
 * can still embed the route (`<script src>`, `<img>`), and the browser sends
 * the person's `SameSite=None` Access cookie along; with this header it
 * refuses to hand such a page the answer at all, not even into its process.
 */
export const RESOURCE_POLICY = ["cross-origin-resource-policy", "same-origin"] as const;

export function jsonError(
  status: number,
  error: string,
  requestId: string,
  headers?: Record<string, string>,
): Response {
  return new Response(JSON.stringify({ error, requestId }), {
    status,
    headers: {
      ...headers,
      "content-type": "application/json",
      "cache-control": "no-store",
      [RESOURCE_POLICY[0]]: RESOURCE_POLICY[1],
    },
  });
}

export const notFound = (): HttpError => new HttpError(404, "not found");
export const missingAssertion = (): HttpError =>
  new HttpError(401, "missing Cloudflare Access assertion");
export const invalidAssertion = (detail: string): HttpError =>
  new HttpError(403, "invalid Cloudflare Access assertion", detail);
// Fail closed: an assertion that cannot be checked is refused like one that
// failed the check, since every unverified caller gets 401 or 403. The message
// and the log still tell a keys outage apart from a bad token.
export const keysUnavailable = (detail: string): HttpError =>
  new HttpError(403, "cannot verify Cloudflare Access assertion right now", detail);
// Not logged: refusing a probe is routine.
export const methodNotAllowed = (): HttpError =>
  new HttpError(405, "method not allowed", undefined, { allow: ALLOWED_METHODS });
export const crossSiteRequest = (): HttpError => new HttpError(403, "cross-site request refused");
export const badGateway = (detail: string): HttpError =>
  new HttpError(502, "upstream unreachable", detail);
// The API's own words withheld: its answer would have shown the browser the
// service token, so nothing of it goes on.
export const withheldAnswer = (detail: string): HttpError =>
  new HttpError(502, "bad gateway", detail);
export const gatewayTimeout = (detail: string): HttpError =>
  new HttpError(504, "upstream timed out", detail);

/** An error's name and message for the log; never shown to the caller. */
export function errorSummary(err: unknown): string {
  // Not `instanceof Error`: the runtime's DOMExceptions need not be Errors.
  const { name, message } = (err ?? {}) as { name?: unknown; message?: unknown };
  return typeof message === "string" ? `${String(name ?? "Error")}: ${message}` : "unknown error";
}
