import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { checkContract } from "../../checker/rules";
import { parseArgs, UsageError, verify } from "../../checker/verify";
import { declareStack, repoRoot, type DeclareOptions } from "../support/stacks";

/** A stack file with nothing in common with the examples: other ids, hosts, team and people. */
const theirs = {
  accountId: "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
  frontendZoneId: "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
  frontendHostname: "portal.acme.test",
  apiHostname: "backend.acme-api.test",
  accessTeamDomain: "acme.cloudflareaccess.com",
  allowedEmails: ["ops@acme.test"],
  corsAllowedHeaders: ["authorization", "content-type"],
  routePrefix: "/backend",
  protect: true,
  alertEmails: ["oncall@acme.test"],
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "verify-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function stackFile(name: string, config: Record<string, unknown>): string {
  const file = path.join(dir, `Pulumi.${name}.yaml`);
  const keyed = Object.fromEntries(
    Object.entries(config).map(([k, v]) => [`access-bridge:${k}`, v]),
  );
  writeFileSync(file, stringify({ config: keyed }));
  return file;
}

async function run(argv: string[], declare?: typeof declareStack) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await verify(argv, { out: (t) => out.push(t), err: (t) => err.push(t) }, declare);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("npm run verify", () => {
  it("declares any valid stack file and prints each resource with its key inputs", async () => {
    const file = stackFile("acme", theirs);
    const { code, out, err } = await run(["--stack", "acme", "--config-file", file]);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toContain("access-bridge-frontend-app  ZeroTrustAccessApplication [protected]");
    expect(out).toContain("domain=portal.acme.test");
    expect(out).toContain("domain=backend.acme-api.test");
    expect(out).toContain("pattern=portal.acme.test/backend/*");
    expect(out).toContain("alertType=expiring_service_token_alert  emails=oncall@acme.test");
    expect(out).toContain(
      "policies=1:access-bridge-service-auth-policy 2:access-bridge-people-policy",
    );
    expect(out).toMatch(/Provider contract: \d+ rules, no violations\./);
    // The token's credentials are never printed.
    expect(out).not.toMatch(/mock-client-secret|mock-client-id/);
  });

  it("checks a stack with several APIs, and says where each route's requests go", async () => {
    const shared = Object.fromEntries(
      Object.entries(theirs).filter(([key]) => key !== "apiHostname" && key !== "routePrefix"),
    );
    const file = stackFile("apis", {
      ...shared,
      apis: [
        { hostname: "backend.acme-api.test", routePrefix: "/backend" },
        { hostname: "billing.acme-api.test", routePrefix: "/billing", preflight: "origin" },
      ],
    });
    const { code, out, err } = await run(["--stack", "apis", "--config-file", file]);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toContain("access-bridge-billing-api-app  ZeroTrustAccessApplication [protected]");
    expect(out).toMatch(
      /^ {2}portal\.acme\.test\/backend\/\* {2}→ {2}https:\/\/backend\.acme-api\.test {2}\(Worker access-bridge-apis-proxy-[0-9a-f]{6}\)$/m,
    );
    expect(out).toMatch(
      /^ {2}portal\.acme\.test\/billing\/\* {2}→ {2}https:\/\/billing\.acme-api\.test {2}\(Worker access-bridge-apis-billing-proxy-[0-9a-f]{6}\)$/m,
    );
    expect(out).toContain("Routes (2):");
    expect(out).toMatch(/Provider contract: \d+ rules, no violations\./);
  });

  it("names a config mistake's key, declares nothing and exits 1", async () => {
    const file = stackFile("typo", { ...theirs, corsMaxAge: 90000, corsAllowedHeader: ["x"] });
    const { code, out, err } = await run(["--stack", "typo", "--config-file", file]);
    expect(code).toBe(1);
    expect(err).toContain(
      "access-bridge:corsAllowedHeader: is not a key of this program; did you mean corsAllowedHeaders?",
    );
    expect(err).toContain("access-bridge:corsMaxAge: must be an integer between -1 and 86400");
    expect(out).not.toContain("Declared");
  });

  it("lists every contract violation with its rule and source, and exits 1", async () => {
    // Config validation stops every mistake a user can make, so the net is
    // shown by a declaration that breaks a rule the way a code change would.
    const breaking = async (stack: string, options?: DeclareOptions) => {
      const declared = await declareStack(stack, { ...options, contract: "report" });
      const token = declared.resources.find((r) => r.name === "access-bridge-service-token")!;
      token.inputs.clientSecretVersion = 1;
      return { ...declared, violations: checkContract(declared.resources) };
    };
    const file = stackFile("net", theirs);
    const { code, out, err } = await run(["--stack", "net", "--config-file", file], breaking);
    expect(code).toBe(1);
    expect(out).toContain("Declared (");
    expect(err).toMatch(
      /TOK-1 access-bridge-service-token \(fails at pulumi preview\): Invalid Attribute Combination\. Attribute "previous_client_secret_expires_at" must be specified when "client_secret_version" is specified \[cloudflare\/terraform-provider-cloudflare@v5\.22\.0 internal\/services\/zero_trust_access_service_token\/schema\.go/,
    );
  });

  it("refuses a missing stack file and bad arguments with the usage, exit 2", async () => {
    expect(
      (await run(["--stack", "nope", "--config-file", path.join(dir, "none.yaml")])).code,
    ).toBe(2);
    const noStack = await run([]);
    expect([noStack.code, noStack.err]).toEqual([
      2,
      expect.stringContaining("--stack is required"),
    ]);
    expect(() => parseArgs(["--stack", "dev", "--bogus"])).toThrow(UsageError);
    expect(parseArgs(["--stack=dev"]).configFile).toBe(
      path.join(repoRoot, "stacks", "Pulumi.dev.yaml"),
    );
  });

  it("runs as the npm script, with its exit code", () => {
    const file = stackFile("cli", { ...theirs, accountId: "https://dash.cloudflare.com" });
    const result = spawnSync(
      "npm",
      ["run", "--silent", "verify", "--", "--stack", "cli", "--config-file", file],
      {
        cwd: repoRoot,
        encoding: "utf8",
      },
    );
    expect(result.stderr).toContain("access-bridge:accountId: must be a Cloudflare id");
    expect(result.status).toBe(1);
  });
});
