import { isCrossSiteWrite } from "../../worker/src/csrf";
import {
  ConfigError,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  parseRoutePrefix,
  parseTimeout,
  readConfig,
} from "../../worker/src/env";
import {
  droppedRequestHeaders,
  responseChanges,
  rewriteLocation,
  rewriteRequestHeaders,
  USER_EMAIL_HEADER,
} from "../../worker/src/headers";
import { keepKeysThroughOutages, type RemoteKeySet } from "../../worker/src/key-set";
import { requestIdOf } from "../../worker/src/request-id";
import { TokenCache } from "../../worker/src/token-cache";
import { hasEncodedTraversal, isInsidePrefix, upstreamPath } from "../../worker/src/route";
import { forwardedBody, upstreamUrl } from "../../worker/src/upstream";
import { headerObject } from "./harness";

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

  it("flags encoded separators and dots", () => {
    expect(
      ["/api/..%2fx", "/api/%2E%2E", "/api/%5c", "/api/a%2Fb"].every(hasEncodedTraversal),
    ).toBe(true);
    expect(hasEncodedTraversal("/api/v1/a%20b")).toBe(false);
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
    expect(parseRoutePrefix("/")).toBe("");
    expect(() => parseRoutePrefix("api")).toThrow(ConfigError);
  });
});

describe("upstream request headers", () => {
  it("drops hop-by-hop, connection-listed, front-end and Access headers, then adds the token", () => {
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
      forwarded: "host=evil.com;proto=https",
      "x-original-url": "/admin",
      "x-rewrite-url": "/admin",
      "cf-access-jwt-assertion": "jwt",
      "cf-access-client-id": "attacker",
      "cf-access-client-secret": "attacker",
      "cf-access-client-anything": "x",
      [USER_EMAIL_HEADER]: "mallory@evil.example",
      accept: "application/json",
    });
    rewriteRequestHeaders(incoming, droppedRequestHeaders(incoming), token, "ada@mysite.com");
    expect(headerObject(incoming)).toEqual({
      accept: "application/json",
      "cf-access-client-id": "id-1",
      "cf-access-client-secret": "secret-1",
      [USER_EMAIL_HEADER]: "ada@mysite.com",
    });
  });

  it("keeps what the API may see, CSRF markers included", () => {
    const incoming = new Headers({
      origin: "https://app.mysite.com",
      "sec-fetch-site": "same-origin",
      "content-type": "application/json",
      authorization: "Bearer api-token",
    });
    expect(droppedRequestHeaders(incoming)).toEqual([]);
  });

  it("sends no user header when the token has no email", () => {
    const incoming = new Headers({ [USER_EMAIL_HEADER]: "x" });
    rewriteRequestHeaders(incoming, droppedRequestHeaders(incoming), token, undefined);
    expect(incoming.has(USER_EMAIL_HEADER)).toBe(false);
  });
});

describe("response headers", () => {
  it("leaves a clean response alone, so it can go back without a copy", () => {
    const headers = new Headers({
      "content-type": "application/json",
      connection: "keep-alive",
      "keep-alive": "timeout=5",
      "transfer-encoding": "chunked",
    });
    expect(responseChanges(headers, token)).toBeUndefined();
  });

  it("drops cookies, anything carrying the token, and hop-by-hop headers the runtime keeps", () => {
    const headers = new Headers({
      // The runtime writes Connection and Keep-Alive itself; x-conn is only named here.
      connection: "keep-alive, x-conn",
      "x-conn": "1",
      "proxy-connection": "keep-alive",
      "x-echo": "secret-1",
      "x-echo-id": "prefix id-1 suffix",
      "content-type": "text/plain",
    });
    headers.append("set-cookie", "a=1");
    headers.append("set-cookie", "b=2");
    const changes = responseChanges(headers, token);
    expect(new Set(changes?.dropped)).toEqual(
      new Set(["x-conn", "proxy-connection", "x-echo", "x-echo-id", "set-cookie"]),
    );
    expect(changes?.location).toBeUndefined();
  });

  it("hands back the Location to map", () => {
    const changes = responseChanges(new Headers({ location: "/v1/next" }), token);
    expect(changes).toEqual({ dropped: [], location: "/v1/next" });
  });

  it("maps a Location on the API host, in any spelling, to the front end's route", () => {
    const map = (location: string, prefix = "/api"): string =>
      rewriteLocation(location, "api.mysite.com", "https://app.mysite.com", prefix);
    expect(map("https://api.mysite.com/v1?x=1#f")).toBe("https://app.mysite.com/api/v1?x=1#f");
    expect(map("http://API.mysite.com:80/v1")).toBe("https://app.mysite.com/api/v1");
    expect(map("//api.mysite.com/v1")).toBe("https://app.mysite.com/api/v1");
    expect(map("https:\\\\api.mysite.com/v1")).toBe("https://app.mysite.com/api/v1");
    expect(map("/v1/next?x=1")).toBe("/api/v1/next?x=1");
    expect(map("/api/v1/next", "")).toBe("/api/v1/next");
    expect(map("https://api.mysite.com/v1", "")).toBe("https://app.mysite.com/v1");
  });

  it("leaves other hosts and path-relative Locations alone", () => {
    const map = (location: string): string =>
      rewriteLocation(location, "api.mysite.com", "https://app.mysite.com", "/api");
    for (const location of [
      "https://api.mysite.com.evil.com/",
      "https://api.mysite.com:8443/x",
      "https://evil.com/?next=https://api.mysite.com/",
      "//evil.com/x",
      "/\\evil.com/x",
      "next",
      "mailto:ops@mysite.com",
    ]) {
      expect(map(location)).toBe(location);
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

describe("cross-site write predicate", () => {
  const own = "https://app.mysite.com";
  const url = new URL(`${own}/api/x`);
  const req = (method: string, headers: Record<string, string>): Request =>
    new Request(url, { method, headers });

  it("refuses unsafe methods from another site and allows the rest", () => {
    expect(isCrossSiteWrite(req("POST", { origin: "https://evil.example" }), url)).toBe(true);
    expect(
      isCrossSiteWrite(req("POST", { "sec-fetch-site": "cross-site", origin: own }), url),
    ).toBe(true);
    expect(
      isCrossSiteWrite(req("POST", { origin: own, "sec-fetch-site": "same-origin" }), url),
    ).toBe(false);
    expect(isCrossSiteWrite(req("POST", {}), url)).toBe(false);
    expect(isCrossSiteWrite(req("GET", { origin: "https://evil.example" }), url)).toBe(false);
  });

  it("refuses a same-site sibling, an opaque origin and a lower-case method", () => {
    expect(
      isCrossSiteWrite(
        req("POST", { origin: "https://blog.mysite.com", "sec-fetch-site": "same-site" }),
        url,
      ),
    ).toBe(true);
    expect(isCrossSiteWrite(req("POST", { origin: "null" }), url)).toBe(true);
    expect(isCrossSiteWrite(req("patch", { origin: "https://evil.example" }), url)).toBe(true);
    expect(isCrossSiteWrite(req("options", { origin: "https://evil.example" }), url)).toBe(false);
    expect(isCrossSiteWrite(req("DELETE", { "sec-fetch-site": "CROSS-SITE" }), url)).toBe(true);
  });
});

describe("verified token cache", () => {
  it("returns a token until its exp plus the tolerance, then forgets it", () => {
    const cache = new TokenCache(10, 5);
    cache.set("t", { email: "ada@mysite.com", exp: 1000 });
    expect(cache.get("t", 1004.9)).toEqual({ email: "ada@mysite.com", exp: 1000 });
    expect(cache.get("t", 1005)).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.get("other", 0)).toBeUndefined();
  });

  it("holds at most its capacity, dropping the oldest first", () => {
    const cache = new TokenCache(3, 0);
    for (const token of ["a", "b", "c", "d", "e"]) cache.set(token, { email: token, exp: 100 });
    expect(cache.size).toBe(3);
    expect(["a", "b", "c", "d", "e"].map((t) => cache.get(t, 0)?.email)).toEqual([
      undefined,
      undefined,
      "c",
      "d",
      "e",
    ]);
    cache.set("d", { email: "d2", exp: 100 });
    expect(cache.size).toBe(3);
    expect(cache.get("c", 0)?.email).toBe("c");
  });
});

describe("key set through a keys outage", () => {
  const header = { alg: "RS256", kid: "k1" };
  const token = { payload: "", signature: "" };
  const cachedSet = { keys: [{ kty: "RSA", kid: "k1" }] };
  type Key = Awaited<ReturnType<RemoteKeySet>>;
  const remoteKey = { type: "remote" } as unknown as Key;
  const localKey = { type: "local" } as unknown as Key;
  class TokenFault extends Error {}

  function setUp(remoteResult: () => Promise<Key>, cached: typeof cachedSet | undefined) {
    const remote = Object.assign(jest.fn(remoteResult), { jwks: () => cached });
    const localFor = jest.fn(() => async () => localKey);
    const getKey = keepKeysThroughOutages(
      remote as unknown as RemoteKeySet,
      localFor,
      (err) => err instanceof TokenFault,
    );
    return { getKey, remote, localFor };
  }

  it("uses the remote set while it answers", async () => {
    const { getKey, localFor } = setUp(async () => remoteKey, cachedSet);
    await expect(getKey(header, token)).resolves.toBe(remoteKey);
    expect(localFor).not.toHaveBeenCalled();
  });

  it("falls back to the keys it already had when the refetch fails", async () => {
    const { getKey, remote, localFor } = setUp(async () => {
      throw new TypeError("network connection lost");
    }, cachedSet);
    await expect(getKey(header, token)).resolves.toBe(localKey);
    expect(remote).toHaveBeenCalledTimes(1);
    expect(localFor).toHaveBeenCalledWith(cachedSet);
  });

  it("fails closed when it never had keys", async () => {
    const { getKey, localFor } = setUp(async () => {
      throw new TypeError("network connection lost");
    }, undefined);
    await expect(getKey(header, token)).rejects.toThrow("network connection lost");
    expect(localFor).not.toHaveBeenCalled();
  });

  it("does not retry a token the keys refused", async () => {
    const { getKey, localFor } = setUp(async () => {
      throw new TokenFault("no matching key");
    }, cachedSet);
    await expect(getKey(header, token)).rejects.toBeInstanceOf(TokenFault);
    expect(localFor).not.toHaveBeenCalled();
  });
});
