import { randomBytes } from "node:crypto";
import * as http from "node:http";
import {
  API_HOSTNAME,
  AUD,
  baseBindings,
  CLIENT_ID,
  CLIENT_SECRET,
  claims,
  expectJsonError,
  FRONTEND,
  type Harness,
  headerObject,
  newSigningKey,
  sha256,
  signHs256WithPublicKey,
  signJwt,
  startWorker,
  TEAM_DOMAIN,
  unsignedJwt,
  waitForLog,
} from "./harness";

const key = newSigningKey("key-1");
const stranger = newSigningKey("key-stranger");
const jwt = signJwt(key);

/**
 * Sends a request with its path exactly as written, bypassing client-side URL
 * normalisation; it also shows the headers as they go on the wire, which
 * `dispatchFetch` does not (it drops `Content-Length`).
 */
async function rawRequest(
  h: Harness,
  rawPath: string,
  headers: Record<string, string>,
  method = "GET",
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const base = await h.mf.ready;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: base.hostname, port: base.port, path: rawPath, method, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("proxy Worker, route prefix kept", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startWorker({ keys: [key] });
  });
  afterEach(() => h.reset());
  afterAll(async () => {
    expect(h.unexpected).toEqual([]);
    await h.dispose();
  });

  describe("routing", () => {
    it.each(["/", "/apix", "/apix/y", "/other/api", "//evil.com", "/API/x"])(
      "answers 404 for %s, outside the prefix, and forwards nothing",
      async (path) => {
        await expectJsonError(await h.fetch(path, { jwt }), 404);
        expect(h.apiCalls).toHaveLength(0);
      },
    );

    it.each([
      "/api/../x",
      "/api/%2e%2e/x",
      "/api/%2E%2E/x",
      "/api/.%2e/x",
      "/./x",
      "/%2e/x",
      "/api/..%2fx",
      "/api/%2fx",
      "/api%2fx",
      "/api/..%5cx",
      "/api/x%00",
    ])("answers 404 for the raw path %s and forwards nothing", async (rawPath) => {
      const response = await rawRequest(h, rawPath, { "cf-access-jwt-assertion": jwt });
      expect(response.status).toBe(404);
      expect(JSON.parse(response.body)).toEqual({
        error: "not found",
        requestId: expect.any(String),
      });
      expect(h.apiCalls).toHaveLength(0);
    });

    it("forwards a dot segment that stays inside the prefix to the normalised path", async () => {
      const response = await rawRequest(h, "/api/./v1/../v2/x", { "cf-access-jwt-assertion": jwt });
      expect(response.status).toBe(200);
      expect(h.apiCalls.map((c) => c.url)).toEqual([`https://${API_HOSTNAME}/api/v2/x`]);
    });

    it("forwards the prefix itself and its subpaths with the query", async () => {
      expect((await h.fetch("/api", { jwt })).status).toBe(200);
      expect((await h.fetch("/api/v1/items?q=1&r=%20", { jwt })).status).toBe(200);
      expect(h.apiCalls.map((c) => c.url)).toEqual([
        `https://${API_HOSTNAME}/api`,
        `https://${API_HOSTNAME}/api/v1/items?q=1&r=%20`,
      ]);
    });
  });

  describe("caller verification", () => {
    it("forwards nothing without an Access assertion", async () => {
      await expectJsonError(await h.fetch("/api/x"), 401);
      await expectJsonError(
        await h.fetch("/api/x", { headers: { cookie: `CF_Authorization=${jwt}` } }),
        401,
      );
      expect(h.apiCalls).toHaveLength(0);
    });

    const now = Math.floor(Date.now() / 1000);
    const forged: [string, () => string][] = [
      ["garbage", () => "not-a-jwt"],
      ["an expired token", () => signJwt(key, claims({ exp: now - 120 }))],
      ["a token not valid yet (nbf)", () => signJwt(key, claims({ nbf: now + 120 }))],
      ["a token without exp", () => signJwt(key, claims({ exp: undefined }))],
      ["the wrong aud", () => signJwt(key, claims({ aud: ["other-app"] }))],
      ["the wrong iss", () => signJwt(key, claims({ iss: "https://evil.cloudflareaccess.com" }))],
      ["an HS256 token keyed with the public key", () => signHs256WithPublicKey(key)],
      ["an unsigned alg=none token", () => unsignedJwt(key)],
      [
        "a token signed by another key under a known kid",
        () => signJwt({ ...stranger, kid: key.kid }),
      ],
      ["a token with an unknown kid", () => signJwt(stranger)],
      [
        "an RS256 token with a tampered payload",
        () => {
          const [head, , sig] = jwt.split(".");
          const body = Buffer.from(JSON.stringify(claims({ email: "root@mysite.com" }))).toString(
            "base64url",
          );
          return `${head}.${body}.${sig}`;
        },
      ],
    ];
    it.each(forged)("refuses %s with 403 and forwards nothing", async (_name, make) => {
      await expectJsonError(await h.fetch("/api/x", { jwt: make() }), 403);
      expect(h.apiCalls).toHaveLength(0);
    });

    it("accepts a valid assertion and fetches the team's keys from the certs endpoint", async () => {
      const response = await h.fetch("/api/x", { jwt });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ ok: true });
      expect(h.apiCalls).toHaveLength(1);
      expect(h.certsFetches).toBeGreaterThanOrEqual(1);
    });

    it("does not let unknown kids hammer the keys endpoint", async () => {
      await h.fetch("/api/x", { jwt }); // keys are loaded
      const before = h.certsFetches;
      for (let i = 0; i < 25; i++) {
        const forgedKey = { ...stranger, kid: `random-kid-${i}` };
        await expectJsonError(await h.fetch("/api/x", { jwt: signJwt(forgedKey) }), 403);
      }
      expect(h.certsFetches - before).toBeLessThanOrEqual(1);
      expect(h.apiCalls).toHaveLength(1);
    });

    it("accepts an email-less (service token) assertion without inventing a user", async () => {
      const token = signJwt(key, claims({ email: undefined, common_name: "ci.access", sub: "" }));
      const response = await h.fetch("/api/x", {
        jwt: token,
        headers: { "x-access-bridge-user-email": "mallory@evil.example" },
      });
      expect(response.status).toBe(200);
      expect(h.apiCalls).toHaveLength(1);
      expect(h.apiCalls[0]?.headers).not.toHaveProperty("x-access-bridge-user-email");
    });

    it("uses the incoming cf-ray as the request id", async () => {
      const response = await h.fetch("/api/x", { headers: { "cf-ray": "8f00aa-LHR" } });
      expect(await expectJsonError(response, 401)).toBe("8f00aa-LHR");
      expect(h.apiCalls).toHaveLength(0);
    });

    it("does not reflect a cf-ray that is not a ray id, in the answer or the log", async () => {
      const spoofed = '"},{"admin":true} <script>';
      const response = await h.fetch("/api/x", {
        jwt: "not-a-jwt",
        headers: { "cf-ray": spoofed },
      });
      const requestId = await expectJsonError(response, 403);
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(await waitForLog(h, (l) => l.message.includes(requestId))).toBe(true);
      expect(h.logs.map((l) => l.message).join("\n")).not.toContain("<script>");
      expect(h.apiCalls).toHaveLength(0);
    });

    it("accepts aud as a plain string and a header without typ", async () => {
      const token = signJwt(key, claims({ aud: AUD }), { typ: undefined });
      const response = await h.fetch("/api/x", { jwt: token });
      expect(response.status).toBe(200);
      expect(h.apiCalls).toHaveLength(1);
    });
  });

  describe("cross-site writes", () => {
    it.each([
      ["POST", { "sec-fetch-site": "cross-site" }],
      ["POST", { origin: "https://evil.example" }],
      ["POST", { origin: "null" }],
      ["POST", { origin: "http://app.mysite.com" }],
      ["PUT", { origin: "https://evil.example", "sec-fetch-site": "cross-site" }],
      ["DELETE", { origin: "https://evil.example" }],
      ["PATCH", { "sec-fetch-site": "cross-site", origin: FRONTEND }],
      ["POST", { "sec-fetch-site": "same-site", origin: "https://blog.mysite.com" }],
    ])("refuses %s with %j and forwards nothing", async (method, headers) => {
      const response = await h.fetch("/api/x", {
        method,
        headers,
        jwt,
        body: method === "DELETE" ? undefined : "{}",
      });
      expect(await expectJsonError(response, 403)).toBeTruthy();
      expect(h.apiCalls).toHaveLength(0);
    });

    it.each([
      ["POST", { origin: FRONTEND, "sec-fetch-site": "same-origin" }],
      ["POST", {}],
      ["GET", { origin: "https://evil.example", "sec-fetch-site": "cross-site" }],
      ["OPTIONS", { origin: "https://evil.example" }],
      ["HEAD", { origin: "https://evil.example", "sec-fetch-site": "cross-site" }],
    ])("allows %s with %j", async (method, headers) => {
      const response = await h.fetch("/api/x", {
        method,
        headers,
        jwt,
        body: method === "POST" ? "{}" : undefined,
      });
      expect(response.status).toBe(200);
      expect(h.apiCalls.map((c) => c.method)).toEqual([method]);
    });
  });

  describe("forwarding", () => {
    it("forwards method, body and ordinary headers, with the service token and the verified user", async () => {
      const response = await h.fetch("/api/v1/items?x=1", {
        method: "PUT",
        jwt,
        body: "hello",
        headers: {
          origin: FRONTEND,
          "content-type": "text/plain",
          "x-custom": "kept",
          authorization: "Bearer app-token",
        },
      });
      expect(response.status).toBe(200);
      expect(h.apiCalls).toHaveLength(1);
      const call = h.apiCalls[0]!;
      expect(call.method).toBe("PUT");
      expect(call.url).toBe(`https://${API_HOSTNAME}/api/v1/items?x=1`);
      expect(call.body.toString()).toBe("hello");
      expect(call.headers).toMatchObject({
        "content-type": "text/plain",
        "x-custom": "kept",
        authorization: "Bearer app-token",
        "cf-access-client-id": CLIENT_ID,
        "cf-access-client-secret": CLIENT_SECRET,
        "x-access-bridge-user-email": "ada@mysite.com",
      });
    });

    it("drops cookies, the assertion and client-supplied Cf-Access-Client-* headers", async () => {
      await h.fetch("/api/x", {
        jwt,
        headers: {
          cookie: "session=front-end-secret; CF_Authorization=abc",
          "cf-access-client-id": "attacker-id",
          "cf-access-client-secret": "attacker-secret",
          "cf-access-client-extra": "x",
          "proxy-authorization": "Basic Zm9vOmJhcg==",
          "x-keep": "yes",
        },
      });
      expect(h.apiCalls).toHaveLength(1);
      const headers = h.apiCalls[0]!.headers;
      expect(headers["x-keep"]).toBe("yes");
      expect(headers["cf-access-client-id"]).toBe(CLIENT_ID);
      expect(headers["cf-access-client-secret"]).toBe(CLIENT_SECRET);
      for (const name of [
        "cookie",
        "cf-access-jwt-assertion",
        "cf-access-client-extra",
        "proxy-authorization",
      ]) {
        expect(headers).not.toHaveProperty(name);
      }
    });

    it("drops hop-by-hop headers, including those Connection names", async () => {
      const response = await rawRequest(h, "/api/x", {
        "cf-access-jwt-assertion": jwt,
        connection: "x-hop",
        "x-hop": "1",
        "keep-alive": "timeout=5",
        "proxy-connection": "keep-alive",
        te: "trailers",
        "x-keep": "yes",
      });
      expect(response.status).toBe(200);
      expect(h.apiCalls).toHaveLength(1);
      const headers = h.apiCalls[0]!.headers;
      expect(headers["x-keep"]).toBe("yes");
      for (const name of ["connection", "x-hop", "keep-alive", "proxy-connection", "te"]) {
        expect(headers).not.toHaveProperty(name);
      }
    });

    it("overwrites a client-supplied user email header with the verified one", async () => {
      await h.fetch("/api/x", {
        jwt,
        headers: { "x-access-bridge-user-email": "mallory@evil.example" },
      });
      expect(h.apiCalls[0]?.headers["x-access-bridge-user-email"]).toBe("ada@mysite.com");
    });

    it("cannot be pointed elsewhere by Host, X-Forwarded-Host, Forwarded, X-Original-URL or //host", async () => {
      await h.fetch("/api/x", {
        jwt,
        headers: {
          "x-forwarded-host": "evil.com",
          host: "evil.com",
          forwarded: "host=evil.com",
          "x-original-url": "/admin",
        },
      });
      await h.fetch("/api//evil.com/x", { jwt });
      await rawRequest(h, "/api//evil.com", { host: "evil.com", "cf-access-jwt-assertion": jwt });
      expect(h.apiCalls.map((c) => new URL(c.url).host)).toEqual([
        API_HOSTNAME,
        API_HOSTNAME,
        API_HOSTNAME,
      ]);
      expect(h.apiCalls.map((c) => c.url)).toEqual([
        `https://${API_HOSTNAME}/api/x`,
        `https://${API_HOSTNAME}/api//evil.com/x`,
        `https://${API_HOSTNAME}/api//evil.com`,
      ]);
      for (const call of h.apiCalls) {
        expect(call.headers.host).toBe(API_HOSTNAME);
        expect(call.headers).not.toHaveProperty("x-forwarded-host");
        expect(call.headers).not.toHaveProperty("forwarded");
        expect(call.headers).not.toHaveProperty("x-original-url");
      }
    });

    it("does not follow the API's redirects", async () => {
      h.api = () =>
        new Response(null, { status: 302, headers: { location: "https://elsewhere.example/x" } });
      const response = await h.fetch("/api/x", { jwt });
      expect(response.status).toBe(302);
      expect(response.headers.get("location")).toBe("https://elsewhere.example/x");
      expect(h.apiCalls).toHaveLength(1);
      expect(h.unexpected).toEqual([]);
    });

    it("forwards a GET that arrives with a body, without the body", async () => {
      const response = await rawRequest(
        h,
        "/api/search?q=1",
        { "cf-access-jwt-assertion": jwt, "content-type": "application/json" },
        "GET",
        '{"ignored":true}',
      );
      expect(response.status).toBe(200);
      expect(h.apiCalls).toHaveLength(1);
      expect(h.apiCalls[0]).toMatchObject({
        method: "GET",
        url: `https://${API_HOSTNAME}/api/search?q=1`,
      });
      expect(h.apiCalls[0]!.body.length).toBe(0);
      expect(h.apiCalls[0]!.headers).not.toHaveProperty("content-length");
      expect(h.apiCalls[0]!.headers["content-type"]).toBe("application/json");
    });

    it("carries 8 MB bodies both ways intact", async () => {
      const up = randomBytes(8 * 1024 * 1024);
      const down = randomBytes(8 * 1024 * 1024);
      h.api = (request) =>
        new Response(down, {
          headers: {
            "x-received-sha256": sha256(request.body),
            "content-type": "application/octet-stream",
          },
        });
      const response = await h.fetch("/api/upload", { method: "POST", jwt, body: up });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-received-sha256")).toBe(sha256(up));
      expect(sha256(new Uint8Array(await response.arrayBuffer()))).toBe(sha256(down));
      expect(h.apiCalls).toHaveLength(1);
      expect(h.apiCalls[0]!.body.length).toBe(up.length);
    });

    it("keeps the length of a response it streams", async () => {
      const down = randomBytes(256 * 1024);
      h.api = () =>
        new Response(down, {
          headers: { "content-length": String(down.length), "x-api": "1" },
        });
      const response = await rawRequest(h, "/api/file", { "cf-access-jwt-assertion": jwt });
      expect(response.status).toBe(200);
      expect(response.headers["x-api"]).toBe("1");
      expect(response.headers["content-length"]).toBe(String(down.length));
      expect(response.headers["transfer-encoding"]).toBeUndefined();
      expect(h.apiCalls).toHaveLength(1);
    });
  });

  describe("responses", () => {
    it("passes status, headers and body through", async () => {
      h.api = () =>
        new Response("teapot", {
          status: 418,
          headers: { "x-api": "1", "content-type": "text/plain" },
        });
      const response = await h.fetch("/api/x", { jwt });
      expect(response.status).toBe(418);
      expect(response.headers.get("x-api")).toBe("1");
      expect(await response.text()).toBe("teapot");
    });

    it("drops hop-by-hop response headers, including those Connection names", async () => {
      h.api = () =>
        new Response("ok", {
          headers: {
            connection: "keep-alive, x-hop-resp",
            "x-hop-resp": "1",
            "keep-alive": "timeout=5",
            "proxy-connection": "keep-alive",
            upgrade: "h2c",
            trailer: "x-t",
            "x-api": "1",
          },
        });
      const response = await h.fetch("/api/x", { jwt });
      expect(response.headers.get("x-api")).toBe("1");
      for (const name of ["x-hop-resp", "keep-alive", "proxy-connection", "upgrade", "trailer"]) {
        expect(response.headers.has(name)).toBe(false);
      }
    });

    it("removes every Set-Cookie", async () => {
      h.api = () => {
        const headers = new Headers({ "x-api": "1" });
        headers.append("set-cookie", "a=1; Path=/");
        headers.append("set-cookie", "CF_Authorization=evil; Path=/");
        return new Response("ok", { headers });
      };
      const response = await h.fetch("/api/x", { jwt });
      expect(response.headers.get("x-api")).toBe("1");
      expect(response.headers.get("set-cookie")).toBeNull();
      expect(response.headers.getSetCookie()).toEqual([]);
    });

    it("never returns the service token, even when the API echoes it", async () => {
      h.api = (request) =>
        new Response(null, {
          status: 204,
          headers: {
            "x-echo-secret": `seen ${request.headers["cf-access-client-secret"] ?? ""}`,
            "x-echo-id": request.headers["cf-access-client-id"] ?? "",
            "x-api": "1",
          },
        });
      const response = await h.fetch("/api/x", { jwt });
      expect(response.status).toBe(204);
      expect(response.headers.get("x-api")).toBe("1");
      const all = JSON.stringify(headerObject(response.headers));
      expect(all).not.toContain(CLIENT_SECRET);
      expect(all).not.toContain(CLIENT_ID);
    });

    it.each([
      [`https://${API_HOSTNAME}/api/v1/next?x=1#f`, `${FRONTEND}/api/v1/next?x=1#f`],
      [`http://${API_HOSTNAME}/api/v1/next`, `${FRONTEND}/api/v1/next`],
      [`//${API_HOSTNAME}/api/v1/next`, `${FRONTEND}/api/v1/next`],
      ["/api/v1/relative", "/api/v1/relative"],
      ["https://elsewhere.example/api", "https://elsewhere.example/api"],
    ])("maps Location %s to %s", async (location, expected) => {
      h.api = () => new Response(null, { status: 303, headers: { location } });
      const response = await h.fetch("/api/x", { jwt });
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe(expected);
    });
  });
});

describe("proxy Worker, route prefix stripped", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startWorker({
      keys: [key],
      bindings: { ...baseBindings, STRIP_ROUTE_PREFIX: "true", ROUTE_PREFIX: "/api" },
    });
  });
  afterEach(() => h.reset());
  afterAll(async () => {
    expect(h.unexpected).toEqual([]);
    await h.dispose();
  });

  it("forwards /api/v1/x as /v1/x and /api as /", async () => {
    await h.fetch("/api/v1/x?q=1", { jwt });
    await h.fetch("/api", { jwt });
    await h.fetch("/api?q=2", { jwt });
    await h.fetch("/api/", { jwt });
    expect(h.apiCalls.map((c) => c.url)).toEqual([
      `https://${API_HOSTNAME}/v1/x?q=1`,
      `https://${API_HOSTNAME}/`,
      `https://${API_HOSTNAME}/?q=2`,
      `https://${API_HOSTNAME}/`,
    ]);
  });

  it("keeps the API host for a //host path after stripping", async () => {
    await h.fetch("/api//evil.com/x", { jwt });
    expect(h.apiCalls.map((c) => c.url)).toEqual([`https://${API_HOSTNAME}//evil.com/x`]);
  });

  it("still answers 404 outside the prefix", async () => {
    await expectJsonError(await h.fetch("/apix/v1", { jwt }), 404);
    expect(h.apiCalls).toHaveLength(0);
  });

  it("puts the prefix back on a path-only Location", async () => {
    h.api = () => new Response(null, { status: 302, headers: { location: "/v1/next?x=1" } });
    const response = await h.fetch("/api/v1/x", { jwt });
    expect(response.headers.get("location")).toBe("/api/v1/next?x=1");
  });

  it("maps an API-host Location back under the prefix", async () => {
    h.api = () =>
      new Response(null, {
        status: 302,
        headers: { location: `https://${API_HOSTNAME}/v1/next?x=1` },
      });
    const response = await h.fetch("/api/v1/x", { jwt });
    expect(response.headers.get("location")).toBe(`${FRONTEND}/api/v1/next?x=1`);
  });

  it("checks aud and iss against its own bindings", async () => {
    await expectJsonError(
      await h.fetch("/api/x", { jwt: signJwt(key, claims({ aud: AUD + "x" })) }),
      403,
    );
    await expectJsonError(
      await h.fetch("/api/x", { jwt: signJwt(key, claims({ iss: `https://${TEAM_DOMAIN}/` })) }),
      403,
    );
    expect(h.apiCalls).toHaveLength(0);
  });
});
