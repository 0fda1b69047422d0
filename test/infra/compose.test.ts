/**
 * The component composed as Pulumi users compose components: options that
 * reach every child, inputs wired from other resources, two instances in one
 * program, and the children it exposes.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { resourceTypes as T } from "../../infra/resource-types";
import { declareStack, named, only, repoRoot, type DeclaredStack } from "../support/stacks";

const programs = path.join(__dirname, "..", "fixtures", "programs");
const cloudflare = (type: string) => type.startsWith("cloudflare:");

describe("two components in one program, the second behind the first's front end", () => {
  let stack: DeclaredStack;
  beforeAll(async () => {
    stack = await declareStack("dev", { program: path.join(programs, "compose.ts") });
  });

  it("declares one front-end app, the first's, and an API app for each", () => {
    expect(only(stack, T.app).map((a) => [a.name, a.inputs.domain])).toEqual([
      ["site-frontend-app", "www.example.com"],
      ["site-api-app", "api.example.com"],
      ["billing-api-app", "billing.example.com"],
    ]);
    const siteAud = named(stack, "site-frontend-app").state.aud;
    expect(stack.outputs.siteAud).toBe(siteAud);
    expect(stack.outputs.billingAud).toBe(siteAud);
    expect(stack.outputs.billingFrontendAppId).toBeUndefined();
    const billingWorker = named(stack, "billing-worker");
    const aud = (billingWorker.inputs.bindings as { name: string; text: string }[]).find(
      (b) => b.name === "ACCESS_AUD",
    );
    expect(aud?.text).toBe(siteAud);
  });

  it("names every Cloudflare resource after its component, so none collide", () => {
    const names = stack.resources
      .filter((r) => [T.app, T.policy, T.token, T.script].includes(r.type as never))
      .map((r) => String(r.inputs.scriptName ?? r.inputs.name));
    expect(names.length).toBe(3 + 4 + 2 + 2);
    expect(new Set(names).size).toBe(names.length);
    expect(named(stack, "site-api-app").inputs.name).toBe("access-bridge-dev-site-api");
    expect(named(stack, "billing-api-app").inputs.name).toBe("access-bridge-dev-billing-api");
    expect(only(stack, T.route).map((r) => r.inputs.pattern)).toEqual([
      "www.example.com/api/*",
      "www.example.com/billing/*",
    ]);
    expect(stack.violations).toEqual([]);
  });

  it("protects every child of the component given protect: true, and none of the other's", () => {
    const site = stack.resources.filter((r) => r.name.startsWith("site-"));
    const billing = stack.resources.filter((r) => r.name.startsWith("billing-"));
    expect(site.filter((r) => cloudflare(r.type)).length).toBeGreaterThanOrEqual(8);
    for (const r of site) expect([r.name, r.options.protect]).toEqual([r.name, true]);
    expect(billing.filter((r) => cloudflare(r.type)).length).toBeGreaterThanOrEqual(6);
    for (const r of billing) expect([r.name, r.options.protect]).toEqual([r.name, false]);
  });

  it("takes a hostname from another resource's output", () => {
    expect(named(stack, "site-api-app").inputs.domain).toBe("api.example.com");
    const worker = named(stack, "site-worker");
    const host = (worker.inputs.bindings as { name: string; text: string }[]).find(
      (b) => b.name === "API_HOSTNAME",
    );
    expect(host?.text).toBe("api.example.com");
  });

  it("exposes its children, and the people policy's id, for what it does not cover", () => {
    const children = stack.outputs.siteChildren as Record<string, string | string[]>;
    const urnOf = (name: string) =>
      expect.stringMatching(new RegExp(`::${name.replace(/[-]/g, "\\-")}$`));
    expect(children).toEqual({
      frontendApp: urnOf("site-frontend-app"),
      peoplePolicy: urnOf("site-people-policy"),
      apiApps: [urnOf("site-api-app")],
      serviceAuthPolicies: [urnOf("site-service-auth-policy")],
      serviceTokens: [urnOf("site-service-token")],
      workers: [urnOf("site-worker")],
      routes: [urnOf("site-route")],
    });
    expect(stack.outputs.sitePeoplePolicyId).toBe(named(stack, "site-people-policy").id);
  });
});

describe("an explicit protect argument", () => {
  it("decides for the apps, policies, token and route over the component's option", async () => {
    const stack = await declareStack("dev", {
      program: path.join(programs, "protect-override.ts"),
    });
    const guarded = [T.app, T.policy, T.token, T.route] as string[];
    const children = stack.resources.filter((r) => r.type !== T.component);
    expect(children.filter((r) => guarded.includes(r.type)).length).toBe(6);
    for (const r of children) {
      expect([r.name, r.options.protect]).toEqual([r.name, !guarded.includes(r.type)]);
    }
  });
});

describe("an argument that is an output and resolves to something wrong", () => {
  it("fails the run with the argument's message, before any Cloudflare resource is registered", () => {
    const run = spawnSync(
      process.execPath,
      [
        "-r",
        "ts-node/register/transpile-only",
        path.join(repoRoot, "test", "support", "run-program.ts"),
        path.join(programs, "bad-output.ts"),
      ],
      { cwd: repoRoot, encoding: "utf8", timeout: 60_000 },
    );
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(
      'apiHostname: must be a hostname only, without scheme or path (e.g. api.example.com), got "https://api.example.com/v1"',
    );
    const registered = run.stdout.split("\n").filter((l) => l.startsWith("registered "));
    expect(registered).toContainEqual(
      expect.stringContaining("access-bridge:index:AccessBridge late"),
    );
    expect(registered.filter((l) => l.includes(" cloudflare:"))).toEqual([]);
  });
});
