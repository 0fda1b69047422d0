/**
 * Who may log in, in Cloudflare's own rules: peopleRules beside the email
 * shorthand, reusable policies the account already has, and the login page's
 * identity providers, as the stack program and another program declare them.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import {
  declareStack,
  named,
  only,
  resourcesFromLastRun,
  type DeclaredStack,
} from "../support/stacks";

const policyType = "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy";
const appType = "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication";

/** The issue's worked example, as a stack file holds it. */
const example = {
  include: [
    { githubOrganization: { name: "acme", team: "platform", identityProviderId: "0f1e2d3c-9a8b" } },
    { group: { id: "7d9c" } },
  ],
  require: [{ authMethod: { authMethod: "mfa" } }],
  exclude: [{ email: { email: "contractor@acme.com" } }],
};

const peoplePolicies = (stack: DeclaredStack) =>
  only(stack, policyType).filter((p) => p.inputs.decision === "allow");

/** The config error's problems, or a failure when the stack was declared. */
async function problemsOf(config: Record<string, unknown>, stack = "dev"): Promise<string[]> {
  const run = declareStack(stack, { config });
  await expect(run).rejects.toMatchObject({ name: "ConfigError" });
  return run.then(
    () => [],
    (error: { problems: string[] }) => error.problems,
  );
}

describe("peopleRules", () => {
  let stack: DeclaredStack;
  beforeAll(async () => {
    stack = await declareStack("dev", { config: { peopleRules: example } });
  });

  it("declares one people policy holding exactly those rules, the shorthand's include rules after them", () => {
    const [policy, ...more] = peoplePolicies(stack);
    expect(more).toEqual([]);
    expect(policy!.inputs.includes).toEqual([
      ...example.include,
      { email: { email: "dev@example.com" } },
      { emailDomain: { domain: "example.com" } },
    ]);
    expect(policy!.inputs.requires).toEqual(example.require);
    expect(policy!.inputs.excludes).toEqual(example.exclude);
  });

  it("attaches it to the front end's app, and to the API's after its Service Auth policy", () => {
    const policy = peoplePolicies(stack)[0]!;
    const serviceAuth = named(stack, "access-bridge-service-auth-policy");
    expect(named(stack, "access-bridge-frontend-app").inputs.policies).toEqual([
      { id: policy.id, precedence: 1 },
    ]);
    expect(named(stack, "access-bridge-api-app").inputs.policies).toEqual([
      { id: serviceAuth.id, precedence: 1 },
      { id: policy.id, precedence: 2 },
    ]);
  });

  it("declares the rules alone without the shorthand, and no require or exclude list it was not given", async () => {
    const alone = await declareStack("dev", {
      config: {
        allowedEmails: undefined,
        allowedEmailDomains: undefined,
        peopleRules: { include: [{ everyone: {} }] },
      },
    });
    const policy = peoplePolicies(alone)[0]!;
    expect(policy.inputs.includes).toEqual([{ everyone: {} }]);
    expect(policy.inputs).not.toHaveProperty("requires");
    expect(policy.inputs).not.toHaveProperty("excludes");
  });

  it("holds a rule the shorthand also gives once", async () => {
    const twice = await declareStack("dev", {
      config: { peopleRules: { include: [{ email: { email: "dev@example.com" } }] } },
    });
    expect(peoplePolicies(twice)[0]!.inputs.includes).toEqual([
      { email: { email: "dev@example.com" } },
      { emailDomain: { domain: "example.com" } },
    ]);
  });

  it("keeps the rules secret when the key is", async () => {
    const secret = await declareStack("dev", {
      config: { peopleRules: example },
      secretKeys: ["peopleRules"],
    });
    expect(peoplePolicies(secret)[0]!.secretPaths).toEqual(
      expect.arrayContaining(["includes", "requires", "excludes"]),
    );
  });
});

describe("a malformed rule", () => {
  const include = (...rules: unknown[]) => ({ peopleRules: { include: rules } });
  const ok = { email: { email: "ada@example.com" } };
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ["a rule with no selector", include(ok, {}), "peopleRules.include[1]", /has no selector/],
    [
      "a rule with two selectors",
      include(ok, { email: { email: "a@example.com" }, group: { id: "7d9c" } }),
      "peopleRules.include[1]",
      /has 2 selectors \(email, group\); a rule takes exactly one/,
    ],
    [
      "a selector the provider does not know",
      include(ok, { githubOrg: { name: "acme" } }),
      "peopleRules.include[1]",
      /githubOrg is not a selector Cloudflare's provider knows; did you mean githubOrganization\?/,
    ],
    [
      "a missing githubOrganization.name",
      include(ok, { githubOrganization: { identityProviderId: "0f1e" } }),
      "peopleRules.include[1].githubOrganization.name",
      /is required \(the provider's github_organization.name\)/,
    ],
    [
      "an empty githubOrganization.name",
      include({ githubOrganization: { name: " ", identityProviderId: "0f1e" } }),
      "peopleRules.include[0].githubOrganization.name",
      /is required .* must not be empty/,
    ],
    [
      "a missing identityProviderId where the provider requires it",
      include({ okta: { name: "engineers" } }),
      "peopleRules.include[0].okta.identityProviderId",
      /is required \(the provider's okta.identity_provider_id\)/,
    ],
    [
      "an authMethod the API does not accept",
      { peopleRules: { include: [ok], require: [{ authMethod: { authMethod: "2fa" } }] } },
      "peopleRules.require[0].authMethod.authMethod",
      /"2fa" is not an authentication method Access accepts, which follows RFC 8176: .*mfa/,
    ],
    [
      "no include rule at all",
      {
        allowedEmails: undefined,
        allowedEmailDomains: undefined,
        peopleRules: { require: [{ authMethod: { authMethod: "mfa" } }] },
      },
      "peopleRules.include",
      /needs at least one rule/,
    ],
    [
      "an include list given empty",
      { allowedEmails: undefined, allowedEmailDomains: undefined, peopleRules: { include: [] } },
      "peopleRules.include",
      /needs at least one rule/,
    ],
    [
      "everyone next to other include rules",
      include(ok, { everyone: {} }),
      "peopleRules.include[1]",
      /everyone admits every person who can log in.*would change nothing/,
    ],
    [
      "everyone next to the shorthand",
      include({ everyone: {} }),
      "peopleRules.include[0]",
      /allowedEmails, allowedEmailDomains\) would change nothing/,
    ],
  ];

  it.each(cases)(
    "%s is refused with its path, and nothing is declared",
    async (_, config, at, what) => {
      const problems = await problemsOf(config);
      const line = problems.find((p) => p.startsWith(`access-bridge:${at}: `));
      expect([at, line]).toEqual([at, expect.stringMatching(what)]);
      expect(resourcesFromLastRun()).toEqual([]);
    },
  );

  it("is refused in a list of rules given as JSON text, as `pulumi config set` gives it", async () => {
    const problems = await problemsOf({ peopleRules: JSON.stringify(include(ok, {}).peopleRules) });
    expect(problems).toEqual([
      expect.stringMatching(/^access-bridge:peopleRules.include\[1\]: has no selector/),
    ]);
  });

  it("names the list when peopleRules has a list it does not know", async () => {
    expect(await problemsOf({ peopleRules: { includes: [ok] } })).toEqual([
      expect.stringMatching(
        /^access-bridge:peopleRules: has no list "includes"; did you mean include\?/,
      ),
    ]);
  });
});

describe("peoplePolicyIds", () => {
  let stack: DeclaredStack;
  const ids = {
    allowedEmails: undefined,
    allowedEmailDomains: undefined,
    peoplePolicyIds: ["p1", "p2"],
  };
  beforeAll(async () => {
    stack = await declareStack("apis", { config: ids });
  });

  it("declares no people policy, and attaches the given ones to the front end's app in their order", () => {
    expect(only(stack, policyType).map((p) => p.inputs.decision)).toEqual([
      "non_identity",
      "non_identity",
    ]);
    expect(named(stack, "access-bridge-frontend-app").inputs.policies).toEqual([
      { id: "p1", precedence: 1 },
      { id: "p2", precedence: 2 },
    ]);
  });

  it("attaches them to every API's app after its Service Auth policy", () => {
    const apps = only(stack, appType).filter((a) => a.name !== "access-bridge-frontend-app");
    expect(apps.map((a) => a.name)).toEqual([
      "access-bridge-api-app",
      "access-bridge-billing-api-app",
    ]);
    for (const app of apps) {
      const serviceAuth = named(stack, app.name.replace("api-app", "service-auth-policy"));
      expect(app.inputs.policies).toEqual([
        { id: serviceAuth.id, precedence: 1 },
        { id: "p1", precedence: 2 },
        { id: "p2", precedence: 3 },
      ]);
    }
  });

  it("gives the first of them as the peoplePolicyId output", () => {
    expect(stack.outputs.peoplePolicyId).toBe("p1");
  });

  it.each([
    ["allowedEmails", ["ada@example.com"]],
    ["allowedEmailDomains", ["example.com"]],
    ["peopleRules", { include: [{ everyone: {} }] }],
  ])("is refused beside a non-empty %s, naming both keys", async (key, beside) => {
    const problems = await problemsOf({ ...ids, [key]: beside });
    expect(problems).toContainEqual(
      expect.stringMatching(
        new RegExp(`^access-bridge:peoplePolicyIds: cannot be set together with ${key}`),
      ),
    );
    expect(resourcesFromLastRun()).toEqual([]);
  });

  it("is refused beside adopting a people policy, which is then not declared", async () => {
    const problems = await problemsOf({
      ...ids,
      adopt: { peoplePolicyId: "hand-made" },
    });
    expect(problems).toContainEqual(
      expect.stringMatching(
        /^access-bridge:adopt: peoplePolicyId cannot be adopted together with peoplePolicyIds/,
      ),
    );
  });

  it("is refused when an id is not one", async () => {
    expect(await problemsOf({ ...ids, peoplePolicyIds: ["p1", "not an id"] })).toEqual([
      expect.stringMatching(/^access-bridge:peoplePolicyIds: must be an id as Cloudflare shows it/),
    ]);
  });
});

describe("nobody could log in", () => {
  it("is still refused without any rule, naming allowedEmails", async () => {
    expect(await problemsOf({ allowedEmails: undefined, allowedEmailDomains: undefined })).toEqual([
      expect.stringMatching(
        /^access-bridge:allowedEmails: nobody could log in: .*peopleRules.*peoplePolicyIds/,
      ),
    ]);
  });
});

describe("allowedIdps and autoRedirectToIdentity", () => {
  it("are declared on every Access app the program declares", async () => {
    const stack = await declareStack("apis", {
      config: { allowedIdps: ["idp-1"], autoRedirectToIdentity: true },
    });
    const apps = only(stack, appType);
    expect(apps).toHaveLength(3);
    for (const app of apps) {
      expect([app.name, app.inputs.allowedIdps, app.inputs.autoRedirectToIdentity]).toEqual([
        app.name,
        ["idp-1"],
        true,
      ]);
    }
  });

  it("are left out where not set, as the apps were always declared", async () => {
    const stack = await declareStack("dev");
    for (const app of only(stack, appType)) {
      expect(app.inputs).not.toHaveProperty("allowedIdps");
      expect(app.inputs).not.toHaveProperty("autoRedirectToIdentity");
    }
  });

  it.each([
    ["two identity providers", ["idp-1", "idp-2"], /got 2/],
    ["none", [], /got 0/],
  ])("refuses autoRedirectToIdentity with %s, naming the key", async (_, idps, got) => {
    const problems = await problemsOf({ allowedIdps: idps, autoRedirectToIdentity: true });
    expect(problems).toEqual([
      expect.stringMatching(
        /^access-bridge:autoRedirectToIdentity: true needs exactly one identity provider in allowedIdps/,
      ),
    ]);
    expect(problems[0]).toMatch(got);
    expect(resourcesFromLastRun()).toEqual([]);
  });
});

describe("the component's arguments", () => {
  const program = path.join(__dirname, "..", "fixtures", "programs", "people-args.ts");
  const run = (which: string) => declareStack("dev", { program, config: { case: which } });
  const policyOf = (stack: DeclaredStack) => peoplePolicies(stack)[0]!;

  it("takes plain rules, identity providers and the redirect", async () => {
    const stack = await run("plain");
    expect(policyOf(stack).inputs.includes).toEqual([
      { githubOrganization: { name: "acme", team: "platform", identityProviderId: "0f1e2d3c" } },
      { group: { id: "7d9c" } },
    ]);
    expect(policyOf(stack).inputs.requires).toEqual([{ authMethod: { authMethod: "mfa" } }]);
    for (const app of only(stack, appType)) {
      expect(app.inputs).toMatchObject({ allowedIdps: ["idp-1"], autoRedirectToIdentity: true });
    }
  });

  it("takes rules, lists and identity providers that are other resources' outputs", async () => {
    const stack = await run("outputs");
    expect(policyOf(stack).inputs.includes).toEqual([
      { githubOrganization: { name: "acme", team: "platform", identityProviderId: "0f1e2d3c" } },
      { emailDomain: { domain: "example.com" } },
    ]);
    expect(policyOf(stack).inputs.requires).toEqual([{ authMethod: { authMethod: "mfa" } }]);
    expect(named(stack, "people-frontend-app").inputs.allowedIdps).toEqual(["idp-1"]);
  });

  it("refuses a plain bad rule by its argument's path before anything is declared", async () => {
    await expect(run("plain-bad-rule")).rejects.toMatchObject({
      message: expect.stringContaining(
        "peopleRules.include[0].githubOrganization.name: is required (the provider's github_organization.name)",
      ),
    });
    expect(resourcesFromLastRun()).toEqual([]);
  });

  it("attaches policy ids that are outputs, in their order, and declares no people policy", async () => {
    const stack = await run("ids");
    expect(only(stack, policyType).map((p) => p.inputs.decision)).toEqual(["non_identity"]);
    expect(named(stack, "people-frontend-app").inputs.policies).toEqual([
      { id: "p1", precedence: 1 },
      { id: "p2", precedence: 2 },
    ]);
    expect(stack.outputs).toMatchObject({ peoplePolicyId: "p1", declaresPeoplePolicy: false });
  });

  /** Runs the program as the engine does, where a value that resolves wrong ends the run. */
  const runAlone = (which: string) => {
    const result = spawnSync(
      process.execPath,
      [
        "-r",
        "ts-node/register/transpile-only",
        path.join(__dirname, "..", "support", "run-program.ts"),
        program,
      ],
      {
        cwd: path.join(__dirname, "..", ".."),
        encoding: "utf8",
        timeout: 60_000,
        env: { ...process.env, PULUMI_CONFIG: JSON.stringify({ "access-bridge:case": which }) },
      },
    );
    const registered = result.stdout.split("\n").filter((l) => l.startsWith("registered "));
    return { ...result, cloudflare: registered.filter((l) => l.includes(" cloudflare:")) };
  };

  it.each([
    [
      "a bad rule",
      "bad-rule-output",
      "peopleRules.include[0].githubOrganization.name: is required (the provider's github_organization.name)",
    ],
    [
      "emails beside policy ids",
      "ids-beside-emails",
      "peoplePolicyIds: cannot be set together with allowedEmails",
    ],
    [
      "two identity providers for the redirect",
      "redirect-two",
      "autoRedirectToIdentity: true needs exactly one identity provider in allowedIdps, got 2",
    ],
  ])(
    "refuses %s that arrives as an output once it resolves, before any Cloudflare resource is registered",
    (_, which, message) => {
      const result = runAlone(which);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain(message);
      expect(result.cloudflare).toEqual([]);
    },
  );
});
