import { readFileSync } from "node:fs";
import path from "node:path";
import type { CorsRequest } from "../../doctor/cors-check";
import { credentialsEvidence, HarError, parseHar, triageHar, type Har } from "../../doctor/har";
import { redactUrl, scrub } from "../../doctor/redact";
import { buildFixtures, FIXTURE_DIR, PLANTED } from "./support/har-fixtures";
import { runCli } from "./support/run-cli";

const fixture = (name: string) => path.join(FIXTURE_DIR, name);
const load = (name: string) => parseHar(readFileSync(fixture(name), "utf8"));

interface HarJson {
  verdict: string;
  items: Array<{
    url: string;
    status: number;
    diagnosis: {
      findings: Array<{ step: string; ok: boolean; fixKeys: string[]; cause?: string }>;
    };
  }>;
}

describe("HAR fixtures", () => {
  it("are what the local servers produce today", async () => {
    const built = await buildFixtures();
    for (const [name, har] of Object.entries(built)) {
      expect(JSON.parse(readFileSync(fixture(name), "utf8"))).toEqual(
        JSON.parse(JSON.stringify(har)),
      );
    }
  });
});

describe("triageHar", () => {
  it("lists exactly the failing cross-origin requests, each with the deciding step", () => {
    const t = triageHar(load("triage.har"));
    expect(t.crossOrigin).toBe(9);
    const summary = t.items.map((i) => {
      const failed = i.diagnosis.findings.find((f) => !f.ok);
      return [new URL(i.url).pathname, i.status, failed?.step, failed?.fixKeys[0]];
    });
    expect(summary).toEqual([
      ["/items/wildcard", 200, "allow-origin", "corsAllowedOrigins"],
      ["/items/trailing-slash", 200, "allow-origin", "corsAllowedOrigins"],
      ["/items/missing-header", 0, "headers", "corsAllowedHeaders"],
      ["/items/method", 0, "methods", "corsAllowedMethods"],
      ["/items/access-403", 0, "status", "preflight"],
      ["/items/login", 302, "access-login", "log-in-first"],
      ["/items/no-acac", 200, "credentials", "corsAllowCredentials"],
    ]);
  });

  it("pairs each failed request with its preflight", () => {
    const t = triageHar(load("triage.har"));
    const item = t.items.find((i) => i.url.endsWith("/items/access-403"));
    expect(item?.preflightEntry).toBe((item?.entry ?? 0) - 1);
    expect(load("triage.har").log.entries[item?.preflightEntry ?? -1]?.request.method).toBe(
      "OPTIONS",
    );
  });

  it("names the route prefix it is given in the fixes and carries it into the reruns", () => {
    const t = triageHar(load("triage.har"), { routePrefix: "/billing" });
    const login = t.items.find((i) => i.url.endsWith("/items/login"));
    const fix = login?.diagnosis.findings.find((f) => f.step === "access-login")?.fix ?? "";
    expect(fix).toContain(`${login?.origin}/billing/*`);
    expect(fix).not.toContain("/api/*");
    expect(login?.rerun).toMatch(/ --route-prefix \/billing( |$)/);
  });

  it("finds nothing to report in a clean capture", () => {
    const t = triageHar(load("clean.har"));
    expect(t.crossOrigin).toBe(2);
    expect(t.items).toEqual([]);
  });

  it("explains a request that failed with no response and no preflight, with a rerun command", () => {
    const har: Har = {
      log: {
        pages: [{ id: "p", title: "https://app.example.com/" }],
        entries: [
          {
            pageref: "p",
            request: { method: "GET", url: "https://api.example.com/x", headers: [] },
            response: { status: 0, headers: [], _error: "net::ERR_FAILED" },
          },
        ],
      },
    };
    const [item] = triageHar(har).items;
    expect(item?.origin).toBe("https://app.example.com");
    const f = item?.diagnosis.findings[0];
    expect(f).toMatchObject({ step: "no-response", ok: false });
    expect(f?.fix).toContain(
      "npm run doctor -- --url 'https://api.example.com/x' --origin https://app.example.com --method GET",
    );
  });

  it("reports a failed preflight whose actual request was never recorded", () => {
    const har: Har = {
      log: {
        entries: [
          {
            request: {
              method: "OPTIONS",
              url: "https://api.example.com/x",
              headers: [
                { name: "Origin", value: "https://app.example.com" },
                { name: "Access-Control-Request-Method", value: "DELETE" },
              ],
            },
            response: {
              status: 403,
              headers: [{ name: "cf-access-domain", value: "api.example.com" }],
            },
          },
        ],
      },
    };
    const [item] = triageHar(har).items;
    expect(item?.method).toBe("DELETE");
    expect(item?.diagnosis.findings[0]?.cause).toMatch(/Access blocked the OPTIONS preflight/);
  });

  it("rejects files that are not HAR", () => {
    expect(() => parseHar("{")).toThrow(HarError);
    expect(() => parseHar('{"log":{}}')).toThrow(/no log.entries/);
  });
});

describe("triageHar, what a browser never CORS-checks", () => {
  const entry = (
    url: string,
    headers: Array<{ name: string; value: string }>,
    extra: Partial<Har["log"]["entries"][number]> = {},
  ): Har["log"]["entries"][number] => ({
    request: { method: "GET", url, headers },
    response: { status: 200, headers: [] },
    ...extra,
  });
  const login = "https://team.cloudflareaccess.com/cdn-cgi/access/login/app.example.com";

  it("skips navigations, even when the Referer is another origin", () => {
    const har: Har = {
      log: {
        entries: [
          entry("https://app.example.com/", [
            { name: "Referer", value: login },
            { name: "Sec-Fetch-Mode", value: "navigate" },
          ]),
          entry("https://app.example.com/home", [{ name: "Referer", value: login }], {
            _resourceType: "document",
          }),
          entry("https://api.example.com/items", [
            { name: "Origin", value: "https://app.example.com" },
            { name: "Sec-Fetch-Mode", value: "cors" },
          ]),
        ],
      },
    };
    const t = triageHar(har);
    expect(t.crossOrigin).toBe(1);
    expect(t.items.map((i) => i.url)).toEqual(["https://api.example.com/items"]);
  });

  it("reads a status of -1 with a failure text as no response, not as a response without headers", () => {
    const har: Har = {
      log: {
        entries: [
          entry(
            "https://api.example.com/items",
            [{ name: "Origin", value: "https://app.example.com" }],
            {
              _resourceType: "fetch",
              response: { status: -1, headers: [], _failureText: "net::ERR_FAILED" },
            },
          ),
        ],
      },
    };
    const [item] = triageHar(har).items;
    expect(item?.diagnosis.findings.map((f) => [f.step, f.ok])).toEqual([["no-response", false]]);
    expect(item?.diagnosis.findings[0]?.summary).toContain("net::ERR_FAILED");
  });
});

describe("secrets in a capture", () => {
  const planted = Object.values(PLANTED);

  it("are really in the fixture, so their absence below means something", () => {
    const raw = readFileSync(fixture("secrets.har"), "utf8");
    for (const secret of planted) expect(raw).toContain(secret);
  });

  it.each([[[]], [["--json"]]])("are never printed (extra args %j)", async (extra) => {
    const run = await runCli(["--har", fixture("secrets.har"), ...extra]);
    expect(run.code).toBe(1);
    // The failing request is reported, with its secrets blanked out.
    expect(run.stdout).toContain("/me?view=full&cf_authorization=[redacted]");
    expect(run.stdout).toMatch(/\* with credentials/);
    expect(run.stdout).toContain("service-token");
    for (const secret of planted) expect(run.stdout).not.toContain(secret);
    expect(run.stderr).toBe("");
  });

  it("are redacted from URLs and scrubbed from any text", () => {
    expect(
      redactUrl("https://a.example/?x=1&CF_Authorization=abc&cf-access-client-secret=s#f"),
    ).toBe(
      "https://a.example/?x=1&CF_Authorization=[redacted]&cf-access-client-secret=[redacted]#f",
    );
    expect(scrub("a sekret-value b sekret%2Fvalue", ["sekret-value", "sekret/value"])).toBe(
      "a [redacted] b [redacted]",
    );
    expect(scrub("jwt eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl end", [])).toBe("jwt [redacted] end");
  });
});

describe("--har on the command line", () => {
  it("exits 1 and prints each failing request with its cause and fix", async () => {
    const run = await runCli(["--har", fixture("triage.har")]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("14 entries, 9 cross-origin, 7 failing");
    expect(run.stdout).toMatch(/✘ status: preflight refused by Access \(403\)/);
    expect(run.stdout).toMatch(/fix: +Guide option 1: log in to https:\/\/api\.example\.com/);
  });

  it("gives JSON with one item per failing request", async () => {
    const run = await runCli(["--har", fixture("triage.har"), "--json"]);
    const json = JSON.parse(run.stdout) as HarJson;
    expect(json.verdict).toBe("blocked");
    expect(json.items).toHaveLength(7);
    expect(json.items[0]?.diagnosis.findings.some((f) => f.step === "allow-origin" && !f.ok)).toBe(
      true,
    );
  });

  it("exits 0 on a clean capture", async () => {
    const run = await runCli(["--har", fixture("clean.har")]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Verdict: ✔ no failing cross-origin request");
  });

  it("exits 2 on a missing or malformed file", async () => {
    const missing = await runCli(["--har", fixture("does-not-exist.har")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*does-not-exist\.har/);
    const bad = await runCli(["--har", "capture.har"], {
      readFile: () => '{"log":{"entries":[{}]}}',
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/entry 0 lacks request\.url/);
    expect(bad.stdout).toBe("");
  });
});

describe("triageHar, Access login hops", () => {
  it("reports the redirect to the login page, not the login page it led to", () => {
    const page = [{ name: "Origin", value: "https://app.example.com" }];
    const har: Har = {
      log: {
        entries: [
          {
            request: { method: "GET", url: "https://api.example.com/items", headers: page },
            response: {
              status: 302,
              headers: [
                {
                  name: "location",
                  value: "https://team.cloudflareaccess.com/cdn-cgi/access/login/api",
                },
              ],
            },
          },
          {
            request: {
              method: "GET",
              url: "https://team.cloudflareaccess.com/cdn-cgi/access/login/api",
              headers: [{ name: "Referer", value: "https://app.example.com/" }],
            },
            response: { status: 0, headers: [], _error: "net::ERR_FAILED" },
          },
        ],
      },
    };
    const t = triageHar(har);
    expect(t.items.map((i) => [i.entry, i.diagnosis.findings[0]?.step])).toEqual([
      [0, "access-login"],
    ]);
  });
});

describe("triageHar, what a capture shows about credentials", () => {
  const page = "https://app.example.com";
  const api = "https://api.example.com/items";
  const base: CorsRequest = {
    url: api,
    origin: page,
    method: "GET",
    headers: [],
    credentials: false,
  };
  const view = (headers: Record<string, string>, status = 200) => ({
    status,
    headers: Object.entries(headers).map(([name, value]) => ({ name, value })),
  });
  const echoNoCredentials = view({ "access-control-allow-origin": page, vary: "Origin" });

  it("takes a Cookie header as proof of credentials", () => {
    expect(
      credentialsEvidence(base, { actual: echoNoCredentials, failed: null, sentCookie: true }),
    ).toEqual({ mode: "include", reason: "the request carried a Cookie header" });
  });

  it("infers credentials when the browser refused what only a credentialed request fails", () => {
    const e = credentialsEvidence(base, {
      actual: echoNoCredentials,
      failed: "net::ERR_FAILED",
      sentCookie: false,
    });
    expect(e.mode).toBe("include");
    expect(e.reason).toMatch(
      /fail only a request with credentials \(no Access-Control-Allow-Credentials\)/,
    );
  });

  it("infers no credentials when the browser accepted what a credentialed request fails", () => {
    const e = credentialsEvidence(base, {
      actual: view({ "access-control-allow-origin": "*" }),
      failed: null,
      sentCookie: false,
    });
    expect(e.mode).toBe("omit");
  });

  it("cannot tell when the browser recorded neither a cookie nor a response", () => {
    const e = credentialsEvidence(base, { failed: "net::ERR_FAILED", sentCookie: false });
    expect(e.mode).toBe("unknown");
    expect(e.reason).toMatch(/no Cookie header and no response/);
  });

  /** What Playwright records for a credentialed fetch the browser refused: no headers, no response. */
  const playwrightFailure: Har = {
    log: {
      pages: [{ id: "p", title: `${page}/` }],
      entries: [
        {
          pageref: "p",
          _resourceType: "fetch",
          request: {
            method: "GET",
            url: `${api}?run=1`,
            headers: [{ name: "Referer", value: `${page}/` }],
          },
          response: { status: -1, headers: [], _failureText: "net::ERR_FAILED" },
        },
      ],
    },
  };

  it("says so and gives both reruns when it cannot tell, the credentialed one first", () => {
    const [item] = triageHar(playwrightFailure).items;
    expect(item?.credentialsEvidence.mode).toBe("unknown");
    expect(item?.reruns.map((r) => r.label)).toEqual(["with credentials", "without credentials"]);
    expect(item?.reruns[0]?.command).toMatch(/ --credentials$/);
    expect(item?.reruns[1]?.command).not.toContain("--credentials");
    expect(item?.rerun).toBe(item?.reruns[0]?.command);
    expect(item?.diagnosis.findings[0]?.fix).toContain(
      "the capture cannot tell whether the page sent credentials",
    );
  });

  it("prints both reruns and the reason", async () => {
    const run = await runCli(["--har", "capture.har"], {
      readFile: () => JSON.stringify(playwrightFailure),
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/credentials: unknown: the capture records no Cookie header/);
    expect(run.stdout).toMatch(
      /rerun with credentials: +npm run doctor -- --url 'https:\/\/api\.example\.com\/items\?run=1' --origin https:\/\/app\.example\.com --method GET --credentials\n/,
    );
    expect(run.stdout).toMatch(
      /rerun without credentials: npm run doctor -- --url 'https:\/\/api\.example\.com\/items\?run=1' --origin https:\/\/app\.example\.com --method GET\n/,
    );
  });

  it("keeps --credentials in the one rerun when the capture shows them", () => {
    const t = triageHar(load("triage.har"));
    const noAcac = t.items.find((i) => i.url.endsWith("/items/no-acac"));
    expect(noAcac?.credentialsEvidence.mode).toBe("include");
    expect(noAcac?.reruns).toEqual([
      { label: "", command: expect.stringMatching(/--credentials$/) },
    ]);
  });

  it("reports as certain only what fails in both modes, and the rest as what credentials would add", () => {
    const har: Har = {
      log: {
        entries: [
          {
            request: {
              method: "OPTIONS",
              url: api,
              headers: [
                { name: "Origin", value: page },
                { name: "Access-Control-Request-Method", value: "PUT" },
              ],
            },
            // Neither PUT nor credentials are allowed: the PUT fails either way.
            response: {
              status: 204,
              headers: [{ name: "access-control-allow-origin", value: page }],
            },
          },
          {
            request: { method: "PUT", url: api, headers: [{ name: "Origin", value: page }] },
            response: { status: 0, headers: [], _error: "net::ERR_FAILED" },
          },
        ],
      },
    };
    const [item] = triageHar(har).items;
    expect(item?.preflightEntry).toBe(0);
    expect(item?.credentialsEvidence.mode).toBe("unknown");
    const failed = item?.diagnosis.findings.filter((f) => !f.ok).map((f) => f.step);
    expect(failed).toEqual(["methods"]);
    const more = item?.diagnosis.findings.find((f) => f.step === "credentials-mode");
    expect(more?.summary).toBe(
      "if the page sends credentials, also: no Access-Control-Allow-Credentials",
    );
  });
});
