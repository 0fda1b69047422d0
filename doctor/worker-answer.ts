/**
 * The stack's Worker answering a request itself: its body is exactly
 * `{"error", "reason", "requestId"}`, with one of the Worker's reasons. The
 * doctor names that reason wherever it meets such an answer.
 */
import { isReason, REASON_HEADER, type Reason } from "../worker/src/reasons";
import { getHeader, type ResponseView } from "./cors-check";
import type { HarEntry } from "./har-file";
import { redactUrl } from "./redact";

export interface WorkerAnswer {
  reason: Reason;
  /** The Worker's log line for the request carries the same id. */
  requestId: string;
}

/** The largest body read to look for the Worker's answer: its own are a few dozen bytes. */
export const MAX_WORKER_BODY = 4096;

/** The Worker's answer in a response body, or undefined for any other body. */
export function workerAnswerOf(text: string): WorkerAnswer | undefined {
  if (text.length > MAX_WORKER_BODY || !text.trimStart().startsWith("{")) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== "object" || body === null) return undefined;
  const { error, reason, requestId, ...rest } = body as Record<string, unknown>;
  return typeof error === "string" &&
    isReason(reason) &&
    typeof requestId === "string" &&
    Object.keys(rest).length === 0
    ? { reason, requestId }
    : undefined;
}

/**
 * The Worker's reason for an answer, from its body or from the header it
 * sets on every error it answers or passes on; undefined for an answer that
 * never passed the Worker (Access's own, on the front end, among them).
 */
export function workerReasonOf(res: ResponseView): Reason | undefined {
  if (res.worker !== undefined) return res.worker.reason;
  const header = getHeader(res.headers, REASON_HEADER);
  return isReason(header) ? header : undefined;
}

/** The Worker's answer in a recorded response's body, when the capture kept it. */
export function workerAnswerOfEntry(entry: HarEntry): WorkerAnswer | undefined {
  const content = entry.response["content"] as { text?: unknown; encoding?: unknown } | undefined;
  if (typeof content?.text !== "string") return undefined;
  const text =
    content.encoding === "base64"
      ? Buffer.from(content.text, "base64").toString("utf8")
      : content.text;
  return workerAnswerOf(text);
}

/** A request the stack's Worker answered itself, whatever its origin: its reason, from the body. */
export interface WorkerAnswerItem extends WorkerAnswer {
  /** Index of the request in the capture's log.entries. */
  entry: number;
  method: string;
  /** Redacted. */
  url: string;
  status: number;
}

/** The answers the stack's Worker gave itself, from the bodies a capture recorded. */
export function workerAnswersIn(entries: HarEntry[]): WorkerAnswerItem[] {
  return entries.flatMap((entry, i) => {
    const answer = workerAnswerOfEntry(entry);
    if (answer === undefined) return [];
    const { method, url } = entry.request;
    return [{ entry: i, method, url: redactUrl(url), status: entry.response.status, ...answer }];
  });
}
