import { privateCacheControl } from "../../worker/src/cache-control";
import { isCrossSite } from "../../worker/src/csrf";
import {
  ConfigError,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  parseRoutePrefix,
  parseTimeout,
  readConfig,
} from "../../worker/src/env";
import { isWellFormedAssertion } from "../../worker/src/assertion";
import {
  canonicalName,
  tokenFinder,
  CLIENT_IP_HEADER,
  COMMON_NAME_HEADER,
  readRequestHeaders,
  responseChanges,
  rewriteRequestHeaders,
  USER_EMAIL_HEADER,
} from "../../worker/src/headers";
import { identityOf } from "../../worker/src/identity";
import type { JSONWebKeySet } from "jose";
import {
  KEYS_COOLDOWN_MS,
  KEYS_MAX_AGE_MS,
  TeamKeys,
  type KeyFinder,
} from "../../worker/src/key-set";
import { isForwardedMethod } from "../../worker/src/methods";
import { rewriteLocation, rewriteRefresh } from "../../worker/src/redirects";
import { requestIdOf } from "../../worker/src/request-id";
import { TokenCache } from "../../worker/src/token-cache";
import { checkedClaims } from "../../worker/src/verify";
import { HttpError } from "../../worker/src/errors";
import { hasTraversal, isInsidePrefix, upstreamPath } from "../../worker/src/route";
import { forwardedBody, upstreamUrl } from "../../worker/src/upstream";
import { headerObject, newSigningKey, REDECODED_TRAVERSALS } from "./harness";

const token = { clientId: "id-1", clientSecret: "secret-1" };

describe("route predicates", () => {
  it("puts exactly the prefix and its subpaths inside it", () => {
    expect(["/api", "/api/", "/api/v1/x"].map((p) => isInsidePrefix(p, "/api"))).toEqual([
      true,
      true,
      true,
    ]);
    expect(["/apix", "/", "/ap", "/x/api"].map((p) => isInsidePrefix(p, "/api"))).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it("flags encoded separators and dots, ;-hidden dot segments and Unicode lookalikes", () => {
    const flagged = [
      "/api/..%2fx",
      "/api/%2E%2E",
      "/api/%5c",
      "/api/a%2Fb",
      "/api/..;/admin",
      "/api/.;/x",
      "/api/x/..",
      "/api/%252e",
      "/api/%c0%AE",
      "/api/%C1%9C",
      "/api/%e0%80%af",
      "/api/%F0%80%80%AE",
      "/api/%u002E",
      "/api/%ef%bc%8e",
      "/api/%EF%BC%8F",
      "/api/%ef%bc%bc",
      "/api/\uff0e\uff0e/admin",
      "/api/..\uff0fadmin",
      "/api/..\uff3cadmin",
      ...REDECODED_TRAVERSALS,
      "/api/\ufe30/admin",
      "/api/\ufe6a2e\ufe6a2e/admin",
      "/api/%E2%80%A6",
      "/api/x%%30%30",
      "/api/a%2%66b",
    ];
    expect(flagged.filter((path) => !hasTraversal(path))).toEqual([]);
    const passed = [
      "/api/v1/a%20b",
      "/api/.well-known/x",
      "/api/a..b",
      "/api/x;v=1/y",
      "/api/%C3%A9",
      "/api/%E2%82%AC",
      "/api/%ef%bc%a1",
      "/api/50%",
      "/api/100%/x%41",
      "/api/cafe%CC%81",
      "/api/%E2%91%A0",
    ];
    expect(passed.filter(hasTraversal)).toEqual([]);
  });

  it("refuses a path that still changes after eight rounds of decoding", () => {
    // `%41` spelt `%%34%31`: its hex digits escaped, one more round to decode.
    const hex = (c: string): string => c.charCodeAt(0).toString(16);
    const deeper = (path: string): string =>
      path.replace(/%([\da-f])([\da-f])/gi, (_m, a: string, b: string) => `%%${hex(a)}%${hex(b)}`);
    let path = "/api/%41";
    for (let depth = 0; depth < 6; depth++) path = deeper(path);
    // Seven rounds that change it, and an eighth that shows it stopped.
    expect(hasTraversal(path)).toBe(false);
    expect(hasTraversal(deeper(path))).toBe(true);
  });

  it("strips the prefix only when asked, never leaving an empty path", () => {
    expect(upstreamPath("/api/v1/x", "/api", true)).toBe("/v1/x");
    expect(upstreamPath("/api", "/api", true)).toBe("/");
    expect(upstreamPath("/api/v1/x", "/api", false)).toBe("/api/v1/x");
  });

  it("builds upstream URLs on the constant host only", () => {
    expect(upstreamUrl("api.mysite.com", "//evil.com/x", "?a=1")).toBe(
      "https://api.mysite.com//evil.com/x?a=1",
    );
    expect(() => upstreamUrl("api.mysite.com", "@evil.com/x", "")).toThrow();
  });

  it.each(["//evil.com/x", "/@evil.com", "/\\evil.com", "/..//evil.com:443/x", "/%2f%2fevil.com"])(
    "keeps the API host for the path %s",
    (path) => {
      expect(new URL(upstreamUrl("api.mysite.com", path, "?q=1")).host).toBe("api.mysite.com");
    },
  );
});

describe("bindings", () => {
  const complete = {
    CF_ACCESS_CLIENT_ID: "id",
    CF_ACCESS_CLIENT_SECRET: "secret",
    IDENTITY_SIGNING_KEY: "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
    API_HOSTNAME: "API.mysite.com",
    ACCESS_TEAM_DOMAIN: "team.cloudflareaccess.com",
    ACCESS_AUD: "aud",
  };

  it("applies defaults", () => {
    expect(readConfig(complete)).toMatchObject({
      apiHostname: "api.mysite.com",
      routePrefix: "/api",
      stripRoutePrefix: false,
      upstreamTimeoutMs: 30000,
    });
  });

  it("strips the prefix for a string or JSON true only", () => {
    expect(readConfig({ ...complete, STRIP_ROUTE_PREFIX: "true" }).stripRoutePrefix).toBe(true);
    expect(readConfig({ ...complete, STRIP_ROUTE_PREFIX: true }).stripRoutePrefix).toBe(true);
    for (const value of ["false", "1", "yes", false, undefined]) {
      expect(readConfig({ ...complete, STRIP_ROUTE_PREFIX: value }).stripRoutePrefix).toBe(false);
    }
  });

  it("names a missing binding without its value", () => {
    expect(() => readConfig({ ...complete, CF_ACCESS_CLIENT_SECRET: " " })).toThrow(
      new ConfigError("binding CF_ACCESS_CLIENT_SECRET is missing or empty"),
    );
  });

  it("falls back to the default timeout for anything but a positive integer", () => {
    expect(parseTimeout("2500")).toBe(2500);
    expect(parseTimeout(1200)).toBe(1200);
    for (const bad of ["", "abc", "0", "-5", "1.5", undefined, null, {}]) {
      expect(parseTimeout(bad)).toBe(DEFAULT_UPSTREAM_TIMEOUT_MS);
    }
  });

  it("normalises the route prefix and refuses one that is not a path", () => {
    expect(parseRoutePrefix(undefined)).toBe("/api");
    expect(parseRoutePrefix("/v2/")).toBe("/v2");
    // The one check the program's config uses too: a leading slash is added, the root refused.
    expect(parseRoutePrefix("api")).toBe("/api");
    for (const bad of ["/", "/api/*", "/api?x", "/a%2fb"]) {
      expect(() => parseRoutePrefix(bad)).toThrow(ConfigError);
    }
    expect(() => parseRoutePrefix("/api/*")).toThrow(
      "binding ROUTE_PREFIX must be a path like /api",
    );
  });
});

describe("upstream request headers", () => {
  const person = { email: "ada@mysite.com" };

  it("reads a name as servers that fold underscores do", () => {
    expect(canonicalName("x_access_bridge_user_email")).toBe(USER_EMAIL_HEADER);
    expect(canonicalName("cf_access-client_id")).toBe("cf-access-client-id");
    expect(canonicalName("accept")).toBe("accept");
  });

  it("drops hop-by-hop, connection-listed, front-end and Access headers, then adds its own", () => {
    const incoming = new Headers({
      connection: "keep-alive, x-hop",
      "x-hop": "1",
      "keep-alive": "timeout=5",
      "proxy-connection": "keep-alive",
      te: "trailers",
      trailer: "x-t",
      "transfer-encoding": "chunked",
      upgrade: "websocket",
      "proxy-authorization": "Basic x",
      cookie: "a=1",
      host: "evil.com",
      "x-forwarded-host": "evil.com",
      "x-forwarded-for": "10.0.0.1",
      forwarded: "host=evil.com;proto=https",
      "x-original-url": "/admin",
      "x-rewrite-url": "/admin",
      "x-host": "evil.com",
      "x-real-ip": "10.0.0.1",
      "true-client-ip": "10.0.0.1",
      "x-http-method-override": "DELETE",
      "x-http-method": "DELETE",
      "x-method-override": "DELETE",
      "x-envoy-original-path": "/admin",
      "cf-access-jwt-assertion": "jwt",
      "cf-access-client-id": "attacker",
      "cf-access-client-secret": "attacker",
      "cf-access-authenticated-user-email": "admin@mysite.com",
      [USER_EMAIL_HEADER]: "mallory@evil.example",
      [COMMON_NAME_HEADER]: "admin.access",
      [CLIENT_IP_HEADER]: "10.0.0.1",
      "x-access-bridge-identity": "forged.statement.sig",
      x_access_bridge_identity: "forged.statement.sig",
      x_access_bridge_user_email: "mallory@evil.example",
      cf_access_client_secret: "attacker",
      cf_connecting_ip: "10.0.0.1",
      "cf-connecting_ip": "10.0.0.1",
      x_forwarded_for: "10.0.0.1",
      "x-envoy_original_path": "/admin",
      keep_alive: "timeout=5",
      proxy_authorization: "Basic x",
      x_http_method_override: "DELETE",
      "x-client-ip": "10.0.0.1",
      client_ip: "10.0.0.1",
      "x-cluster-client-ip": "10.0.0.1",
      "fastly-client-ip": "10.0.0.1",
      "x-forwarded": "for=10.0.0.1",
      forwarded_for: "10.0.0.1",
      "x-originating-ip": "10.0.0.1",
      "x-remote-ip": "10.0.0.1",
      X_Remote_Addr: "10.0.0.1",
      "x-proxyuser-ip": "10.0.0.1",
      "x-appengine-user-ip": "10.0.0.1",
      "x-scheme": "http",
      x_url_scheme: "http",
      "front-end-https": "off",
      "x-script-name": "/admin",
      "cf-ipcountry": "GB",
      accept: "application/json",
      "cache-control": "max-age=0",
    });
    rewriteRequestHeaders(
      incoming,
      readRequestHeaders(incoming).dropped,
      token,
      person,
      "signed.statement.for-ada",
      "203.0.113.7",
    );
    expect(headerObject(incoming)).toEqual({
      accept: "application/json",
      "cf-ipcountry": "GB",
      "cf-access-client-id": "id-1",
      "cf-access-client-secret": "secret-1",
      "x-access-bridge-identity": "signed.statement.for-ada",
      [USER_EMAIL_HEADER]: "ada@mysite.com",
      [CLIENT_IP_HEADER]: "203.0.113.7",
      "cache-control": "no-store",
    });
  });

  it("keeps what the API may see, CSRF markers and underscored names of its own included", () => {
    const incoming = new Headers({
      origin: "https://app.mysite.com",
      "sec-fetch-site": "same-origin",
      "content-type": "application/json",
      authorization: "Bearer api-token",
      x_request_id: "r-1",
      "cf-ray": "8f00aa11bb22cc33-LHR",
      "x-client-ip-note": "not the address",
      "x-scheme-version": "2",
      hostname: "not host",
      tes: "not te",
      cookies: "not cookie",
      cfx_y: "not a cf-* name",
      "x-cookie": "not cookie",
    });
    expect(readRequestHeaders(incoming).dropped).toEqual([]);
  });

  it("names a service token by its common name and sends no user", () => {
    const incoming = new Headers({ [USER_EMAIL_HEADER]: "x", [CLIENT_IP_HEADER]: "10.0.0.1" });
    rewriteRequestHeaders(
      incoming,
      readRequestHeaders(incoming).dropped,
      token,
      { commonName: "ci.access" },
      "signed.statement.for-ci",
      undefined,
    );
    expect(incoming.get(COMMON_NAME_HEADER)).toBe("ci.access");
    expect(incoming.has(USER_EMAIL_HEADER)).toBe(false);
    expect(incoming.has(CLIENT_IP_HEADER)).toBe(false);
  });
});

describe("response headers", () => {
  const signature = "c2lnbmF0dXJlLW9mLXRoZS1zdGF0ZW1lbnQ";
  const changesOf = (headers: Headers, of = token) =>
    responseChanges(headers, tokenFinder(of), signature);

  it("leaves a clean response's headers alone", () => {
    const headers = new Headers({
      "content-type": "application/json",
      "cache-control": "no-store",
      connection: "keep-alive",
      "keep-alive": "timeout=5",
      "transfer-encoding": "chunked",
      vary: "Origin",
    });
    expect(changesOf(headers)).toEqual({ dropped: [], urls: [], cacheControl: undefined });
  });

  it("drops cookies, CORS, CDN cache orders, the token in any case or place, and hop-by-hop headers the runtime keeps", () => {
    const headers = new Headers({
      // The runtime writes Connection and Keep-Alive itself; x-conn is only named here.
      connection: "keep-alive, x-conn",
      "x-conn": "1",
      "proxy-connection": "keep-alive",
      "x-echo": "SECRET-1",
      "x-echo-id": "prefix Id-1 suffix",
      "x-seen-secret-1": "yes",
      "access-control-allow-origin": "https://evil.example",
      "access-control-allow-credentials": "true",
      access_control_expose_headers: "x-echo",
      "cdn-cache-control": "max-age=600",
      "cloudflare-cdn-cache-control": "max-age=600",
      "surrogate-control": "max-age=600",
      "content-type": "text/plain",
    });
    headers.append("set-cookie", "a=1");
    headers.append("set-cookie", "b=2");
    const changes = changesOf(headers);
    expect(new Set(changes.dropped)).toEqual(
      new Set([
        "x-conn",
        "proxy-connection",
        "x-echo",
        "x-echo-id",
        "x-seen-secret-1",
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access_control_expose_headers",
        "cdn-cache-control",
        "cloudflare-cdn-cache-control",
        "surrogate-control",
        "set-cookie",
      ]),
    );
    expect(changes.urls).toEqual([]);
  });

  it("drops the Worker's own headers in any spelling, and any value carrying the statement", () => {
    const headers = new Headers({
      "x-access-bridge-identity": "anything",
      x_access_bridge_user_email: "ada@mysite.com",
      "X-Access_Bridge-Client-IP": "203.0.113.7",
      "x-debug": `seen: Bearer head.body.${signature} (and more)`,
      "x-access-bridged": "not ours",
      "x-api": "1",
    });
    expect(new Set(changesOf(headers).dropped)).toEqual(
      new Set([
        "x-access-bridge-identity",
        "x_access_bridge_user_email",
        "x-access_bridge-client-ip",
        "x-debug",
      ]),
    );
  });

  it("treats the token's characters literally", () => {
    const dotted = { clientId: "a.b", clientSecret: "(s+)" };
    expect(changesOf(new Headers({ "x-a": "axb", "x-b": "ssss" }), dotted).dropped).toEqual([]);
    expect(changesOf(new Headers({ "x-a": "A.B", "x-b": "(S+)" }), dotted).dropped).toEqual([
      "x-a",
      "x-b",
    ]);
  });

  it("hands back the URL headers to map, Link among them", () => {
    const changes = changesOf(
      new Headers({
        location: "/v1/next",
        "content-location": "/v1/x",
        refresh: "0; url=/v1/y",
        link: "</v1/z>; rel=next",
      }),
    );
    expect(changes).toEqual({
      dropped: [],
      urls: [
        ["content-location", "/v1/x"],
        ["link", "</v1/z>; rel=next"],
        ["location", "/v1/next"],
        ["refresh", "0; url=/v1/y"],
      ],
      cacheControl: undefined,
    });
  });

  it("hands back a shareable Cache-Control made private", () => {
    expect(changesOf(new Headers({ "cache-control": "public, max-age=60" })).cacheControl).toBe(
      "private, max-age=60",
    );
  });
});

describe("Cache-Control for the browser", () => {
  it.each([
    ["public", "private"],
    ["public, max-age=60", "private, max-age=60"],
    ["max-age=60, s-maxage=600", "private, max-age=60"],
    ["PUBLIC,S-MAXAGE=600,must-revalidate", "private, must-revalidate"],
    ["public, max-age=60, s-maxage=600, proxy-revalidate", "private, max-age=60"],
    [
      'public, no-cache="set-cookie, x-a", max-age=5',
      'private, no-cache="set-cookie, x-a", max-age=5',
    ],
    ['public, private="set-cookie"', "private"],
    ["s-maxage = 600", "private"],
  ])("makes %j %j", (value, expected) => {
    expect(privateCacheControl(value)).toBe(expected);
  });

  it.each([
    "no-store",
    "private, max-age=60",
    "max-age=60",
    "no-cache",
    'no-cache="public"',
    "publicity=1",
    "",
  ])("leaves %j alone", (value) => {
    expect(privateCacheControl(value)).toBeUndefined();
  });
});

describe("redirect mapping", () => {
  const frontEnd = (pathPrefix: string) => ({
    apiHostname: "api.mysite.com",
    origin: "https://app.mysite.com",
    pathPrefix,
  });
  const map = (location: string, prefix = "/api"): string =>
    rewriteLocation(location, frontEnd(prefix));

  it("maps a Location on the API host, in any spelling, to the front end's route", () => {
    expect(map("https://api.mysite.com/v1?x=1#f")).toBe("https://app.mysite.com/api/v1?x=1#f");
    expect(map("http://API.mysite.com:80/v1")).toBe("https://app.mysite.com/api/v1");
    expect(map("//api.mysite.com/v1")).toBe("https://app.mysite.com/api/v1");
    expect(map("https:\\\\api.mysite.com/v1")).toBe("https://app.mysite.com/api/v1");
    expect(map("https://api.mysite.com./v1")).toBe("https://app.mysite.com/api/v1");
    expect(map("https:/\t/api.mysite.com/v1")).toBe("https://app.mysite.com/api/v1");
    expect(map("\x01https://api.mysite.com\r\n/v1")).toBe("https://app.mysite.com/api/v1");
    expect(map("http:api.mysite.com/v1")).toBe("https://app.mysite.com/api/v1");
    expect(map("https://user@api.mysite.com/v1")).toBe("https://app.mysite.com/api/v1");
    expect(map("/v1/next?x=1")).toBe("/api/v1/next?x=1");
    expect(map("/api/v1/next", "")).toBe("/api/v1/next");
    expect(map("https://api.mysite.com/v1", "")).toBe("https://app.mysite.com/v1");
  });

  it("leaves other hosts and relative URLs alone", () => {
    for (const location of [
      "https://api.mysite.com.evil.com/",
      "https://api.mysite.com..//x",
      "https://api.mysite.com:8443/x",
      "https://evil.com/?next=https://api.mysite.com/",
      "//evil.com/x",
      "/\\evil.com/x",
      "/\t/evil.com/x",
      "https:api.mysite.com/x",
      "next",
      "mailto:ops@mysite.com",
      "ftp://api.mysite.com/x",
    ]) {
      expect(map(location)).toBe(location);
    }
  });

  it("maps the URL of a Refresh header and keeps the rest of it", () => {
    const refresh = (value: string): string => rewriteRefresh(value, frontEnd("/api"));
    expect(refresh("5; url=https://api.mysite.com/v1")).toBe(
      "5; url=https://app.mysite.com/api/v1",
    );
    expect(refresh("0;URL='https://api.mysite.com./v1'")).toBe(
      "0;URL='https://app.mysite.com/api/v1'",
    );
    expect(refresh('2, url="/v1/x" ')).toBe('2, url="/api/v1/x" ');
    expect(refresh("1; //api.mysite.com/v1")).toBe("1; https://app.mysite.com/api/v1");
    for (const value of ["5", "5; url=", "5; url=https://elsewhere.example/", "0; url=next"]) {
      expect(refresh(value)).toBe(value);
    }
  });
});

describe("forwarded body", () => {
  it("drops a GET or HEAD body and keeps any other", () => {
    const body = new ReadableStream();
    expect(forwardedBody("GET", body)).toBeNull();
    expect(forwardedBody("head", body)).toBeNull();
    expect(forwardedBody("POST", body)).toBe(body);
    expect(forwardedBody("patch", body)).toBe(body);
  });
});

describe("request id", () => {
  const withRay = (ray: string): Request =>
    new Request("https://app.mysite.com/api", { headers: { "cf-ray": ray } });
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

  it("uses a ray id as it is", () => {
    expect(requestIdOf(withRay("8f00aa11bb22cc33-LHR"))).toBe("8f00aa11bb22cc33-LHR");
  });

  it("replaces a missing or odd cf-ray with a fresh id", () => {
    expect(requestIdOf(new Request("https://app.mysite.com/api"))).toMatch(uuid);
    for (const ray of ['x"}, {"error', "a b", "<script>", "x".repeat(65), "ray\u00e9"]) {
      expect(requestIdOf(withRay(ray))).toMatch(uuid);
    }
  });
});

describe("cross-site predicate", () => {
  const own = "https://app.mysite.com";
  // What the rule reads of a request: its method as sent and what the one
  // header pass picked up.
  const check = (method: string, headers: Record<string, string>): boolean =>
    isCrossSite(method, readRequestHeaders(new Headers(headers)), own);

  it("refuses unsafe methods from another site and allows the rest", () => {
    expect(check("POST", { origin: "https://evil.example" })).toBe(true);
    expect(check("POST", { "sec-fetch-site": "cross-site", origin: own })).toBe(true);
    expect(check("POST", { origin: own, "sec-fetch-site": "same-origin" })).toBe(false);
    expect(check("POST", {})).toBe(false);
    expect(check("GET", { origin: "https://evil.example" })).toBe(false);
  });

  it("refuses a same-site sibling, an opaque origin and a lower-case method", () => {
    expect(
      check("POST", { origin: "https://blog.mysite.com", "sec-fetch-site": "same-site" }),
    ).toBe(true);
    expect(check("POST", { origin: "null" })).toBe(true);
    expect(check("patch", { origin: "https://evil.example" })).toBe(true);
    expect(check("options", { origin: "https://evil.example" })).toBe(false);
    expect(check("DELETE", { "sec-fetch-site": "CROSS-SITE" })).toBe(true);
  });

  it("refuses every cross-site request but a navigation that reads", () => {
    const crossSite = (method: string, mode?: string) =>
      check(method, {
        "sec-fetch-site": "cross-site",
        ...(mode ? { "sec-fetch-mode": mode } : {}),
      });
    expect(crossSite("GET", "no-cors")).toBe(true);
    expect(crossSite("GET", "cors")).toBe(true);
    expect(crossSite("HEAD", "same-origin")).toBe(true);
    expect(crossSite("OPTIONS", "cors")).toBe(true);
    expect(crossSite("GET")).toBe(true);
    expect(crossSite("GET", "navigate")).toBe(false);
    expect(crossSite("HEAD", "NAVIGATE")).toBe(false);
    expect(crossSite("POST", "navigate")).toBe(true);
    expect(check("GET", { "sec-fetch-site": "same-site", "sec-fetch-mode": "cors" })).toBe(false);
  });
});

describe("methods", () => {
  it("forwards the seven methods an API serves and nothing else", () => {
    const forwarded = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    expect(forwarded.every(isForwardedMethod)).toBe(true);
    for (const method of [
      "TRACE",
      "TRACK",
      "CONNECT",
      "PROPFIND",
      "MKCOL",
      "PURGE",
      "get",
      "Patch",
    ]) {
      expect(isForwardedMethod(method)).toBe(false);
    }
  });
});

describe("assertion spelling", () => {
  const segment = (bytes: number, fill = 0x41): string =>
    Buffer.alloc(bytes, fill).toString("base64url");
  const token = (signature: string): string => `${segment(30)}.${segment(200)}.${signature}`;

  it("accepts three unpadded base64url segments with a canonical signature", () => {
    for (const bytes of [1, 2, 3, 64, 256, 257]) {
      expect(isWellFormedAssertion(token(segment(bytes, 0xff)))).toBe(true);
    }
  });

  it("refuses a signature whose unused bits are set", () => {
    // 256 bytes leave 4 unused bits in the last character, 257 bytes leave 2.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (const bytes of [256, 257]) {
      const canonical = segment(bytes, 0xff);
      const last = alphabet.indexOf(canonical.slice(-1));
      const sibling = `${canonical.slice(0, -1)}${alphabet[last | 1]}`;
      expect(Buffer.from(sibling, "base64url")).toEqual(Buffer.from(canonical, "base64url"));
      expect(isWellFormedAssertion(token(sibling))).toBe(false);
    }
  });

  it("refuses padding, foreign characters, a length no encoding has, and the wrong number of segments", () => {
    const signature = segment(256, 0x11);
    for (const bad of [
      token(`${signature}==`),
      token(`${signature.slice(0, 10)} ${signature.slice(10)}`),
      token(`${signature.slice(0, 10)}+/${signature.slice(12)}`),
      token(`${signature}A`.slice(0, 341)), // 341 characters: 4n+1 encodes nothing
      token(""),
      `${segment(30)}.${segment(200)}`,
      `${token(signature)}.${signature}`,
      `.${segment(200)}.${signature}`,
    ]) {
      expect(isWellFormedAssertion(bad)).toBe(false);
    }
  });

  it("refuses more than 8192 bytes", () => {
    const head = segment(30);
    const signature = segment(256, 0x11);
    const sized = (length: number): string =>
      `${head}.${"A".repeat(length - head.length - signature.length - 2)}.${signature}`;
    expect(sized(8192)).toHaveLength(8192);
    expect(isWellFormedAssertion(sized(8192))).toBe(true);
    expect(isWellFormedAssertion(sized(8193))).toBe(false);
  });
});

describe("identity", () => {
  it("is a person with a non-empty email, a service token with a common name and no email", () => {
    expect(identityOf({ email: "ada@mysite.com", common_name: "x" })).toEqual({
      email: "ada@mysite.com",
    });
    expect(identityOf({ common_name: "ci.access" })).toEqual({ commonName: "ci.access" });
  });

  it("is nobody otherwise", () => {
    for (const payload of [
      {},
      { email: "" },
      { email: 1 },
      { email: null, common_name: "ci.access" },
      { email: "", common_name: "ci.access" },
      { common_name: "" },
      { common_name: ["ci.access"] },
      { email: "ada@mysite.com\r\nx-admin: 1" },
      { email: "ada@mysite.com\n" },
      { email: "ada\0@mysite.com" },
      { common_name: "ci.access\r" },
    ]) {
      expect(identityOf(payload)).toBeUndefined();
    }
  });

  it("takes any other character a header value can hold", () => {
    expect(identityOf({ email: "zoë\t@例え.jp" })).toEqual({ email: "zoë\t@例え.jp" });
  });
});

describe("assertion claims", () => {
  const team = "team.cloudflareaccess.com";
  const now = 1_800_000_000;
  const valid = { iss: `https://${team}`, aud: ["aud-1"], exp: now + 60, email: "ada@mysite.com" };
  const check = (claims: unknown): unknown =>
    checkedClaims(new TextEncoder().encode(JSON.stringify(claims)), team, "aud-1", now);

  it("accepts what Access signs, aud as a list or a string, within the clock tolerance", () => {
    expect(check(valid)).toEqual(valid);
    expect(check({ ...valid, aud: "aud-1" })).toMatchObject({ aud: "aud-1" });
    expect(check({ ...valid, exp: now - 4, nbf: now + 5, iat: now })).toMatchObject({
      exp: now - 4,
    });
  });

  it.each<[string, unknown]>([
    ["an array", [valid]],
    ["a string", "claims"],
    ["null", null],
    ["another issuer", { ...valid, iss: `https://${team}/` }],
    ["no issuer", { ...valid, iss: undefined }],
    ["another audience", { ...valid, aud: ["aud-2"] }],
    ["an audience that only contains the tag", { ...valid, aud: "aud-10" }],
    ["no exp", { ...valid, exp: undefined }],
    ["an exp that is a string", { ...valid, exp: String(now + 60) }],
    ["an exp past the tolerance", { ...valid, exp: now - 5 }],
    ["an nbf past the tolerance", { ...valid, nbf: now + 6 }],
    ["an nbf that is a string", { ...valid, nbf: "0" }],
    ["an iat that is a string", { ...valid, iat: "0" }],
  ])("refuses %s", (_what, claims) => {
    expect(() => check(claims)).toThrow(HttpError);
  });

  it("refuses a payload that is not JSON", () => {
    expect(() => checkedClaims(new TextEncoder().encode("eyJpc3Mi"), team, "aud-1", now)).toThrow(
      HttpError,
    );
  });
});

describe("verified token cache", () => {
  const ada = { email: "ada@mysite.com" };

  it("returns a token until its exp plus the tolerance, then forgets it", () => {
    const cache = new TokenCache(10, 5);
    cache.set("t", { identity: ada, exp: 1000 });
    expect(cache.get("t", 1004.9)).toEqual({ identity: ada, exp: 1000 });
    expect(cache.get("t", 1005)).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.get("other", 0)).toBeUndefined();
  });

  it("holds at most its capacity, dropping the oldest first", () => {
    const cache = new TokenCache(3, 0);
    const as = (name: string) => ({ identity: { commonName: name }, exp: 100 });
    for (const token of ["a", "b", "c", "d", "e"]) cache.set(token, as(token));
    expect(cache.size).toBe(3);
    expect(["a", "b", "c", "d", "e"].map((t) => cache.get(t, 0)?.identity)).toEqual([
      undefined,
      undefined,
      { commonName: "c" },
      { commonName: "d" },
      { commonName: "e" },
    ]);
    cache.set("d", as("d2"));
    expect(cache.size).toBe(3);
    expect(cache.get("c", 0)?.identity).toEqual({ commonName: "c" });
  });
});

describe("team keys", () => {
  const current = newSigningKey("k1");
  const rotated = newSigningKey("k2");
  const token = { payload: "", signature: "" };
  const header = (kid: string) => ({ alg: "RS256", kid });
  class UnknownKid extends Error {}
  /** Stands in for jose's `createLocalJWKSet`: a key by `kid`, the JWK itself for the key. */
  const finderFor = (jwks: JSONWebKeySet): KeyFinder => {
    if (!Array.isArray(jwks.keys)) throw new TypeError("not a key set");
    return async (protectedHeader) => {
      const found = jwks.keys.find((k) => k.kid === protectedHeader?.kid);
      if (!found) throw new UnknownKid();
      return found as never;
    };
  };
  const isUnknownKid = (err: unknown) => err instanceof UnknownKid;

  /** A keys endpoint under the test's control, and a clock that moves only when told. */
  function setUp() {
    const endpoint = {
      keys: [current.jwk],
      up: true,
      fetches: 0,
      /** Answers held until released, so fetches overlap as under load. */
      held: [] as (() => void)[],
    };
    const clock = { now: 1_000_000 };
    const waited: Promise<unknown>[] = [];
    const keys = new TeamKeys(
      () => {
        endpoint.fetches++;
        const answer = { keys: [...endpoint.keys] };
        const up = endpoint.up;
        return new Promise((resolve, reject) => {
          endpoint.held.push(() => (up ? resolve(answer) : reject(new TypeError("network lost"))));
        });
      },
      finderFor,
      isUnknownKid,
      () => clock.now,
    );
    const release = async () => {
      while (endpoint.held.length > 0) endpoint.held.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    };
    const getKey = (kid: string) => keys.getKey([header(kid), token], (p) => waited.push(p));
    /** Settles every call, releasing the endpoint until none is waiting. */
    const settle = async <T>(calls: Promise<T>[]) => {
      const results = Promise.allSettled(calls);
      await release();
      await release();
      return results;
    };
    return { endpoint, clock, keys, getKey, settle, waited };
  }

  it("shares one fetch among concurrent requests on a cold isolate", async () => {
    const { endpoint, getKey, settle, waited } = setUp();
    const results = await settle(Array.from({ length: 40 }, () => getKey("k1")));
    expect(results.map((r) => r.status)).toEqual(Array(40).fill("fulfilled"));
    expect(endpoint.fetches).toBe(1);
    expect(waited).toHaveLength(1);
  });

  it("refetches for unknown kids at most once per cooldown, however many arrive at once", async () => {
    const { endpoint, clock, getKey, settle } = setUp();
    await settle([getKey("k1")]);

    clock.now += KEYS_COOLDOWN_MS - 1;
    const early = await settle(Array.from({ length: 40 }, (_, i) => getKey(`forged-${i}`)));
    expect(early.every((r) => r.status === "rejected")).toBe(true);
    expect(endpoint.fetches).toBe(1);

    clock.now += 1;
    const late = await settle(Array.from({ length: 40 }, (_, i) => getKey(`forged-${i}`)));
    expect(late.every((r) => r.status === "rejected")).toBe(true);
    expect(endpoint.fetches).toBe(2);
  });

  it("finds a rotated key once the cooldown has passed, for every request waiting on the fetch", async () => {
    const { endpoint, clock, getKey, settle } = setUp();
    await settle([getKey("k1")]);
    endpoint.keys = [current.jwk, rotated.jwk];
    clock.now += KEYS_COOLDOWN_MS;
    const results = await settle(Array.from({ length: 10 }, () => getKey("k2")));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill("fulfilled"));
    expect(endpoint.fetches).toBe(2);
  });

  it("refetches keys past their age, and keeps them when the refetch fails", async () => {
    const { endpoint, clock, getKey, settle } = setUp();
    await settle([getKey("k1")]);
    clock.now += KEYS_MAX_AGE_MS;
    endpoint.up = false;
    const during = await settle(Array.from({ length: 10 }, () => getKey("k1")));
    expect(during.map((r) => r.status)).toEqual(Array(10).fill("fulfilled"));
    expect(endpoint.fetches).toBe(2);

    // Still stale, but the failed attempt started a cooldown.
    await settle([getKey("k1")]);
    expect(endpoint.fetches).toBe(2);
    clock.now += KEYS_COOLDOWN_MS;
    endpoint.up = true;
    await settle([getKey("k1")]);
    expect(endpoint.fetches).toBe(3);
    await settle([getKey("k1")]);
    expect(endpoint.fetches).toBe(3);
  });

  it("fails closed while it never had keys, and tries again on the next request", async () => {
    const { endpoint, getKey, settle } = setUp();
    endpoint.up = false;
    const down = await settle(Array.from({ length: 5 }, () => getKey("k1")));
    expect(down.every((r) => r.status === "rejected")).toBe(true);
    expect(endpoint.fetches).toBe(1);
    endpoint.up = true;
    const up = await settle([getKey("k1")]);
    expect(up[0]?.status).toBe("fulfilled");
    expect(endpoint.fetches).toBe(2);
  });

  it("does not count a key set it cannot read as keys", async () => {
    let fetches = 0;
    const keys = new TeamKeys(
      async () => {
        fetches++;
        return { keys: "none" } as never;
      },
      finderFor,
      isUnknownKid,
    );
    await expect(keys.getKey([header("k1"), token], () => undefined)).rejects.toThrow(TypeError);
    await expect(keys.getKey([header("k1"), token], () => undefined)).rejects.toThrow(TypeError);
    expect(fetches).toBe(2);
  });
});
