/**
 * What ships stays apart from what checks it: the component under infra/
 * never reaches into the offline checker or the tests, and the package is
 * compiled from a file set that holds neither.
 */
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";

const repoRoot = path.resolve(__dirname, "..", "..");

const checkerDir = path.join(repoRoot, "checker");
const testDir = path.join(repoRoot, "test");

const inside = (dir: string, file: string): boolean => {
  const relative = path.relative(dir, file);
  return !relative.startsWith("..") && !path.isAbsolute(relative);
};

const shippedMayNotReach = (file: string): boolean =>
  inside(checkerDir, file) || inside(testDir, file);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(full);
    return /\.[cm]?[jt]s$/.test(entry.name) ? [full] : [];
  });
}

function parsedConfig(name: string): ts.ParsedCommandLine {
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(repoRoot, name), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    },
  });
  if (!parsed) throw new Error(`cannot read ${name}`);
  return parsed;
}

/** Every module a file imports, exports from, requires or loads dynamically, resolved to a path. */
function importsOf(file: string, options: ts.CompilerOptions): { specifier: string; to: string }[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  return importedFiles.flatMap(({ fileName: specifier }) => {
    if (!specifier.startsWith(".")) return [];
    const resolved = ts.resolveModuleName(specifier, file, options, ts.sys).resolvedModule;
    return [
      { specifier, to: resolved?.resolvedFileName ?? path.resolve(path.dirname(file), specifier) },
    ];
  });
}

describe("the layout", () => {
  const options = parsedConfig("tsconfig.json").options;

  it("reads the checker's imports, so a quiet infra/ is not a blind one", () => {
    const recorder = path.join(checkerDir, "recorder.ts");
    expect(importsOf(recorder, options).map((i) => i.to)).toEqual(
      expect.arrayContaining([path.join(checkerDir, "rules", "index.ts")]),
    );
  });

  it("keeps infra/ free of imports from checker/ and test/", () => {
    const files = filesUnder(path.join(repoRoot, "infra"));
    expect(files).toContainEqual(path.join(repoRoot, "infra", "access-bridge.ts"));
    const reaching = files.flatMap((file) =>
      importsOf(file, options)
        .filter((i) => shippedMayNotReach(i.to))
        .map((i) => `${path.relative(repoRoot, file)} imports ${i.specifier}`),
    );
    expect(reaching).toEqual([]);
  });

  it("compiles the package from a file set without checker/ or test/", () => {
    const build = parsedConfig("tsconfig.build.json");
    const compiled = ts
      .createProgram({ rootNames: build.fileNames, options: build.options })
      .getSourceFiles()
      .map((f) => path.resolve(f.fileName))
      .filter((f) => inside(repoRoot, f) && !f.includes(`${path.sep}node_modules${path.sep}`));
    expect(compiled).toEqual(
      expect.arrayContaining([
        path.join(repoRoot, "index.ts"),
        path.join(repoRoot, "infra", "access-bridge.ts"),
      ]),
    );
    expect(compiled.filter(shippedMayNotReach).map((f) => path.relative(repoRoot, f))).toEqual([]);
  });

  it("packs no file from checker/ or test/ by name", () => {
    const { files } = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
      files: string[];
    };
    expect(files.length).toBeGreaterThan(0);
    const reaching = files.filter((entry) => shippedMayNotReach(path.resolve(repoRoot, entry)));
    expect(reaching).toEqual([]);
  });
});
