import { REASON_HEADER, REFUSALS, type RefusalReason } from "./reasons";

/**
 * A refusal the caller may see: its reason decides the status, the public
 * message and any header the status calls for. Anything else that escapes the
 * handler becomes `internal`.
 */
export class HttpError extends Error {
  override name = "HttpError";

  constructor(
    readonly reason: RefusalReason,
    /** Logged only, under the request id; never shown to the caller. */
    readonly detail?: string,
    /** In place of the reason's own, where the request cannot act on it (a WebSocket on a 401). */
    readonly statusOverride?: number,
  ) {
    super(REFUSALS[reason].error);
  }

  get status(): number {
    return this.statusOverride ?? REFUSALS[this.reason].status;
  }

  /** Shown to the caller; never carries internal detail. */
  get publicMessage(): string {
    return REFUSALS[this.reason].error;
  }

  toResponse(requestId: string): Response {
    return errorResponse(this.reason, requestId, this.statusOverride);
  }
}

/**
 * On every response, the API's and the Worker's own. A page on another site
 * can still embed the route (`<script src>`, `<img>`), and the browser sends
 * the person's `SameSite=None` Access cookie along; with this header it
 * refuses to hand such a page the answer at all, not even into its process.
 */
export const RESOURCE_POLICY = ["cross-origin-resource-policy", "same-origin"] as const;

/** The Worker's own answer for a reason: `{error, reason, requestId}`, uncacheable. */
export function errorResponse(
  reason: RefusalReason,
  requestId: string,
  statusOverride?: number,
): Response {
  const { status, error, ...rest } = REFUSALS[reason];
  const headers = "headers" in rest ? rest.headers : undefined;
  return new Response(JSON.stringify({ error, reason, requestId }), {
    status: statusOverride ?? status,
    headers: {
      ...headers,
      "content-type": "application/json",
      "cache-control": "no-store",
      [RESOURCE_POLICY[0]]: RESOURCE_POLICY[1],
      [REASON_HEADER]: reason,
    },
  });
}

/** An error's name and message for the log; never shown to the caller. */
export function errorSummary(err: unknown): string {
  // Not `instanceof Error`: the runtime's DOMExceptions need not be Errors.
  const { name, message } = (err ?? {}) as { name?: unknown; message?: unknown };
  return typeof message === "string" ? `${String(name ?? "Error")}: ${message}` : "unknown error";
}
