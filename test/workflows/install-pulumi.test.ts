import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import {
  Archive,
  Platform,
  Plugin,
  Release,
  checkSums,
  cliArchive,
  cliVersion,
  currentPlatform,
  parseChecksums,
  pluginArchive,
  pluginRepo,
  publishedSums,
  requiredPlugins,
} from "../../.ci/install-pulumi";

const repoRoot = path.resolve(__dirname, "../..");
const linuxX64: Platform = { os: "linux", cliArch: "x64", pluginArch: "amd64" };
const packageJson = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(path.join(repoRoot, "package-lock.json"), "utf8")) as {
  packages: Record<string, { version: string }>;
};
const locked = (pkg: string) => lock.packages[`node_modules/${pkg}`]?.version as string;

const sha = (algorithm: string, bytes: string | Buffer) =>
  createHash(algorithm).update(bytes).digest("hex");

describe("which Pulumi .ci/install-pulumi.ts installs", () => {
  it("is the CLI version package.json pins, which must be exact", () => {
    expect(cliVersion(packageJson)).toBe(packageJson.devDependencies["pulumi"]);
    expect(cliVersion(packageJson)).toMatch(/^\d+\.\d+\.\d+$/);
    expect(() => cliVersion({ devDependencies: { pulumi: "^3.265.0" } })).toThrow(/exact version/);
    expect(() => cliVersion({})).toThrow(/exact version/);
  });

  it("is every plugin the program loads, at the version package-lock pins, from its release repository", () => {
    expect(requiredPlugins(repoRoot)).toEqual([
      {
        name: "cloudflare",
        version: locked("@pulumi/cloudflare"),
        repo: "pulumi/pulumi-cloudflare",
      },
      { name: "random", version: locked("@pulumi/random"), repo: "pulumi/pulumi-random" },
      { name: "time", version: locked("@pulumiverse/time"), repo: "pulumiverse/pulumi-time" },
      { name: "tls", version: locked("@pulumi/tls"), repo: "pulumi/pulumi-tls" },
    ]);
  });

  it("names the archives as the releases publish them", () => {
    expect(cliArchive("3.265.0", linuxX64)).toMatchObject({
      repo: "pulumi/pulumi",
      tag: "v3.265.0",
      name: "pulumi-v3.265.0-linux-x64.tar.gz",
    });
    const time: Plugin = { name: "time", version: "0.1.1", repo: "pulumiverse/pulumi-time" };
    expect(pluginArchive(time, linuxX64)).toMatchObject({
      repo: "pulumiverse/pulumi-time",
      tag: "v0.1.1",
      name: "pulumi-resource-time-v0.1.1-linux-amd64.tar.gz",
    });
  });

  it("finds a plugin's releases on GitHub, and refuses a server it cannot verify", () => {
    expect(pluginRepo("cloudflare", undefined)).toBe("pulumi/pulumi-cloudflare");
    expect(pluginRepo("time", "github://api.github.com/pulumiverse/pulumi-time")).toBe(
      "pulumiverse/pulumi-time",
    );
    expect(pluginRepo("thing", "github://api.github.com/acme")).toBe("acme/pulumi-thing");
    expect(() => pluginRepo("thing", "https://plugins.example.com")).toThrow(/cannot be verified/);
  });
});

describe("the sums .ci/install-pulumi.ts checks", () => {
  const archive = "pulumi-resource-tls-v5.6.1-linux-amd64.tar.gz";
  const bytes = Buffer.from("the archive");

  it("are read from sha256sum and shasum lines, the algorithm told by the length", () => {
    const sums = parseChecksums(
      `${sha("sha1", "a")}  ./${archive}\n${sha("sha256", "b")} *other.tar.gz\nnot a sum line\n`,
    );
    expect(sums.get(archive)).toEqual({ algorithm: "sha1", hex: sha("sha1", "a") });
    expect(sums.get("other.tar.gz")).toEqual({ algorithm: "sha256", hex: sha("sha256", "b") });
    expect(sums.size).toBe(2);
  });

  it("are GitHub's digest of the asset and its line in every checksums file of the release", () => {
    const release: Release = {
      assets: [
        { name: archive, digest: `sha256:${sha("sha256", bytes)}` },
        { name: "pulumi-tls_5.6.1_checksums.txt", digest: null },
      ],
    };
    const files = new Map([
      ["pulumi-tls_5.6.1_checksums.txt", `${sha("sha1", bytes)}  ./${archive}\n`],
    ]);
    expect(publishedSums(release, archive, files)).toEqual([
      {
        algorithm: "sha256",
        hex: sha("sha256", bytes),
        source: "GitHub's digest of the release asset",
      },
      { algorithm: "sha1", hex: sha("sha1", bytes), source: "pulumi-tls_5.6.1_checksums.txt" },
    ]);
    expect(() => publishedSums(release, "missing.tar.gz", files)).toThrow(/no asset missing/);
  });

  it("accept an archive that matches every one of them", () => {
    const sums = [
      { algorithm: "sha256" as const, hex: sha("sha256", bytes), source: "digest" },
      { algorithm: "sha1" as const, hex: sha("sha1", bytes), source: "file" },
    ];
    expect(checkSums(bytes, archive, sums)).toEqual(["sha256 (digest)", "sha1 (file)"]);
  });

  it("refuse an archive that differs from any of them, a SHA-1 included", () => {
    const sums = [
      { algorithm: "sha256" as const, hex: sha("sha256", bytes), source: "digest" },
      { algorithm: "sha1" as const, hex: sha("sha1", "something else"), source: "file" },
    ];
    expect(() => checkSums(bytes, archive, sums)).toThrow(
      `${archive}: checksum mismatch: file gives sha1 ${sha("sha1", "something else")}`,
    );
  });

  it("refuse an archive whose release publishes no SHA-256 for it", () => {
    const sha1Only = [{ algorithm: "sha1" as const, hex: sha("sha1", bytes), source: "file" }];
    expect(() => checkSums(bytes, archive, sha1Only)).toThrow(
      `${archive}: its release publishes no SHA-256 for it (found sha1 from file)`,
    );
    expect(() => checkSums(bytes, archive, [])).toThrow(/no SHA-256 .*no sum at all/);
  });
});

/**
 * The script run for real against a local stand-in for GitHub: the releases API
 * and the download host, serving a fake CLI (a shell script that records how it
 * is called) and fake plugin archives, each release publishing its sums the way
 * the real one does.
 */
describe(".ci/install-pulumi.ts against a local fake of GitHub's releases", () => {
  const platform = currentPlatform();
  const work = mkdtempSync(path.join(os.tmpdir(), "install-pulumi-test-"));
  const plugins = requiredPlugins(repoRoot);
  const cli = cliArchive(cliVersion(packageJson), platform);
  const archives: Archive[] = [cli, ...plugins.map((p) => pluginArchive(p, platform))];

  const contents = new Map<string, Buffer>();
  const cliDir = path.join(work, "cli", "pulumi");
  mkdirSync(cliDir, { recursive: true });
  writeFileSync(path.join(cliDir, "pulumi"), '#!/bin/sh\necho "$*" >> "$FAKE_PULUMI_LOG"\n', {
    mode: 0o755,
  });
  execFileSync("tar", ["-czf", path.join(work, cli.name), "-C", path.join(work, "cli"), "pulumi"]);
  contents.set(cli.name, readFileSync(path.join(work, cli.name)));
  for (const archive of archives.slice(1))
    contents.set(archive.name, Buffer.from(`fake ${archive.what}`));

  type Served = { status: number; body: Buffer | string };
  let routes = new Map<string, Served>();
  const requests: { url: string; authorization: string | undefined }[] = [];

  /**
   * Each release as it publishes its sums; `tampered` serves other bytes for one
   * archive, `withoutDigest` drops GitHub's digest of one.
   */
  function publish(tampered?: string, withoutDigest?: string): void {
    routes = new Map();
    for (const archive of archives) {
      const bytes = contents.get(archive.name) as Buffer;
      const isCli = archive === cli;
      const isTime = archive.repo === "pulumiverse/pulumi-time";
      const version = archive.tag.slice(1);
      const project = archive.repo.split("/")[1] as string;
      // pulumi/pulumi: SHA-256; pulumiverse's goreleaser: SHA-256; Pulumi's
      // providers: `shasum`, which is SHA-1, with a "./" before each name.
      const checksums = isCli
        ? {
            name: `pulumi-${version}-checksums.txt`,
            line: `${sha("sha256", bytes)}  ${archive.name}`,
          }
        : isTime
          ? {
              name: `${project}_${version}_checksums.txt`,
              line: `${sha("sha256", bytes)}  ${archive.name}`,
            }
          : {
              name: `${project}_${version}_checksums.txt`,
              line: `${sha("sha1", bytes)}  ./${archive.name}`,
            };
      const release: Release = {
        assets: [
          {
            name: archive.name,
            digest: archive.name === withoutDigest ? null : `sha256:${sha("sha256", bytes)}`,
          },
          { name: checksums.name, digest: null },
        ],
      };
      const download = `/download/${archive.repo}/releases/download/${archive.tag}`;
      routes.set(`/api/repos/${archive.repo}/releases/tags/${archive.tag}`, {
        status: 200,
        body: JSON.stringify(release),
      });
      routes.set(`${download}/${checksums.name}`, { status: 200, body: `${checksums.line}\n` });
      routes.set(`${download}/${archive.name}`, {
        status: 200,
        body: archive.name === tampered ? Buffer.concat([bytes, Buffer.from("!")]) : bytes,
      });
    }
  }

  const server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? "", authorization: req.headers.authorization });
    const served = routes.get(req.url ?? "") ?? { status: 404, body: "not found" };
    res.writeHead(served.status).end(served.body);
  });
  let base = "";
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function install(name: string) {
    const dir = path.join(work, name);
    mkdirSync(dir);
    const env = {
      PATH: process.env["PATH"],
      HOME: dir,
      PULUMI_HOME: path.join(dir, "pulumi-home"),
      GITHUB_API_URL: `${base}/api`,
      GITHUB_SERVER_URL: `${base}/download`,
      GITHUB_PATH: path.join(dir, "github-path"),
      GH_TOKEN: "fake-token",
      FAKE_PULUMI_LOG: path.join(dir, "pulumi-calls"),
    };
    requests.length = 0;
    const child = spawn(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", ".ci/install-pulumi.ts"],
      { cwd: repoRoot, env },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    const read = (file: string) => (existsSync(file) ? readFileSync(file, "utf8") : "");
    return {
      code,
      stdout,
      stderr,
      pulumiCalls: read(env.FAKE_PULUMI_LOG),
      githubPath: read(env.GITHUB_PATH),
      bin: path.join(env.PULUMI_HOME, "bin"),
    };
  }

  it("installs the CLI and every plugin once each archive matches its release's sums", async () => {
    publish();
    const result = await install("ok");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(existsSync(path.join(result.bin, "pulumi"))).toBe(true);
    const calls = result.pulumiCalls.trim().split("\n");
    expect(calls).toHaveLength(plugins.length);
    plugins.forEach((p, i) => {
      expect(calls[i]).toContain(`plugin install resource ${p.name} ${p.version} --file `);
      expect(calls[i]?.endsWith(`/${pluginArchive(p, platform).name}`)).toBe(true);
    });
    expect(result.githubPath).toBe(`${result.bin}\n`);
    for (const archive of archives)
      expect(result.stdout).toContain(`${archive.what}: ${archive.name} matches sha256`);
    const authorized = requests.filter((r) => r.authorization !== undefined);
    expect(authorized.length).toBe(archives.length);
    for (const r of authorized) {
      expect(r.url.startsWith("/api/")).toBe(true);
      expect(r.authorization).toBe("Bearer fake-token");
    }
  });

  it.each([
    ["the CLI", 0],
    ["a plugin", 1],
  ])(
    "refuses %s whose archive differs from its release's sums, and installs nothing",
    async (_what, index) => {
      const tampered = archives[index] as Archive;
      publish(tampered.name);
      const result = await install(`tampered-${index}`);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`${tampered.name}: checksum mismatch`);
      expect(result.stderr).toContain("Nothing was installed");
      expect(existsSync(path.join(result.bin, "pulumi"))).toBe(false);
      expect(result.pulumiCalls).toBe("");
      expect(result.githubPath).toBe("");
    },
  );

  it("refuses a provider whose release publishes only a SHA-1 for it", async () => {
    const sha1Only = archives.find((a) => a.repo === "pulumi/pulumi-random") as Archive;
    publish(undefined, sha1Only.name);
    const result = await install("sha1-only");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${sha1Only.name}: its release publishes no SHA-256 for it`);
    expect(result.pulumiCalls).toBe("");
  });
});
