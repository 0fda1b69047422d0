import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { apiKeys, configKeys, settings, type Setting } from "../../infra/settings";

// Not imported from the script: prettier, which it formats with, cannot load under jest.
const repoRoot = path.resolve(__dirname, "..", "..");
const projectFile = path.join(repoRoot, "Pulumi.yaml");
const readmeFile = path.join(repoRoot, "README.md");

const committed = (file: string) => readFileSync(file, "utf8");

/** The generator's check, run as `npm run docs:settings -- --check` runs it. */
function check(...args: string[]) {
  return spawnSync(
    "node",
    ["-r", "ts-node/register/transpile-only", "scripts/settings-docs.ts", "--check", ...args],
    { cwd: repoRoot, encoding: "utf8" },
  );
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "settings-docs-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the settings' documentation", () => {
  it("Pulumi.yaml's config section and the README's table are what the settings generate", () => {
    const result = check();
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("fails when the README disagrees with the declaration about a default", () => {
    const readme = path.join(dir, "README.md");
    const edited = committed(readmeFile).replace(/(\| `corsMaxAge` +\| )`600`/, "$1`900`");
    expect(edited).not.toBe(committed(readmeFile));
    writeFileSync(readme, edited);
    const result = check("--readme", readme);
    expect(result.stderr).toContain("disagree with infra/settings.ts; run npm run docs:settings");
    expect(result.status).toBe(1);
  });

  it("fails when Pulumi.yaml disagrees with the declaration about a key", () => {
    const project = path.join(dir, "Pulumi.yaml");
    const edited = committed(projectFile).replace(/^ {2}corsMaxAge:\n(?: {4}.*\n)+/m, "");
    expect(edited).not.toBe(committed(projectFile));
    writeFileSync(project, edited);
    expect(check("--project", project).status).toBe(1);
  });

  it("lists every key in the README with its default, and in Pulumi.yaml with its type", () => {
    const text = committed(projectFile);
    const config = (parse(text) as { config: Record<string, { type: string }> }).config;
    const table = committed(readmeFile);
    for (const key of configKeys) {
      const s = settings[key] as Setting<unknown>;
      if (s.type === "object") expect(text).toMatch(new RegExp(`^# {2}${key}: `, "m"));
      else expect([key, config[key]?.type]).toEqual([key, s.type]);
      expect(table).toMatch(new RegExp(`^\\| \`${key}\` +\\| [^|]*\\S[^|]*\\| [^|]*\\S`, "m"));
    }
  });
});

describe("apis' own documentation", () => {
  it("names every key an entry may set, so a new per-API key cannot go unmentioned", () => {
    const doc = settings.apis.doc;
    for (const key of apiKeys) expect(doc).toMatch(new RegExp(`\\b${key}\\b`));
  });
});
