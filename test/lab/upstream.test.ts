/** How the lab reads `--frontend` and `--api`, and what it says when one does not answer. */
import { createServer, type Server } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Socket } from "node:net";
import {
  checkUpstreams,
  failureReason,
  parseUpstream,
  probeUpstream,
  unreachable,
} from "../../lab/upstream";

describe("parseUpstream", () => {
  it("keeps the origin of a dev server's URL", () => {
    expect(parseUpstream("--frontend", "http://localhost:5173")).toBe("http://localhost:5173");
    expect(parseUpstream("--api", "http://localhost:8080/")).toBe("http://localhost:8080");
    expect(parseUpstream("--api", "https://127.0.0.1:8443")).toBe("https://127.0.0.1:8443");
  });

  it.each([
    ["localhost:5173", "--frontend localhost:5173: not an http:// or https:// URL"],
    ["5173", "--frontend 5173: not a URL"],
    ["ftp://localhost:5173", "--frontend ftp://localhost:5173: not an http:// or https:// URL"],
    [
      "http://localhost:5173/app",
      "--frontend http://localhost:5173/app: give the server's origin alone",
    ],
    [
      "http://localhost:5173/?x=1",
      "--frontend http://localhost:5173/?x=1: give the server's origin alone",
    ],
  ])("refuses %s, naming the flag and an example", (value, message) => {
    expect(() => parseUpstream("--frontend", value)).toThrow(
      `${message} (for example http://localhost:5173)`,
    );
  });
});

describe("failureReason", () => {
  it.each([
    ["ECONNREFUSED", "nothing answers (ECONNREFUSED)"],
    ["ENOTFOUND", "no such host (ENOTFOUND)"],
    ["ECONNRESET", "it closed the connection without answering (ECONNRESET)"],
    ["EPROTO", "it does not speak TLS (EPROTO); use http://"],
    ["EHOSTUNREACH", "connect EHOSTUNREACH (EHOSTUNREACH)"],
  ])("words %s", (code, reason) => {
    expect(failureReason({ code, message: `connect ${code}` })).toBe(reason);
  });

  it("names the flag and the URL first", () => {
    expect(
      unreachable("--frontend", "http://localhost:5173", "nothing answers (ECONNREFUSED)"),
    ).toBe("--frontend http://localhost:5173: nothing answers (ECONNREFUSED)");
  });
});

async function listening(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return (server.address() as AddressInfo).port;
}

function close(server: Server | ReturnType<typeof createTcpServer>): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe("probeUpstream", () => {
  it("takes a server that accepts the connection as answering, without asking it for a page", async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.end();
    });
    const port = await listening(server);
    try {
      expect(await probeUpstream(`http://127.0.0.1:${port}`)).toBeUndefined();
      expect(requests).toBe(0);
    } finally {
      await close(server);
    }
  });

  it("says nothing answers on a port no one listens on", async () => {
    const server = createServer();
    const port = await listening(server);
    await close(server);
    expect(await probeUpstream(`http://127.0.0.1:${port}`)).toBe("nothing answers (ECONNREFUSED)");
  });

  it("gives up on an https:// server that accepts the connection and never answers", async () => {
    const held: Socket[] = [];
    const server = createTcpServer((socket) => void held.push(socket));
    const port = await listening(server);
    try {
      expect(await probeUpstream(`https://127.0.0.1:${port}`, 200)).toBe("no answer within 0.2 s");
    } finally {
      held.forEach((s) => s.destroy());
      await close(server);
    }
  });

  it("says an https:// URL points at a plain HTTP server", async () => {
    const server = createServer((_req, res) => res.end());
    const port = await listening(server);
    try {
      expect(await probeUpstream(`https://127.0.0.1:${port}`)).toMatch(
        /^it does not speak TLS \((EPROTO|ERR_SSL_WRONG_VERSION_NUMBER)\); use http:\/\/$/,
      );
    } finally {
      await close(server);
    }
  });
});

describe("checkUpstreams", () => {
  it("returns one sentence per upstream that does not answer, and none for one that does", async () => {
    const up = createServer((_req, res) => res.end("ok"));
    const down = createServer();
    const upPort = await listening(up);
    const downPort = await listening(down);
    await close(down);
    try {
      expect(
        await checkUpstreams([
          { flag: "--frontend", origin: `http://127.0.0.1:${upPort}` },
          { flag: "--api", origin: `http://127.0.0.1:${downPort}` },
        ]),
      ).toEqual([`--api http://127.0.0.1:${downPort}: nothing answers (ECONNREFUSED)`]);
    } finally {
      await close(up);
    }
  });
});
