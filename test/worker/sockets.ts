/**
 * The guide's Worker and ours side by side in workerd, in front of an API
 * that echoes WebSocket messages, opened as a browser's upgrade arrives.
 */
import { Miniflare, type Response as MiniflareResponse } from "miniflare";
import { compatibilityDate } from "../../worker/build";
import {
  API_HOSTNAME,
  baseBindings,
  CERTS_URL,
  FRONTEND,
  guideWorker,
  ourWorker,
  type SigningKey,
} from "./harness";

/** An API that echoes WebSocket messages, reporting each request it gets on its console. */
const echoApi = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.href === env.CERTS_URL) {
      return new Response(env.JWKS, { headers: { "content-type": "application/json" } });
    }
    if (url.host !== env.API_HOST) {
      console.log("unexpected " + url.host);
      return new Response("unexpected", { status: 599 });
    }
    const headers = {};
    request.headers.forEach((value, name) => (headers[name] = value));
    console.log("api-call " + JSON.stringify({ url: request.url, headers }));
    if (request.headers.get("upgrade") !== "websocket") return new Response("plain");
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.addEventListener("message", (event) => server.send("echo:" + event.data));
    return new Response(null, {
      status: 101,
      webSocket: client,
      headers: { "set-cookie": "api-session=1", "x-api": "yes" },
    });
  },
};`;

export interface SocketHarness {
  mf: Miniflare;
  calls: { url: string; headers: Record<string, string> }[];
  unexpected: string[];
  open(worker: string, headers: Record<string, string>): Promise<MiniflareResponse>;
  /** Forgets what earlier tests recorded. */
  reset(): void;
}

export async function startSockets(key: SigningKey): Promise<SocketHarness> {
  const calls: SocketHarness["calls"] = [];
  const unexpected: string[] = [];
  const worker = (name: string, script: string) => ({
    name,
    modules: [{ type: "ESModule" as const, path: "index.js", contents: script }],
    compatibilityDate,
    bindings: baseBindings,
    outboundService: "api",
  });
  const mf = new Miniflare({
    workers: [
      worker("ours", ourWorker()),
      worker("guide", guideWorker()),
      {
        name: "api",
        modules: true,
        script: echoApi,
        compatibilityDate,
        bindings: {
          CERTS_URL,
          API_HOST: API_HOSTNAME,
          JWKS: JSON.stringify({ keys: [key.jwk] }),
        },
      },
    ],
    handleStructuredLogs: ({ message }: { message: string }) => {
      if (message.startsWith("api-call ")) calls.push(JSON.parse(message.slice(9)));
      else if (message.startsWith("unexpected ")) unexpected.push(message);
    },
  });
  await mf.ready;
  return {
    mf,
    calls,
    unexpected,
    // dispatchFetch, as a browser's request arrives: a Worker's own `fetch`
    // handle applies Miniflare's dev-server Origin check to upgrades.
    open: async (name, headers) =>
      await mf.dispatchFetch(`${FRONTEND}/api/live`, {
        headers: { upgrade: "websocket", "mf-route-override": name, ...headers },
      }),
    reset: () => {
      calls.length = 0;
      unexpected.length = 0;
    },
  };
}

/** Accepts a 101's socket, sends one message, and gives the reply once the socket is closed. */
export async function exchange(response: MiniflareResponse, message: string): Promise<string> {
  expect(response.status).toBe(101);
  const socket = response.webSocket!;
  socket.accept();
  const reply = new Promise<string>((resolve) =>
    socket.addEventListener("message", (event) => resolve(String(event.data))),
  );
  socket.send(message);
  const text = await reply;
  socket.close();
  return text;
}

/** An upgrade the Worker refused: no socket, its status and reason, and nothing reached the API. */
export async function expectRefused(
  s: SocketHarness,
  response: MiniflareResponse,
  status: number,
  reason: string,
): Promise<void> {
  expect(response.webSocket).toBeNull();
  expect(response.status).toBe(status);
  expect(((await response.json()) as { reason: string }).reason).toBe(reason);
  expect(s.calls).toEqual([]);
}
