#!/usr/bin/env node
// Runs the TypeScript CLI directly, so `npx access-bridge-doctor` needs no build step.
// A CommonJS shim by necessity: ts-node must be registered before cli.ts can load.
/* eslint-disable @typescript-eslint/no-require-imports */
"use strict";
const path = require("node:path");

require("ts-node").register({
  transpileOnly: true,
  project: path.join(__dirname, "..", "tsconfig.json"),
});
require("./cli.ts").run();
