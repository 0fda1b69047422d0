import { buildSync } from "esbuild";
import { Miniflare } from "miniflare";
import { compatibilityDate } from "../../worker/build";

/**
 * A Worker written as module source, bundled as Wrangler bundles one (the
 * workerd and browser export conditions), running in workerd.
 */
export async function startModuleWorker(
  entry: string,
  resolveDir: string,
  bindings: Record<string, string>,
): Promise<Miniflare> {
  const bundle = buildSync({
    stdin: { contents: entry, resolveDir, loader: "js" },
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    write: false,
    logLevel: "silent",
  }).outputFiles[0]!.text;
  const mf = new Miniflare({
    modules: [{ type: "ESModule", path: "api.js", contents: bundle }],
    compatibilityDate,
    bindings,
  });
  await mf.ready;
  return mf;
}
