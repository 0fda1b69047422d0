import type { AnalyticsBinding, DataPoint } from "./env";
import type { Reason } from "./reasons";

type IdentityKind = "person" | "service";

/**
 * What one request came to, filled in as the handler learns it: its log
 * line, field for field, and the facts of its data point. Nothing here is
 * secret or personal: a person is named by Access's `sub`, never by email,
 * and neither the service token, the assertion, the identity statement, a
 * cookie nor the query string is ever put in.
 */
export interface Outcome {
  reason: Reason;
  /** The status the caller got. */
  status: number;
  /** The `cf-ray`, or a UUID where there is none: the error body's `requestId`. */
  requestId: string | undefined;
  /** The API's hostname, once the bindings name one. */
  api: string | undefined;
  method: string;
  /** Who the verified assertion names, once it is verified. */
  identity: IdentityKind | undefined;
  /** A verified person's Access `sub`. */
  sub: string | undefined;
  /** The API's status, once it answered. */
  upstreamStatus: number | undefined;
  /** How long the API took, once it was called. */
  upstreamMs: number | undefined;
  /** Why a refusal was made; the log's, never the caller's. */
  detail: string | undefined;
}

/**
 * A request's outcome before anything is known of it. Every field is there
 * from the start, in the log line's order, so that every outcome has one
 * shape and is written as it stands.
 */
export function newOutcome(method: string): Outcome {
  return {
    reason: "forwarded",
    status: 0,
    requestId: undefined,
    api: undefined,
    method,
    identity: undefined,
    sub: undefined,
    upstreamStatus: undefined,
    upstreamMs: undefined,
    detail: undefined,
  };
}

/**
 * The request's one log line: a single JSON object, so Workers Logs
 * indexes its fields. Facts still unknown are left out, not written empty.
 */
export function logLine(o: Outcome): string {
  return JSON.stringify(o);
}

/** The request's one data point: counted by API, reason, method and caller, with status and wait. */
export function dataPoint(o: Outcome): DataPoint {
  return {
    indexes: [o.api ?? ""],
    blobs: [o.reason, o.method, o.identity ?? ""],
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
