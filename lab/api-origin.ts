/**
 * The user's API behind the (first) API's Access edge (`--api`), in the demo API's
 * place. It receives what production sends it: the request as the Worker or
 * the browser made it, with what Access adds (`Cf-Access-Jwt-Assertion` for
 * the caller, a person or the service token), Host the API's public name, and
 * the body streamed back.
 *
 * Cloudflare asks origins for `gzip, br` whatever the browser accepts and
 * decodes for the client itself; the lab does the same, because its
 * fetch-style parties pass decoded bodies.
 */
import type { IncomingMessage } from "node:http";
import { Readable, type Transform } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import type { LabLog } from "./log";
import { failureReason, HOP_BY_HOP, unreachable, upstreamRequest } from "./upstream";
import { json } from "./context";
import { NULL_BODY_STATUSES } from "./http";

/** What Cloudflare sends an origin as Accept-Encoding. */
export const originAcceptEncoding = "gzip, br";

/** The headers the API receives for a request that passed its Access edge. */
export function apiRequestHeaders(request: Request, bodyLength: number | undefined): Headers {
  const headers = new Headers();
  request.headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name) && name !== "content-length") headers.set(name, value);
  });
  headers.set("host", new URL(request.url).host);
  headers.set("x-forwarded-proto", "https");
  headers.set("accept-encoding", originAcceptEncoding);
  if (bodyLength !== undefined) headers.set("content-length", String(bodyLength));
  return headers;
}

/** The content codings the lab decodes, since fetch-style parties read decoded bodies. */
const DECODERS: Record<string, () => Transform> = {
  gzip: createGunzip,
  "x-gzip": createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** The API's answer as a fetch-style response, its body decoded and streamed. */
export function apiResponse(answer: IncomingMessage, method: string): Response {
  const headers = new Headers();
  const coding = (answer.headers["content-encoding"] ?? "").trim().toLowerCase();
  const decoder = Object.hasOwn(DECODERS, coding) ? DECODERS[coding] : undefined;
  for (let i = 0; i + 1 < answer.rawHeaders.length; i += 2) {
    const name = answer.rawHeaders[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name)) continue;
    if (decoder && (name === "content-encoding" || name === "content-length")) continue;
    headers.append(name, answer.rawHeaders[i + 1]!);
  }
  const status = answer.statusCode ?? 502;
  if (NULL_BODY_STATUSES.has(status) || method === "HEAD") {
    answer.resume();
    return new Response(null, { status, headers });
  }
  const body = Readable.toWeb(
    decoder ? answer.pipe(decoder()) : answer,
  ) as unknown as ReadableStream<Uint8Array>;
  return new Response(body, { status, headers });
}

/** Sends one request to the user's API; rejects with the reason it could not be reached. */
export async function callApi(origin: URL, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const body = ["GET", "HEAD"].includes(request.method)
    ? undefined
    : Buffer.from(await request.arrayBuffer());
  const headers: Record<string, string> = {};
  apiRequestHeaders(request, body?.length).forEach((value, name) => (headers[name] = value));
  return new Promise((resolve, reject) => {
    const out = upstreamRequest(origin, {
      method: request.method,
      path: `${url.pathname}${url.search}`,
      headers,
    });
    out.once("response", (answer) => resolve(apiResponse(answer, request.method)));
    out.once("error", (err: Error & { code?: string }) => reject(new Error(failureReason(err))));
    out.end(body);
  });
}

/**
 * The party the API's edge hands requests to when `--api` is given: the
 * user's API, with each answer in the lab's log (the page's explanations read
 * the CORS headers there) and a 502 naming the flag when it does not answer.
 */
export function userApi(originUrl: string, log: LabLog): (request: Request) => Promise<Response> {
  const origin = new URL(originUrl);
  return async (request) => {
    try {
      const response = await callApi(origin, request);
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => (headers[name] = value));
      log.add("api", request.method, request.url, response.status, `answered by ${originUrl}`, {
        answer: { headers },
      });
      return response;
    } catch (err) {
      const message = unreachable("--api", originUrl, (err as Error).message);
      log.add("api", request.method, request.url, 502, message);
      return json({ error: `the lab could not reach your API: ${message}` }, 502, {
        "x-lab-served-by": "lab",
      });
    }
  };
}
