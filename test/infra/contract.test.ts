import * as path from "node:path";
import {
  checkContract,
  contractRules,
  formatViolation,
  routeHost,
  type DeclaredInputs,
} from "../../checker/rules";
import { kindOf, type ResourceKind } from "../../infra/resource-types";
import { declareStack } from "../support/stacks";

type Inputs = Record<string, unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Mutate = (inputs: any) => void;

/**
 * A real declaration that uses every resource kind: the dev fixture after a
 * rotation, with an expiry alert. Each case below breaks one rule on it.
 */
let good: DeclaredInputs[];
const today = new Date("2026-11-30T12:00:00Z");

beforeAll(async () => {
  const stack = await declareStack("dev", {
    config: { serviceTokenSecretVersion: 2, alertEmails: ["ops@example.com"] },
  });
  good = stack.resources.map(({ type, name, id, inputs, state }) => ({
    type,
    name,
    id,
    inputs,
    state,
  }));
});

/** A copy of the good declaration with the first resource of `kind` changed. */
function breaking(kind: ResourceKind, mutate: Mutate, which = 0): DeclaredInputs[] {
  let seen = 0;
  return good.map((r) => {
    if (kindOf(r.type) !== kind || seen++ !== which) return r;
    const inputs = structuredClone(r.inputs) as Inputs;
    mutate(inputs);
    return { ...r, inputs };
  });
}

const api = 1; // the API app is the second app the program declares
const cors =
  (m: (c: Inputs) => void): Mutate =>
  (i) =>
    m(i.corsHeaders);

/** Rule id, the resource it reads, how to break it, and a fragment of the message. */
const cases: [string, ResourceKind, Mutate, RegExp, number?][] = [
  ["APP-1", "app", (i) => (i.type = "self-hosted"), /value must be one of/],
  ["APP-2", "app", (i) => (i.type = "saas"), /"cors_headers" can only be set if "type"/, api],
  ["APP-2", "app", (i) => (i.type = "SELF_HOSTED"), /can only be set if "type"/, api],
  ["APP-3", "app", cors((c) => (c.allowAllMethods = true)), /2 attributes specified/, api],
  ["APP-3", "app", cors((c) => delete c.allowedMethods), /No attribute specified/, api],
  ["APP-4", "app", cors((c) => delete c.allowedOrigins), /allow_all_origins,/, api],
  [
    "APP-5",
    "app",
    cors((c) => {
      delete c.allowedOrigins;
      c.allowAllOrigins = true;
      c.allowCredentials = false;
    }),
    /"cors_headers.allow_all_origins" cannot be specified when "cors_headers.allow_credentials"/,
    api,
  ],
  ["APP-6", "app", cors((c) => (c.allowAllHeaders = false)), /allowed_headers" cannot/, api],
  ["APP-7", "app", cors((c) => (c.allowedMethods = ["GET", "*"])), /got: "\*"/, api],
  ["APP-8", "app", cors((c) => (c.maxAge = 86401)), /between -1.000000 and 86400/, api],
  ["APP-9", "app", (i) => (i.sessionDuration = "1d"), /only supports "ns"/],
  [
    "APP-10",
    "app",
    (i) => {
      i.destinations = [{ uri: "a" }];
      i.selfHostedDomains = ["a"];
    },
    /"destinations" cannot be specified when "self_hosted_domains"/,
  ],
  ["APP-11", "app", (i) => delete i.policies[0].id, /No attribute specified/],
  ["APP-12", "app", (i) => (i.policies[0].precedence = 0), /must be at least 1, got: 0/],
  ["APP-14", "app", (i) => (i.optionsPreflightBypass = true), /preflight_bypass cannot/, api],
  [
    "APP-15",
    "app",
    cors((c) => (c.allowedOrigins = ["*"])),
    /credentials are not permitted when all origins/,
    api,
  ],
  ["APP-16", "app", cors((c) => (c.allowedMethods = [])), /allowed_methods is an empty/, api],
  ["APP-16", "app", cors((c) => (c.allowedOrigins = [])), /allowed_origins is an empty/, api],
  ["APP-17", "app", (i) => delete i.domain, /needs a domain/],
  [
    "APP-18",
    "app",
    (i) => (i.policies[1].precedence = i.policies[0].precedence),
    /must be unique/,
    api,
  ],
  ["APP-20", "app", (i) => (i.zoneId = "zone"), /exactly one of account_id or zone_id/],
  ["APP-20", "app", (i) => delete i.accountId, /exactly one of account_id or zone_id/],
  ["POL-1", "policy", (i) => delete i.decision, /"decision" must be specified/],
  ["POL-2", "policy", (i) => (i.decision = "nonIdentity"), /got: "nonIdentity"/],
  [
    "POL-3",
    "policy",
    (i) => (i.includes = [{ email: { email: "a@b.c" }, emailDomain: { domain: "b.c" } }]),
    /at most 1 elements, got: 2/,
  ],
  ["POL-4", "policy", (i) => (i.includes = [{ email: {} }]), /"email.email" must be specified/],
  [
    "POL-4",
    "policy",
    (i) => (i.includes = [{ githubOrganization: { name: "acme" } }]),
    /"github_organization.identity_provider_id" must be specified/,
  ],
  ["POL-5", "policy", (i) => (i.sessionDuration = "8 hours"), /not a duration/],
  ["POL-8", "policy", (i) => i.includes.push({}), /has no selector/],
  [
    "POL-9",
    "policy",
    (i) => (i.requires = [{ githubOrg: { name: "acme" } }]),
    /"githubOrg" is not expected/,
  ],
  [
    "POL-10",
    "policy",
    (i) => (i.requires = [{ authMethod: { authMethod: "2fa" } }]),
    /"2fa" is not an RFC 8176 authentication method/,
  ],
  ["POL-11", "policy", (i) => delete i.includes, /no include rule/],
  ["POL-12", "policy", (i) => i.includes.push({ everyone: {} }), /the others change nothing/],
  ["POL-12", "policy", (i) => (i.excludes = [{ everyone: {} }]), /admits nobody/],
  [
    "APP-23",
    "app",
    (i) => (i.autoRedirectToIdentity = true),
    /exactly one identity provider in allowed_idps, got 0/,
  ],
  [
    "APP-23",
    "app",
    (i) => {
      i.allowedIdps = ["idp-1", "idp-2"];
      i.autoRedirectToIdentity = true;
    },
    /got 2/,
  ],
  [
    "APP-24",
    "app",
    (i) => (i.allowedIdps = ["idp-1", 7]),
    /allowed_idps\[1\] must be an identity provider id/,
  ],
  ["POL-7", "policy", (i) => delete i.sessionDuration, /unset, so the provider sends 24h/, 1],
  ["POL-7", "policy", (i) => (i.sessionDuration = "12h"), /"12h" overrides "8h" of the app/, 1],
  ["TOK-1", "token", (i) => delete i.previousClientSecretExpiresAt, /"previous_client_secret/],
  ["TOK-2", "token", (i) => delete i.clientSecretVersion, /"client_secret_version" must be/],
  [
    "TOK-3",
    "token",
    (i) => (i.previousClientSecretExpiresAt = "2026-12-01 12:00"),
    /Invalid RFC3339/,
  ],
  ["TOK-4", "token", (i) => delete i.name, /"name" must be specified/],
  ["TOK-6", "token", (i) => (i.duration = "1y"), /neither a duration/],
  ["TOK-8", "token", (i) => (i.zoneId = "zone"), /exactly one of account_id or zone_id/],
  ["WS-1", "script", (i) => delete i.content, /At least one of these attributes/],
  ["WS-2", "script", (i) => (i.contentFile = "index.js"), /cannot be configured together/],
  [
    "WS-3",
    "script",
    (i) => {
      delete i.content;
      i.contentFile = "x.js";
    },
    /"content_sha256"/,
  ],
  ["WS-4", "script", (i) => (i.contentType = "module"), /content_type value must be one of/],
  ["WS-5", "script", (i) => (i.bindings[0].type = "secret*text"), /got: "secret\*text"/],
  ["WS-5", "script", (i) => delete i.bindings[2].name, /bindings\[2\].name/],
  ["WS-6", "script", (i) => delete i.observability.enabled, /"observability.enabled" must be/],
  [
    "WS-6",
    "script",
    (i) => delete i.observability.logs.invocationLogs,
    /"observability.logs.invocation_logs" must be specified/,
  ],
  ["WS-7", "script", (i) => (i.usageModel = "paid"), /usage_model value must be one of/],
  ["WS-8", "script", (i) => delete i.scriptName, /"script_name" must be specified/],
  ["WS-9", "script", (i) => (i.scriptName = "Access.Bridge"), /lower-case letters/],
  ["WS-9", "script", (i) => (i.scriptName = "a".repeat(64)), /1 to 63/],
  ["WS-10", "script", (i) => (i.compatibilityDate = "2026-12-01"), /in the future: 2026-12-01/],
  ["WS-10", "script", (i) => delete i.compatibilityDate, /2021-11-02/],
  ["WS-11", "script", (i) => delete i.mainModule, /needs main_module/],
  ["WS-12", "script", (i) => (i.content = ""), /no script would be uploaded/],
  [
    "WS-16",
    "script",
    (i) => (i.observability.headSamplingRate = 1.5),
    /observability.head_sampling_rate must be a value between 0 and 1, got 1.5/,
  ],
  [
    "WS-16",
    "script",
    (i) => (i.observability.logs.headSamplingRate = -0.1),
    /observability.logs.head_sampling_rate must be a value between 0 and 1/,
  ],
  [
    "WS-17",
    "script",
    (i) => i.bindings.push({ name: "ANALYTICS", type: "analytics_engine" }),
    /bindings\[\d+\] is an analytics_engine binding without a dataset/,
  ],
  ["SUB-1", "subdomain", (i) => delete i.enabled, /"enabled" must be specified/],
  ["RT-1", "route", (i) => delete i.zoneId, /"zone_id" must be specified/],
  ["RT-2", "route", (i) => (i.pattern = "www.example.org/api/*"), /not on a hostname/],
  ["RT-4", "route", (i) => (i.pattern = "www.example.com/*/api"), /not a valid route/],
  ["RT-4", "route", (i) => (i.pattern = "www.example.com/api/*?x=1"), /not a valid route/],
  ["NP-1", "notification", (i) => delete i.alertType, /"alert_type" must be specified/],
  ["NP-2", "notification", (i) => (i.mechanisms = { emails: [{ id: "ops" }] }), /email/],
  ["NP-2", "notification", (i) => (i.mechanisms = {}), /nobody to notify/],
];

describe("the provider contract", () => {
  it("finds nothing wrong with what the program declares", () => {
    expect(good.map((r) => kindOf(r.type)).sort()).toEqual(
      expect.arrayContaining([
        "app",
        "policy",
        "token",
        "script",
        "subdomain",
        "route",
        "notification",
      ]),
    );
    expect(checkContract(good, today)).toEqual([]);
  });

  // Every row gets its index, so jest never mistakes a short row for a callback test.
  const rows = cases.map(([rule, kind, mutate, message, which]) => [
    rule,
    kind,
    mutate,
    message,
    which ?? 0,
  ]) as [string, ResourceKind, Mutate, RegExp, number][];

  it.each(rows)("%s fires on a %s that breaks it", (rule, kind, mutate, message, which) => {
    const bad = breaking(kind, mutate, which);
    const violations = checkContract(bad, today);
    const fired = violations.filter((v) => v.rule === rule);
    expect(fired).toHaveLength(1);
    expect(fired[0]!.message).toMatch(message);
    const broken = bad.filter((r) => kindOf(r.type) === kind)[which]!;
    expect(fired[0]!.resource).toBe(broken.name);
    // The same rule is quiet on the declaration before the change.
    expect(checkContract(good, today).filter((v) => v.rule === rule)).toEqual([]);
  });

  it("holds a route pattern to one per zone, whatever zone ids name it (RT-5)", () => {
    const route = good.find((r) => kindOf(r.type) === "route")!;
    const twice = [...good, { ...route, name: "second-route" }];
    expect(checkContract(twice, today).map((v) => [v.rule, v.resource])).toEqual([
      ["RT-5", route.name],
      ["RT-5", "second-route"],
    ]);
    const elsewhere = {
      ...route,
      name: "other-zone-route",
      inputs: {
        ...route.inputs,
        zoneId: "another-zone",
        pattern: String(route.inputs.pattern).replace("www.example.com", "WWW.Example.com"),
      },
    };
    expect(
      checkContract([...good, elsewhere], today)
        .filter((v) => v.rule === "RT-5")
        .map((v) => v.resource),
    ).toEqual([route.name, "other-zone-route"]);
  });

  it("holds a hostname to one Access app per account (APP-22)", () => {
    const [frontend, api] = good.filter((r) => kindOf(r.type) === "app");
    const clash = good.map((r) =>
      r === api
        ? { ...r, inputs: { ...r.inputs, domain: String(frontend!.inputs.domain).toUpperCase() } }
        : r,
    );
    const fired = checkContract(clash, today).filter((v) => v.rule === "APP-22");
    expect(fired.map((v) => v.resource)).toEqual([frontend!.name, api!.name]);
    expect(fired[0]!.message).toMatch(/has 2 Access applications in one account/);
    expect(checkContract(good, today).filter((v) => v.rule === "APP-22")).toEqual([]);
  });

  it("holds a script name to one Worker per account (WS-15)", () => {
    const script = good.find((r) => kindOf(r.type) === "script")!;
    const twice = [...good, { ...script, name: "second-worker" }];
    const fired = checkContract(twice, today).filter((v) => v.rule === "WS-15");
    expect(fired.map((v) => v.resource)).toEqual([script.name, "second-worker"]);
    expect(fired[0]!.message).toMatch(/each upload would replace the other's Worker/);
    expect(checkContract(good, today).filter((v) => v.rule === "WS-15")).toEqual([]);
  });

  it("holds a route to a declared app's hostname, unless its Worker verifies a front end's app declared elsewhere (RT-2)", () => {
    const withoutFrontend = good.filter((r) => r.name !== "access-bridge-frontend-app");
    // The Worker still verifies the front-end app's aud, which no declared app has now.
    expect(checkContract(withoutFrontend, today).filter((v) => v.rule === "RT-2")).toEqual([]);
    // Without states, nothing says where the aud comes from, and the host is held as before.
    const stateless = withoutFrontend.map(({ state: _, ...r }) => r);
    expect(
      checkContract(stateless, today)
        .filter((v) => v.rule === "RT-2")
        .map((v) => v.message),
    ).toEqual([expect.stringMatching(/is not on a hostname this stack protects/)]);
  });

  it("has a case for every rule it holds", () => {
    const tested = new Set([...cases.map(([rule]) => rule), "RT-5", "APP-22", "WS-15"]);
    expect(
      contractRules()
        .map((r) => r.id)
        .filter((id) => !tested.has(id)),
    ).toEqual([]);
  });

  it("cites a source for every rule: the provider's file and tag, or a URL", () => {
    for (const rule of contractRules()) {
      expect([rule.id, rule.source]).toEqual([
        rule.id,
        expect.stringMatching(
          /^(cloudflare\/terraform-provider-cloudflare@v\d+\.\d+\.\d+ internal\/\S+\.go|https:\/\/)/,
        ),
      ]);
    }
  });

  it("prints each violation with its rule, resource, stage and source", () => {
    const [violation] = checkContract(
      breaking("token", (i) => delete i.previousClientSecretExpiresAt),
      today,
    );
    expect(formatViolation(violation!)).toBe(
      `  - TOK-1 access-bridge-service-token (fails at pulumi preview): Invalid Attribute Combination. Attribute "previous_client_secret_expires_at" must be specified when "client_secret_version" is specified [${violation!.source}]`,
    );
  });

  it("reads a route's host without scheme, path or case", () => {
    expect(routeHost("https://WWW.Example.com/api/*")).toBe("www.example.com");
    expect(routeHost("*.example.com/*")).toBe("*.example.com");
  });
});

describe("the recorder", () => {
  const program = path.join(__dirname, "..", "fixtures", "programs", "breaks-contract.ts");

  it("refuses a declaration that breaks the contract, with the rule's own message", async () => {
    await expect(declareStack("dev", { program })).rejects.toMatchObject({
      name: "ContractError",
      message: expect.stringContaining(
        'TOK-1 token (fails at pulumi preview): Invalid Attribute Combination. Attribute "previous_client_secret_expires_at" must be specified when "client_secret_version" is specified',
      ),
    });
  });

  it("reports each malformed rule of a composed program's own policies as a provider rule", async () => {
    const own = path.join(__dirname, "..", "fixtures", "programs", "own-policies.ts");
    const stack = await declareStack("dev", { program: own, contract: "report" });
    expect(stack.violations.map((v) => [v.rule, v.resource])).toEqual(
      expect.arrayContaining([
        ["POL-3", "admins-two-selectors"],
        ["POL-8", "admins-no-selector"],
        ["POL-9", "admins-unknown-selector"],
        ["POL-4", "admins-missing-field"],
        ["POL-10", "admins-bad-auth-method"],
        ["POL-11", "admins-no-include"],
        ["POL-12", "admins-everyone-and-more"],
      ]),
    );
    // The component's own declaration breaks none of them.
    expect(stack.violations.filter((v) => v.resource.startsWith("site-"))).toEqual([]);
  });

  it("reports the violations instead when asked to", async () => {
    const stack = await declareStack("dev", { program, contract: "report" });
    expect(stack.resources.map((r) => r.name)).toEqual(["token"]);
    expect(stack.violations.map((v) => [v.rule, v.resource])).toEqual([["TOK-1", "token"]]);
  });
});
