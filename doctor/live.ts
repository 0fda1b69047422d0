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
import { isSameOrigin } from "./sites";
import {
  connectHint,
  sendRequest,
  TransportError,
  type ConnectOptions,
  type Transport,
} from "./transport";

/**
 * A logged-in person's credentials for the API, given on the command line.
 * A browser sends them only with `credentials: 'include'`, and never on a preflight.
 */
export interface Login {
  /** Sent as `cf-access-token`, which Access accepts in place of its CF_Authorization cookie. */
  accessToken?: string;
  /** `name=value` pairs, sent together in one Cookie header as a browser does. */
  cookies: string[];
}

export function hasLogin(login: Login | undefined): boolean {
  return login !== undefined && (login.accessToken !== undefined || login.cookies.length > 0);
}

export interface LiveOptions {
  request: CorsRequest;
  login?: Login;
  connect?: ConnectOptions;
  /** Send only the preflight (the actual request may change data on the API). */
  preflightOnly?: boolean;
  /** The route prefix of the stack's Worker for this API, for the fixes (see Observation). */
  routePrefix?: string;
  timeoutMs?: number;
  transport?: Transport;
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
  const transport = opts.transport ?? sendRequest;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const exchanges: Exchange[] = [];

  // A browser would not follow a preflight redirect, and must CORS-check each
  // hop of the actual request, so no redirect is followed here.
  const send = async (
    phase: Exchange["phase"],
    method: string,
    headers: HeaderField[],
  ): Promise<ResponseView> => {
    let response: ResponseView;
    try {
      response = await transport({
        url: request.url,
        method,
        headers,
        connect: opts.connect,
        timeoutMs,
      });
    } catch (err) {
      throw new UnreachableError(request.url, describeError(err, request.url, opts.connect));
    }
    exchanges.push({ phase, method, url: request.url, requestHeaders: headers, response });
    return response;
  };

  const loginGiven = request.credentials && hasLogin(opts.login);
  let preflight: ResponseView | undefined;
  if (!isSameOrigin(request) && preflightReasons(request).length > 0) {
    preflight = await send("preflight", "OPTIONS", preflightRequestHeaders(request));
  }
  const preflightFailed =
    preflight !== undefined && diagnose({ request, preflight }).verdict !== "allowed";

  let actual: ResponseView | undefined;
  if (!preflightFailed && opts.preflightOnly !== true) {
    actual = await send("actual", request.method, actualRequestHeaders(request, opts.login));
  }
  const routePrefix = opts.routePrefix;
  return {
    diagnosis: diagnose({ request, preflight, actual, loginGiven, routePrefix }),
    exchanges,
  };
}

/**
 * The actual request: the page's own headers plus Origin, and with
 * credentials the person's login (cookies, Access token). Other
 * browser-owned headers are dropped, as a browser would not let a page set them.
 */
export function actualRequestHeaders(req: CorsRequest, login?: Login): HeaderField[] {
  const fields: HeaderField[] = [{ name: "Origin", value: req.origin }];
  const cookies: string[] = [];
  for (const h of req.headers) {
    const lower = h.name.toLowerCase();
    if (lower === "cookie") {
      if (h.value !== undefined) cookies.push(h.value);
      continue;
    }
    if (isForbiddenRequestHeader(h.name)) continue;
    fields.push({ name: h.name, value: h.value ?? placeholderValue(lower) });
  }
  if (!req.credentials) return fields;
  cookies.push(...(login?.cookies ?? []));
  if (cookies.length > 0) fields.push({ name: "Cookie", value: cookies.join("; ") });
  if (login?.accessToken !== undefined) {
    fields.push({ name: "cf-access-token", value: login.accessToken });
  }
  return fields;
}

/** A plausible value for a header given by name only; CORS decides on names. */
function placeholderValue(lowerName: string): string {
  if (lowerName === "content-type") return "application/json";
  if (lowerName === "authorization") return "Bearer doctor-placeholder";
  return "doctor";
}

function describeError(err: unknown, rawUrl: string, connect?: ConnectOptions): string {
  if (!(err instanceof TransportError)) return err instanceof Error ? err.message : String(err);
  if (err.code === "ETIMEDOUT") return "timed out";
  const hint = connectHint(err.code, new URL(rawUrl), connect);
  return `${err.code} (${err.message})${hint !== null ? `: ${hint}` : ""}`;
}
