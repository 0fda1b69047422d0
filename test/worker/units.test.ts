import { isCrossSiteWrite } from "../../worker/src/csrf";
import {
  ConfigError,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  parseRoutePrefix,
  parseTimeout,
  readConfig,
} from "../../worker/src/env";
import {
  cleanResponseHeaders,
  rewriteLocation,
  upstreamRequestHeaders,
  USER_EMAIL_HEADER,
} from "../../worker/src/headers";
import { hasEncodedTraversal, isInsidePrefix, upstreamPath } from "../../worker/src/route";
import { upstreamUrl } from "../../worker/src/upstream";
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
  it("drops hop-by-hop, connection-listed, front-end and Access headers, then sets the token", () => {
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
      "cf-access-jwt-assertion": "jwt",
      "cf-access-client-id": "attacker",
      "cf-access-client-secret": "attacker",
      "cf-access-client-anything": "x",
      [USER_EMAIL_HEADER]: "mallory@evil.example",
      accept: "application/json",
    });
    const out = upstreamRequestHeaders(incoming, token, "ada@mysite.com");
    expect(headerObject(out)).toEqual({
      accept: "application/json",
      "cf-access-client-id": "id-1",
      "cf-access-client-secret": "secret-1",
      [USER_EMAIL_HEADER]: "ada@mysite.com",
    });
    expect(incoming.get("cookie")).toBe("a=1");
  });

  it("sends no user header when the token has no email", () => {
    const out = upstreamRequestHeaders(new Headers({ [USER_EMAIL_HEADER]: "x" }), token, undefined);
    expect(out.has(USER_EMAIL_HEADER)).toBe(false);
  });
});

describe("response headers", () => {
  const rewrite = {
    apiHostname: "api.mysite.com",
    frontendBase: "https://app.mysite.com/api",
    token,
  };

  it("removes cookies, hop-by-hop headers and anything carrying the token", () => {
    const headers = new Headers({
      connection: "x-conn",
      "x-conn": "1",
      "keep-alive": "timeout=5",
      upgrade: "h2c",
      "x-echo": "secret-1",
      "x-echo-id": "prefix id-1 suffix",
      "content-type": "text/plain",
    });
    headers.append("set-cookie", "a=1");
    headers.append("set-cookie", "b=2");
    cleanResponseHeaders(headers, rewrite);
    expect(headerObject(headers)).toEqual({ "content-type": "text/plain" });
  });

  it("rewrites only absolute https Locations on the API host", () => {
    expect(
      rewriteLocation(
        "https://api.mysite.com/v1?x=1",
        "api.mysite.com",
        "https://app.mysite.com/api",
      ),
    ).toBe("https://app.mysite.com/api/v1?x=1");
    expect(rewriteLocation("/v1", "api.mysite.com", "https://app.mysite.com/api")).toBe("/v1");
    expect(
      rewriteLocation("https://api.mysite.com.evil.com/", "api.mysite.com", "https://app"),
    ).toBe("https://api.mysite.com.evil.com/");
  });
});

describe("cross-site write predicate", () => {
  const own = "https://app.mysite.com";
  const req = (method: string, headers: Record<string, string>): Request =>
    new Request(`${own}/api/x`, { method, headers });

  it("refuses unsafe methods from another site and allows the rest", () => {
    expect(isCrossSiteWrite(req("POST", { origin: "https://evil.example" }), own)).toBe(true);
    expect(
      isCrossSiteWrite(req("POST", { "sec-fetch-site": "cross-site", origin: own }), own),
    ).toBe(true);
    expect(
      isCrossSiteWrite(req("POST", { origin: own, "sec-fetch-site": "same-origin" }), own),
    ).toBe(false);
    expect(isCrossSiteWrite(req("POST", {}), own)).toBe(false);
    expect(isCrossSiteWrite(req("GET", { origin: "https://evil.example" }), own)).toBe(false);
  });
});
