import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import {
  normalizeMethod,
  parseCli,
  parseHeaderArg,
  parseOrigin,
  parseRoutePrefix,
} from "../../doctor/cli";
import { ORIGIN, SCENARIOS } from "./support/scenarios";
import { startServer } from "./support/servers";
import { runCli } from "./support/run-cli";

const ROOT = path.join(__dirname, "..", "..");

describe("argument parsing", () => {
  it("reads a live check with repeatable headers", () => {
    const args = parseCli([
      "--url",
      "https://api.example.com/items",
      "--origin",
      ORIGIN,
      "--method",
      "put",
      "--header",
      "X-Api-Key",
      "--header",
      "Content-Type: application/json",
      "--credentials",
    ]);
    expect(args.request).toEqual({
      url: "https://api.example.com/items",
      origin: ORIGIN,
      method: "PUT",
      headers: [{ name: "X-Api-Key" }, { name: "Content-Type", value: "application/json" }],
      credentials: true,
    });
  });

  it("normalises methods the way a browser does", () => {
    expect(normalizeMethod("delete")).toBe("DELETE");
    expect(normalizeMethod("patch")).toBe("patch");
  });

  it("serialises the origin as a browser would, and refuses one with a path", () => {
    expect(parseOrigin("https://APP.example.com:443/")).toBe(ORIGIN);
    expect(() => parseOrigin("https://app.example.com/app")).toThrow(/an origin has no path/);
  });

  it("refuses a header that is not a token", () => {
    expect(parseHeaderArg("X-Trace: a: b")).toEqual({ name: "X-Trace", value: "a: b" });
    expect(() => parseHeaderArg("bad header")).toThrow(/not a header name/);
  });

  it("reads the Worker's route prefix as the program writes it, for live checks and captures", () => {
    expect(parseRoutePrefix("/billing/")).toBe("/billing");
    expect(parseRoutePrefix("/v1/billing")).toBe("/v1/billing");
    // The program's own check: a missing leading slash is added, as the stack's config has it.
    expect(parseRoutePrefix("billing")).toBe("/billing");
    for (const bad of ["/billing/*", "/", "", "/billing?x"])
      expect(() => parseRoutePrefix(bad)).toThrow(/--route-prefix: expected a path like \/api/);
    const live = ["--url", "https://billing.example.com/x", "--origin", ORIGIN];
    expect(parseCli([...live, "--route-prefix", "/billing"]).routePrefix).toBe("/billing");
    expect(parseCli([...live]).routePrefix).toBeUndefined();
    expect(parseCli(["--har", "x.har", "--route-prefix", "/billing"]).routePrefix).toBe("/billing");
  });
});

describe("usage errors exit 2 and send nothing", () => {
  it.each([
    [["--origin", ORIGIN], /needs --url and --origin/],
    [["--url", "URL"], /needs --url and --origin/],
    [["--url", "ftp://x", "--origin", ORIGIN], /not an http\(s\) URL/],
    [["--bogus"], /Unknown option '--bogus'/],
    [["--har", "x.har", "--url", "https://a.example"], /cannot be combined/],
    [["--url", "URL", "--origin", ORIGIN, "--header", "Cookie: a=b"], /only with --credentials/],
  ])("%j", async (argv, message) => {
    const server = await startServer(SCENARIOS[0]!.behaviour);
    try {
      const withUrl = argv.map((a) => (a === "URL" ? `${server.base}/items` : a));
      const run = await runCli(withUrl);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).toContain("Usage:");
      expect(server.received).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it("--help prints usage and exits 0", async () => {
    const run = await runCli(["--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Exit codes: 0 a browser would allow it, 1 it would not");
  });
});

describe("doctor/bin.js", () => {
  it("runs as the package's bin and exits with the verdict", async () => {
    const scenario = SCENARIOS.find(
      (s) => s.name === "header missing from Access-Control-Allow-Headers",
    )!;
    const server = await startServer(scenario.behaviour);
    try {
      const child = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
        // Async spawn: the server lives in this process and must keep answering.
        const p = spawn(
          process.execPath,
          ["doctor/bin.js", "--url", `${server.base}/items`, "--origin", ORIGIN, ...scenario.args],
          { cwd: ROOT },
        );
        let stdout = "";
        p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        p.on("close", (status) => resolve({ status, stdout }));
      });
      expect(child.status).toBe(1);
      expect(child.stdout).toContain("✘ headers: header(s) not allowed: `x-api-key`");
    } finally {
      await server.close();
    }
  });

  it("exits 2 on a usage error", () => {
    const child = spawnSync(process.execPath, ["doctor/bin.js", "--method", "GET"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(child.status).toBe(2);
    expect(child.stderr).toContain("a live check needs --url and --origin");
  });
});
