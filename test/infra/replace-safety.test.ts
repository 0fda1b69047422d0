/**
 * What each config key a user changes in normal operation does to the
 * declared resources: which attributes change, and that none of them makes
 * the provider replace an Access app, a policy or the service token. A
 * replaced app gets a new AUD (every issued JWT stops verifying) and may leave
 * its hostname open in between; a replaced token gets a new client id.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { replaceTriggers } from "../../checker/rules";
import { kindOf, type ResourceKind } from "../../infra/resource-types";
import { declareStack, type DeclaredStack } from "../support/stacks";

/** Each key with a change a person would make to it on the dev fixture stack. */
const changes: [string, Record<string, unknown>][] = [
  [
    "corsAllowedOrigins",
    { corsAllowedOrigins: ["https://www.example.com", "https://admin.example.com"] },
  ],
  ["corsAllowedMethods", { corsAllowedMethods: ["GET", "POST", "PUT", "DELETE"] }],
  ["corsAllowedHeaders", { corsAllowedHeaders: ["content-type", "authorization"] }],
  ["corsAllowCredentials", { corsAllowCredentials: false }],
  ["corsAllowedOrigins *", { corsAllowedOrigins: ["*"], corsAllowCredentials: false }],
  ["corsMaxAge", { corsMaxAge: 7200 }],
  ["sessionDuration", { sessionDuration: "12h" }],
  ["allowedEmails", { allowedEmails: ["dev@example.com", "qa@example.com"] }],
  ["allowedEmailDomains", { allowedEmailDomains: ["example.org"] }],
  ["serviceTokenSecretVersion", { serviceTokenSecretVersion: 2 }],
  ["serviceTokenDuration", { serviceTokenDuration: "8761h" }],
  ["upstreamTimeoutMs", { upstreamTimeoutMs: 5000 }],
  ["routePrefix", { routePrefix: "/backend" }],
  ["stripRoutePrefix", { stripRoutePrefix: true }],
  ["preflight", { preflight: "origin" }],
  ["protect", { protect: true }],
  ["alertEmails", { alertEmails: ["ops@example.com"] }],
  ["workerLogs", { workerLogs: false }],
  ["workerLogsSampleRate", { workerLogsSampleRate: 0.1 }],
  ["analyticsDataset", { analyticsDataset: "access_bridge" }],
  ["peopleRules", { peopleRules: { require: [{ authMethod: { authMethod: "mfa" } }] } }],
  ["allowedIdps", { allowedIdps: ["idp-1"], autoRedirectToIdentity: true }],
];

const guarded: ResourceKind[] = ["app", "policy", "token"];

interface Change {
  resource: string;
  kind: ResourceKind | undefined;
  attributes: string[];
}

/** For each resource in both declarations, the top-level inputs that differ. */
function changedAttributes(before: DeclaredStack, after: DeclaredStack): Change[] {
  return after.resources.flatMap((r) => {
    const old = before.resources.find((b) => b.type === r.type && b.name === r.name);
    if (!old) return [];
    const keys = new Set([...Object.keys(old.inputs), ...Object.keys(r.inputs)]);
    const attributes = [...keys].filter((k) => !isDeepStrictEqual(old.inputs[k], r.inputs[k]));
    return attributes.length > 0 ? [{ resource: r.name, kind: kindOf(r.type), attributes }] : [];
  });
}

const identities = (stack: DeclaredStack, kinds: ResourceKind[]) =>
  stack.resources
    .filter((r) => kinds.includes(kindOf(r.type)!))
    .map((r) => `${r.type}::${r.name}`)
    .sort();

let base: DeclaredStack;
beforeAll(async () => {
  base = await declareStack("dev");
});

describe.each(changes)("changing %s", (_, config) => {
  let after: DeclaredStack;
  beforeAll(async () => {
    after = await declareStack("dev", { config });
  });

  it("changes something, so the check below is not vacuous", () => {
    const changed = changedAttributes(base, after);
    const created = identities(after, Object.keys(replaceTriggers) as ResourceKind[]).filter(
      (id) => !identities(base, Object.keys(replaceTriggers) as ResourceKind[]).includes(id),
    );
    const protectFlips = after.resources.filter(
      (r) => r.options.protect !== base.resources.find((b) => b.name === r.name)?.options.protect,
    );
    expect(changed.length + created.length + protectFlips.length).toBeGreaterThan(0);
  });

  it("keeps every Access app, policy and the token, and changes none of their replace triggers", () => {
    expect(identities(after, guarded)).toEqual(identities(base, guarded));
    for (const { resource, kind, attributes } of changedAttributes(base, after)) {
      if (!guarded.includes(kind!)) continue;
      const triggers = replaceTriggers[kind!] ?? [];
      expect([resource, attributes.filter((a) => triggers.includes(a))]).toEqual([resource, []]);
    }
  });

  it("keeps the Worker, its workers.dev setting and the route in place too", () => {
    for (const { resource, kind, attributes } of changedAttributes(base, after)) {
      if (!["script", "subdomain", "route"].includes(kind!)) continue;
      const triggers = replaceTriggers[kind!] ?? [];
      expect([resource, attributes.filter((a) => triggers.includes(a))]).toEqual([resource, []]);
    }
  });
});

describe("a stack declared before its Workers had observability", () => {
  it("gets it on the next update in place: only the Worker's observability changes", () => {
    const before: DeclaredStack = {
      ...base,
      resources: base.resources.map((r) => {
        if (kindOf(r.type) !== "script") return r;
        const inputs = { ...r.inputs };
        delete inputs.observability;
        return { ...r, inputs };
      }),
    };
    const changed = changedAttributes(before, base);
    expect(changed.map((c) => [c.kind, c.attributes])).toEqual([["script", ["observability"]]]);
    expect(replaceTriggers.script).not.toContain("observability");
  });
});

describe("what changes do replace", () => {
  it("a new account replaces every Cloudflare resource: the README's preview review says so", async () => {
    const after = await declareStack("dev", {
      config: { accountId: "11111111111111111111111111111de0" },
    });
    const replaced = changedAttributes(base, after)
      .filter((c) => c.attributes.some((a) => (replaceTriggers[c.kind!] ?? []).includes(a)))
      .map((c) => c.kind)
      .sort();
    expect(replaced).toEqual(["app", "app", "policy", "policy", "script", "subdomain", "token"]);
  });

  it("a new front-end zone replaces the route only", async () => {
    const after = await declareStack("dev", {
      config: { frontendZoneId: "2222222222222222222222222222de10" },
    });
    const replaced = changedAttributes(base, after).filter((c) =>
      c.attributes.some((a) => (replaceTriggers[c.kind!] ?? []).includes(a)),
    );
    expect(replaced.map((c) => c.kind)).toEqual(["route"]);
  });
});

describe("going from one API to several", () => {
  const shape = (s: DeclaredStack) =>
    s.resources.map((r) => ({
      type: r.type,
      name: r.name,
      inputs: r.inputs,
      protect: r.options.protect,
      parent: r.options.parent,
    }));
  const asApis = (apis: Record<string, unknown>[]) => ({
    apiHostname: undefined,
    routePrefix: undefined,
    apis,
  });

  it("moving the single API into apis declares exactly what the single-API keys do", async () => {
    const moved = await declareStack("dev", {
      config: asApis([{ hostname: "api.example.com", routePrefix: "/api" }]),
    });
    expect(shape(moved)).toEqual(shape(base));
  });

  it("adding a second API leaves every existing resource as it is, and only creates", async () => {
    const grown = await declareStack("dev", {
      config: asApis([
        { hostname: "api.example.com", routePrefix: "/api" },
        { hostname: "billing.example.com", routePrefix: "/billing" },
      ]),
    });
    expect(changedAttributes(base, grown)).toEqual([]);
    const existing = identities(base, Object.keys(replaceTriggers) as ResourceKind[]);
    const after = identities(grown, Object.keys(replaceTriggers) as ResourceKind[]);
    expect(after).toEqual(expect.arrayContaining(existing));
    const created = after.filter((id) => !existing.includes(id)).map((id) => id.split("::")[1]);
    expect(created.sort()).toEqual(
      [
        "access-bridge-billing-api-app",
        "access-bridge-billing-identity-key-v1",
        "access-bridge-billing-route",
        "access-bridge-billing-service-auth-policy",
        "access-bridge-billing-service-token",
        "access-bridge-billing-worker",
        "access-bridge-billing-worker-subdomain",
        "access-bridge-billing-worker-suffix",
      ].sort(),
    );
  });
});

describe("a stack that admits people by allowedEmails and allowedEmailDomains alone", () => {
  /**
   * What the fixture stacks declared before peopleRules, peoplePolicyIds and
   * the login settings existed (test/fixtures/declarations/), every resource
   * and option; of the Worker's script only its name and account, since its
   * upload (content, bindings, settings) changes with the Worker itself.
   */
  const recorded = (stack: string) =>
    JSON.parse(
      readFileSync(path.join(__dirname, "..", "fixtures", "declarations", `${stack}.json`), "utf8"),
    ) as { resources: unknown[]; outputs: Record<string, unknown> };

  const script = "cloudflare:index/workersScript:WorkersScript";
  const asRecorded = (s: DeclaredStack) =>
    JSON.parse(
      JSON.stringify({
        resources: s.resources.map(({ type, name, inputs, options, secretPaths }) =>
          type === script
            ? {
                type,
                name,
                inputs: { scriptName: inputs.scriptName, accountId: inputs.accountId },
                options: {
                  ...options,
                  propertyDependencies: {
                    scriptName: options.propertyDependencies.scriptName,
                    accountId: options.propertyDependencies.accountId,
                  },
                },
                secretPaths: secretPaths.filter((p) => p === "scriptName" || p === "accountId"),
              }
            : { type, name, inputs, options, secretPaths },
        ),
        outputs: s.outputs,
      }),
    ) as unknown;

  it.each(["dev", "prod", "apis", "managed-frontend"])(
    "declares exactly what it did before: the %s fixture stack",
    async (stack) => {
      expect(asRecorded(await declareStack(stack))).toEqual(recorded(stack));
    },
  );
});
