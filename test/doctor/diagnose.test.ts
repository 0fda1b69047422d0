import type { CorsRequest, ResponseView } from "../../doctor/cors-check";
import { diagnose, type Finding } from "../../doctor/diagnose";

const ORIGIN = "https://app.example.com";
const LOGIN =
  "https://team.cloudflareaccess.com/cdn-cgi/access/login/api.example.com?kid=1&redirect_url=%2F";

const req = (over: Partial<CorsRequest> = {}): CorsRequest => ({
  url: "https://api.example.com/items",
  origin: ORIGIN,
  method: "GET",
  headers: [],
  credentials: true,
  ...over,
});
const res = (status: number, headers: Record<string, string>): ResponseView => ({
  status,
  headers: Object.entries(headers).map(([name, value]) => ({ name, value })),
});
const good = {
  "access-control-allow-origin": ORIGIN,
  "access-control-allow-credentials": "true",
  "access-control-allow-methods": "GET, PUT",
  "access-control-allow-headers": "x-api-key",
  "access-control-max-age": "600",
  vary: "Origin",
};
const put = req({ method: "PUT", headers: [{ name: "X-Api-Key" }] });

function failing(findings: Finding[]): Finding {
  const failed = findings.filter((f) => !f.ok);
  expect(failed).toHaveLength(1);
  return failed[0]!;
}

describe("diagnose", () => {
  it("allows a complete preflight and actual response", () => {
    const d = diagnose({ request: put, preflight: res(204, good), actual: res(200, good) });
    expect(d.verdict).toBe("allowed");
    expect(d.preflightNeeded).toBe(true);
    expect(d.findings.filter((f) => f.phase === "actual").map((f) => f.step)).toEqual([
      "allow-origin",
      "credentials",
      "vary",
    ]);
  });

  it("recognises Access refusing the preflight with 403", () => {
    const d = diagnose({
      request: put,
      preflight: res(403, { server: "cloudflare", "cf-access-domain": "api.example.com" }),
    });
    expect(d.verdict).toBe("blocked");
    const f = failing(d.findings);
    expect(f.cause).toMatch(
      /Access blocked the OPTIONS preflight \(cf-access-domain header, server: cloudflare\)/,
    );
    expect(f.cause).toMatch(/never send cookies on a preflight/);
    expect(f.fixKeys).toEqual(["preflight", "corsAllowedOrigins", "worker"]);
    expect(f.fix).toContain(`${ORIGIN}/api/*`);
  });

  it("calls a bare 403 from Cloudflare likely Access, and one without Cloudflare a plain refusal", () => {
    const cf = failing(
      diagnose({ request: put, preflight: res(403, { server: "cloudflare" }) }).findings,
    );
    expect(cf.cause).toMatch(/most likely Access/);
    const plain = failing(diagnose({ request: put, preflight: res(405, {}) }).findings);
    expect(plain.cause).toMatch(/answered with 405/);
    expect(plain.fixKeys).toEqual(["preflight"]);
  });

  it("recognises a 302 to the Access login as not logged in to the API", () => {
    const d = diagnose({ request: req(), actual: res(302, { location: LOGIN }) });
    const f = failing(d.findings);
    expect(f.step).toBe("access-login");
    expect(f.cause).toMatch(/no CF_Authorization cookie for https:\/\/api\.example\.com/);
    expect(f.fixKeys).toEqual(["log-in-first", "worker"]);
    // The Worker path is where the API learns who called, from a header it can verify.
    expect(f.fix).toMatch(/X-Access-Bridge-Identity, a statement the Worker signs .* identityJwks/);
  });

  it("recognises a same-host Access login path, and says cookies need credentials", () => {
    const d = diagnose({
      request: req({ credentials: false }),
      actual: res(302, { location: "/cdn-cgi/access/login/api.example.com" }),
    });
    expect(failing(d.findings).cause).toMatch(/credentials: 'include'/);
  });

  it("words * with credentials in stack terms", () => {
    const f = failing(
      diagnose({
        request: req(),
        actual: res(200, { ...good, "access-control-allow-origin": "*" }),
      }).findings,
    );
    expect(f.fix).toMatch(/put https:\/\/app\.example\.com in `corsAllowedOrigins`/);
    expect(f.fixKeys).toEqual(["corsAllowedOrigins"]);
  });

  it("words a trailing-slash origin", () => {
    const f = failing(
      diagnose({
        request: put,
        preflight: res(204, { ...good, "access-control-allow-origin": `${ORIGIN}/` }),
      }).findings,
    );
    expect(f.cause).toContain("differ by: trailing slash");
    expect(f.fix).toContain("no trailing slash");
  });

  it("words a missing header, and says case is not the issue", () => {
    const f = failing(
      diagnose({
        request: put,
        preflight: res(204, { ...good, "access-control-allow-headers": "Content-Type" }),
      }).findings,
    );
    expect(f.cause).toMatch(/does not list `x-api-key`.*letter case is never the problem/);
    expect(f.fixKeys).toEqual(["corsAllowedHeaders"]);
  });

  it("words a method that is not allowed", () => {
    const f = failing(
      diagnose({
        request: put,
        preflight: res(204, { ...good, "access-control-allow-methods": "GET" }),
      }).findings,
    );
    expect(f.fix).toContain("Add `PUT` (in capitals) to `corsAllowedMethods`");
  });

  it("words missing credentials", () => {
    const noCreds: Record<string, string> = { ...good };
    delete noCreds["access-control-allow-credentials"];
    const f = failing(diagnose({ request: req(), actual: res(200, noCreds) }).findings);
    expect(f.fixKeys).toEqual(["corsAllowCredentials"]);
    expect(f.fix).toContain("`corsAllowCredentials: true`");
  });

  it("warns, without blocking, about Vary and max-age", () => {
    const noVary: Record<string, string> = { ...good, "access-control-max-age": "86400" };
    delete noVary.vary;
    const d = diagnose({ request: put, preflight: res(204, noVary), actual: res(200, noVary) });
    expect(d.verdict).toBe("allowed");
    const warnings = d.findings.filter((f) => f.severity === "warn");
    expect(warnings.map((f) => `${f.phase}:${f.step}`)).toEqual([
      "preflight:max-age",
      "preflight:vary",
      "actual:vary",
    ]);
    expect(warnings[0]?.fixKeys).toEqual(["corsMaxAge"]);
  });

  it("points at the redirect target when a redirect itself passes the CORS check", () => {
    const d = diagnose({
      request: req(),
      actual: res(307, { ...good, location: "https://api.example.com/v2/items" }),
    });
    expect(d.verdict).toBe("allowed");
    expect(d.findings.find((f) => f.step === "redirect")?.fix).toBe(
      "Check the target too: --url https://api.example.com/v2/items",
    );
  });
});

describe("diagnose, redirects", () => {
  it("says a failing redirect hop needs CORS headers too", () => {
    const d = diagnose({
      request: req(),
      actual: res(301, { location: "https://api.example.com/items/" }),
    });
    expect(d.verdict).toBe("blocked");
    expect(d.findings.find((f) => !f.ok)?.step).toBe("allow-origin");
    expect(d.findings.find((f) => f.step === "redirect")?.fix).toContain(
      "--url https://api.example.com/items/",
    );
  });
});

describe("diagnose, root cause first", () => {
  it("stops the preflight at a failed allow-origin: one problem, one fix", () => {
    const d = diagnose({ request: put, preflight: res(200, { vary: "Origin" }) });
    expect(d.verdict).toBe("blocked");
    expect(d.findings.map((f) => [f.step, f.severity])).toEqual([
      ["status", "pass"],
      ["allow-origin", "fail"],
      ["credentials", "not-evaluated"],
      ["methods", "not-evaluated"],
      ["headers", "not-evaluated"],
      ["max-age", "not-evaluated"],
      ["vary", "not-evaluated"],
    ]);
    expect(d.findings.filter((f) => f.fix !== undefined).map((f) => f.step)).toEqual([
      "allow-origin",
    ]);
  });

  it("stops the actual response at a failed allow-origin too", () => {
    const d = diagnose({ request: req(), actual: res(200, {}) });
    expect(d.findings.map((f) => [f.step, f.severity])).toEqual([
      ["allow-origin", "fail"],
      ["credentials", "not-evaluated"],
      ["vary", "not-evaluated"],
    ]);
  });

  it("keeps evaluating after a credentials failure, whose settings are independent of the rest", () => {
    const noCreds: Record<string, string> = { ...good, "access-control-allow-methods": "GET" };
    delete noCreds["access-control-allow-credentials"];
    const d = diagnose({ request: put, preflight: res(200, noCreds) });
    expect(d.findings.filter((f) => !f.ok).map((f) => f.step)).toEqual(["credentials", "methods"]);
    expect(d.findings.some((f) => f.severity === "not-evaluated")).toBe(false);
  });
});

describe("diagnose, a 421 Misdirected Request", () => {
  it("is about reaching the server, not about CORS, in either phase", () => {
    for (const d of [
      diagnose({ request: put, preflight: res(421, {}) }),
      diagnose({ request: req(), actual: res(421, {}) }),
    ]) {
      const f = failing(d.findings);
      expect(f.summary).toMatch(
        /421 Misdirected Request: the server reached does not serve api\.example\.com/,
      );
      expect(f.fix).toContain("--resolve api.example.com:443:<address>");
      expect(f.fixKeys).toEqual(["request"]);
    }
  });
});

describe("diagnose, logins", () => {
  it("cannot judge a credentialed request that Access sends to its login page when no login was given", () => {
    const d = diagnose({ request: req(), actual: res(302, { location: LOGIN }) });
    expect(d.verdict).toBe("blocked");
    expect(d.notJudged).toEqual({
      api: "https://api.example.com",
      answer: "302 to the Access login page",
      tokenCommand: "cloudflared access token -app=https://api.example.com/items",
    });
  });

  it("blames the login that was given when Access still refuses", () => {
    const d = diagnose({
      request: req(),
      actual: res(403, { "cf-access-domain": "api.example.com" }),
      loginGiven: true,
    });
    expect(d.notJudged).toBeUndefined();
    expect(failing(d.findings).cause).toMatch(/Access did not accept the login given/);
  });

  it("judges a request without credentials as it is: a browser sends no login with it", () => {
    const d = diagnose({
      request: req({ credentials: false }),
      actual: res(302, { location: LOGIN }),
    });
    expect(d.notJudged).toBeUndefined();
  });
});

describe("diagnose, the Worker route it points to", () => {
  const viaWorker = (d: ReturnType<typeof diagnose>): string[] =>
    d.findings.filter((f) => f.fixKeys.includes("worker")).map((f) => f.fix ?? "");

  it("names the route of the API's own Worker when told its route prefix", () => {
    const fixes = [
      ...viaWorker(
        diagnose({
          request: req(),
          actual: res(302, { location: LOGIN }),
          routePrefix: "/billing",
        }),
      ),
      ...viaWorker(
        diagnose({
          request: put,
          preflight: res(403, { server: "cloudflare", "cf-access-domain": "api.example.com" }),
          routePrefix: "/billing",
        }),
      ),
      ...viaWorker(
        diagnose({
          request: req({ headers: [{ name: "cf-access-client-id" }] }),
          routePrefix: "/billing",
        }),
      ),
    ];
    expect(fixes).toHaveLength(3);
    for (const fix of fixes) {
      expect(fix).toContain(`${ORIGIN}/billing/*`);
      expect(fix).not.toContain("/api/*");
    }
  });

  it("names the program's default route without one", () => {
    const [fix] = viaWorker(diagnose({ request: req(), actual: res(302, { location: LOGIN }) }));
    expect(fix).toContain(`${ORIGIN}/api/*`);
  });
});
