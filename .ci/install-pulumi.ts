/**
 * Installs the Pulumi CLI and the resource plugins the program loads, at the
 * versions package.json and package-lock.json pin, after checking every
 * archive against the SHA-256 its GitHub release publishes. Any mismatch, or an
 * archive whose release publishes no SHA-256, stops it before anything is
 * installed.
 *
 *   node -r ts-node/register/transpile-only .ci/install-pulumi.ts
 *
 * Where the sums come from (nothing is pinned here, so nothing here can be a
 * made-up sum):
 * - GitHub's own `digest` of each release asset (`sha256:<hex>`, computed when
 *   the asset was uploaded), read through the releases API;
 * - every `*checksums.txt` asset of the same release that lists the archive:
 *   pulumi/pulumi publishes `pulumi-<version>-checksums.txt` (SHA-256);
 *   pulumiverse's goreleaser publishes `pulumi-time_<version>_checksums.txt`
 *   (SHA-256); Pulumi's own providers publish `pulumi-<name>_<version>_checksums.txt`
 *   made by `shasum`, which is SHA-1, so for them GitHub's digest is the SHA-256.
 * Every sum found must match, and at least one must be a SHA-256.
 *
 * Afterwards Pulumi is run with PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION, so
 * a plugin missing here fails the job instead of being downloaded unchecked.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";

export type Algorithm = "sha256" | "sha1" | "sha512";

/** An expected digest of an archive, and where it was read. */
export interface Sum {
  algorithm: Algorithm;
  hex: string;
  source: string;
}

/** A release asset as GitHub's releases API lists it. */
export interface ReleaseAsset {
  name: string;
  digest?: string | null;
}

export interface Release {
  assets: ReleaseAsset[];
}

/** One archive to fetch from a GitHub release. */
export interface Archive {
  /** What it is, for messages: "Pulumi CLI 3.265.0", "plugin cloudflare 6.22.1". */
  what: string;
  repo: string;
  tag: string;
  name: string;
}

export interface Plugin {
  name: string;
  version: string;
  repo: string;
}

export interface Platform {
  os: "linux" | "darwin";
  /** The CLI's archives say x64; the plugins', built by goreleaser, amd64. */
  cliArch: "x64" | "arm64";
  pluginArch: "amd64" | "arm64";
}

const exactVersion = /^\d+\.\d+\.\d+$/;

/** The CLI version: package.json's `pulumi` devDependency, which must be exact. */
export function cliVersion(packageJson: { devDependencies?: Record<string, string> }): string {
  const version = packageJson.devDependencies?.["pulumi"];
  if (version === undefined || !exactVersion.test(version)) {
    throw new Error(
      `package.json must pin devDependencies.pulumi to an exact version (x.y.z), got ${JSON.stringify(version)}`,
    );
  }
  return version;
}

/**
 * The GitHub repository that releases a plugin: Pulumi's own providers live in
 * pulumi/pulumi-<name>; a package that names a `github://api.github.com/<org>[/<repo>]`
 * server lives there. Any other server is refused, since its sums cannot be read here.
 */
export function pluginRepo(name: string, server: string | undefined): string {
  if (server === undefined) return `pulumi/pulumi-${name}`;
  const match = /^github:\/\/api\.github\.com\/([\w.-]+)(?:\/([\w.-]+))?\/?$/.exec(server);
  if (!match) {
    throw new Error(
      `plugin ${name} is served from ${server}, whose archives cannot be verified here`,
    );
  }
  return `${match[1]}/${match[2] ?? `pulumi-${name}`}`;
}

interface PulumiPackageField {
  resource?: boolean;
  name?: string;
  version?: string;
  server?: string;
}

/**
 * Every resource plugin the program loads: each package installed from
 * package-lock.json whose package.json says `pulumi.resource`, as Pulumi's
 * Node.js host finds them, at the version that package pins.
 */
export function requiredPlugins(root: string): Plugin[] {
  const lock = JSON.parse(readFileSync(path.join(root, "package-lock.json"), "utf8")) as {
    packages: Record<string, unknown>;
  };
  const found = new Map<string, Plugin>();
  for (const key of Object.keys(lock.packages)) {
    if (!key.startsWith("node_modules/")) continue;
    const file = path.join(root, key, "package.json");
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, "utf8")) as {
      name: string;
      version: string;
      pulumi?: PulumiPackageField;
    };
    if (pkg.pulumi?.resource !== true) continue;
    const name = pkg.pulumi.name ?? pkg.name.replace(/^@[^/]+\//, "");
    const version = (pkg.pulumi.version ?? pkg.version).replace(/^v/, "");
    if (!exactVersion.test(version)) {
      throw new Error(`${pkg.name}: plugin version ${JSON.stringify(version)} is not exact`);
    }
    const plugin = { name, version, repo: pluginRepo(name, pkg.pulumi.server) };
    found.set(`${name}@${version}`, plugin);
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export function currentPlatform(): Platform {
  const osName = process.platform;
  const arch = process.arch;
  if ((osName !== "linux" && osName !== "darwin") || (arch !== "x64" && arch !== "arm64")) {
    throw new Error(`no Pulumi archives for ${osName}/${arch} are known here`);
  }
  return { os: osName, cliArch: arch, pluginArch: arch === "x64" ? "amd64" : "arm64" };
}

export function cliArchive(version: string, platform: Platform): Archive {
  return {
    what: `Pulumi CLI ${version}`,
    repo: "pulumi/pulumi",
    tag: `v${version}`,
    name: `pulumi-v${version}-${platform.os}-${platform.cliArch}.tar.gz`,
  };
}

export function pluginArchive(plugin: Plugin, platform: Platform): Archive {
  return {
    what: `plugin ${plugin.name} ${plugin.version}`,
    repo: plugin.repo,
    tag: `v${plugin.version}`,
    name: `pulumi-resource-${plugin.name}-v${plugin.version}-${platform.os}-${platform.pluginArch}.tar.gz`,
  };
}

const algorithmByLength: Record<number, Algorithm> = { 40: "sha1", 64: "sha256", 128: "sha512" };

/**
 * The sums in a checksums file, by file name: `sha256sum` and `shasum` lines
 * (`<hex>  name`, `<hex> *name`, `<hex>  ./name`); the algorithm follows from the length.
 */
export function parseChecksums(text: string): Map<string, { algorithm: Algorithm; hex: string }> {
  const sums = new Map<string, { algorithm: Algorithm; hex: string }>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^([0-9a-fA-F]+)\s+\*?(?:\.\/)?(\S+)\s*$/.exec(line.trim());
    if (!match) continue;
    const hex = (match[1] as string).toLowerCase();
    const algorithm = algorithmByLength[hex.length];
    if (algorithm) sums.set(match[2] as string, { algorithm, hex });
  }
  return sums;
}

/** The assets of a release that may list sums of its other assets. */
export function checksumAssets(release: Release): string[] {
  return release.assets.map((a) => a.name).filter((name) => /checksums\.txt$/i.test(name));
}

/**
 * Every sum the release publishes for `archiveName`: GitHub's digest of the
 * asset, and its line in each checksums file (given as file name → text).
 */
export function publishedSums(
  release: Release,
  archiveName: string,
  checksumFiles: ReadonlyMap<string, string>,
): Sum[] {
  const asset = release.assets.find((a) => a.name === archiveName);
  if (!asset) throw new Error(`the release has no asset ${archiveName}`);
  const sums: Sum[] = [];
  const digest = /^sha256:([0-9a-f]{64})$/i.exec(asset.digest ?? "");
  if (digest) {
    sums.push({
      algorithm: "sha256",
      hex: (digest[1] as string).toLowerCase(),
      source: "GitHub's digest of the release asset",
    });
  }
  for (const [file, text] of checksumFiles) {
    const entry = parseChecksums(text).get(archiveName);
    if (entry) sums.push({ ...entry, source: file });
  }
  return sums;
}

/**
 * Throws unless the bytes match every sum and at least one sum is a SHA-256;
 * returns the sources checked, for the log.
 */
export function checkSums(bytes: Uint8Array, archiveName: string, sums: readonly Sum[]): string[] {
  if (!sums.some((s) => s.algorithm === "sha256")) {
    const others = sums.map((s) => `${s.algorithm} from ${s.source}`).join(", ") || "no sum at all";
    throw new Error(`${archiveName}: its release publishes no SHA-256 for it (found ${others})`);
  }
  for (const sum of sums) {
    const actual = createHash(sum.algorithm).update(bytes).digest("hex");
    if (actual !== sum.hex) {
      throw new Error(
        `${archiveName}: checksum mismatch: ${sum.source} gives ${sum.algorithm} ${sum.hex}, the download has ${actual}`,
      );
    }
  }
  return sums.map((s) => `${s.algorithm} (${s.source})`);
}

interface Endpoints {
  server: string;
  api: string;
  token: string | undefined;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<Buffer> {
  const response = await fetch(url, { headers });
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

/** Downloads the archive and its release's sums; returns the bytes once they match. */
async function verifiedDownload(archive: Archive, endpoints: Endpoints): Promise<Buffer> {
  // The token goes to the API only, in a header: never to the download hosts.
  const apiHeaders: Record<string, string> = { accept: "application/vnd.github+json" };
  if (endpoints.token) apiHeaders["authorization"] = `Bearer ${endpoints.token}`;
  const release = JSON.parse(
    (
      await get(`${endpoints.api}/repos/${archive.repo}/releases/tags/${archive.tag}`, apiHeaders)
    ).toString("utf8"),
  ) as Release;
  const download = (name: string) =>
    get(`${endpoints.server}/${archive.repo}/releases/download/${archive.tag}/${name}`);
  const checksumFiles = new Map<string, string>();
  for (const name of checksumAssets(release)) {
    checksumFiles.set(name, (await download(name)).toString("utf8"));
  }
  const sums = publishedSums(release, archive.name, checksumFiles);
  const bytes = await download(archive.name);
  const checked = checkSums(bytes, archive.name, sums);
  console.log(`${archive.what}: ${archive.name} matches ${checked.join(", ")}`);
  return bytes;
}

async function main(): Promise<void> {
  const root = path.resolve(__dirname, "..");
  const env = process.env;
  const endpoints: Endpoints = {
    server: (env["GITHUB_SERVER_URL"] ?? "https://github.com").replace(/\/$/, ""),
    api: (env["GITHUB_API_URL"] ?? "https://api.github.com").replace(/\/$/, ""),
    token: env["GH_TOKEN"] || env["GITHUB_TOKEN"] || undefined,
  };
  const platform = currentPlatform();
  const packageJson = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  const cli = cliArchive(cliVersion(packageJson), platform);
  const plugins = requiredPlugins(root);
  if (plugins.length === 0) throw new Error("no resource plugins found: run npm ci first");

  const home = env["PULUMI_HOME"] ?? path.join(os.homedir(), ".pulumi");
  const bin = path.join(home, "bin");
  const pulumi = path.join(bin, "pulumi");
  const pulumiEnv = { ...env, PULUMI_HOME: home, PULUMI_SKIP_UPDATE_CHECK: "true" };
  const plan: { archive: Archive; install: (file: string) => void }[] = [
    {
      archive: cli,
      install: (file) => {
        mkdirSync(bin, { recursive: true });
        execFileSync("tar", ["-xzf", file, "-C", bin, "--strip-components=1"]);
      },
    },
    ...plugins.map((plugin) => ({
      archive: pluginArchive(plugin, platform),
      install: (file: string) =>
        execFileSync(
          pulumi,
          ["plugin", "install", "resource", plugin.name, plugin.version, "--file", file],
          {
            stdio: "inherit",
            env: pulumiEnv,
          },
        ),
    })),
  ];

  // Every archive is downloaded and checked before any is installed.
  const work = mkdtempSync(path.join(os.tmpdir(), "install-pulumi-"));
  const files: string[] = [];
  try {
    for (const { archive } of plan) {
      const file = path.join(work, archive.name);
      writeFileSync(file, await verifiedDownload(archive, endpoints));
      files.push(file);
    }
  } catch (error) {
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}. Nothing was installed`,
      { cause: error },
    );
  }
  plan.forEach(({ install }, i) => install(files[i] as string));
  if (env["GITHUB_PATH"]) appendFileSync(env["GITHUB_PATH"], `${bin}\n`);
  console.log(
    `Installed ${cli.what} in ${bin}, and ${plugins.map((p) => `${p.name} ${p.version}`).join(", ")}.`,
  );
}

if (require.main === module) {
  main().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    const prefix = process.env["GITHUB_ACTIONS"] ? "::error::" : "";
    console.error(`${prefix}install-pulumi: ${message}.`);
    process.exit(1);
  });
}
