import type { AnalyticsBinding, DataPoint } from "./env";
import type { Identity } from "./identity";
import type { Reason } from "./reasons";

/**
 * What one request came to, filled in as the handler learns it: the facts
 * of its log line and its data point. Nothing here is secret or personal: a
 * person is named by Access's `sub`, never by email, and neither the
 * service token, the assertion, the identity statement, a cookie nor the
 * query string is ever put in.
 */
export interface Outcome {
  reason: Reason;
  /** The status the caller got. */
  status: number;
  /** The `cf-ray`, or a UUID where there is none: the error body's `requestId`. */
  requestId?: string;
  /** The API's hostname, once the bindings name one. */
  api?: string;
  method: string;
  /** Who the verified assertion names, once it is verified. */
  identity?: Identity;
  /** The API's status, once it answered. */
  upstreamStatus?: number;
  /** How long the API took, once it was called. */
  upstreamMs?: number;
  /** Why a refusal was made; the log's, never the caller's. */
  detail?: string;
}

type IdentityKind = "person" | "service";

const kindOf = (identity: Identity | undefined): IdentityKind | undefined =>
  identity === undefined ? undefined : "email" in identity ? "person" : "service";

/**
 * The request's one log line: a single JSON object, so Workers Logs
 * indexes its fields. Absent facts are left out rather than written empty.
 */
export function logLine(o: Outcome): string {
  const identity = o.identity;
  const kind = kindOf(identity);
  return JSON.stringify({
    reason: o.reason,
    status: o.status,
    requestId: o.requestId,
    api: o.api,
    method: o.method,
    identity: kind,
    sub: identity !== undefined && "sub" in identity ? identity.sub : undefined,
    upstreamStatus: o.upstreamStatus,
    upstreamMs: o.upstreamMs,
    detail: o.detail,
  });
}

/** The request's one data point: counted by API, reason, method and caller, with status and wait. */
export function dataPoint(o: Outcome): DataPoint {
  return {
    indexes: [o.api ?? ""],
    blobs: [o.reason, o.method, kindOf(o.identity) ?? ""],
    doubles: [o.status, o.upstreamMs ?? 0],
  };
}

/**
 * Writes the log line and, where a dataset is bound, the data point. Neither
 * is awaited, and neither can change the answer: a binding that is missing,
 * of another kind or throwing is passed over.
 */
export function report(o: Outcome, analytics: AnalyticsBinding | undefined): void {
  console.log(logLine(o));
  if (analytics === undefined) return;
  try {
    analytics.writeDataPoint(dataPoint(o));
  } catch {
    // Counting is best effort; the log line above already says what happened.
  }
}
