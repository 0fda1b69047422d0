import { ALLOWED_METHODS } from "./methods";

/** How the Worker answers when it does not forward: the same for every request refused so. */
export interface Refusal {
  status: number;
  /** The caller's `error`: short, public, never internal detail. */
  error: string;
  /** Headers the status calls for, such as a 405's `Allow`. */
  headers?: Record<string, string>;
  /**
   * Not the caller's doing: the deployment, Access's keys or the API failed,
   * and an operator has to act. Also written to `console.error`.
   */
  fault?: true;
}

/**
 * Every answer the Worker gives except a forwarded one, by its reason: the
 * code the error body, the log line and the data point all carry. A code
 * names one cause and is never reused for another; a new cause gets a new
 * entry here, and the types make every consumer say what it means.
 */
export const REFUSALS = {
  not_found: { status: 404, error: "not found" },
  missing_assertion: { status: 401, error: "missing Cloudflare Access assertion" },
  malformed_assertion: { status: 403, error: "invalid Cloudflare Access assertion" },
  invalid_assertion: { status: 403, error: "invalid Cloudflare Access assertion" },
  no_identity: { status: 403, error: "invalid Cloudflare Access assertion" },
  // Fail closed: an assertion that cannot be checked is refused like one that
  // failed the check, since every unverified caller gets 401 or 403.
  keys_unavailable: {
    status: 403,
    error: "cannot verify Cloudflare Access assertion right now",
    fault: true,
  },
  method_not_allowed: {
    status: 405,
    error: "method not allowed",
    headers: { allow: ALLOWED_METHODS },
  },
  cross_site: { status: 403, error: "cross-site request refused" },
  upstream_unreachable: { status: 502, error: "upstream unreachable", fault: true },
  // The API's own words withheld: its answer would have shown the browser
  // the service token, so nothing of it goes on.
  upstream_leak: { status: 502, error: "bad gateway", fault: true },
  upstream_timeout: { status: 504, error: "upstream timed out", fault: true },
  // The API's Access sent the Worker to its login: the token expired, was
  // revoked, its secret rotated past the grace period, or no Service Auth
  // policy admits it. The redirect is never passed on, as a page's fetch
  // would follow it to the team domain and fail with an opaque CORS error.
  service_token_refused: {
    status: 502,
    error: "the API's Access refused the service token",
    fault: true,
  },
  misconfigured: { status: 500, error: "internal error", fault: true },
  internal: { status: 500, error: "internal error", fault: true },
} as const satisfies Record<string, Refusal>;

export type RefusalReason = keyof typeof REFUSALS;

/**
 * Set on every error the Worker answers or passes on, with its reason: a
 * page can tell a 401 that went through the Worker (the API's own, or the
 * Worker's) from Access's answer that the person's session ended, which
 * Access gives before the Worker runs. The API cannot set it: the Worker's
 * own headers are dropped from its answers.
 */
export const REASON_HEADER = "x-access-bridge-reason";
/** Why the Worker answered as it did: `forwarded` carries the API's own status. */
export type Reason = "forwarded" | RefusalReason;

export const REASONS: readonly Reason[] = [
  "forwarded",
  ...(Object.keys(REFUSALS) as RefusalReason[]),
];

/** Whether a value is one of the Worker's reasons, for readers of its answers and logs. */
export function isReason(value: unknown): value is Reason {
  return typeof value === "string" && (REASONS as readonly string[]).includes(value);
}
