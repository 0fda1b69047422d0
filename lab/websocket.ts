/**
 * WebSockets in the lab. The Workers run in workerd, which hands a socket
 * over as a runtime WebSocket object (miniflare's); the browser talks
 * RFC 6455 on a raw TLS socket. This joins the two: the server's side of the
 * handshake and the frames (RFC 6455 §4.2.2, §5), which the lab writes itself
 * so that it needs no WebSocket library of its own.
 */
import { createHash } from "node:crypto";
import type { Duplex } from "node:stream";

/** The side of a runtime WebSocket the lab drives: the Worker's 101 carries one, the demo API makes one. */
export interface RuntimeSocket {
  accept(): void;
  send(message: string | Uint8Array<ArrayBuffer>): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(
    type: "close",
    listener: (event: { code: number; reason: string }) => void,
  ): void;
}

/** The Worker's answer to an upgrade it let through: the API's 101, its headers and the socket. */
export interface SocketAnswer {
  status: 101;
  headers: Headers;
  socket: RuntimeSocket;
}

export function isSocketAnswer(answer: Response | SocketAnswer): answer is SocketAnswer {
  return answer.status === 101 && "socket" in answer;
}

/** A request to become a WebSocket (RFC 6455 §4.1), as the lab's server tells one apart. */
export function isWebSocketRequest(method: string, upgrade: string | undefined): boolean {
  return method === "GET" && upgrade?.trim().toLowerCase() === "websocket";
}

// RFC 6455 §1.3: the server proves it read the handshake with this GUID.
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

export function acceptKey(key: string): string {
  return createHash("sha1").update(`${key}${GUID}`).digest("base64");
}

export const OPCODE = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
};

/** One frame, unfragmented: a server's are never masked, a client's always are (§5.1). */
export function encodeFrame(opcode: number, payload: Buffer, mask?: Buffer): Buffer {
  const length = payload.length;
  const size = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const head = Buffer.alloc(2 + size + (mask ? 4 : 0));
  head[0] = 0x80 | opcode;
  head[1] = (mask ? 0x80 : 0) | (size === 0 ? length : size === 2 ? 126 : 127);
  if (size === 2) head.writeUInt16BE(length, 2);
  if (size === 8) head.writeBigUInt64BE(BigInt(length), 2);
  if (!mask) return Buffer.concat([head, payload]);
  mask.copy(head, 2 + size);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i]! ^= mask[i % 4]!;
  return Buffer.concat([head, masked]);
}

export interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** The complete frames at the start of `buffer`, unmasked, and the bytes that do not make one yet. */
export function decodeFrames(buffer: Buffer): { frames: Frame[]; rest: Buffer } {
  const frames: Frame[] = [];
  let at = 0;
  for (;;) {
    if (buffer.length - at < 2) break;
    const first = buffer[at]!;
    const second = buffer[at + 1]!;
    let length = second & 0x7f;
    let offset = at + 2;
    if (length === 126) {
      if (buffer.length < offset + 2) break;
      length = buffer.readUInt16BE(offset);
      offset += 2;
    } else if (length === 127) {
      if (buffer.length < offset + 8) break;
      length = Number(buffer.readBigUInt64BE(offset));
      offset += 8;
    }
    const mask = (second & 0x80) !== 0 ? buffer.subarray(offset, offset + 4) : undefined;
    if (mask) offset += 4;
    if (buffer.length < offset + length) break;
    const payload = Buffer.from(buffer.subarray(offset, offset + length));
    if (mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
    frames.push({ fin: (first & 0x80) !== 0, opcode: first & 0x0f, payload });
    at = offset + length;
  }
  return { frames, rest: buffer.subarray(at) };
}

/** A close frame's payload: the code, then the reason (§5.5.1). */
function closePayload(code: number, reason: string): Buffer {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  return payload;
}

/** A close code the runtime lets a socket send; others stand for "closed" with no code of their own. */
function runtimeCode(code: number | undefined): number {
  return code !== undefined && (code === 1000 || (code >= 3000 && code <= 4999)) ? code : 1000;
}

/** Response headers that belong to the handshake this side writes, not to the API's answer. */
const HANDSHAKE_HEADERS = new Set([
  "upgrade",
  "connection",
  "sec-websocket-accept",
  "sec-websocket-extensions",
  "content-length",
  "transfer-encoding",
]);

/**
 * Completes the browser's handshake with the Worker's 101 and joins the two
 * sockets: each message either side sends reaches the other, and a close on
 * either side closes both. No extension is agreed, so frames go uncompressed.
 */
export function joinBrowserSocket(
  socket: Duplex,
  key: string,
  head: Buffer,
  answer: SocketAnswer,
): void {
  const lines = [
    "HTTP/1.1 101 Switching Protocols",
    "upgrade: websocket",
    "connection: Upgrade",
    `sec-websocket-accept: ${acceptKey(key)}`,
  ];
  answer.headers.forEach((value, name) => {
    if (!HANDSHAKE_HEADERS.has(name)) lines.push(`${name}: ${value.replace(/[\r\n]/g, "")}`);
  });
  socket.write(`${lines.join("\r\n")}\r\n\r\n`);

  const peer = answer.socket;
  peer.accept();
  let closed = false;
  const closeBrowser = (code: number, reason: string): void => {
    if (closed) return;
    closed = true;
    socket.end(encodeFrame(OPCODE.close, closePayload(code, reason)));
  };
  peer.addEventListener("message", ({ data }) => {
    if (closed) return;
    const text = typeof data === "string";
    const bytes = text ? Buffer.from(data) : Buffer.from(data as ArrayBuffer);
    socket.write(encodeFrame(text ? OPCODE.text : OPCODE.binary, bytes));
  });
  peer.addEventListener("close", ({ code, reason }) => closeBrowser(runtimeCode(code), reason));

  let pending: Buffer = head;
  let message: { opcode: number; parts: Buffer[] } | undefined;
  let peerOpen = true;
  const closePeer = (code?: number, reason?: string): void => {
    if (!peerOpen) return;
    peerOpen = false;
    try {
      peer.close(runtimeCode(code), reason ?? "");
    } catch {
      // Already closed from its side.
    }
  };
  const onData = (chunk: Buffer): void => {
    const { frames, rest } = decodeFrames(Buffer.concat([pending, chunk]));
    pending = rest;
    for (const frame of frames) {
      if (frame.opcode === OPCODE.close) {
        const code = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : undefined;
        const reason = frame.payload.subarray(2).toString("utf8");
        closePeer(code, reason);
        closeBrowser(code ?? 1000, "");
      } else if (frame.opcode === OPCODE.ping) {
        if (!closed) socket.write(encodeFrame(OPCODE.pong, frame.payload));
      } else if (frame.opcode === OPCODE.pong) {
        continue;
      } else {
        message ??= { opcode: frame.opcode, parts: [] };
        message.parts.push(frame.payload);
        if (!frame.fin) continue;
        const whole = Buffer.concat(message.parts);
        const text = message.opcode === OPCODE.text;
        message = undefined;
        if (peerOpen) peer.send(text ? whole.toString("utf8") : new Uint8Array(whole));
      }
    }
  };
  if (pending.length > 0) onData(Buffer.alloc(0));
  socket.on("data", onData);
  socket.once("close", () => {
    closed = true;
    closePeer(1000, "");
  });
  socket.on("error", () => socket.destroy());
}
