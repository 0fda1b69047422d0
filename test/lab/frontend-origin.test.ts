/**
 * The user's front-end dev server behind the lab: the headers it receives
 * and the browser gets back, tested directly, and the socket-level passing
 * of a stream and a WebSocket upgrade between two local servers.
 */
import { createServer, get, request, type IncomingMessage, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import {
  answerStatus,
  browserResponseHeaders,
  originRequestHeaders,
  passRequest,
  passUpgrade,
  publicLocation,
  requestHead,
  type OriginCall,
} from "../../lab/frontend-origin";
import { closed, listening } from "../support/servers";

const facts = {
  originHost: "localhost:5173",
  publicHost: "www.example.com",
  clientIp: "127.0.0.1",
  access: { "cf-access-jwt-assertion": "lab.jwt", "cf-access-authenticated-user-email": "a@b.c" },
  upgrade: undefined,
};

describe("originRequestHeaders", () => {
  it("gives the dev server its own Host, the public name as X-Forwarded-Host and what Access adds", () => {
    const headers = originRequestHeaders(
      [
        "Host",
        "www.example.com",
        "Accept",
        "text/html",
        "Cookie",
        "CF_Authorization=t",
        "Cf-Access-Jwt-Assertion",
        "forged",
        "X-Forwarded-For",
        "10.0.0.1",
      ],
      facts,
    );
    expect(headers).toEqual({
      host: "localhost:5173",
      accept: "text/html",
      cookie: "CF_Authorization=t",
      "cf-access-jwt-assertion": "lab.jwt",
      "cf-access-authenticated-user-email": "a@b.c",
      "x-forwarded-host": "www.example.com",
      "x-forwarded-proto": "https",
      "x-forwarded-for": "10.0.0.1, 127.0.0.1",
    });
  });

  it("drops one hop's headers, those Connection names among them, and keeps repeated ones", () => {
    const headers = originRequestHeaders(
      [
        "Connection",
        "keep-alive, X-Hop",
        "X-Hop",
        "1",
        "Keep-Alive",
        "timeout=5",
        "Upgrade",
        "h2c",
        "Accept",
        "a",
        "Accept",
        "b",
      ],
      facts,
    );
    expect(headers["accept"]).toEqual(["a", "b"]);
    for (const name of ["connection", "x-hop", "keep-alive", "upgrade"])
      expect(headers).not.toHaveProperty(name);
  });

  it("keeps a WebSocket upgrade an upgrade", () => {
    const headers = originRequestHeaders(
      ["Connection", "Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Key", "k"],
      { ...facts, upgrade: "websocket" },
    );
    expect(headers).toMatchObject({
      connection: "Upgrade",
      upgrade: "websocket",
      "sec-websocket-key": "k",
    });
  });
});

describe("browserResponseHeaders", () => {
  it("maps a redirect to the dev server's own address back to the public name, and leaves others", () => {
    const origin = "http://localhost:5173/";
    const pub = "https://www.example.com";
    expect(publicLocation("http://localhost:5173/login?next=%2F", origin, pub)).toBe(
      "https://www.example.com/login?next=%2F",
    );
    expect(publicLocation("/login", origin, pub)).toBe("/login");
    expect(publicLocation("https://idp.example.net/", origin, pub)).toBe(
      "https://idp.example.net/",
    );
    expect(publicLocation("http://localhost:5174/", origin, pub)).toBe("http://localhost:5174/");
  });

  it("keeps the body's length, coding and every cookie, and drops one hop's headers", () => {
    const headers = browserResponseHeaders(
      [
        "Content-Type",
        "text/javascript",
        "Content-Encoding",
        "gzip",
        "Content-Length",
        "42",
        "Set-Cookie",
        "a=1",
        "Set-Cookie",
        "b=2",
        "Connection",
        "keep-alive",
        "Transfer-Encoding",
        "chunked",
        "Location",
        "http://localhost:5173/x",
      ],
      "http://localhost:5173/",
      "https://www.example.com",
    );
    expect(headers).toEqual({
      "content-type": "text/javascript",
      "content-encoding": "gzip",
      "content-length": "42",
      "set-cookie": ["a=1", "b=2"],
      location: "https://www.example.com/x",
    });
  });
});

describe("requestHead", () => {
  it("writes a request as HTTP/1.1 and cannot be made to add a header", () => {
    expect(requestHead("GET", "/hmr", { host: "h", "x-a": ["1", "2\r\nEvil: yes"] })).toBe(
      "GET /hmr HTTP/1.1\r\nhost: h\r\nx-a: 1\r\nx-a: 2Evil: yes\r\n\r\n",
    );
  });

  it("reads the status an answer starts with", () => {
    expect(answerStatus(Buffer.from("HTTP/1.1 101 Switching Protocols\r\n"))).toBe(101);
    expect(answerStatus(Buffer.from("\x81\x05hello"))).toBe(0);
  });
});

/** A stand-in for the lab: every request and upgrade goes to `origin`. */
function passingServer(origin: URL, failures: string[], upgrades: unknown[]): Server {
  const call = (req: IncomingMessage, upgrade?: string): OriginCall => ({
    origin,
    path: req.url ?? "/",
    publicOrigin: "https://www.example.com",
    headers: originRequestHeaders(req.rawHeaders, {
      ...facts,
      originHost: origin.host,
      upgrade,
    }),
  });
  const server = createServer((req, res) =>
    passRequest(req, res, call(req), (reason) => {
      failures.push(reason);
      res.writeHead(502);
      res.end(reason);
    }),
  );
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) =>
    passUpgrade(socket, head, req.method ?? "GET", call(req, req.headers.upgrade), (r) =>
      upgrades.push(r),
    ),
  );
  return server;
}

describe("passRequest", () => {
  it("streams the dev server's answer as it comes, before the dev server has finished it", async () => {
    let finish: () => void = () => undefined;
    const origin = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: first\n\n");
      finish = () => res.end("data: second\n\n");
    });
    const lab = passingServer(await listening(origin), [], []);
    const labUrl = await listening(lab);
    try {
      const received: string[] = [];
      const ended = new Promise<void>((resolve) => {
        get(labUrl, (res) => {
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            received.push(chunk);
            // The second half exists only once the first has arrived.
            if (received.length === 1) finish();
          });
          res.on("end", () => resolve());
        });
      });
      await ended;
      expect(received.join("")).toBe("data: first\n\ndata: second\n\n");
      expect(received[0]).toBe("data: first\n\n");
    } finally {
      await closed(lab);
      await closed(origin);
    }
  });

  it("streams the request body to the dev server and gives it the Access headers", async () => {
    let seen: { headers: IncomingMessage["headers"]; body: string } | undefined;
    const origin = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        seen = { headers: req.headers, body };
        res.end("ok");
      });
    });
    const originUrl = await listening(origin);
    const lab = passingServer(originUrl, [], []);
    const labUrl = await listening(lab);
    try {
      const status = await new Promise<number>((resolve) => {
        const req = request(labUrl, { method: "PUT" }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.write("part one, ");
        req.end("part two");
      });
      expect(status).toBe(200);
      expect(seen?.body).toBe("part one, part two");
      expect(seen?.headers).toMatchObject({
        host: originUrl.host,
        "cf-access-jwt-assertion": "lab.jwt",
        "x-forwarded-host": "www.example.com",
      });
    } finally {
      await closed(lab);
      await closed(origin);
    }
  });

  it("says why when the dev server does not answer", async () => {
    const gone = createServer();
    const goneUrl = await listening(gone);
    await closed(gone);
    const failures: string[] = [];
    const lab = passingServer(goneUrl, failures, []);
    const labUrl = await listening(lab);
    try {
      const status = await new Promise<number>((resolve) =>
        get(labUrl, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }),
      );
      expect(status).toBe(502);
      expect(failures).toEqual(["nothing answers (ECONNREFUSED)"]);
    } finally {
      await closed(lab);
    }
  });
});

describe("passUpgrade", () => {
  it("joins the browser's socket to the dev server's once the dev server accepts the upgrade", async () => {
    let upgradeHeaders: IncomingMessage["headers"] | undefined;
    const origin = createServer();
    origin.on("upgrade", (req: IncomingMessage, socket: Socket) => {
      upgradeHeaders = req.headers;
      socket.write(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n",
      );
      socket.pipe(socket);
    });
    const upgrades: unknown[] = [];
    const lab = passingServer(await listening(origin), [], upgrades);
    const labUrl = await listening(lab);
    const client = connect(Number(labUrl.port), "127.0.0.1");
    try {
      let received = "";
      const echoed = new Promise<void>((resolve) => {
        client.on("data", (chunk: Buffer) => {
          received += chunk.toString("latin1");
          if (received.includes("\r\n\r\n") && !received.includes("ping")) client.write("ping");
          if (received.endsWith("ping")) resolve();
        });
      });
      client.write(
        "GET /hmr HTTP/1.1\r\nHost: www.example.com\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n",
      );
      await echoed;
      expect(received).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
      expect(upgrades).toEqual([{ status: 101 }]);
      expect(upgradeHeaders).toMatchObject({
        upgrade: "echo",
        "cf-access-jwt-assertion": "lab.jwt",
      });
    } finally {
      client.destroy();
      await closed(lab);
      await closed(origin);
    }
  });

  it("answers 502 on the socket when the dev server does not answer", async () => {
    const gone = createServer();
    const goneUrl = await listening(gone);
    await closed(gone);
    const upgrades: unknown[] = [];
    const lab = passingServer(goneUrl, [], upgrades);
    const labUrl = await listening(lab);
    const client = connect(Number(labUrl.port), "127.0.0.1");
    try {
      const answer = await new Promise<string>((resolve) => {
        let text = "";
        client.on("data", (c: Buffer) => (text += c.toString()));
        client.on("end", () => resolve(text));
        client.write(
          "GET /hmr HTTP/1.1\r\nHost: www.example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        );
      });
      expect(answer).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
      expect(answer.endsWith("\r\n\r\nnothing answers (ECONNREFUSED)")).toBe(true);
      expect(upgrades).toEqual([{ failed: "nothing answers (ECONNREFUSED)" }]);
    } finally {
      client.destroy();
      await closed(lab);
    }
  });
});
