import {
  checkActual,
  checkAllowCredentials,
  checkAllowHeaders,
  checkAllowMethods,
  checkAllowOrigin,
  checkMaxAge,
  checkPreflight,
  checkVary,
  corsUnsafeHeaderNames,
  describeOriginDifference,
  preflightReasons,
  preflightRequestHeaders,
  type CorsRequest,
  type ResponseView,
} from "../../doctor/cors-check";

const ORIGIN = "https://app.example.com";

const req = (over: Partial<CorsRequest> = {}): CorsRequest => ({
  url: "https://api.example.com/items",
  origin: ORIGIN,
  method: "GET",
  headers: [],
  credentials: false,
  ...over,
});

const res = (headers: Record<string, string>, status = 200): ResponseView => ({
  status,
  headers: Object.entries(headers).map(([name, value]) => ({ name, value })),
});

describe("what a browser sends", () => {
  it("lists non-safelisted header names lower-cased, sorted and unique", () => {
    expect(
      corsUnsafeHeaderNames([
        { name: "X-Trace" },
        { name: "Content-Type", value: "application/json" },
        { name: "Accept", value: "application/json" },
        { name: "x-trace" },
        { name: "Cookie", value: "a=b" },
      ]),
    ).toEqual(["content-type", "x-trace"]);
  });

  it("treats form and text content types as safelisted", () => {
    expect(
      corsUnsafeHeaderNames([{ name: "Content-Type", value: "text/plain; charset=utf-8" }]),
    ).toEqual([]);
  });

  it("builds the preflight's request headers, without cookies", () => {
    const headers = preflightRequestHeaders(
      req({ method: "PUT", headers: [{ name: "X-Api-Key" }, { name: "Authorization" }] }),
    );
    expect(headers).toEqual([
      { name: "Origin", value: ORIGIN },
      { name: "Access-Control-Request-Method", value: "PUT" },
      { name: "Access-Control-Request-Headers", value: "authorization,x-api-key" },
    ]);
  });

  it("needs no preflight for a simple GET, and one for PUT or a custom header", () => {
    expect(preflightReasons(req())).toEqual([]);
    expect(preflightReasons(req({ method: "PUT" }))).toEqual([
      "method PUT is not GET, HEAD or POST",
    ]);
    expect(preflightReasons(req({ headers: [{ name: "X-Api-Key" }] }))).toHaveLength(1);
  });
});

describe("allow-origin", () => {
  it("passes an exact match, and * without credentials", () => {
    expect(checkAllowOrigin(req(), res({ "Access-Control-Allow-Origin": ORIGIN })).code).toBe(
      "acao-ok",
    );
    expect(checkAllowOrigin(req(), res({ "access-control-allow-origin": "*" })).code).toBe(
      "acao-wildcard",
    );
  });

  it("fails * with credentials", () => {
    const r = checkAllowOrigin(
      req({ credentials: true }),
      res({ "access-control-allow-origin": "*" }),
    );
    expect(r).toMatchObject({ status: "fail", code: "acao-wildcard-with-credentials" });
  });

  it("fails an origin with a trailing slash and names the difference", () => {
    const r = checkAllowOrigin(req(), res({ "access-control-allow-origin": `${ORIGIN}/` }));
    expect(r).toMatchObject({ status: "fail", code: "acao-mismatch" });
    expect(r.data.difference).toBe("trailing slash");
  });

  it.each([
    ["http://app.example.com", "scheme"],
    ["https://app.example.com:8443", "port"],
    ["https://app.example.com:443", "explicit default port"],
    ["https://APP.example.com", "letter case"],
    ["https://www.example.com", "host"],
  ])("fails %s and calls it a %s difference", (allowOrigin, difference) => {
    const r = checkAllowOrigin(req(), res({ "access-control-allow-origin": allowOrigin }));
    expect(r.code).toBe("acao-mismatch");
    expect(describeOriginDifference(ORIGIN, allowOrigin)).toBe(difference);
  });

  it("fails a missing header and a list of origins", () => {
    expect(checkAllowOrigin(req(), res({})).code).toBe("acao-missing");
    expect(
      checkAllowOrigin(
        req(),
        res({ "access-control-allow-origin": `${ORIGIN}, https://b.example.com` }),
      ).code,
    ).toBe("acao-multiple");
  });
});

describe("credentials", () => {
  it("requires exactly `true` when credentials are included", () => {
    const creds = req({ credentials: true });
    expect(checkAllowCredentials(creds, res({})).code).toBe("acac-missing");
    expect(
      checkAllowCredentials(creds, res({ "access-control-allow-credentials": "True" })).code,
    ).toBe("acac-not-true");
    expect(
      checkAllowCredentials(creds, res({ "access-control-allow-credentials": "true" })).code,
    ).toBe("acac-ok");
  });

  it("does not need the header without credentials", () => {
    expect(checkAllowCredentials(req(), res({})).status).toBe("pass");
  });
});

describe("methods", () => {
  const put = req({ method: "PUT" });
  it("fails a method that is not listed", () => {
    const r = checkAllowMethods(put, res({ "access-control-allow-methods": "GET, POST" }));
    expect(r).toMatchObject({ status: "fail", code: "methods-missing" });
  });

  it("matches method names case-sensitively", () => {
    const r = checkAllowMethods(
      req({ method: "PATCH" }),
      res({ "access-control-allow-methods": "patch" }),
    );
    expect(r).toMatchObject({ status: "fail", code: "methods-missing" });
    expect(r.data.caseMismatch).toBe("patch");
  });

  it("passes listed and safelisted methods, and * only without credentials", () => {
    expect(checkAllowMethods(put, res({ "access-control-allow-methods": "GET,PUT" })).status).toBe(
      "pass",
    );
    expect(checkAllowMethods(req({ method: "POST" }), res({})).code).toBe("methods-safelisted");
    expect(checkAllowMethods(put, res({ "access-control-allow-methods": "*" })).code).toBe(
      "methods-wildcard",
    );
    expect(
      checkAllowMethods({ ...put, credentials: true }, res({ "access-control-allow-methods": "*" }))
        .code,
    ).toBe("methods-wildcard-with-credentials");
  });
});

describe("headers", () => {
  const withKey = req({
    headers: [{ name: "X-Api-Key" }, { name: "Content-Type", value: "application/json" }],
  });

  it("fails a header missing from the allow list", () => {
    const r = checkAllowHeaders(withKey, res({ "access-control-allow-headers": "content-type" }));
    expect(r).toMatchObject({ status: "fail", code: "headers-missing" });
    expect(r.data.missing).toEqual(["x-api-key"]);
  });

  it("matches header names whatever their case", () => {
    const r = checkAllowHeaders(
      withKey,
      res({ "access-control-allow-headers": "CONTENT-TYPE, x-API-key" }),
    );
    expect(r).toMatchObject({ status: "pass", code: "headers-ok" });
  });

  it("accepts * without credentials but not with them", () => {
    expect(checkAllowHeaders(withKey, res({ "access-control-allow-headers": "*" })).code).toBe(
      "headers-wildcard",
    );
    expect(
      checkAllowHeaders(
        { ...withKey, credentials: true },
        res({ "access-control-allow-headers": "*" }),
      ).code,
    ).toBe("headers-wildcard-with-credentials");
  });

  it("never lets * cover Authorization", () => {
    const r = checkAllowHeaders(
      req({ headers: [{ name: "Authorization" }] }),
      res({ "access-control-allow-headers": "*" }),
    );
    expect(r).toMatchObject({ status: "fail", code: "headers-authorization-wildcard" });
  });
});

describe("max-age and Vary", () => {
  it("warns when max-age exceeds Chromium's 7200 s cap", () => {
    const r = checkMaxAge(res({ "access-control-max-age": "86400" }));
    expect(r).toMatchObject({ status: "warn", code: "max-age-capped" });
    expect(r.data).toMatchObject({ chromium: 7200, firefox: 86400 });
  });

  it("warns about the 5 s default and passes a sensible value", () => {
    expect(checkMaxAge(res({})).code).toBe("max-age-default");
    expect(checkMaxAge(res({ "access-control-max-age": "600" })).status).toBe("pass");
  });

  it("warns when an echoed origin lacks Vary: Origin", () => {
    expect(checkVary(res({ "access-control-allow-origin": ORIGIN })).code).toBe("vary-missing");
    expect(
      checkVary(res({ "access-control-allow-origin": ORIGIN, vary: "Accept-Encoding, origin" }))
        .code,
    ).toBe("vary-ok");
    expect(checkVary(res({ "access-control-allow-origin": "*" })).code).toBe("vary-not-needed");
  });
});

describe("checkPreflight", () => {
  const put = req({ method: "PUT", headers: [{ name: "X-Api-Key" }], credentials: true });

  it("stops at a non-ok status before reading any header", () => {
    const r = checkPreflight(put, res({ "access-control-allow-origin": ORIGIN }, 403));
    expect(r.map((c) => c.code)).toEqual(["status-not-ok"]);
  });

  it("treats a redirect as a failure", () => {
    const r = checkPreflight(put, res({ location: "https://api.example.com/items/" }, 301));
    expect(r).toEqual([
      expect.objectContaining({
        code: "status-redirect",
        data: expect.objectContaining({ status: 301 }),
      }),
    ]);
  });

  it("passes a complete answer on every step", () => {
    const r = checkPreflight(
      put,
      res(
        {
          "access-control-allow-origin": ORIGIN,
          "access-control-allow-credentials": "true",
          "access-control-allow-methods": "PUT",
          "access-control-allow-headers": "X-Api-Key",
          "access-control-max-age": "600",
          vary: "Origin",
        },
        204,
      ),
    );
    expect(r.map((c) => c.step)).toEqual([
      "status",
      "allow-origin",
      "credentials",
      "methods",
      "headers",
      "max-age",
      "vary",
    ]);
    expect(r.every((c) => c.status === "pass")).toBe(true);
  });

  it("checks the actual response's origin and credentials", () => {
    const r = checkActual(
      { ...put, method: "GET" },
      res({ "access-control-allow-origin": ORIGIN }),
    );
    expect(r.find((c) => c.step === "credentials")?.code).toBe("acac-missing");
  });
});
