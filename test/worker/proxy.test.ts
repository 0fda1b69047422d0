import { randomBytes } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
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
  rawFrontendRequest,
  rawRequest,
  REDECODED_TRAVERSALS,
  expectRawJsonError,
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
      // `;` parameters hide a dot segment from the URL parser, not from Tomcat.
      "/api/..;/admin",
      "/api/.;/..;/admin",
      "/api/v1/..;jsessionid=x/..;/admin",
      // Double encoding, decoded twice by the server.
      "/api/%252e%252e%252fadmin",
      "/api/%25",
      // Overlong UTF-8 dots, slashes and backslashes, and bytes that never start UTF-8.
      "/api/%c0%ae%c0%ae/admin",
      "/api/%C0%AF",
      "/api/%e0%80%ae%e0%80%ae/admin",
      "/api/%f0%80%80%ae",
      "/api/..%c1%9cadmin",
      "/api/%fe",
      // IIS-style %u escapes.
      "/api/%u002e%u002e/admin",
      "/api/..%u002fadmin",
      "/api/..%u005cadmin",
      // Full-width and small forms, which Unicode normalisation folds to ASCII.
      "/api/%ef%bc%8e%ef%bc%8e/admin",
      "/api/..%EF%BC%8Fadmin",
      "/api/..%ef%bc%bcadmin",
      "/api/%ef%b9%92%ef%b9%92/admin",
      "/api/%e2%80%a5/admin",
      ...REDECODED_TRAVERSALS,
    ])("answers 404 for the raw path %s and forwards nothing", async (rawPath) => {
      const response = await rawRequest(h, rawPath, { "cf-access-jwt-assertion": jwt });
      expect(response.status).toBe(404);
      expect(JSON.parse(response.body)).toEqual({
        error: "not found",
        reason: "not_found",
        requestId: expect.any(String),
      });
      expect(h.apiCalls).toHaveLength(0);
    });

    it("answers 404 for raw full-width dots and solidus, as the URL parser encodes them", async () => {
      await expectJsonError(await h.fetch("/api/\uff0e\uff0e\uff0fadmin", { jwt }), 404);
      await expectJsonError(await h.fetch("/api/\uff0e\uff0e\uff3cadmin", { jwt }), 404);
      expect(h.apiCalls).toHaveLength(0);
    });

    it.each(["/api/\ufe30/admin", "/api/\ufe6a2e\ufe6a2e/admin", "/api/\uff052e\uff052e/admin"])(
      "answers 404 for the raw characters of %s, which NFKC folds to .. or %%, and forwards nothing",
      async (path) => {
        await expectJsonError(await h.fetch(path, { jwt }), 404);
        expect(h.apiCalls).toHaveLength(0);
      },
    );

    it("forwards paths that only look like the refused ones", async () => {
      const paths = [
        "/api/.well-known/x",
        "/api/v1/file.json",
        "/api/a..b/c",
        "/api/matrix;a=1/x",
        "/api/caf%C3%A9",
        "/api/%E2%82%AC",
        "/api/50%",
        "/api/100%/x%41",
        "/api/%EF%BC%A1",
      ];
      for (const path of paths) {
        expect((await rawRequest(h, path, { "cf-access-jwt-assertion": jwt })).status).toBe(200);
      }
      expect(h.apiCalls.map((c) => new URL(c.url).pathname)).toEqual(paths);
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

    it("forwards a service token's assertion with its common name and no user", async () => {
      const token = signJwt(key, claims({ email: undefined, common_name: "ci.access", sub: "" }));
      const response = await h.fetch("/api/x", {
        jwt: token,
        headers: {
          "x-access-bridge-user-email": "mallory@evil.example",
          "x-access-bridge-common-name": "admin.access",
        },
      });
      expect(response.status).toBe(200);
      expect(h.apiCalls).toHaveLength(1);
      expect(h.apiCalls[0]?.headers["x-access-bridge-common-name"]).toBe("ci.access");
      expect(h.apiCalls[0]?.headers).not.toHaveProperty("x-access-bridge-user-email");
    });

    it("sends a person's email and no common name, whatever the client adds", async () => {
      const token = signJwt(key, claims({ common_name: "ci.access" }));
      await rawRequest(h, "/api/x", {
        "cf-access-jwt-assertion": token,
        X_Access_Bridge_Common_Name: "admin.access",
        "x-access-bridge-common-name": "admin.access",
      });
      expect(h.apiCalls).toHaveLength(1);
      expect(h.apiCalls[0]?.headers["x-access-bridge-user-email"]).toBe("ada@mysite.com");
      expect(Object.keys(h.apiCalls[0]!.headers).map((n) => n.replaceAll("_", "-"))).not.toContain(
        "x-access-bridge-common-name",
      );
    });

    it.each([
      ["neither email nor common_name", { email: undefined }],
      ["an empty email", { email: "" }],
      ["an email that is not a string", { email: 42 }],
      ["an email list", { email: ["ada@mysite.com"] }],
      ["an empty common_name", { email: undefined, common_name: "" }],
      ["a common_name that is not a string", { email: undefined, common_name: { cn: "x" } }],
      ["a common_name beside an empty email", { email: "", common_name: "ci.access" }],
      // No header value can hold these, so the API could not be told who called.
      ["CR and LF in the email", { email: "ada@mysite.com\r\nx-admin: true" }],
      ["a LF in the email", { email: "ada@mysite.com\n" }],
      ["a NUL in the email", { email: "ada\u0000@mysite.com" }],
      ["a CR in the common_name", { email: undefined, common_name: "ci.access\r" }],
    ])("refuses an assertion with %s with 403 and forwards nothing", async (_name, overrides) => {
      const response = await h.fetch("/api/x", { jwt: signJwt(key, claims(overrides)) });
      await expectJsonError(response, 403);
      expect(h.apiCalls).toHaveLength(0);
    });

    describe("assertion spelling", () => {
      const [head, body, signature] = jwt.split(".") as [string, string, string];
      const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
      // A 2048-bit signature is 342 characters: the last one carries 4 unused
      // bits, so its neighbour in the alphabet decodes to the same bytes.
      const last = signature.slice(-1);
      const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
      const sameBytes = `${head}.${body}.${signature.slice(0, -1)}${sibling}`;

      it("has a sibling spelling that decodes to the same signature", () => {
        expect(signature).toHaveLength(342);
        expect(Buffer.from(sameBytes.split(".")[2]!, "base64url")).toEqual(
          Buffer.from(signature, "base64url"),
        );
      });

      it.each([
        ["padding appended", `${jwt}==`],
        ["one padding character", `${jwt}=`],
        [
          "a space inside the signature",
          `${head}.${body}.${signature.slice(0, 100)} ${signature.slice(100)}`,
        ],
        ["a different final character that decodes to the same bytes", sameBytes],
        [
          "standard base64 characters",
          `${head}.${body}.${signature.replace(/-/g, "+").replace(/_/g, "/")}`,
        ],
        ["a fourth segment", `${jwt}.${signature}`],
        ["an empty signature", `${head}.${body}.`],
        ["two segments", `${head}.${body}`],
      ])("refuses a valid token with %s with 403 and forwards nothing", async (_name, variant) => {
        expect(variant).not.toBe(jwt);
        expectRawJsonError(
          await rawRequest(h, "/api/x", { "cf-access-jwt-assertion": variant }),
          403,
        );
        expect(h.apiCalls).toHaveLength(0);
      });

      it("refuses a validly signed assertion over 8 KB and accepts one just under", async () => {
        const withPad = (n: number): string => signJwt(key, claims({ pad: "x".repeat(n) }));
        // The largest padding that keeps the token within 8192 bytes, and one more byte.
        let pad = Math.floor(((8192 - withPad(0).length) * 3) / 4) + 4;
        while (withPad(pad).length > 8192) pad--;
        const fits = withPad(pad);
        const over = withPad(pad + 1);
        expect(fits.length).toBeLessThanOrEqual(8192);
        expect(over.length).toBeGreaterThan(8192);

        expect((await h.fetch("/api/x", { jwt: fits })).status).toBe(200);
        await expectJsonError(await h.fetch("/api/x", { jwt: over }), 403);
        await expectJsonError(await h.fetch("/api/x", { jwt: withPad(30 * 1024) }), 403);
        expect(h.apiCalls).toHaveLength(1);
      });

      it("still forwards the canonical spelling", async () => {
        expect((await h.fetch("/api/x", { jwt })).status).toBe(200);
        expect(h.apiCalls).toHaveLength(1);
      });
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

  describe("cross-site requests", () => {
    // Sent as written: a client's fetch would add a Sec-Fetch-Mode of its own.
    const send = (method: string, headers: Record<string, string>) =>
      rawFrontendRequest(
        h,
        undefined,
        "/api/x",
        { "cf-access-jwt-assertion": jwt, ...headers },
        method,
        ["POST", "PUT", "PATCH"].includes(method) ? "{}" : undefined,
      );

    it.each<[string, Record<string, string>]>([
      // A page on another site reading through the person's Access cookie.
      ["GET", { "sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors" }],
      [
        "GET",
        {
          "sec-fetch-site": "cross-site",
          "sec-fetch-mode": "cors",
          origin: "https://evil.example",
        },
      ],
      ["GET", { "sec-fetch-site": "cross-site" }],
      ["GET", { "sec-fetch-site": "Cross-Site", "sec-fetch-mode": "NO-CORS" }],
      ["HEAD", { "sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors" }],
      ["OPTIONS", { "sec-fetch-site": "cross-site", "sec-fetch-mode": "cors" }],
      ["POST", { "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate" }],
      ["POST", { "sec-fetch-site": "cross-site" }],
      ["POST", { origin: "https://evil.example" }],
      ["POST", { origin: "null" }],
      ["POST", { origin: "http://app.mysite.com" }],
      ["PUT", { origin: "https://evil.example", "sec-fetch-site": "cross-site" }],
      ["DELETE", { origin: "https://evil.example" }],
      ["PATCH", { "sec-fetch-site": "cross-site", origin: FRONTEND }],
      ["POST", { "sec-fetch-site": "same-site", origin: "https://blog.mysite.com" }],
    ])("refuses %s with %j and forwards nothing", async (method, headers) => {
      const response = await send(method, headers);
      if (method === "HEAD") {
        expect(response.status).toBe(403);
        expect(response.headers["cross-origin-resource-policy"]).toBe("same-origin");
      } else {
        expect(expectRawJsonError(response, 403)).toBeTruthy();
        expect(JSON.parse(response.body).error).toBe("cross-site request refused");
      }
      expect(h.apiCalls).toHaveLength(0);
    });

    it.each([
      ["POST", { origin: FRONTEND, "sec-fetch-site": "same-origin" }],
      ["POST", {}],
      // A link to the API followed from another site: the person sees their own data.
      ["GET", { "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate" }],
      ["HEAD", { "sec-fetch-site": "cross-site", "sec-fetch-mode": "Navigate" }],
      ["GET", { origin: "https://evil.example", "sec-fetch-site": "same-site" }],
      ["GET", { "sec-fetch-site": "same-origin", "sec-fetch-mode": "cors" }],
      ["GET", { "sec-fetch-site": "none", "sec-fetch-mode": "navigate" }],
      ["OPTIONS", { origin: "https://evil.example" }],
    ] as [string, Record<string, string>][])("allows %s with %j", async (method, headers) => {
      const response = await send(method, headers);
      expect(response.status).toBe(200);
      expect(h.apiCalls.map((c) => c.method)).toEqual([method]);
      expect(h.apiCalls[0]!.headers["sec-fetch-site"]).toBe(headers["sec-fetch-site"]);
    });
  });

  describe("methods", () => {
    it("answers an unverified caller 401 or 403 before looking at the method", async () => {
      const anonymous = await rawRequest(h, "/api/x", {}, "TRACE");
      expectRawJsonError(anonymous, 401);
      expect(anonymous.headers.allow).toBeUndefined();
      const forged = await rawRequest(h, "/api/x", { "cf-access-jwt-assertion": "a.b.c" }, "TRACE");
      expectRawJsonError(forged, 403);
      expect(h.apiCalls).toHaveLength(0);
    });

    it("answers 404 outside the route whatever the method", async () => {
      expectRawJsonError(
        await rawRequest(h, "/admin", { "cf-access-jwt-assertion": jwt }, "TRACE"),
        404,
      );
      expect(h.apiCalls).toHaveLength(0);
    });

    it("forwards each allowed method as it came", async () => {
      const methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
      for (const method of methods) {
        const response = await rawRequest(h, "/api/x", { "cf-access-jwt-assertion": jwt }, method);
        expect(response.status).toBe(200);
      }
      expect(h.apiCalls.map((c) => c.method)).toEqual(methods);
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

    it("drops headers spelt with underscores as servers that fold them read them", async () => {
      const response = await rawRequest(h, "/api/x", {
        "cf-access-jwt-assertion": jwt,
        X_Access_Bridge_User_Email: "admin@mysite.com",
        "X-Access_Bridge-User_Email": "admin@mysite.com",
        X_Access_Bridge_Client_IP: "10.0.0.1",
        cf_access_client_id: "attacker-id",
        Cf_Access_Client_Secret: "attacker-secret",
        CF_ACCESS_JWT_ASSERTION: "forged",
        X_Forwarded_For: "10.0.0.1",
        x_real_ip: "10.0.0.1",
        X_HTTP_Method_Override: "DELETE",
        cf_connecting_ip: "10.0.0.1",
        cf_ipcountry: "XX",
        Transfer_Encoding: "chunked",
        x_keep_me: "yes",
      });
      expect(response.status).toBe(200);
      expect(h.apiCalls).toHaveLength(1);
      const headers = h.apiCalls[0]!.headers;
      expect(headers["x_keep_me"]).toBe("yes");
      expect(headers["x-access-bridge-user-email"]).toBe("ada@mysite.com");
      expect(headers["cf-access-client-id"]).toBe(CLIENT_ID);
      expect(headers["cf-access-client-secret"]).toBe(CLIENT_SECRET);
      const underscored = Object.keys(headers).filter((name) => name.includes("_"));
      expect(underscored).toEqual(["x_keep_me"]);
    });

    it("drops forwarding, rewriting and method-override headers and Access's other headers", async () => {
      const spoofed = {
        "x-forwarded-proto": "http",
        "x-forwarded-prefix": "/admin",
        "x-forwarded-for": "10.0.0.1",
        "x-forwarded-host": "evil.com",
        "x-forwarded-port": "8080",
        "x-forwarded-server": "evil.com",
        forwarded: "for=10.0.0.1;host=evil.com;proto=http",
        "x-original-uri": "/admin",
        "x-original-host": "evil.com",
        "x-original-url": "/admin",
        "x-rewrite-url": "/admin",
        "x-host": "evil.com",
        "x-real-ip": "10.0.0.1",
        "true-client-ip": "10.0.0.1",
        "x-http-method-override": "DELETE",
        "x-http-method": "DELETE",
        "x-method-override": "DELETE",
        "x-envoy-original-path": "/admin",
        "x-envoy-internal": "true",
        "cf-access-authenticated-user-email": "admin@mysite.com",
        "cf-access-token": "forged",
        "cf-access-client-note": "x",
      };
      const response = await rawRequest(h, "/api/x", {
        "cf-access-jwt-assertion": jwt,
        ...spoofed,
        "x-keep": "yes",
      });
      expect(response.status).toBe(200);
      expect(h.apiCalls).toHaveLength(1);
      const headers = h.apiCalls[0]!.headers;
      expect(headers["x-keep"]).toBe("yes");
      expect(headers["x-access-bridge-user-email"]).toBe("ada@mysite.com");
      expect(headers["cf-access-client-id"]).toBe(CLIENT_ID);
      for (const name of Object.keys(spoofed)) expect(headers).not.toHaveProperty(name);
      expect(
        Object.keys(headers)
          .filter((n) => n.startsWith("cf-access-"))
          .sort(),
      ).toEqual(["cf-access-client-id", "cf-access-client-secret"]);
    });

    it("tells the API the client's address from CF-Connecting-IP, in its own header", async () => {
      await h.fetch("/api/x", {
        jwt,
        headers: { "cf-connecting-ip": "203.0.113.7", "x-access-bridge-client-ip": "10.0.0.1" },
      });
      expect(h.apiCalls).toHaveLength(1);
      expect(h.apiCalls[0]!.headers["x-access-bridge-client-ip"]).toBe("203.0.113.7");
      // The runtime does not pass CF-Connecting-IP on to a subrequest.
      expect(h.apiCalls[0]!.headers).not.toHaveProperty("cf-connecting-ip");
    });

    it("drops every header another proxy puts the client's address or the scheme in, in any spelling", async () => {
      const claimed = {
        "X-Client-IP": "10.0.0.1",
        "Client-IP": "10.0.0.2",
        "X-Cluster-Client-IP": "10.0.0.3",
        "Fastly-Client-IP": "10.0.0.4",
        "X-Forwarded": "for=10.0.0.5",
        "Forwarded-For": "10.0.0.6",
        "X-Originating-IP": "10.0.0.7",
        "X-Remote-IP": "10.0.0.8",
        "X-Remote-Addr": "10.0.0.9",
        "X-ProxyUser-Ip": "10.0.0.10",
        "X-AppEngine-User-IP": "10.0.0.11",
        "X-Scheme": "http",
        "X-Url-Scheme": "http",
        "Front-End-Https": "off",
        "X-Script-Name": "/admin",
        X_Client_IP: "10.0.0.12",
        client_ip: "10.0.0.13",
        "X-Cluster_Client-IP": "10.0.0.14",
        X_Forwarded: "for=10.0.0.15",
        Forwarded_For: "10.0.0.16",
        X_Url_Scheme: "http",
        Front_End_Https: "off",
        X_Script_Name: "/admin",
      };
      const response = await rawRequest(h, "/api/x", {
        "cf-access-jwt-assertion": jwt,
        "cf-connecting-ip": "203.0.113.7",
        ...claimed,
        "x-keep": "yes",
      });
      expect(response.status).toBe(200);
      expect(h.apiCalls).toHaveLength(1);
      const headers = h.apiCalls[0]!.headers;
      expect(headers["x-keep"]).toBe("yes");
      expect(headers["x-access-bridge-client-ip"]).toBe("203.0.113.7");
      for (const name of Object.keys(claimed)) {
        expect(headers).not.toHaveProperty(name.toLowerCase());
      }
      expect(JSON.stringify(headers)).not.toMatch(/10\.0\.0\.|"http"|"off"|\/admin/);
    });

    it("asks the edge for no cached answer, on a path that is cacheable by default", async () => {
      h.api = () =>
        new Response("png", {
          headers: { "content-type": "image/png", "cache-control": "public, max-age=86400" },
        });
      const response = await h.fetch("/api/users/42/avatar.png", { jwt });
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("png");
      expect(h.apiCalls).toHaveLength(1);
      // workerd marks a `cache: "no-store"` subrequest with `Pragma`; the
      // Worker's own `Cache-Control` replaces what the client asked for.
      expect(h.apiCalls[0]!.headers).toMatchObject({
        pragma: "no-cache",
        "cache-control": "no-store",
      });
    });

    it("hands on no client-sent address when CF-Connecting-IP is absent", async () => {
      // A Worker-to-Worker call: no edge in front of it to add CF-Connecting-IP.
      const response = await (
        await h.mf.getWorker()
      ).fetch(`${FRONTEND}/api/x`, {
        headers: {
          "cf-access-jwt-assertion": jwt,
          "x-access-bridge-client-ip": "10.0.0.1",
          X_Access_Bridge_Client_Ip: "10.0.0.2",
        },
      });
      expect(response.status).toBe(200);
      expect(h.apiCalls).toHaveLength(1);
      const names = Object.keys(h.apiCalls[0]!.headers).map((n) => n.replaceAll("_", "-"));
      expect(names).toContain("x-access-bridge-user-email");
      expect(names).not.toContain("x-access-bridge-client-ip");
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
    it("marks every answer same-origin only, the API's and its own", async () => {
      h.api = (request) =>
        new Response(request.url.endsWith("/gone") ? "gone" : "{}", {
          status: request.url.endsWith("/gone") ? 404 : 200,
          headers: { "cross-origin-resource-policy": "cross-origin", "x-api": "1" },
        });
      const answers = [
        await h.fetch("/api/x", { jwt }),
        await h.fetch("/api/gone", { jwt }),
        await h.fetch("/api/x", { jwt, method: "HEAD" }),
      ];
      expect(answers.map((r) => [r.status, r.headers.get("x-api")])).toEqual([
        [200, "1"],
        [404, "1"],
        [200, "1"],
      ]);
      const own = [
        await h.fetch("/other", { jwt }),
        await h.fetch("/api/x"),
        await h.fetch("/api/x", { jwt: "a.b.c" }),
      ];
      expect(own.map((r) => r.status)).toEqual([404, 401, 403]);
      for (const response of [...answers, ...own]) {
        expect(response.headers.get("cross-origin-resource-policy")).toBe("same-origin");
      }
      expect(h.apiCalls).toHaveLength(3);
    });

    it.each([
      ["public, max-age=86400", "private, max-age=86400"],
      ["max-age=60, s-maxage=3600", "private, max-age=60"],
      ["public, s-maxage=600, proxy-revalidate, immutable", "private, immutable"],
    ])("hands the browser Cache-Control %j as %j", async (cacheControl, expected) => {
      h.api = () =>
        new Response("avatar", {
          headers: { "content-type": "image/png", "cache-control": cacheControl, "x-api": "1" },
        });
      const response = await h.fetch("/api/users/42/avatar.png", { jwt });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-api")).toBe("1");
      expect(response.headers.get("cache-control")).toBe(expected);
      expect(await response.text()).toBe("avatar");
      expect(h.apiCalls).toHaveLength(1);
    });

    it("keeps a Cache-Control that shared caches already may not use, and drops orders for CDNs", async () => {
      h.api = () =>
        new Response("{}", {
          headers: {
            "cache-control": "private, max-age=60",
            "cdn-cache-control": "public, max-age=3600",
            "cloudflare-cdn-cache-control": "max-age=3600",
            "surrogate-control": "max-age=3600",
            "x-api": "1",
          },
        });
      const response = await h.fetch("/api/users/42/report.csv", { jwt });
      expect(response.headers.get("x-api")).toBe("1");
      expect(response.headers.get("cache-control")).toBe("private, max-age=60");
      for (const name of [
        "cdn-cache-control",
        "cloudflare-cdn-cache-control",
        "surrogate-control",
      ]) {
        expect(response.headers.has(name)).toBe(false);
      }
      expect(h.apiCalls).toHaveLength(1);
    });

    it("hands the browser no header of its own and no value with the statement, whatever the API echoes", async () => {
      h.api = (request) => {
        const statement = request.headers["x-access-bridge-identity"] ?? "";
        return new Response("{}", {
          headers: {
            "x-access-bridge-identity": statement,
            x_access_bridge_user_email: request.headers["x-access-bridge-user-email"] ?? "",
            "X-Access_Bridge-Client-IP": "203.0.113.7",
            "x-echo": `Bearer ${statement}`,
            "x-signature": statement.split(".")[2] ?? "",
            "x-api": "1",
          },
        });
      };
      const response = await h.fetch("/api/x", { jwt });
      expect(response.status).toBe(200);
      expect(h.apiCalls).toHaveLength(1);
      const statement = h.apiCalls[0]!.headers["x-access-bridge-identity"]!;
      expect(statement.split(".")).toHaveLength(3);
      expect(response.headers.get("x-api")).toBe("1");
      const names = [...response.headers.keys()];
      expect(names.filter((n) => n.startsWith("x-"))).toEqual(["x-api"]);
      expect(JSON.stringify(headerObject(response.headers))).not.toContain(statement.split(".")[2]);
    });

    it.each([
      ["the secret", `Forbidden for ${CLIENT_SECRET}`],
      ["the id in upper case", `Bad token ${CLIENT_ID.toUpperCase()}`],
    ])("empties a reason phrase carrying %s", async (_what, statusText) => {
      h.api = () => new Response("no", { status: 403, statusText, headers: { "x-api": "1" } });
      const response = await h.fetch("/api/x", { jwt });
      expect(response.status).toBe(403);
      expect(response.statusText).toBe("");
      expect(response.headers.get("x-api")).toBe("1");
      expect(await response.text()).toBe("no");
      expect(h.apiCalls).toHaveLength(1);
    });

    describe("error bodies", () => {
      const debugPage = (token: string) =>
        `<html><body><h1>500</h1><pre>cf-access-client-secret: ${token}</pre></body></html>`;
      /** A body sent in small chunks with no declared length, as a streaming framework sends it. */
      const chunked = (text: string): ReadableStream<Uint8Array> => {
        const bytes = new TextEncoder().encode(text);
        let offset = 0;
        return new ReadableStream({
          pull(controller) {
            if (offset >= bytes.length) return controller.close();
            controller.enqueue(bytes.slice(offset, offset + 1000));
            offset += 1000;
          },
        });
      };
      const withheld = async (response: Response): Promise<void> => {
        const text = await response.clone().text();
        expect(JSON.parse(text)).toEqual({
          error: "bad gateway",
          reason: "upstream_leak",
          requestId: expect.any(String),
        });
        await expectJsonError(response, 502);
        expect(text.toLowerCase()).not.toContain(CLIENT_SECRET.toLowerCase());
        expect(text.toLowerCase()).not.toContain(CLIENT_ID.toLowerCase());
        expect(response.headers.has("x-api")).toBe(false);
        expect(h.apiCalls).toHaveLength(1);
      };

      it.each<[string, number, string, string]>([
        ["an HTML debug page", 500, "text/html; charset=utf-8", debugPage(CLIENT_SECRET)],
        [
          "a JSON error",
          403,
          "application/json",
          JSON.stringify({ sent: CLIENT_ID.toUpperCase() }),
        ],
        [
          "a problem document",
          404,
          "application/problem+json",
          `{"detail":"${CLIENT_SECRET.toUpperCase()}"}`,
        ],
        ["a text error", 400, "text/plain", `bad token ${CLIENT_ID}`],
        ["an error with no type", 502, "", `upstream said ${CLIENT_SECRET}`],
      ])("turns %s carrying the token into its own 502", async (_what, status, type, body) => {
        h.api = () => {
          const response = new Response(body, { status, headers: { "x-api": "1" } });
          if (type === "") response.headers.delete("content-type");
          else response.headers.set("content-type", type);
          return response;
        };
        await withheld(await h.fetch("/api/x", { jwt }));
      });

      it("reads a streamed error body of unknown length to the end before deciding", async () => {
        h.api = () =>
          new Response(chunked(`${"x".repeat(20_000)}${CLIENT_SECRET}`), {
            status: 500,
            headers: { "content-type": "text/plain", "x-api": "1" },
          });
        await withheld(await h.fetch("/api/x", { jwt }));
      });

      it("withholds a body of exactly 64 KB and streams one a byte longer", async () => {
        const sized = (bytes: number) =>
          `${CLIENT_SECRET}${"x".repeat(bytes - CLIENT_SECRET.length)}`;
        h.api = (request) =>
          new Response(sized(request.url.endsWith("/at") ? 64 * 1024 : 64 * 1024 + 1), {
            status: 500,
            headers: { "content-type": "text/plain", "x-api": "1" },
          });
        await withheld(await h.fetch("/api/at", { jwt }));
        h.apiCalls.length = 0;
        const over = await rawRequest(h, "/api/over", { "cf-access-jwt-assertion": jwt });
        expect(over.status).toBe(500);
        expect(over.headers["x-api"]).toBe("1");
        expect(over.body).toBe(sized(64 * 1024 + 1));
        expect(h.apiCalls).toHaveLength(1);
      });

      it("passes on a streamed error body longer than 64 KB whole, in order", async () => {
        const body = `${CLIENT_SECRET}${"0123456789".repeat(10_000)}end`;
        h.api = () =>
          new Response(chunked(body), { status: 503, headers: { "content-type": "text/plain" } });
        const response = await h.fetch("/api/x", { jwt });
        expect(response.status).toBe(503);
        expect(await response.text()).toBe(body);
        expect(h.apiCalls).toHaveLength(1);
      });

      it.each<[string, number, string]>([
        ["a 2xx answer", 200, "text/plain"],
        ["a binary error", 500, "application/octet-stream"],
      ])("streams %s untouched, the token included", async (_what, status, type) => {
        const body = `token ${CLIENT_SECRET}`;
        h.api = () => new Response(body, { status, headers: { "content-type": type } });
        const response = await h.fetch("/api/x", { jwt });
        expect(response.status).toBe(status);
        expect(await response.text()).toBe(body);
        expect(h.apiCalls).toHaveLength(1);
      });

      it("streams an error body declared longer than 64 KB untouched", async () => {
        const body = `${CLIENT_SECRET}${"x".repeat(100_000)}`;
        h.api = () =>
          new Response(body, {
            status: 500,
            headers: { "content-type": "text/html", "content-length": String(body.length) },
          });
        const response = await h.fetch("/api/x", { jwt });
        expect(response.status).toBe(500);
        expect(await response.text()).toBe(body);
        expect(h.apiCalls).toHaveLength(1);
      });
    });

    it("keeps any other reason phrase", async () => {
      h.api = () => new Response("teapot", { status: 418, statusText: "Short And Stout" });
      const response = await h.fetch("/api/x", { jwt });
      expect(response.status).toBe(418);
      expect(response.statusText).toBe("Short And Stout");
      expect(h.apiCalls).toHaveLength(1);
    });

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

    it("drops every Access-Control-* header the API sends", async () => {
      h.api = () =>
        new Response("{}", {
          headers: {
            "access-control-allow-origin": "https://evil.example",
            "access-control-allow-credentials": "true",
            "access-control-expose-headers": "x-api",
            "access-control-allow-methods": "GET, POST",
            "access-control-allow-headers": "content-type",
            "access-control-max-age": "600",
            access_control_allow_origin: "https://evil.example",
            vary: "Origin",
            "x-api": "1",
          },
        });
      const response = await h.fetch("/api/x", {
        jwt,
        headers: { origin: "https://evil.example" },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-api")).toBe("1");
      expect(response.headers.get("vary")).toBe("Origin");
      const names = [...response.headers.keys()].map((n) => n.replaceAll("_", "-"));
      expect(names.filter((n) => n.startsWith("access-control-"))).toEqual([]);
      expect(h.apiCalls).toHaveLength(1);
    });

    it("drops a header carrying the token in any letter case, in its value or its name", async () => {
      h.api = () => {
        const headers = new Headers({ "x-api": "1" });
        headers.set("x-echo-secret", CLIENT_SECRET.toUpperCase());
        headers.set("x-echo-id", `id=${CLIENT_ID.toUpperCase()}`);
        headers.set(
          "x-mixed",
          `Bearer ${CLIENT_SECRET.slice(0, 5).toUpperCase()}${CLIENT_SECRET.slice(5)}`,
        );
        headers.set(`x-${CLIENT_SECRET}`, "1");
        headers.set(`x-seen-${CLIENT_ID}`, "1");
        return new Response("ok", { headers });
      };
      const response = await h.fetch("/api/x", { jwt });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-api")).toBe("1");
      const all = JSON.stringify(headerObject(response.headers)).toLowerCase();
      expect(all).not.toContain(CLIENT_SECRET.toLowerCase());
      expect(all).not.toContain(CLIENT_ID.toLowerCase());
      expect([...response.headers.keys()].filter((n) => n.startsWith("x-"))).toEqual(["x-api"]);
    });

    it.each([
      [`https://${API_HOSTNAME}/api/v1/next?x=1#f`, `${FRONTEND}/api/v1/next?x=1#f`],
      [`https://${API_HOSTNAME}./api/x`, `${FRONTEND}/api/x`],
      [`https://${API_HOSTNAME.toUpperCase()}.:443/api/x`, `${FRONTEND}/api/x`],
      [`https:/\t/${API_HOSTNAME}/api/x`, `${FRONTEND}/api/x`],
      [`ht\ttps://${API_HOSTNAME}/api/x`, `${FRONTEND}/api/x`],
      [`https://api.my\tsite.com/api/x`, `${FRONTEND}/api/x`],
      [`http:${API_HOSTNAME}/api/x`, `${FRONTEND}/api/x`],
      [`https:\\\\${API_HOSTNAME}/api/x`, `${FRONTEND}/api/x`],
      [`http://${API_HOSTNAME}/api/v1/next`, `${FRONTEND}/api/v1/next`],
      [`//${API_HOSTNAME}/api/v1/next`, `${FRONTEND}/api/v1/next`],
      ["/api/v1/relative", "/api/v1/relative"],
      ["https://elsewhere.example/api", "https://elsewhere.example/api"],
      [`https://${API_HOSTNAME}.evil.example/x`, `https://${API_HOSTNAME}.evil.example/x`],
      [`https://${API_HOSTNAME}:8443/x`, `https://${API_HOSTNAME}:8443/x`],
      // Same scheme, no slashes: a browser reads a path on the front end.
      [`https:${API_HOSTNAME}/x`, `https:${API_HOSTNAME}/x`],
    ])("maps Location %s to %s", async (location, expected) => {
      h.api = () => new Response(null, { status: 303, headers: { location } });
      const response = await h.fetch("/api/x", { jwt });
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe(expected);
    });

    it("maps each Link target on the API host, and no quoted parameter", async () => {
      const link = [
        `<https://${API_HOSTNAME}/api/items?page=2>; rel="next"`,
        `<//${API_HOSTNAME}./api/items?page=9>; rel="last"; title="<https://${API_HOSTNAME}/x>"`,
        "<https://elsewhere.example/help>; rel=help",
        "</api/items?page=1>; rel=first",
      ].join(", ");
      h.api = () => new Response("[]", { headers: { link, "x-api": "1" } });
      const response = await h.fetch("/api/items", { jwt });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-api")).toBe("1");
      expect(response.headers.get("link")).toBe(
        [
          `<${FRONTEND}/api/items?page=2>; rel="next"`,
          `<${FRONTEND}/api/items?page=9>; rel="last"; title="<https://${API_HOSTNAME}/x>"`,
          "<https://elsewhere.example/help>; rel=help",
          "</api/items?page=1>; rel=first",
        ].join(", "),
      );
      expect(h.apiCalls).toHaveLength(1);
    });

    it("maps Content-Location and a Refresh URL as it maps Location", async () => {
      h.api = () =>
        new Response("{}", {
          status: 201,
          headers: {
            "content-location": `https://${API_HOSTNAME}./api/items/7`,
            refresh: `5; url=https://${API_HOSTNAME}/api/next`,
            "x-api": "1",
          },
        });
      const response = await h.fetch("/api/items", { jwt, method: "POST", body: "{}" });
      expect(response.status).toBe(201);
      expect(response.headers.get("x-api")).toBe("1");
      expect(response.headers.get("content-location")).toBe(`${FRONTEND}/api/items/7`);
      expect(response.headers.get("refresh")).toBe(`5; url=${FRONTEND}/api/next`);
    });

    it.each([
      [`0;URL='https://${API_HOSTNAME}/api/a'`, `0;URL='${FRONTEND}/api/a'`],
      [`3, url = "http://${API_HOSTNAME}./api/b"`, `3, url = "${FRONTEND}/api/b"`],
      [`1; https://${API_HOSTNAME}/api/c`, `1; ${FRONTEND}/api/c`],
      ["5; url=https://elsewhere.example/x", "5; url=https://elsewhere.example/x"],
      ["5", "5"],
    ])("maps Refresh %s to %s", async (refresh, expected) => {
      h.api = () => new Response("ok", { headers: { refresh } });
      const response = await h.fetch("/api/x", { jwt });
      expect(response.headers.get("refresh")).toBe(expected);
    });
  });
});

describe("proxy Worker, the API reached over HTTP", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startWorker({ keys: [key], apiOverHttp: true });
  });
  afterEach(() => h.reset());
  afterAll(async () => {
    expect(h.unexpected).toEqual([]);
    await h.dispose();
  });
  const gzipped = (status: number, body: string) => () =>
    new Response(gzipSync(Buffer.from(body)), {
      status,
      headers: { "content-type": "text/html", "content-encoding": "gzip", "x-api": "1" },
    });

  it("reads a compressed error body decoded, and withholds one carrying the token", async () => {
    h.api = gzipped(500, `<pre>cf-access-client-id: ${CLIENT_ID}</pre>`);
    const response = await rawRequest(h, "/api/x", { "cf-access-jwt-assertion": jwt });
    expectRawJsonError(response, 502);
    expect(JSON.parse(response.body).error).toBe("bad gateway");
    expect(response.body).not.toContain(CLIENT_ID);
    expect(response.headers["x-api"]).toBeUndefined();
    expect(h.apiCalls).toHaveLength(1);
    expect(h.apiCalls[0]!.headers["cf-access-client-id"]).toBe(CLIENT_ID);
  });

  it("passes on a compressed error body without the token, coded as it came", async () => {
    const body = "<h1>No such item</h1>";
    h.api = gzipped(404, body);
    const response = await rawRequest(h, "/api/items/42", {
      "cf-access-jwt-assertion": jwt,
      "accept-encoding": "gzip",
    });
    expect(response.status).toBe(404);
    expect(response.headers["x-api"]).toBe("1");
    expect(response.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(response.bytes).toString()).toBe(body);
    expect(h.apiCalls).toHaveLength(1);
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

  it("puts the prefix back on a path-only Content-Location and Refresh URL", async () => {
    h.api = () =>
      new Response("ok", {
        headers: { "content-location": "/v1/items/7", refresh: "0; url=/v1/next" },
      });
    const response = await h.fetch("/api/v1/items", { jwt });
    expect(response.headers.get("content-location")).toBe("/api/v1/items/7");
    expect(response.headers.get("refresh")).toBe("0; url=/api/v1/next");
  });

  it("maps an API-host Location with a trailing dot back under the prefix", async () => {
    h.api = () =>
      new Response(null, { status: 302, headers: { location: `https://${API_HOSTNAME}./v1/x` } });
    const response = await h.fetch("/api/v1/x", { jwt });
    expect(response.headers.get("location")).toBe(`${FRONTEND}/api/v1/x`);
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

describe("proxy Worker, methods outside the forwarded set", () => {
  let h: Harness;
  beforeAll(async () => {
    // The API stand-in that takes any method: Node's fetch will not build a
    // TRACE, so the usual one could not even record it. It records the
    // request, then drops the connection.
    h = await startWorker({ keys: [key], apiNetworkFailure: true });
  });
  afterEach(() => h.reset());
  afterAll(async () => {
    expect(h.unexpected).toEqual([]);
    await h.dispose();
  });
  const allow = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

  it.each(["TRACE", "PROPFIND", "PROPPATCH", "MKCOL", "PURGE", "COPY", "MOVE", "LOCK", "SEARCH"])(
    "refuses %s from a verified caller with 405 and Allow, and forwards nothing",
    async (method) => {
      const response = await rawRequest(h, "/api/x", { "cf-access-jwt-assertion": jwt }, method);
      expectRawJsonError(response, 405);
      expect(response.headers.allow).toBe(allow);
      expect(JSON.parse(response.body).error).toBe("method not allowed");
      expect(h.apiCalls).toHaveLength(0);
    },
  );
});
