/**
 * Several APIs behind one front end (`apis`), and a front end whose Access
 * app is managed elsewhere (`frontendAud`), as the stack program declares them.
 */
import { resourceTypes as T } from "../../infra/resource-types";
import {
  declareStack,
  isSecretAt,
  named,
  one,
  only,
  resourcesFromLastRun,
  type DeclaredResource,
  type DeclaredStack,
} from "../support/stacks";

type Binding = { name: string; type: string; text: string };
const bindingsOf = (script: DeclaredResource) => script.inputs.bindings as Binding[];
const binding = (script: DeclaredResource, name: string) =>
  bindingsOf(script).find((b) => b.name === name)?.text;

/** The guide's two APIs on the prod fixture, in place of its single API. */
const twoApis = {
  apiHostname: undefined,
  routePrefix: undefined,
  apis: [
    { hostname: "api.mysite.com", routePrefix: "/api" },
    { hostname: "billing.mysite.com", routePrefix: "/billing" },
  ],
};

/** The Worker a route sends its requests to. */
function workerOf(stack: DeclaredStack, route: DeclaredResource): DeclaredResource {
  const script = only(stack, T.script).find((s) => s.inputs.scriptName === route.inputs.script);
  if (!script) throw new Error(`no Worker named ${String(route.inputs.script)}`);
  return script;
}

describe("two APIs behind one front end", () => {
  let stack: DeclaredStack;
  beforeAll(async () => {
    stack = await declareStack("prod", { config: twoApis });
  });

  it("declares one front-end app and one people policy, and an app with its own Service Auth policy per API", () => {
    const apps = only(stack, T.app);
    expect(apps.map((a) => a.inputs.domain)).toEqual([
      "example.com",
      "api.mysite.com",
      "billing.mysite.com",
    ]);
    const people = only(stack, T.policy).filter((p) => p.inputs.decision === "allow");
    expect(people.map((p) => p.name)).toEqual(["access-bridge-people-policy"]);
    const tokens = only(stack, T.token);
    expect(tokens).toHaveLength(2);
    for (const [app, token] of [
      [named(stack, "access-bridge-api-app"), named(stack, "access-bridge-service-token")],
      [
        named(stack, "access-bridge-billing-api-app"),
        named(stack, "access-bridge-billing-service-token"),
      ],
    ] as const) {
      const [serviceAuth, peopleRef] = app.inputs.policies as { id: string; precedence: number }[];
      const policy = only(stack, T.policy).find((p) => p.id === serviceAuth!.id)!;
      expect(policy.inputs.decision).toBe("non_identity");
      // Its own token and no other: a secret that leaks from one API's Worker
      // opens no other API.
      expect(policy.inputs.includes).toEqual([{ serviceToken: { tokenId: token.id } }]);
      expect(peopleRef).toEqual({ id: people[0]!.id, precedence: 2 });
    }
    expect(named(stack, "access-bridge-frontend-app").inputs.policies).toEqual([
      { id: people[0]!.id, precedence: 1 },
    ]);
  });

  it("routes example.com/api/* and example.com/billing/*, each to a Worker bound to its own API and token", () => {
    const routes = only(stack, T.route);
    expect(routes.map((r) => r.inputs.pattern)).toEqual([
      "example.com/api/*",
      "example.com/billing/*",
    ]);
    const expected = [
      ["api.mysite.com", "/api", "access-bridge-service-token"],
      ["billing.mysite.com", "/billing", "access-bridge-billing-service-token"],
    ];
    const frontendAud = named(stack, "access-bridge-frontend-app").state.aud;
    routes.forEach((route, n) => {
      const worker = workerOf(stack, route);
      const [hostname, prefix, tokenName] = expected[n]!;
      const token = named(stack, tokenName!);
      expect(binding(worker, "API_HOSTNAME")).toBe(hostname);
      expect(binding(worker, "ROUTE_PREFIX")).toBe(prefix);
      expect(binding(worker, "ACCESS_AUD")).toBe(frontendAud);
      expect(binding(worker, "CF_ACCESS_CLIENT_ID")).toBe(token.state.clientId);
      expect(binding(worker, "CF_ACCESS_CLIENT_SECRET")).toBe(token.state.clientSecret);
      expect(isSecretAt(worker, "bindings[1].text")).toBe(true);
    });
    const [first, second] = routes.map((r) => workerOf(stack, r));
    const other = named(stack, "access-bridge-service-token").state.clientSecret as string;
    expect(JSON.stringify(second!.inputs)).not.toContain(other);
    expect(binding(first!, "IDENTITY_SIGNING_KEY")).not.toBe(
      binding(second!, "IDENTITY_SIGNING_KEY"),
    );
  });

  it("gives no two Access apps, policies, tokens or Workers one Cloudflare name", () => {
    const kinds: string[] = [T.app, T.policy, T.token, T.script];
    const names = stack.resources
      .filter((r) => kinds.includes(r.type))
      .map((r) => r.inputs.scriptName ?? r.inputs.name)
      .filter((n): n is string => typeof n === "string");
    expect(names.length).toBe(3 + 3 + 2 + 2);
    expect(new Set(names).size).toBe(names.length);
    expect(only(stack, T.script).map((s) => s.inputs.scriptName)).toEqual([
      expect.stringMatching(/^access-bridge-prod-proxy-[0-9a-f]{6}$/),
      expect.stringMatching(/^access-bridge-prod-billing-proxy-[0-9a-f]{6}$/),
    ]);
    expect(stack.violations).toEqual([]);
  });

  it("keeps the first API's resources exactly as a single-API stack declares them", async () => {
    const single = await declareStack("prod");
    const billing = (r: DeclaredResource) => r.name.startsWith("access-bridge-billing-");
    const shape = (s: DeclaredStack, keep: (r: DeclaredResource) => boolean) =>
      s.resources.filter(keep).map((r) => ({
        type: r.type,
        name: r.name,
        inputs: r.inputs,
        protect: r.options.protect,
        parent: r.options.parent,
      }));
    expect(shape(stack, (r) => !billing(r))).toEqual(shape(single, () => true));
    expect(stack.resources.filter(billing).length).toBeGreaterThan(5);
  });

  it("lists every API in the apis output, and keeps the single-API outputs as the first's", () => {
    const apis = stack.outputs.apis as Record<string, string>[];
    expect(apis.map((a) => [a.hostname, a.routePattern])).toEqual([
      ["api.mysite.com", "example.com/api/*"],
      ["billing.mysite.com", "example.com/billing/*"],
    ]);
    expect(apis[1]!.workerName).toBe(
      named(stack, "access-bridge-billing-worker").inputs.scriptName,
    );
    expect(apis[1]!.serviceTokenId).toBe(named(stack, "access-bridge-billing-service-token").id);
    expect(apis[0]!.identityJwks).toBe(stack.outputs.identityJwks);
    expect(apis[1]!.identityJwks).not.toBe(apis[0]!.identityJwks);
    expect(stack.outputs.routePattern).toBe("example.com/api/*");
    expect(stack.outputs.peoplePolicyId).toBe(named(stack, "access-bridge-people-policy").id);
    expect(stack.secretOutputs).toEqual([]);
  });

  it("protects every API's app, policy, token and route on a protected stack", () => {
    for (const kind of [T.app, T.policy, T.token, T.route]) {
      for (const r of only(stack, kind))
        expect([r.name, r.options.protect]).toEqual([r.name, true]);
    }
  });
});

describe("an API's own settings", () => {
  it("override the stack's keys for that API alone", async () => {
    const stack = await declareStack("prod", {
      config: {
        ...twoApis,
        apis: [
          { hostname: "api.mysite.com", routePrefix: "/api" },
          {
            hostname: "billing.mysite.com",
            routePrefix: "/billing",
            preflight: "origin",
            stripRoutePrefix: true,
            upstreamTimeoutMs: 5000,
          },
          {
            hostname: "files.mysite.com",
            routePrefix: "/files",
            corsAllowedHeaders: ["x-upload-id"],
            corsMaxAge: "60",
          },
        ],
      },
    });
    const api = named(stack, "access-bridge-api-app");
    const billing = named(stack, "access-bridge-billing-api-app");
    const files = named(stack, "access-bridge-files-api-app");
    expect(api.inputs.corsHeaders.allowedHeaders).toEqual(["content-type"]);
    expect(billing.inputs.optionsPreflightBypass).toBe(true);
    expect(billing.inputs.corsHeaders).toBeUndefined();
    expect(files.inputs.corsHeaders).toMatchObject({ allowedHeaders: ["x-upload-id"], maxAge: 60 });
    expect(binding(named(stack, "access-bridge-billing-worker"), "STRIP_ROUTE_PREFIX")).toBe(
      "true",
    );
    expect(binding(named(stack, "access-bridge-billing-worker"), "UPSTREAM_TIMEOUT_MS")).toBe(
      "5000",
    );
    expect(binding(named(stack, "access-bridge-worker"), "STRIP_ROUTE_PREFIX")).toBe("false");
    expect(binding(named(stack, "access-bridge-worker"), "UPSTREAM_TIMEOUT_MS")).toBeUndefined();
  });

  it("are read from the JSON text `pulumi config set --path 'apis[1].hostname'` leaves", async () => {
    const stack = await declareStack("prod", {
      config: { ...twoApis, apis: JSON.stringify(twoApis.apis) },
    });
    expect(only(stack, T.route).map((r) => r.inputs.pattern)).toEqual([
      "example.com/api/*",
      "example.com/billing/*",
    ]);
  });
});

describe("apis given wrong", () => {
  const refused: [string, Record<string, unknown>, RegExp[]][] = [
    [
      "apis beside apiHostname",
      { ...twoApis, apiHostname: "api.mysite.com" },
      [/^access-bridge:apiHostname: cannot be set together with apis/],
    ],
    [
      "apis beside routePrefix",
      { ...twoApis, routePrefix: "/api" },
      [/^access-bridge:routePrefix: cannot be set together with apis/],
    ],
    [
      "two APIs on one prefix",
      {
        ...twoApis,
        apis: [
          { hostname: "api.mysite.com", routePrefix: "/api" },
          { hostname: "billing.mysite.com", routePrefix: "api/" },
        ],
      },
      [/^access-bridge:apis\[1\]\.routePrefix: \/api is also apis\[0\]\.routePrefix/],
    ],
    [
      "one hostname twice",
      {
        ...twoApis,
        apis: [
          { hostname: "api.mysite.com", routePrefix: "/api" },
          { hostname: "API.mysite.com", routePrefix: "/billing" },
        ],
      },
      [/^access-bridge:apis\[1\]\.hostname: api\.mysite\.com is also apis\[0\]\.hostname/],
    ],
    [
      "an API on the front end's own hostname",
      { ...twoApis, apis: [{ hostname: "example.com", routePrefix: "/api" }] },
      [/^access-bridge:apis\[0\]\.hostname: must differ from frontendHostname/],
    ],
    [
      "a prefix that is not a path",
      {
        ...twoApis,
        apis: [
          { hostname: "api.mysite.com", routePrefix: "/api/*" },
          { hostname: "billing.mysite.com", routePrefix: "https://example.com/billing" },
        ],
      },
      [
        /^access-bridge:apis\[0\]\.routePrefix: must be a path like \/api/,
        /^access-bridge:apis\[1\]\.routePrefix: must be a path like \/api/,
      ],
    ],
    [
      "an API without its hostname",
      { ...twoApis, apis: [{ routePrefix: "/api" }] },
      [
        /^access-bridge:apis\[0\]\.hostname: is required; set it with `pulumi config set --path 'apis\[0\]\.hostname'/,
      ],
    ],
    [
      "a key an API does not take",
      { ...twoApis, apis: [{ hostname: "api.mysite.com", routePrefix: "/api", corsMaxAg: 5 }] },
      [/^access-bridge:apis\[0\]\.corsMaxAg: is not a key of an API; did you mean corsMaxAge\?/],
    ],
    [
      "an empty list",
      { ...twoApis, apis: [] },
      [/^access-bridge:apis: must list at least one API/],
    ],
    [
      "prefixes that would name two APIs' resources alike",
      {
        ...twoApis,
        apis: [
          { hostname: "api.mysite.com", routePrefix: "/api" },
          { hostname: "users.mysite.com", routePrefix: "/v1/users" },
          { hostname: "people.mysite.com", routePrefix: "/v1-users" },
        ],
      },
      [/^access-bridge:apis\[2\]\.routePrefix: names this API's resources "v1-users"/],
    ],
  ];

  it.each(refused)("refuses %s by name, declaring nothing", async (_, config, messages) => {
    const run = declareStack("prod", { config });
    await expect(run).rejects.toMatchObject({ name: "ConfigError" });
    const problems = await run.then(
      () => [],
      (error: { problems: string[] }) => error.problems,
    );
    expect(problems).toEqual(messages.map((m) => expect.stringMatching(m)));
    expect(resourcesFromLastRun()).toEqual([]);
  });

  it("accepts the same APIs once each has its own prefix and hostname, so the refusals are their own", async () => {
    const stack = await declareStack("prod", {
      config: {
        ...twoApis,
        apis: [
          { hostname: "api.mysite.com", routePrefix: "/api" },
          { hostname: "billing.mysite.com", routePrefix: "/api/billing" },
        ],
      },
    });
    expect(only(stack, T.route).map((r) => r.inputs.pattern)).toEqual([
      "example.com/api/*",
      "example.com/api/billing/*",
    ]);
  });
});

describe("a front end whose Access app is managed elsewhere", () => {
  const aud = "3f".repeat(32);
  let stack: DeclaredStack;
  beforeAll(async () => {
    stack = await declareStack("prod", { config: { frontendAud: aud.toUpperCase() } });
  });

  it("declares no front-end app, and binds that aud to the Worker", () => {
    expect(only(stack, T.app).map((a) => a.inputs.domain)).toEqual(["api.mysite.com"]);
    expect(binding(one(stack, T.script), "ACCESS_AUD")).toBe(aud);
    expect(stack.outputs.frontendAud).toBe(aud);
    expect(stack.outputs.frontendAppId).toBeUndefined();
  });

  it("still declares the API's app and both policies, and the route on the front end", () => {
    const api = named(stack, "access-bridge-api-app");
    const people = named(stack, "access-bridge-people-policy");
    const serviceAuth = named(stack, "access-bridge-service-auth-policy");
    expect(api.inputs.policies).toEqual([
      { id: serviceAuth.id, precedence: 1 },
      { id: people.id, precedence: 2 },
    ]);
    expect(one(stack, T.route).inputs.pattern).toBe("example.com/api/*");
    expect(stack.violations).toEqual([]);
  });

  it.each([
    ["too short", "abc123"],
    ["not hex", "z".repeat(64)],
    ["an app id", "0c6a2d1e-1111-4a4a-9b9b-frontendapp01"],
  ])("refuses an aud that is %s, naming frontendAud, declaring nothing", async (_, bad) => {
    await expect(declareStack("prod", { config: { frontendAud: bad } })).rejects.toMatchObject({
      problems: [expect.stringMatching(/^access-bridge:frontendAud: must be the aud tag .*64 hex/)],
    });
    expect(resourcesFromLastRun()).toEqual([]);
  });

  it("refuses to adopt a front-end app it does not manage", async () => {
    await expect(
      declareStack("prod", {
        config: { frontendAud: aud, adopt: { frontendAppId: "0c6a2d1e-frontend" } },
      }),
    ).rejects.toMatchObject({
      problems: [
        expect.stringMatching(
          /^access-bridge:adopt: frontendAppId cannot be adopted together with frontendAud/,
        ),
      ],
    });
    expect(resourcesFromLastRun()).toEqual([]);
  });
});

describe("keys set as secrets", () => {
  it("are secret inputs of every resource that takes them, and of what is made from them", async () => {
    const stack = await declareStack("prod", {
      config: { allowedEmails: ["boss@example.com"], alertEmails: ["ops@example.com"] },
      secretKeys: ["accountId", "allowedEmails", "alertEmails"],
    });
    const withAccount = stack.resources.filter((r) => "accountId" in r.inputs);
    expect(withAccount.length).toBeGreaterThanOrEqual(8);
    for (const r of withAccount)
      expect([r.name, isSecretAt(r, "accountId")]).toEqual([r.name, true]);
    const people = named(stack, "access-bridge-people-policy");
    expect(people.inputs.includes).toContainEqual({ email: { email: "boss@example.com" } });
    expect(isSecretAt(people, "includes")).toBe(true);
    const alert = one(stack, T.notification);
    expect(isSecretAt(alert, "mechanisms")).toBe(true);
    // The account is in the alert's text, so the text is secret too.
    expect(isSecretAt(alert, "description")).toBe(true);
    // What no secret went into stays readable in a preview.
    expect(isSecretAt(named(stack, "access-bridge-api-app"), "domain")).toBe(false);
    expect(isSecretAt(one(stack, T.route), "pattern")).toBe(false);
  });

  it("leave everything plain when none is set, so the test above can fail", async () => {
    const stack = await declareStack("prod");
    expect(stack.resources.filter((r) => isSecretAt(r, "accountId"))).toEqual([]);
  });

  it("refuse adoption, which needs the account id plain to build import ids", async () => {
    await expect(
      declareStack("prod", {
        config: { adopt: { apiAppId: "0c6a2d1e-api" } },
        secretKeys: ["accountId"],
      }),
    ).rejects.toMatchObject({
      problems: [expect.stringMatching(/^access-bridge:adopt: needs accountId as a plain value/)],
    });
    expect(resourcesFromLastRun()).toEqual([]);
  });
});
