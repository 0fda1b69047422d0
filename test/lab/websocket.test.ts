/**
 * The lab's side of a browser's WebSocket (RFC 6455): the handshake's key,
 * the frames, and the join with a runtime socket such as the Worker's.
 */
import { Duplex, PassThrough, Writable } from "node:stream";
import {
  acceptKey,
  decodeFrames,
  encodeFrame,
  joinBrowserSocket,
  OPCODE,
  type RuntimeSocket,
} from "../../lab/websocket";

const mask = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

describe("the handshake", () => {
  it("answers the key with RFC 6455's own example", () => {
    expect(acceptKey("dGhlIHNhbXBsZSBub25jZQ==")).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  });
});

describe("frames", () => {
  it("encodes RFC 6455's examples, unmasked and masked", () => {
    expect(encodeFrame(OPCODE.text, Buffer.from("Hello"))).toEqual(
      Buffer.from([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]),
    );
    expect(encodeFrame(OPCODE.text, Buffer.from("Hello"), mask)).toEqual(
      Buffer.from([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]),
    );
  });

  it.each([5, 126, 70_000])("reads back a %i-byte payload, masked, split anywhere", (size) => {
    const payload = Buffer.alloc(size, 0x61);
    const bytes = encodeFrame(OPCODE.binary, payload, mask);
    const head = decodeFrames(bytes.subarray(0, bytes.length - 1));
    expect(head.frames).toEqual([]);
    const whole = decodeFrames(Buffer.concat([head.rest, bytes.subarray(bytes.length - 1)]));
    expect(whole.frames).toEqual([{ fin: true, opcode: OPCODE.binary, payload }]);
    expect(whole.rest.length).toBe(0);
  });
});

/** A runtime socket that records what it was sent and lets a test speak for it. */
function runtimeSocket() {
  const sent: unknown[] = [];
  const closed: { code?: number; reason?: string }[] = [];
  const listeners: Record<string, ((event: never) => void)[]> = { message: [], close: [] };
  const socket: RuntimeSocket = {
    accept: () => undefined,
    send: (message) => void sent.push(message),
    close: (code, reason) => void closed.push({ code, reason }),
    addEventListener: (type: string, listener: (event: never) => void) =>
      void listeners[type]!.push(listener),
  } as RuntimeSocket;
  const emit = (type: "message" | "close", event: unknown) =>
    listeners[type]!.forEach((l) => l(event as never));
  return { socket, sent, closed, emit };
}

/** The browser's end of a connection: what it writes reaches the lab, what the lab writes is kept. */
function browserConnection() {
  const toLab = new PassThrough();
  const fromLab: Buffer[] = [];
  const socket = Duplex.from({
    readable: toLab,
    writable: new Writable({
      write(chunk: Buffer, _: string, done: () => void) {
        fromLab.push(chunk);
        done();
      },
    }),
  });
  return { socket, toLab, fromLab: () => Buffer.concat(fromLab) };
}

describe("joinBrowserSocket", () => {
  it("completes the handshake with the Worker's headers and passes messages both ways", async () => {
    const runtime = runtimeSocket();
    const browser = browserConnection();
    joinBrowserSocket(browser.socket, "dGhlIHNhbXBsZSBub25jZQ==", Buffer.alloc(0), {
      status: 101,
      headers: new Headers({ "x-api": "yes", "sec-websocket-accept": "the runtime's own" }),
      socket: runtime.socket,
    });
    const handshake = browser.fromLab().toString("latin1");
    expect(handshake).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(handshake).toContain("sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n");
    expect(handshake).toContain("x-api: yes\r\n");
    expect(handshake).not.toContain("the runtime's own");

    // A message in two fragments, with a ping between them.
    const first = encodeFrame(OPCODE.text, Buffer.from("hel"), mask);
    first[0] = OPCODE.text; // FIN off
    const last = encodeFrame(OPCODE.continuation, Buffer.from("lo"), mask);
    browser.toLab.write(
      Buffer.concat([first, encodeFrame(OPCODE.ping, Buffer.from("p"), mask), last]),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(runtime.sent).toEqual(["hello"]);

    const start = browser.fromLab().length;
    runtime.emit("message", { data: "echo: hello" });
    const { frames } = decodeFrames(browser.fromLab().subarray(handshake.length));
    expect(frames.map((f) => [f.opcode, f.payload.toString()])).toEqual([
      [OPCODE.pong, "p"],
      [OPCODE.text, "echo: hello"],
    ]);
    expect(browser.fromLab().length).toBeGreaterThan(start);

    const close = Buffer.alloc(2);
    close.writeUInt16BE(1000);
    browser.toLab.write(encodeFrame(OPCODE.close, close, mask));
    await new Promise((resolve) => setImmediate(resolve));
    expect(runtime.closed).toEqual([{ code: 1000, reason: "" }]);
  });
});
