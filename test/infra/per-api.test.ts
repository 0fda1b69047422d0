/**
 * What an entry of `apis` may set for itself beyond its CORS and routing:
 * the name its resources carry, and its own token and identity-key versions.
 */
import { resourceTypes as T } from "../../infra/resource-types";
import {
  declareStack,
  named,
  only,
  resourcesFromLastRun,
  type DeclaredResource,
  type DeclaredStack,
} from "../support/stacks";

const api = { hostname: "api.example.com", routePrefix: "/api" };
const billing = { hostname: "billing.example.com", routePrefix: "/billing" };
const reports = { hostname: "reports.example.com", routePrefix: "/reports" };

/**
 * What a resource is to Cloudflare, apart from what the mocks make up: they
 * hand out token credentials in the order the tokens are declared.
 */
function declared(stack: DeclaredStack): Map<string, unknown> {
  return new Map(
    stack.resources
      .filter((r) => r.type !== T.component)
      .map((r: DeclaredResource) => {
        const inputs = { ...r.inputs };
        delete inputs.content;
        if (Array.isArray(inputs.bindings)) {
          inputs.bindings = (inputs.bindings as { type: string }[]).map((b) =>
            b.type === "secret_text" ? { ...b, text: "(secret)" } : b,
          );
        }
        return [`${r.type} ${r.name}`, inputs];
      }),
  );
}

describe("an API's name", () => {
  it("names its resources, in place of its position and prefix", async () => {
    const stack = await declareStack("apis", {
      config: { apis: [api, { ...billing, name: "invoices" }] },
    });
    const app = named(stack, "access-bridge-invoices-api-app");
    expect(app.inputs).toMatchObject({
      domain: "billing.example.com",
      name: "access-bridge-apis-invoices-api",
    });
    expect(named(stack, "access-bridge-invoices-service-token").inputs.name).toBe(
      "access-bridge-apis-invoices-proxy",
    );
    expect(named(stack, "access-bridge-invoices-route").inputs.pattern).toBe(
      "www.example.com/billing/*",
    );
    expect(stack.resources.some((r) => r.name.includes("-billing-"))).toBe(false);
  });

  it("keeps every resource of named APIs when the entries are reordered", async () => {
    const named1 = { ...api, name: "core" };
    const named2 = { ...billing, name: "invoices" };
    const before = declared(await declareStack("apis", { config: { apis: [named1, named2] } }));
    const after = declared(await declareStack("apis", { config: { apis: [named2, named1] } }));
    expect(before.size).toBeGreaterThan(10);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [key, inputs] of before) expect([key, after.get(key)]).toEqual([key, inputs]);
  });

  it("keeps an API's resources when its prefix changes", async () => {
    const before = await declareStack("apis", {
      config: { apis: [api, { ...billing, name: "invoices" }] },
    });
    const after = await declareStack("apis", {
      config: { apis: [api, { ...billing, routePrefix: "/invoices", name: "invoices" }] },
    });
    expect(after.resources.map((r) => r.name)).toEqual(before.resources.map((r) => r.name));
    expect(named(after, "access-bridge-invoices-route").inputs.pattern).toBe(
      "www.example.com/invoices/*",
    );
  });

  it("leaves a stack without names as it was: the first API unnamed, the others by prefix", async () => {
    const stack = await declareStack("apis", { config: { apis: [api, billing] } });
    expect(named(stack, "access-bridge-api-app").inputs.domain).toBe("api.example.com");
    expect(named(stack, "access-bridge-billing-api-app").inputs.domain).toBe("billing.example.com");
  });

  it.each([
    [[api, { ...billing, name: "Invoices!" }], "access-bridge:apis[1].name: must be a name of"],
    [
      [
        { ...api, name: "core" },
        { ...billing, name: "core" },
      ],
      'access-bridge:apis[1].name: names this API\'s resources "core", as apis[0].name does',
    ],
    [
      [api, { ...billing, name: "reports" }, reports],
      'access-bridge:apis[2].routePrefix: names this API\'s resources "reports", as apis[1].name does',
    ],
  ])(
    "refuses a name that is not a name or names another API's resources, declaring nothing",
    async (apis, problem) => {
      await expect(declareStack("apis", { config: { apis } })).rejects.toMatchObject({
        problems: expect.arrayContaining([expect.stringContaining(problem)]),
      });
      expect(resourcesFromLastRun()).toEqual([]);
    },
  );
});

describe("an API's own versions", () => {
  it("serviceTokenSecretVersion on one entry rotates that API's token only", async () => {
    const stack = await declareStack("apis", {
      config: { apis: [api, { ...billing, serviceTokenSecretVersion: 2 }] },
    });
    const tokens = only(stack, T.token);
    expect(Object.fromEntries(tokens.map((t) => [t.name, t.inputs.clientSecretVersion]))).toEqual({
      "access-bridge-service-token": undefined,
      "access-bridge-billing-service-token": 2,
    });
    expect(named(stack, "access-bridge-billing-service-token").inputs).toHaveProperty(
      "previousClientSecretExpiresAt",
      expect.any(String),
    );
    const expiries = only(stack, T.offset).map((o) => o.name);
    expect(expiries).toEqual(["access-bridge-billing-previous-secret-expiry"]);
    // Each Worker holds its own token's current secret.
    for (const token of tokens) {
      const worker = only(stack, T.script).find((s) =>
        (s.inputs.bindings as { name: string; text: string }[]).some(
          (b) => b.name === "CF_ACCESS_CLIENT_SECRET" && b.text === token.state.clientSecret,
        ),
      );
      expect([token.name, worker?.name]).toEqual([token.name, expect.any(String)]);
    }
  });

  it("the stack's serviceTokenSecretVersion still rotates every API that does not set its own", async () => {
    const stack = await declareStack("apis", {
      config: {
        serviceTokenSecretVersion: 3,
        apis: [api, { ...billing, serviceTokenSecretVersion: 1 }],
      },
    });
    const versions = Object.fromEntries(
      only(stack, T.token).map((t) => [t.name, t.inputs.clientSecretVersion]),
    );
    expect(versions).toEqual({
      "access-bridge-service-token": 3,
      "access-bridge-billing-service-token": undefined,
    });
  });

  it("identityKeyVersion on one entry replaces that API's identity key only", async () => {
    const stack = await declareStack("apis", {
      config: { apis: [{ ...api, identityKeyVersion: 2 }, billing] },
    });
    const keys = only(stack, T.privateKey).map((k) => k.name);
    expect(keys.sort()).toEqual(
      [
        "access-bridge-billing-identity-key-v1",
        "access-bridge-identity-key-v1",
        "access-bridge-identity-key-v2",
      ].sort(),
    );
    expect(only(stack, T.static).map((s) => s.name)).toEqual([
      "access-bridge-identity-key-rotated",
    ]);
  });

  it("refuses an entry's version that is not 1 or more, naming the entry's key", async () => {
    await expect(
      declareStack("apis", { config: { apis: [api, { ...billing, identityKeyVersion: 0 }] } }),
    ).rejects.toMatchObject({
      problems: [
        expect.stringContaining(
          "access-bridge:apis[1].identityKeyVersion: must be an integer >= 1",
        ),
      ],
    });
    expect(resourcesFromLastRun()).toEqual([]);
  });
});
