import type * as esbuild from "esbuild";
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";

export const workerEntry = path.join(__dirname, "src", "index.ts");
export const workerBundlePath = path.join(__dirname, "dist", "index.js");
/** The module name the bundle is uploaded under; `mainModule` must match it. */
export const workerModuleName = "index.js";
/**
 * The Workers runtime behaviour the proxy is written and tested against. It is
 * pinned, not "today", so that deploys are reproducible; it must not be newer
 * than the workerd that miniflare ships, or the tests could not run it.
 */
export const compatibilityDate = "2026-04-01";

/**
 * Bundles the proxy into one self-contained ES module.
 *
 * Every option that could make two builds differ is pinned here (no source
 * maps, no banner with a date, no absolute paths), so the same source always
 * gives the same bytes and a second `pulumi up` sees no change.
 */
export function bundleWorker(): string {
  // Loaded here, not at the top: the packaged component reads the constants
  // above without esbuild, which only a checkout that builds the Worker has.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { buildSync } = require("esbuild") as typeof esbuild;
  const result = buildSync({
    entryPoints: [workerEntry],
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    target: "es2022",
    minify: true,
    legalComments: "none",
    sourcemap: false,
    charset: "utf8",
    treeShaking: true,
    write: false,
    logLevel: "silent",
    tsconfig: path.join(__dirname, "tsconfig.json"),
  });
  const [file] = result.outputFiles;
  if (!file) throw new Error("esbuild produced no output for the Worker");
  return file.text;
}

/** Builds the bundle and writes it where `npm run build:worker` promises it. */
export function writeWorkerBundle(): string {
  const content = bundleWorker();
  mkdirSync(path.dirname(workerBundlePath), { recursive: true });
  writeFileSync(workerBundlePath, content);
  return content;
}

if (require.main === module) {
  const content = writeWorkerBundle();
  const size = Buffer.byteLength(content);
  process.stdout.write(`${path.relative(process.cwd(), workerBundlePath)}: ${size} bytes\n`);
}
