/**
 * The packed package as another program uses it: `npm pack`, installed into a
 * scratch program outside the repository, constructed with the guide's values
 * and no bundle, under Pulumi's mocks, from plain JavaScript and TypeScript.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { declareStack, repoRoot, type DeclaredStack } from "../support/stacks";

/** The prod fixture stack's values, as a program author writes them. */
const guideValues = {
  accountId: "0000000000000000000000000000f0d0",
  frontendZoneId: "0000000000000000000000000000f0d1",
  frontendHostname: "example.com",
  apiHostname: "api.mysite.com",
  accessTeamDomain: "example.cloudflareaccess.com",
  corsAllowedOrigins: ["https://example.com"],
  corsAllowedHeaders: ["content-type"],
  allowedEmailDomains: ["example.com"],
  protect: true,
  // The stack program names Cloudflare's resources without the component's name.
  namePrefix: "access-bridge-prod",
};

/** Runs the scratch program under a recording mock of its own copy of the SDK. */
const runner = `
const pulumi = require("@pulumi/pulumi");
const settings = require("@pulumi/pulumi/runtime/settings");
const resources = [];
pulumi.runtime.setMocks({
  newResource(args) {
    resources.push({ type: args.type, name: args.name, inputs: args.inputs });
    const extra = args.type.endsWith("RandomId") ? { hex: "0a1b2c" } : {};
    return { id: args.name + "-id", state: { ...args.inputs, ...extra } };
  },
  call(args) { throw new Error("unmocked call " + args.token); },
}, "access-bridge", "prod", false);
const program = require(process.argv[2]);
Promise.resolve(settings.waitForRPCs && settings.waitForRPCs()).then(() => {
  const routePattern = program.routePattern;
  routePattern.apply((pattern) => {
    process.stdout.write(JSON.stringify({ resources, routePattern: pattern }));
  });
});
`;

let scratch: string;
let tarball: string;
let fromJs: {
  resources: { type: string; name: string; inputs: Record<string, unknown> }[];
  routePattern: string;
};
let fromProgram: DeclaredStack;

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), "access-bridge-consumer-"));
  // A file an earlier build left behind, which the build must clear before packing.
  mkdirSync(path.join(repoRoot, "dist"), { recursive: true });
  writeFileSync(path.join(repoRoot, "dist", "left-behind.js"), "module.exports = 'stale';\n");
  const packed = execFileSync("npm", ["pack", "--silent", "--pack-destination", scratch], {
    cwd: repoRoot,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  tarball = path.join(scratch, packed.trim().split("\n").pop()!);
  writeFileSync(
    path.join(scratch, "package.json"),
    JSON.stringify({ name: "consumer", private: true }),
  );
  execFileSync(
    "npm",
    ["install", tarball, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"],
    {
      cwd: scratch,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  writeFileSync(path.join(scratch, "run.js"), runner);
  writeFileSync(
    path.join(scratch, "index.js"),
    `const { AccessBridge } = require("access-bridge");
const bridge = new AccessBridge("access-bridge", ${JSON.stringify(guideValues)});
exports.routePattern = bridge.routePattern;
`,
  );
  fromJs = JSON.parse(
    execFileSync(process.execPath, ["run.js", "./index.js"], { cwd: scratch, encoding: "utf8" }),
  );
}, 240_000);

beforeAll(async () => {
  fromProgram = await declareStack("prod");
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("the packed package, installed in another program", () => {
  it("declares both apps, both policies, the token, the Worker and the route, as infra/index.ts does", () => {
    const shape = (rs: { type: string; name: string }[]) =>
      rs.map((r) => `${r.type} ${r.name}`).sort();
    expect(shape(fromJs.resources)).toEqual(shape(fromProgram.resources));
    expect(fromJs.routePattern).toBe("example.com/api/*");
  });

  it("declares the same Access settings and the same Worker bundle as the program", () => {
    for (const name of [
      "access-bridge-frontend-app",
      "access-bridge-api-app",
      "access-bridge-people-policy",
    ]) {
      const packed = fromJs.resources.find((r) => r.name === name)!;
      const program = fromProgram.resources.find((r) => r.name === name)!;
      expect([name, packed.inputs]).toEqual([name, program.inputs]);
    }
    const script = (rs: { name: string; inputs: Record<string, unknown> }[]) =>
      rs.find((r) => r.name === "access-bridge-worker")!.inputs;
    expect(script(fromJs.resources).content).toBe(script(fromProgram.resources).content);
    expect(script(fromJs.resources).mainModule).toBe("index.js");
  });

  it("offers the identity verifier on its own entry, without loading Pulumi", () => {
    const probe = `const v = require("access-bridge/identity");
const loaded = Object.keys(require.cache).some((f) => f.includes("@pulumi"));
process.stdout.write(JSON.stringify([typeof v.verifyIdentity, typeof v.IdentityError, loaded]));`;
    const out = execFileSync(process.execPath, ["-e", probe], { cwd: scratch, encoding: "utf8" });
    expect(JSON.parse(out)).toEqual(["function", "function", false]);
  });

  it("offers the front end's client as an ES module on its own entry, without loading Pulumi", () => {
    const probe = `import("access-bridge/client").then((c) => {
  const loaded = Object.keys(require.cache).some((f) => f.includes("@pulumi"));
  process.stdout.write(JSON.stringify([typeof c.bridgeFetch, typeof c.createBridgeFetch, loaded]));
});`;
    const out = execFileSync(process.execPath, ["-e", probe], { cwd: scratch, encoding: "utf8" });
    expect(JSON.parse(out)).toEqual(["function", "function", false]);
    const shipped = path.join(scratch, "node_modules", "access-bridge", "dist", "client");
    expect(readFileSync(path.join(shipped, "index.d.ts"), "utf8")).toContain(
      "export declare function bridgeFetch(",
    );
  });

  it("brings the CORS doctor, compiled, as the access-bridge-doctor command", () => {
    const bin = path.join(scratch, "node_modules", ".bin", "access-bridge-doctor");
    const help = execFileSync(bin, ["--help"], { cwd: scratch, encoding: "utf8" });
    expect(help).toMatch(/access-bridge-doctor --url <api url> --origin <page origin>/);
  });

  it("type-checks from TypeScript with the declarations it ships", () => {
    writeFileSync(
      path.join(scratch, "check.ts"),
      `import { AccessBridge, type AccessBridgeArgs } from "access-bridge";
const args: AccessBridgeArgs = ${JSON.stringify(guideValues)};
export const bridge = new AccessBridge("bridge", { ...args, preflight: "origin" });
// @ts-expect-error a misspelt argument is a type error
export const typo: AccessBridgeArgs = { ...args, corsAllowedHeader: [] };
`,
    );
    const tsc = path.join(repoRoot, "node_modules", "typescript", "bin", "tsc");
    const out = execFileSync(
      process.execPath,
      [
        tsc,
        "--noEmit",
        "--strict",
        "--esModuleInterop",
        "--skipLibCheck",
        "--module",
        "commonjs",
        "check.ts",
      ],
      { cwd: scratch, encoding: "utf8" },
    );
    expect(out).toBe("");
  });
});

describe("the packed build", () => {
  it("holds nothing an earlier build left in dist/", () => {
    expect(
      existsSync(path.join(scratch, "node_modules", "access-bridge", "dist", "left-behind.js")),
    ).toBe(false);
    expect(
      existsSync(path.join(scratch, "node_modules", "access-bridge", "dist", "index.js")),
    ).toBe(true);
  });
});
