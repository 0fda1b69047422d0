/** The page's files: static HTML, and its TypeScript bundled in memory by esbuild at start-up. */
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import * as path from "node:path";

export interface PageAssets {
  html: string;
  script: string;
}

export async function loadPageAssets(): Promise<PageAssets> {
  const result = await build({
    entryPoints: [path.join(__dirname, "page", "main.ts")],
    bundle: true,
    format: "iife",
    target: "es2022",
    platform: "browser",
    write: false,
    logLevel: "silent",
  });
  const [file] = result.outputFiles;
  if (!file) throw new Error("esbuild produced no bundle for the lab page");
  return {
    html: readFileSync(path.join(__dirname, "public", "index.html"), "utf8"),
    script: file.text,
  };
}
