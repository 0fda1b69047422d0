/**
 * The live check: sends what a browser would send, in the order it would,
 * and hands the answers to diagnose().
 */
import {
  isForbiddenRequestHeader,
  preflightReasons,
  preflightRequestHeaders,
  type CorsRequest,
  type HeaderField,
  type ResponseView,
} from "./cors-check";
import { diagnose, type Diagnosis } from "./diagnose";

export interface LiveOptions {
  request: CorsRequest;
  /** Send only the preflight (the actual request may change data on the API). */
  preflightOnly?: boolean;
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

/** One request the doctor sent and what came back, for the report. */
export interface Exchange {
  phase: "preflight" | "actual";
  method: string;
  url: string;
  requestHeaders: HeaderField[];
  response: ResponseView;
}

export interface LiveResult {
  diagnosis: Diagnosis;
  exchanges: Exchange[];
}

/** The host could not be reached at all: a usage-level problem, not a CORS verdict. */
export class UnreachableError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`cannot reach ${url}: ${reason}`);
    this.name = "UnreachableError";
  }
}

export async function runLive(opts: LiveOptions): Promise<LiveResult> {
  const { request } = opts;
  const doFetch = opts.fetchImpl ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const exchanges: Exchange[] = [];

  const send = async (
    phase: Exchange["phase"],
    method: string,
    headers: HeaderField[],
  ): Promise<ResponseView> => {
    let res: Response;
    try {
      res = await doFetch(request.url, {
        method,
        headers: headers.map((h) => [h.name, h.value] as [string, string]),
        // A browser would not follow a preflight redirect, and must CORS-check
        // each hop of the actual request, so every hop is inspected here.
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new UnreachableError(request.url, describeFetchError(err));
    }
    // Read the body so the connection is released; its content plays no part in CORS.
    await res.arrayBuffer().catch(() => undefined);
    const response: ResponseView = { status: res.status, headers: responseHeaders(res) };
    exchanges.push({ phase, method, url: request.url, requestHeaders: headers, response });
    return response;
  };

  let preflight: ResponseView | undefined;
  if (preflightReasons(request).length > 0) {
    preflight = await send("preflight", "OPTIONS", preflightRequestHeaders(request));
  }
  const preflightFailed =
    preflight !== undefined && diagnose({ request, preflight }).verdict === "blocked";

  let actual: ResponseView | undefined;
  if (!preflightFailed && opts.preflightOnly !== true) {
    actual = await send("actual", request.method, actualRequestHeaders(request));
  }
  return { diagnosis: diagnose({ request, preflight, actual }), exchanges };
}

/**
 * The actual request: the page's own headers plus Origin. Cookies go only
 * with credentials, as in a browser; other browser-owned headers are dropped.
 */
export function actualRequestHeaders(req: CorsRequest): HeaderField[] {
  const fields: HeaderField[] = [{ name: "Origin", value: req.origin }];
  for (const h of req.headers) {
    const lower = h.name.toLowerCase();
    if (lower === "cookie") {
      if (req.credentials && h.value !== undefined) fields.push({ name: h.name, value: h.value });
      continue;
    }
    if (isForbiddenRequestHeader(h.name)) continue;
    fields.push({ name: h.name, value: h.value ?? placeholderValue(lower) });
  }
  return fields;
}

/** A plausible value for a header given by name only; CORS decides on names. */
function placeholderValue(lowerName: string): string {
  if (lowerName === "content-type") return "application/json";
  if (lowerName === "authorization") return "Bearer doctor-placeholder";
  return "doctor";
}

function responseHeaders(res: Response): HeaderField[] {
  const fields: HeaderField[] = [];
  res.headers.forEach((value, name) => {
    if (name === "set-cookie") return;
    fields.push({ name, value });
  });
  for (const value of res.headers.getSetCookie()) fields.push({ name: "set-cookie", value });
  return fields;
}

function describeFetchError(err: unknown): string {
  // Duck-typed: errors can come from another realm (test runners), where instanceof fails.
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError") return "timed out";
  const cause = e.cause;
  if (cause !== undefined && typeof cause === "object") {
    if (typeof cause.code === "string") return `${cause.code} (${cause.message ?? ""})`;
    if (typeof cause.message === "string") return cause.message;
  }
  return typeof e.message === "string" ? e.message : String(err);
}
