/**
 * `npm start` as a newcomer meets it: the arguments it takes, what it prints,
 * and that Ctrl-C leaves nothing running.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { checkStack, knownStacks, parseArgs, upstreamLines, UsageError } from "../../lab/start";
import { headlessFlags } from "../../lab/browser";
import { fixtureStackFile } from "../support/stacks";
import { shell, stopChild } from "./browser-support";

const repoRoot = path.resolve(__dirname, "..", "..");
const startArgs = ["-r", "ts-node/register/transpile-only", path.join("lab", "start.ts")];

describe("parseArgs", () => {
  it("defaults to the dev stack on port 8443", () => {
    expect(parseArgs([])).toEqual({ stack: "dev", port: 8443, open: false, ephemeral: false });
  });

  it("reads values given inline or as the next argument", () => {
    expect(parseArgs(["--stack=prod", "--port", "0", "--scenario", "cross-site"])).toMatchObject({
      stack: "prod",
      port: 0,
      scenario: "cross-site",
    });
  });

  it("reads your servers' origins from --frontend and --api", () => {
    expect(
      parseArgs(["--frontend", "http://localhost:5173/", "--api=http://127.0.0.1:8080"]),
    ).toMatchObject({ frontend: "http://localhost:5173", api: "http://127.0.0.1:8080" });
  });

  it.each([
    [["--stack"], /--stack needs a value/],
    [["--port", "http"], /--port must be 0..65535/],
    [["--verbose"], /unknown option --verbose/],
    [
      ["--frontend", "localhost:5173"],
      /--frontend localhost:5173: not an http:\/\/ or https:\/\/ URL/,
    ],
    [
      ["--api", "http://localhost:8080/v1"],
      /--api http:\/\/localhost:8080\/v1: give the server's origin alone/,
    ],
    [["--api"], /--api needs a value/],
    [
      ["--frontend", "https://127.0.0.1:8443"],
      /--frontend https:\/\/127\.0\.0\.1:8443 is the lab's own port/,
    ],
  ])("refuses %j as a usage error", (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(message);
    expect(() => parseArgs(argv)).toThrow(UsageError);
  });
});

describe("checkStack", () => {
  it("knows the stacks a folder configures, by their Pulumi.<stack>.yaml files", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "stacks-"));
    try {
      for (const f of ["Pulumi.qa.yaml", "Pulumi.live.yaml", "README.md"])
        writeFileSync(path.join(dir, f), "");
      expect(knownStacks(dir)).toEqual(["live", "qa"]);
      expect(() => checkStack("qa", knownStacks(dir))).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names the missing stack file and the stacks there are", () => {
    expect(() => checkStack("staging", ["dev", "prod"])).toThrow(
      'unknown stack "staging": there is no stacks/Pulumi.staging.yaml; use --stack dev or --stack prod',
    );
  });
});

describe("npm start --help", () => {
  it("documents every flag and exits 0 without starting anything", () => {
    const run = spawnSync(process.execPath, [...startArgs, "--help"], {
      cwd: repoRoot,
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.status).toBe(0);
    for (const flag of [
      "--stack",
      "--config-file",
      "--frontend",
      "--api",
      "--port",
      "--scenario",
      "--open",
      "--ephemeral",
      "--help",
    ]) {
      expect(run.stdout).toMatch(new RegExp(`^ {2}${flag} `, "m"));
    }
    expect(run.stdout).not.toContain("Declaring");
  });
});

describe("npm start", () => {
  it("exits 2 with the usage on an unknown stack, before declaring anything", () => {
    const run = spawnSync(process.execPath, [...startArgs, "--stack", "nope"], {
      cwd: repoRoot,
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('unknown stack "nope"');
    expect(run.stderr).toContain("usage: npm start");
    expect(run.stdout).not.toContain("Declaring");
  });

  it("exits 1 naming the flag and the URL of a server that does not answer, before declaring anything", async () => {
    const gone = createServer();
    await new Promise<void>((resolve) => gone.listen(0, "127.0.0.1", () => resolve()));
    const origin = `http://127.0.0.1:${(gone.address() as AddressInfo).port}`;
    await new Promise((resolve) => gone.close(resolve));
    const run = spawnSync(
      process.execPath,
      [...startArgs, "--config-file", fixtureStackFile("dev"), "--frontend", origin, "--ephemeral"],
      {
        cwd: repoRoot,
        encoding: "utf8",
        timeout: 30_000,
      },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      `npm start: --frontend ${origin}: nothing answers (ECONNREFUSED)\n`,
    );
    expect(run.stdout).not.toContain("Declaring");
  });

  it("prints the page's URL and a Chromium command that reaches it, and stops cleanly on SIGINT", async () => {
    const child = spawn(
      process.execPath,
      [...startArgs, "--config-file", fixtureStackFile("dev"), "--port", "0", "--ephemeral"],
      { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    try {
      await new Promise<void>((resolve, reject) => {
        child.once("exit", (code) => reject(new Error(`exited ${code}: ${stderr}`)));
        child.stdout.on("data", () => {
          if (stdout.includes("Ctrl-C stops the lab.")) resolve();
        });
      });
      expect(stdout).toMatch(/^ {2}open {7}https:\/\/www\.example\.com\/$/m);
      const port = Number(/listening {2}https:\/\/127\.0\.0\.1:(\d+) /.exec(stdout)?.[1]);
      expect(port).toBeGreaterThan(0);
      const command = stdout.split("\n").find((l) => l.includes("--host-resolver-rules="));
      expect(command).toContain(`MAP www.example.com 127.0.0.1:${port}`);
      expect(command).toContain("--ignore-certificate-errors-spki-list=");
      // A profile per stack: Chromium keeps the flags a profile was first opened with.
      expect(command).toMatch(/--user-data-dir=\S+\/profile-dev /);
      expect(command?.trim().endsWith("https://www.example.com/")).toBe(true);
      // The printed command is for a person; headless-only flags stay out of it.
      expect(command).not.toContain("--headless");
      expect(headlessFlags).toContain("--headless");

      const children = childPids(child.pid!); // workerd, esbuild
      expect(children.length).toBeGreaterThan(0);
      const exit = new Promise<number | null>((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      // Miniflare's exit hook stops workerd first and exits with the shell's
      // code for Ctrl-C, 128 + SIGINT.
      expect(await exit).toBe(130);
      expect(await accepts(port)).toBe(false);
      expect(await survivors(children)).toEqual([]);
      // --ephemeral leaves no profile, certificate or token behind.
      const profile = /--user-data-dir=(\S+) /.exec(command ?? "")?.[1] ?? "";
      expect(profile).not.toBe("");
      expect(existsSync(path.dirname(profile))).toBe(false);
    } finally {
      await stopChild(child);
    }
  }, 90_000);
});

describe("what npm start prints about your own servers", () => {
  const lab = {
    upstreams: { frontend: "http://localhost:5173", api: "http://localhost:8080" },
    pageUrl: () => "https://www.example.com/__lab/",
    apiJwt: () => ({
      certs: "http://127.0.0.1:8443/cdn-cgi/access/certs",
      teamCerts: "https://team.cloudflareaccess.com/cdn-cgi/access/certs",
      issuer: "https://team.cloudflareaccess.com",
      audience: "aud-api",
    }),
    active: () =>
      ({
        topology: {
          frontend: { hostname: "www.example.com" },
          apis: [{ app: { hostname: "api.example.com" }, routePrefix: "/api" }],
        },
      }) as unknown as ReturnType<Parameters<typeof upstreamLines>[0]["active"]>,
  };

  it("says where each is served and what the API verifies its assertions with", () => {
    expect(upstreamLines(lab)).toEqual([
      "  lab page   https://www.example.com/__lab/ (the guide's cases)",
      "  front end  http://localhost:5173 serves https://www.example.com/ outside /api/ (the Worker's route)",
      "  api        http://localhost:8080 serves https://api.example.com/ behind its Access edge",
      "",
      "Your API gets Cf-Access-Jwt-Assertion signed by the lab's team keys. Verify it with:",
      "  certs      http://127.0.0.1:8443/cdn-cgi/access/certs   (the team's https://team.cloudflareaccess.com/cdn-cgi/access/certs, over plain HTTP)",
      "  issuer     https://team.cloudflareaccess.com",
      "  audience   aud-api",
    ]);
  });

  it("says nothing more without them", () => {
    expect(upstreamLines({ ...lab, upstreams: {} })).toEqual([]);
  });
});

function childPids(pid: number): number[] {
  const out = execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" });
  return out
    .split("\n")
    .map((l) => Number(l.trim()))
    .filter((n) => n > 0);
}

/** The processes still running (not merely awaiting reaping) a few seconds after the lab exits. */
async function survivors(pids: number[]): Promise<string[]> {
  let running: string[] = [];
  for (let i = 0; i < 50; i++) {
    const out = spawnSync("ps", ["-o", "pid=,stat=,comm=", "-p", pids.join(",")], {
      encoding: "utf8",
    }).stdout;
    running = out
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !/^\d+\s+Z/.test(l));
    if (running.length === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return running;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("the doctor command npm start prints", () => {
  let lab: ChildProcess;
  let printed = "";

  beforeAll(async () => {
    lab = spawn(
      process.execPath,
      [...startArgs, "--config-file", fixtureStackFile("dev"), "--port", "0", "--ephemeral"],
      { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve, reject) => {
      lab.once("exit", (code) => reject(new Error(`the lab exited ${code}`)));
      lab.stdout!.on("data", (d: Buffer) => {
        printed += d.toString();
        if (printed.includes("Ctrl-C stops the lab.")) resolve();
      });
    });
  }, 90_000);

  afterAll(() => stopChild(lab));

  const doctorLine = (): string =>
    printed
      .split("\n")
      .find((l) => l.trim().startsWith("npm run -s doctor --"))
      ?.trim() ?? "";

  it("names the API, maps it to the lab's port with --resolve and trusts the lab's certificate", () => {
    const port = /listening {2}https:\/\/127\.0\.0\.1:(\d+) /.exec(printed)?.[1];
    expect(doctorLine()).toContain(`--url https://api.example.com:${port}/api/echo`);
    expect(doctorLine()).toContain(`--resolve api.example.com:${port}:127.0.0.1`);
    expect(doctorLine()).toMatch(/--cacert \S+\/cert-dev\.pem$/);
  });

  it("works as printed: the browser's verdict for a person logged in to the API", async () => {
    const run = await shell(doctorLine());
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Actual request: POST → 200");
    expect(run.stdout).toContain("Verdict: ✔ allowed");
    // npm is silenced, and the doctor redacts: the token is never printed.
    const token = /"\$\(cat (\S+)\)"/.exec(doctorLine())?.[1] ?? "";
    const { readFileSync } = await import("node:fs");
    expect(run.stdout).not.toContain(readFileSync(token, "utf8"));
  }, 60_000);

  it("without the token, says it could not judge the request as a logged-in person", async () => {
    const withoutToken = doctorLine().replace(/--access-token "\$\(cat \S+\)" /, "");
    expect(withoutToken).not.toContain("--access-token");
    const run = await shell(withoutToken);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("Actual request: POST → 302");
    expect(run.stdout).toContain("could not judge the request as a logged-in person");
  }, 60_000);
});
