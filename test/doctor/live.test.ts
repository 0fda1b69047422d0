import type { Finding } from "../../doctor/diagnose";
import { ORIGIN, SCENARIOS } from "./support/scenarios";
import { closedPort, startServer, type TestServer } from "./support/servers";
import { runCli } from "./support/run-cli";

interface LiveJson {
  verdict: string;
  findings: Finding[];
  exchanges: Array<{ phase: string; status: number }>;
}

describe("live check against local servers", () => {
  describe.each(SCENARIOS)("$name", (scenario) => {
    let server: TestServer;
    beforeEach(async () => {
      server = await startServer(scenario.behaviour);
    });
    afterEach(() => server.close());

    const argv = () => ["--url", `${server.base}/items`, "--origin", ORIGIN, ...scenario.args];

    it("prints the browser's verdict, the cause and the fix, with the right exit code", async () => {
      const run = await runCli(argv());
      expect(run.code).toBe(scenario.expect.exit);
      expect(run.stderr).toBe("");
      expect(run.stdout).toContain(
        scenario.expect.exit === 0 ? "Verdict: ✔ allowed" : "Verdict: ✘ blocked",
      );
      const mark = { pass: "✔", fail: "✘", warn: "⚠" }[scenario.expect.severity];
      expect(run.stdout).toContain(`${mark} ${scenario.expect.step}:`);
      if (scenario.expect.cause) expect(run.stdout).toMatch(scenario.expect.cause);
      if (scenario.expect.fix) expect(run.stdout).toMatch(scenario.expect.fix);
    });

    it("reports the deciding step with its fix key in --json", async () => {
      const run = await runCli([...argv(), "--json"]);
      expect(run.code).toBe(scenario.expect.exit);
      const json = JSON.parse(run.stdout) as LiveJson;
      expect(json.verdict).toBe(scenario.expect.exit === 0 ? "allowed" : "blocked");
      const finding = json.findings.find(
        (f) => f.step === scenario.expect.step && f.severity === scenario.expect.severity,
      );
      expect(finding).toBeDefined();
      if (scenario.expect.fixKey) expect(finding?.fixKeys).toContain(scenario.expect.fixKey);
      if (scenario.expect.exit === 1) {
        expect(json.findings.filter((f) => !f.ok).length).toBeGreaterThan(0);
      } else {
        expect(json.findings.every((f) => f.ok)).toBe(true);
      }
    });

    it("sends what a browser sends, and stops where a browser stops", async () => {
      await runCli(argv());
      const preflights = server.received.filter((r) => r.method === "OPTIONS");
      const actual = server.received.filter((r) => r.method !== "OPTIONS");
      const preflighted = scenario.args.includes("PUT");
      expect(preflights).toHaveLength(preflighted ? 1 : 0);
      for (const p of preflights) {
        expect(p.headers.origin).toBe(ORIGIN);
        expect(p.headers["access-control-request-method"]).toBe("PUT");
        expect(p.headers["access-control-request-headers"]).toBe("content-type,x-api-key");
        expect(p.headers.cookie).toBeUndefined();
      }
      expect(actual).toHaveLength(scenario.expect.actualSent ? 1 : 0);
      for (const a of actual) expect(a.headers.origin).toBe(ORIGIN);
    });
  });

  describe("against an API that allows the preflighted PUT", () => {
    let server: TestServer;
    beforeEach(async () => {
      server = await startServer(SCENARIOS[0]!.behaviour);
    });
    afterEach(() => server.close());

    it("sends the cookie only on the actual request, and never prints it", async () => {
      const secret = "CF_Authorization=live-cookie-secret-5e2d";
      const run = await runCli([
        "--url",
        `${server.base}/items`,
        "--origin",
        ORIGIN,
        "--method",
        "PUT",
        "--header",
        "x-api-key",
        "--header",
        `Cookie: ${secret}`,
        "--credentials",
        "--json",
      ]);
      expect(run.code).toBe(0);
      const [preflight, actual] = server.received;
      expect(preflight?.method).toBe("OPTIONS");
      expect(preflight?.headers.cookie).toBeUndefined();
      expect(actual?.headers.cookie).toBe(secret);
      expect(run.stdout).toContain("[redacted]");
      expect(run.stdout).not.toContain("live-cookie-secret-5e2d");
    });

    it("--preflight-only never sends the actual request", async () => {
      const run = await runCli([
        "--url",
        `${server.base}/items`,
        "--origin",
        ORIGIN,
        ...SCENARIOS[0]!.args,
        "--preflight-only",
      ]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain("Actual request: not sent");
      expect(server.received.map((r) => r.method)).toEqual(["OPTIONS"]);
    });
  });

  it("exits 2 when the host is unreachable", async () => {
    const port = await closedPort();
    const run = await runCli(["--url", `http://127.0.0.1:${port}/items`, "--origin", ORIGIN]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+\/items: ECONNREFUSED/);
    expect(run.stdout).toBe("");
  });

  it("says so in --json too, without printing a token from the URL", async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/items?cf_authorization=url-token-secret-9f1c`;
    const run = await runCli(["--url", url, "--origin", ORIGIN, "--json"]);
    expect(run.code).toBe(2);
    const json = JSON.parse(run.stdout) as { verdict: string; error: string };
    expect(json.verdict).toBe("unreachable");
    expect(json.error).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:\d+\/items\?.*: ECONNREFUSED/);
    expect(run.stdout + run.stderr).toContain("[redacted]");
    expect(run.stdout + run.stderr).not.toContain("url-token-secret-9f1c");
  });
});

describe("root cause first", () => {
  const scenario = SCENARIOS.find((s) => s.name.startsWith("origin not allowed"))!;
  let server: TestServer;
  beforeEach(async () => {
    server = await startServer(scenario.behaviour);
  });
  afterEach(() => server.close());

  const argv = () => ["--url", `${server.base}/items`, "--origin", ORIGIN, ...scenario.args];

  it("lists one problem and one fix when the origin is not allowed, and the later steps as not evaluated", async () => {
    const run = await runCli(argv());
    expect(run.code).toBe(1);
    const findingLines = run.stdout.split("\n").filter((l) => /^ {2}[✔✘⚠·] /.test(l));
    expect(findingLines.filter((l) => l.startsWith("  ✘ "))).toEqual([
      "  ✘ allow-origin: no Access-Control-Allow-Origin",
    ]);
    expect(run.stdout.match(/^ +fix: /gm)).toHaveLength(1);
    expect(run.stdout).not.toContain("⚠");
    for (const step of ["credentials", "methods", "headers", "max-age", "vary"]) {
      expect(run.stdout).toContain(
        `  · ${step}: not evaluated: the browser stops at the failed allow-origin check`,
      );
    }
    expect(run.stdout).not.toMatch(/corsAllowCredentials|corsAllowedHeaders|corsMaxAge/);
  });

  it("says the same in --json: one failure, one fix, the rest not evaluated", async () => {
    const run = await runCli([...argv(), "--json"]);
    const json = JSON.parse(run.stdout) as LiveJson;
    expect(json.findings.filter((f) => !f.ok).map((f) => f.step)).toEqual(["allow-origin"]);
    expect(json.findings.filter((f) => f.fix !== undefined)).toHaveLength(1);
    expect(json.findings.filter((f) => f.severity === "not-evaluated").map((f) => f.step)).toEqual([
      "credentials",
      "methods",
      "headers",
      "max-age",
      "vary",
    ]);
  });
});
