/**
 * Two small servers standing in for a user's own: a front-end dev server
 * (a page, a hot-reload WebSocket, a streamed response) and an API that
 * verifies what it receives the way a real one would, with jose against the
 * team's certs. They record every request, so a test can say both what
 * reached them and that nothing did.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from "jose";
import { closed, listening } from "../support/servers";

export interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

// RFC 6455 §1.3: the server proves it read the handshake with this GUID.
const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** An unfragmented server-to-client frame (RFC 6455 §5.2): text, or close. */
export function serverFrame(opcode: 0x1 | 0x8, payload: Buffer): Buffer {
  if (payload.length > 125) throw new Error("the stand-in only sends short frames");
  return Buffer.concat([Buffer.from([0x80 | opcode, payload.length]), payload]);
}

/** Complete client frames at the start of `buffer` (masked, as clients must send them), and what is left. */
export function clientFrames(buffer: Buffer): {
  frames: { opcode: number; payload: Buffer }[];
  rest: Buffer;
} {
  const frames: { opcode: number; payload: Buffer }[] = [];
  let at = 0;
  while (buffer.length - at >= 6) {
    const opcode = buffer[at]! & 0x0f;
    let length = buffer[at + 1]! & 0x7f;
    let offset = at + 2;
    if (length === 126) {
      if (buffer.length - at < 8) break;
      length = buffer.readUInt16BE(offset);
      offset += 2;
    } else if (length === 127) {
      throw new Error("the stand-in reads short frames only");
    }
    if (buffer.length < offset + 4 + length) break;
    const mask = buffer.subarray(offset, offset + 4);
    const payload = Buffer.from(buffer.subarray(offset + 4, offset + 4 + length));
    for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
    frames.push({ opcode, payload });
    at = offset + 4 + length;
  }
  return { frames, rest: buffer.subarray(at) };
}

/** The page the stand-in front end serves: it opens the hot-reload socket as a dev server's client does. */
const page = `<!doctype html><meta charset="utf-8"><title>Stand-in front end</title>
<h1 id="app">Served by the stand-in front end</h1>
<script>
  window.socketMessages = [];
  window.socket = new WebSocket("wss://" + location.host + "/hmr");
  window.socket.onmessage = (event) => window.socketMessages.push(event.data);
  window.socket.onclose = () => window.socketMessages.push("(closed)");
</script>`;

export interface StandInFrontend {
  url: string;
  requests: Seen[];
  upgrades: Seen[];
  /** Text messages the hot-reload socket received from the browser. */
  socketMessages: string[];
  /** Sockets that ended, by either side. */
  socketsClosed: number;
  /** Lets `/stream` send its second half, which it holds until then. */
  releaseStream(): void;
  close(): Promise<void>;
}

export async function standInFrontend(): Promise<StandInFrontend> {
  const sockets = new Set<Socket>();
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  const state: Omit<StandInFrontend, "url" | "close" | "releaseStream"> = {
    requests: [],
    upgrades: [],
    socketMessages: [],
    socketsClosed: 0,
  };
  const server = createServer((req, res) => {
    state.requests.push({
      method: req.method ?? "",
      path: req.url ?? "",
      headers: req.headers,
      body: "",
    });
    if (req.url === "/stream") {
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
      res.write("first\n");
      void released.then(() => res.end("second\n"));
      return;
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(page);
  });
  server.on("upgrade", (req, socket: Socket) => {
    state.upgrades.push({
      method: req.method ?? "",
      path: req.url ?? "",
      headers: req.headers,
      body: "",
    });
    sockets.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      state.socketsClosed++;
    });
    socket.on("error", () => socket.destroy());
    const accept = createHash("sha1")
      .update(`${String(req.headers["sec-websocket-key"])}${WEBSOCKET_GUID}`)
      .digest("base64");
    socket.write(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    socket.write(serverFrame(0x1, Buffer.from("hello")));
    let pending: Buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      const { frames, rest } = clientFrames(Buffer.concat([pending, chunk]));
      pending = rest;
      for (const frame of frames) {
        if (frame.opcode === 0x8) {
          socket.end(serverFrame(0x8, frame.payload));
        } else if (frame.opcode === 0x1) {
          const text = frame.payload.toString("utf8");
          state.socketMessages.push(text);
          socket.write(serverFrame(0x1, Buffer.from(`echo:${text}`)));
        }
      }
    });
  });
  const url = (await listening(server)).origin;
  return Object.assign(state, {
    url,
    releaseStream: () => release(),
    async close() {
      release();
      for (const socket of sockets) socket.destroy();
      await closed(server);
    },
  });
}

/** What the stand-in API made of the Access assertion a request carried. */
export type Verdict =
  | { verified: true; claims: JWTPayload & { email?: string; common_name?: string } }
  | { verified: false; error: string };

export interface ApiCall extends Seen {
  assertion: Verdict;
}

/** What the API checks assertions against: the lab prints these. */
export interface TeamKeys {
  certs: string;
  issuer: string;
  audience: string;
}

export interface StandInApi {
  url: string;
  calls: ApiCall[];
  /** Lets `<any prefix>/stream` send its second half, which it holds until then. */
  releaseStream(): void;
  /** Points the API's JWT check at a team's keys, as its configuration would. */
  trust(keys: TeamKeys): void;
  reset(): void;
  close(): Promise<void>;
}

/**
 * An API as a user writes one: it verifies `Cf-Access-Jwt-Assertion`
 * (RS256 against the team's certs, issuer, audience) and answers its own
 * front end's origin with CORS headers, credentials included.
 */
export async function standInApi(frontendOrigin: string): Promise<StandInApi> {
  let verify: ((token: string) => Promise<Verdict>) | undefined;
  const calls: ApiCall[] = [];
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      void (async () => {
        const token = req.headers["cf-access-jwt-assertion"];
        const assertion: Verdict =
          typeof token !== "string"
            ? { verified: false, error: "no Cf-Access-Jwt-Assertion" }
            : verify
              ? await verify(token)
              : { verified: false, error: "no keys to check against" };
        const call: ApiCall = {
          method: req.method ?? "",
          path: req.url ?? "",
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          assertion,
        };
        calls.push(call);
        const cors: Record<string, string> =
          req.headers.origin === frontendOrigin
            ? {
                "access-control-allow-origin": frontendOrigin,
                "access-control-allow-credentials": "true",
                vary: "Origin",
              }
            : { vary: "Origin" };
        if (assertion.verified && call.path.split("?")[0]!.endsWith("/stream")) {
          res.writeHead(200, { "content-type": "text/event-stream", ...cors });
          res.write("data: first\n\n");
          void released.then(() => res.end("data: second\n\n"));
          return;
        }
        res.writeHead(assertion.verified ? 200 : 401, {
          "content-type": "application/json",
          ...cors,
        });
        res.end(
          JSON.stringify({
            servedBy: "stand-in API",
            path: call.path,
            caller: assertion.verified
              ? (assertion.claims.email ?? assertion.claims.common_name)
              : null,
          }),
        );
      })();
    });
  });
  const url = (await listening(server)).origin;
  return {
    url,
    calls,
    trust(keys) {
      const jwks = createRemoteJWKSet(new URL(keys.certs));
      verify = async (token) => {
        try {
          const { payload } = await jwtVerify(token, jwks, {
            issuer: keys.issuer,
            audience: keys.audience,
            algorithms: ["RS256"],
          });
          return { verified: true, claims: payload };
        } catch (err) {
          return { verified: false, error: (err as Error).message };
        }
      };
    },
    releaseStream: () => release(),
    reset: () => void (calls.length = 0),
    close: () => {
      release();
      return closed(server);
    },
  };
}
