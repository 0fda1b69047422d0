/** Adapters between Node's HTTP server and the fetch-style handlers the emulated parties are written as. */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";

// RFC 9110 §7.6.1: connection-specific fields describe one hop and are not
// part of the request the edges see.
const hopByHop = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "upgrade",
  "host",
]);

/** `websocket` keeps `Upgrade: websocket`, which is what asks the Worker for a socket. */
export async function toFetchRequest(req: IncomingMessage, websocket = false): Promise<Request> {
  const host = (req.headers.host ?? "localhost").replace(/:\d+$/, "").toLowerCase();
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    if (!hopByHop.has(name) || (websocket && name === "upgrade"))
      headers.append(name, req.rawHeaders[i + 1]!);
  }
  const method = req.method ?? "GET";
  let body: Uint8Array<ArrayBuffer> | undefined;
  if (method !== "GET" && method !== "HEAD") {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    body = new Uint8Array(Buffer.concat(chunks));
  }
  return new Request(`https://${host}${req.url ?? "/"}`, {
    method,
    headers,
    body,
    redirect: "manual",
  });
}

/** Response headers as Node writes them: set-cookie kept apart, and the body's length and coding left to Node, since the lab's fetch-style responses carry decoded bodies. */
function nodeHeaders(response: Response): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie" && name !== "content-length" && name !== "content-encoding")
      headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  return headers;
}

/** Writes a fetch-style response, streaming its body as it arrives (an API's server-sent events). */
export async function sendFetchResponse(res: ServerResponse, response: Response): Promise<void> {
  res.writeHead(response.status, nodeHeaders(response));
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  res.once("close", () => void reader.cancel().catch(() => undefined));
  for (;;) {
    const { done, value } = await reader.read();
    if (done || res.destroyed) break;
    res.write(value);
  }
  res.end();
}

/** A whole HTTP/1.1 response as bytes, for a socket no HTTP server writes to any more (an upgrade). */
export function rawResponse(
  status: number,
  headers: Record<string, string | string[]>,
  body: string | Uint8Array = "",
): Buffer {
  const bytes = typeof body === "string" ? Buffer.from(body) : Buffer.from(body);
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}`];
  for (const [name, value] of Object.entries({
    ...headers,
    "content-length": String(bytes.length),
    connection: "close",
  })) {
    for (const v of Array.isArray(value) ? value : [value])
      lines.push(`${name}: ${v.replace(/[\r\n]/g, "")}`);
  }
  return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`), bytes]);
}

/** A fetch-style response written to a raw socket, which it then closes. */
export async function sendRawResponse(
  socket: { end(data: Buffer): unknown },
  response: Response,
): Promise<void> {
  const body = response.body ? new Uint8Array(await response.arrayBuffer()) : undefined;
  socket.end(rawResponse(response.status, nodeHeaders(response), body));
}

/** Statuses whose responses never carry a body (Fetch's null body statuses, and 103). */
export const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

/**
 * A response from another fetch implementation (miniflare bundles its own)
 * as one of Node's, its body still streaming: the Worker streams an API's
 * answer to the browser, and so must the lab. Only the stream object
 * crosses, and Node's web streams are the one kind both share.
 */
export function crossedResponse(response: {
  status: number;
  headers: Iterable<[string, string]>;
  body: unknown;
}): Response {
  const body = NULL_BODY_STATUSES.has(response.status)
    ? null
    : (response.body as ReadableStream<Uint8Array> | null);
  return new Response(body, { status: response.status, headers: [...response.headers] });
}
