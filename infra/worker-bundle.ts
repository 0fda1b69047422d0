import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import {
  compatibilityDate,
  workerEntry,
  workerModuleName,
  writeWorkerBundle,
} from "../worker/build";

/** The bundled proxy Worker, exactly as it is uploaded. */
export interface WorkerBundle {
  /** The ES module source. */
  content: string;
  /** The module name the content is uploaded under; `mainModule` names it. */
  moduleName: string;
  /** The pinned Workers compatibility date. */
  compatibilityDate: string;
}

/** The folder holding this package's package.json, whether run from source or from `dist/`. */
function packageRoot(from: string = __dirname): string {
  let dir = from;
  while (!existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

/**
 * The Worker the component uploads. A checkout has the Worker's source and
 * builds it (and writes `worker/dist/index.js`, so the file on disk is what is
 * uploaded); an installed package has no source, only the bundle `npm pack`
 * built into it. Either way the bytes are those of `npm run build:worker`.
 */
export function loadWorkerBundle(): WorkerBundle {
  const built = path.join(packageRoot(), "worker", "dist", "index.js");
  let content: string;
  if (existsSync(workerEntry)) {
    content = writeWorkerBundle();
  } else if (existsSync(built)) {
    content = readFileSync(built, "utf8");
  } else {
    throw new Error(
      `the proxy Worker's bundle is missing from ${built}; the package was not built with \`npm pack\``,
    );
  }
  return { content, moduleName: workerModuleName, compatibilityDate };
}
