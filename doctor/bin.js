#!/usr/bin/env node
// `npx access-bridge-doctor`. In a checkout it runs the TypeScript source, so no
// build step is needed; an installed package has no source, only the compiled
// CLI that `npm pack` built into dist/. A CommonJS shim by necessity: ts-node
// must be registered before cli.ts can load.
/* eslint-disable @typescript-eslint/no-require-imports */
"use strict";
const { existsSync } = require("node:fs");
const path = require("node:path");

const source = path.join(__dirname, "cli.ts");
if (existsSync(source)) {
  require("ts-node").register({
    transpileOnly: true,
    project: path.join(__dirname, "..", "tsconfig.json"),
  });
  require(source).run();
} else {
  require(path.join(__dirname, "..", "dist", "doctor", "cli.js")).run();
}
