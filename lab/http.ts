/** Adapters between Node's HTTP server and the fetch-style handlers the emulated parties are written as. */
import type { IncomingMessage, ServerResponse } from "node:http";

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

export async function toFetchRequest(req: IncomingMessage): Promise<Request> {
  const host = (req.headers.host ?? "localhost").replace(/:\d+$/, "").toLowerCase();
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    if (!hopByHop.has(name)) headers.append(name, req.rawHeaders[i + 1]!);
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

export async function sendFetchResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie" && name !== "content-length" && name !== "content-encoding")
      headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  const body = response.body ? Buffer.from(await response.arrayBuffer()) : undefined;
  res.writeHead(response.status, headers);
  res.end(body);
}

/** A copy of a response whose body has been read, so it can cross between fetch implementations. */
export async function bufferedResponse(response: {
  status: number;
  headers: Iterable<[string, string]>;
  arrayBuffer(): Promise<ArrayBuffer>;
}): Promise<Response> {
  const nullBody = [101, 103, 204, 205, 304].includes(response.status);
  const body = nullBody ? null : await response.arrayBuffer();
  return new Response(body, { status: response.status, headers: [...response.headers] });
}
