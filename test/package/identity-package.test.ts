/**
 * The identity package as an API author gets it: `npm pack` of identity/,
 * installed into an empty project outside the repository, then used from an
 * ES module, from CommonJS, from TypeScript, bundled into a Worker, and from
 * Deno and Bun where they are on the machine. Each decides the same
 * statements, signed by the Worker's signer, as the table says.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Miniflare } from "miniflare";
import { startModuleWorker } from "../support/module-worker";
import { repoRoot } from "../support/stacks";
import {
  decisions,
  expectedDecisions,
  statementCases,
  type CaseInput,
  type CaseOutcome,
  type StatementCase,
} from "../identity/statements";

const packageDir = path.join(repoRoot, "identity");
const packageName = "@access-bridge/identity";

/** Reads the cases on stdin and prints each outcome, as every runtime below runs it. */
const esmDriver = `import { readFileSync } from "node:fs";
import { verifyIdentity } from "${packageName}";
const input = JSON.parse(readFileSync(0, "utf8"));
const outcomes = [];
for (const { name, statement, twice } of input.cases) {
  const headers = new Headers({ "x-access-bridge-identity": statement });
  if (twice) headers.append("x-access-bridge-identity", statement);
  const request = new Request(input.apiOrigin, { headers });
  try {
    const identity = await verifyIdentity(request, input.jwks, { apiOrigin: input.apiOrigin, issuer: input.issuers });
    outcomes.push({ name, identity });
  } catch (err) {
    outcomes.push({ name, refused: err.name + ": " + err.message });
  }
}
process.stdout.write(JSON.stringify(outcomes));
`;

/** The same from CommonJS, with Node's `req.headers` shape. */
const cjsDriver = `const { readFileSync } = require("node:fs");
const { verifyIdentity } = require("${packageName}");
const input = JSON.parse(readFileSync(0, "utf8"));
Promise.all(
  input.cases.map(({ name, statement, twice }) =>
    verifyIdentity({ headers: { "x-access-bridge-identity": twice ? [statement, statement] : statement } }, input.jwks, {
      apiOrigin: input.apiOrigin,
      issuer: input.issuers,
    }).then(
      (identity) => ({ name, identity }),
      (err) => ({ name, refused: err.name + ": " + err.message }),
    ),
  ),
).then((outcomes) => process.stdout.write(JSON.stringify(outcomes)));
`;

let scratch: string;
let packed: { filename: string; files: { path: string }[] };
let input: CaseInput;
let cases: StatementCase[];

const run = (command: string, args: string[], stdin?: string): string =>
  execFileSync(command, args, {
    cwd: scratch,
    encoding: "utf8",
    input: stdin,
    stdio: ["pipe", "pipe", "pipe"],
  });

const outcomesOf = (command: string, args: string[]): CaseOutcome[] =>
  JSON.parse(run(command, args, JSON.stringify(input)));

/** An executable on PATH, or undefined. */
const onPath = (command: string): string | undefined =>
  spawnSync(command, ["--version"], { stdio: "ignore" }).status === 0 ? command : undefined;

beforeAll(async () => {
  ({ input, cases } = await statementCases());
  scratch = mkdtempSync(path.join(tmpdir(), "access-bridge-identity-consumer-"));
  // `npm pack` runs the package's prepack, which builds it.
  [packed] = JSON.parse(
    execFileSync("npm", ["pack", "--json", "--pack-destination", scratch], {
      cwd: packageDir,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  writeFileSync(
    path.join(scratch, "package.json"),
    JSON.stringify({ name: "api", private: true, type: "module" }),
  );
  run("npm", [
    "install",
    path.join(scratch, packed.filename),
    "--prefer-offline",
    "--no-audit",
    "--no-fund",
    "--loglevel=error",
  ]);
  writeFileSync(path.join(scratch, "verify.mjs"), esmDriver);
  writeFileSync(path.join(scratch, "verify.cjs"), cjsDriver);
}, 180_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("the identity package, packed and installed in an empty project", () => {
  it("ships its build, its types and its README, and no source", () => {
    expect(packed.files.map((f) => f.path).sort()).toEqual([
      "README.md",
      "dist/claims.d.ts",
      "dist/claims.js",
      "dist/index.d.ts",
      "dist/index.js",
      "dist/package.json",
      "package.json",
    ]);
  });

  it("installs itself and jose, and nothing else: no @pulumi/* package", () => {
    const installed = run("npm", ["ls", "--all", "--parseable"])
      .trim()
      .split("\n")
      .slice(1) // the project itself
      .map((dir) => path.relative(path.join(scratch, "node_modules"), dir))
      .sort();
    expect(installed).toEqual([packageName, "jose"]);
    expect(installed.filter((name) => name.startsWith("@pulumi/"))).toEqual([]);
    const jose = JSON.parse(
      readFileSync(path.join(scratch, "node_modules", "jose", "package.json"), "utf8"),
    );
    const root = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8"));
    expect(jose.version).toBe(root.dependencies.jose);
  });

  it("decides every statement as the table says, from an ES module", () => {
    expect(decisions(outcomesOf(process.execPath, ["verify.mjs"]))).toEqual(
      expectedDecisions(cases),
    );
  });

  it("decides every statement as the table says, from CommonJS's require", () => {
    expect(decisions(outcomesOf(process.execPath, ["verify.cjs"]))).toEqual(
      expectedDecisions(cases),
    );
  });

  it("refuses with IdentityError and says why", () => {
    const outcomes = outcomesOf(process.execPath, ["verify.mjs"]);
    const refusal = (name: string) => outcomes.find((o) => o.name === name)?.refused;
    expect(refusal("empty")).toMatch(/^IdentityError: no x-access-bridge-identity header/);
    expect(refusal("for another API")).toMatch(/^IdentityError: .*does not verify.*aud/);
  });

  it("type-checks from TypeScript with the declarations it ships", () => {
    writeFileSync(
      path.join(scratch, "check.ts"),
      `import { IDENTITY_HEADER, IdentityError, verifyIdentity, type VerifiedIdentity } from "${packageName}";
export const header: "x-access-bridge-identity" = IDENTITY_HEADER;
export async function who(request: Request): Promise<VerifiedIdentity | IdentityError> {
  return verifyIdentity(request, "{}", { apiOrigin: "https://api.mysite.com" }).catch((err: IdentityError) => err);
}
// @ts-expect-error the API's origin is required
verifyIdentity(new Headers(), "{}", {});
`,
    );
    const tsc = path.join(repoRoot, "node_modules", "typescript", "bin", "tsc");
    const flags = ["--noEmit", "--strict", "--target", "es2022", "--lib", "es2022,dom"];
    expect(
      run(process.execPath, [tsc, ...flags, "--module", "nodenext", "check.ts"]) +
        run(process.execPath, [
          tsc,
          ...flags,
          "--module",
          "esnext",
          "--moduleResolution",
          "bundler",
          "check.ts",
        ]),
    ).toBe("");
  });
});

describe("the package's source in this repository", () => {
  it("loads under ts-node as CommonJS, as the Pulumi program and the lab load it", () => {
    // Only dist/ is marked as ES modules; ts-node refuses to require a .ts
    // file that a package.json marks so.
    const probe = `const v = require("./identity/src"); const c = require("./identity/src/claims");
process.stdout.write(JSON.stringify([typeof v.verifyIdentity, c.IDENTITY_HEADER]));`;
    const out = execFileSync(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", "-e", probe],
      { cwd: repoRoot, encoding: "utf8" },
    );
    expect(JSON.parse(out)).toEqual(["function", "x-access-bridge-identity"]);
  });
});

describe("the installed package in a Worker", () => {
  let mf: Miniflare;
  beforeAll(async () => {
    // Bundled for workerd as Wrangler would, with no Node compatibility: a
    // Node built-in anywhere in the package would fail the build.
    const entry = `import { verifyIdentity } from "${packageName}";
export default {
  async fetch(request, env) {
    const input = await request.json();
    const outcomes = [];
    for (const { name, statement, twice } of input.cases) {
      const headers = new Headers({ "x-access-bridge-identity": statement });
      if (twice) headers.append("x-access-bridge-identity", statement);
      try {
        outcomes.push({ name, identity: await verifyIdentity(headers, env.IDENTITY_JWKS, { apiOrigin: input.apiOrigin, issuer: input.issuers }) });
      } catch (err) {
        outcomes.push({ name, refused: err.name });
      }
    }
    return Response.json(outcomes);
  },
};`;
    mf = await startModuleWorker(entry, scratch, { IDENTITY_JWKS: input.jwks });
  });
  afterAll(() => mf.dispose());

  it("decides every statement as the table says", async () => {
    const response = await mf.dispatchFetch(`${input.apiOrigin}/items`, {
      method: "POST",
      body: JSON.stringify(input),
    });
    expect(decisions((await response.json()) as CaseOutcome[])).toEqual(expectedDecisions(cases));
  });
});

describe.each([
  ["Deno", "deno", ["run", "--allow-read", "verify.mjs"]],
  ["Bun", "bun", ["verify.mjs"]],
])("the installed package on %s", (_runtime, command, args) => {
  const found = onPath(command);
  (found ? it : it.skip)(
    found
      ? "decides every statement as the table says"
      : `decides every statement as the table says: not run, no ${command} on PATH`,
    () => {
      expect(decisions(outcomesOf(command, args))).toEqual(expectedDecisions(cases));
    },
  );
});
