/**
 * Adopting the guide's hand-made set-up: the adopting update imports each
 * named resource as it is, and the update after it brings them to what the
 * stack declares, in place.
 */
import { adoptedInputs } from "../../infra/adopt";
import { replaceTriggers } from "../../checker/rules";
import { kindOf } from "../../infra/resource-types";
import { declareStack, named, type DeclaredStack } from "../support/stacks";

/** Ids as a hand-made set-up in the prod fixture's account and zone would have them. */
const handMade = {
  frontendAppId: "0c6a2d1e-1111-4a4a-9b9b-frontendapp01",
  apiAppId: "0c6a2d1e-2222-4a4a-9b9b-apiapp0000001",
  peoplePolicyId: "0c6a2d1e-3333-4a4a-9b9b-peoplepolicy1",
  serviceAuthPolicyId: "0c6a2d1e-4444-4a4a-9b9b-serviceauth01",
  serviceTokenId: "0c6a2d1e-5555-4a4a-9b9b-servicetoken1",
  routeId: "9f1e2d3c4b5a69788796a5b4c3d2e1f0",
};
const account = "0000000000000000000000000000f0d0";
const zone = "0000000000000000000000000000f0d1";

const adopting = (adopt: Record<string, string>, more: Record<string, unknown> = {}) =>
  declareStack("prod", { config: { adopt, serviceTokenSecretVersion: 2, ...more } });

describe("adopting the guide's set-up", () => {
  let first: DeclaredStack;
  let second: DeclaredStack;
  beforeAll(async () => {
    first = await adopting(handMade);
    second = await declareStack("prod", { config: { serviceTokenSecretVersion: 2 } });
  });

  it("imports each named resource by the provider's id format, on the resource it names", () => {
    const imports = Object.fromEntries(
      first.resources
        .filter((r) => r.options.importId !== "")
        .map((r) => [r.name, r.options.importId]),
    );
    expect(imports).toEqual({
      "access-bridge-frontend-app": `accounts/${account}/${handMade.frontendAppId}`,
      "access-bridge-api-app": `accounts/${account}/${handMade.apiAppId}`,
      "access-bridge-people-policy": `${account}/${handMade.peoplePolicyId}`,
      "access-bridge-service-auth-policy": `${account}/${handMade.serviceAuthPolicyId}`,
      "access-bridge-service-token": `accounts/${account}/${handMade.serviceTokenId}`,
      "access-bridge-route": `${zone}/${handMade.routeId}`,
    });
  });

  it("changes nothing on the adopting update: every declared input of an adopted resource is ignored", () => {
    for (const r of first.resources.filter((r) => r.options.importId !== "")) {
      const declared = Object.keys(r.inputs).filter((k) => k !== "accountId" && k !== "zoneId");
      expect([r.name, declared.filter((k) => !r.options.ignoreChanges.includes(k))]).toEqual([
        r.name,
        [],
      ]);
    }
  });

  it("ignores the flags an import reads back as false where created state holds null, so the import matches", () => {
    const appFlags = [
      "serviceAuth401Redirect",
      "enableBindingCookie",
      "optionsPreflightBypass",
      "autoRedirectToIdentity",
    ];
    const policyFlags = ["approvalRequired", "isolationRequired", "purposeJustificationRequired"];
    for (const [name, flags] of [
      ["access-bridge-frontend-app", appFlags],
      ["access-bridge-api-app", appFlags],
      ["access-bridge-people-policy", policyFlags],
      ["access-bridge-service-auth-policy", policyFlags],
    ] as const) {
      const r = named(first, name);
      expect(r.options.importId).not.toBe("");
      expect([name, r.options.ignoreChanges]).toEqual([name, expect.arrayContaining([...flags])]);
    }
    // Once adopted, nothing is ignored any more.
    expect(named(second, "access-bridge-api-app").options.ignoreChanges).toEqual([]);
  });

  it("keeps the adopted route on the guide's Worker, and declares no Worker before it has a secret", () => {
    const route = named(first, "access-bridge-route");
    expect(route.inputs.script).toBeUndefined();
    expect(route.options.ignoreChanges).toEqual(expect.arrayContaining(["script", "pattern"]));
    expect(first.resources.map((r) => kindOf(r.type))).not.toContain("script");
    expect(first.outputs.workerName).toBeUndefined();
  });

  it("still protects what it adopts on a protected stack", () => {
    for (const name of [
      "access-bridge-frontend-app",
      "access-bridge-api-app",
      "access-bridge-route",
    ]) {
      expect([name, named(first, name).options.protect]).toEqual([name, true]);
    }
  });

  it("keeps every logical name across both updates, so the second one updates in place", () => {
    const adopted = first.resources.filter((r) => r.options.importId !== "");
    for (const r of adopted) {
      const after = named(second, r.name);
      expect(after.type).toBe(r.type);
      expect(after.options.importId).toBe("");
      // In place: no input the provider replaces on differs between the two.
      const triggers = replaceTriggers[kindOf(r.type)!] ?? [];
      for (const t of triggers)
        expect([r.name, t, after.inputs[t]]).toEqual([r.name, t, r.inputs[t]]);
    }
  });

  it("then rotates the adopted token's secret, hands it to the new Worker and moves the route to it", () => {
    const token = named(second, "access-bridge-service-token");
    expect(token.inputs.clientSecretVersion).toBe(2);
    expect(token.inputs.previousClientSecretExpiresAt).toEqual(expect.any(String));
    const script = named(second, "access-bridge-worker");
    const secret = (script.inputs.bindings as { name: string; text: string }[]).find(
      (b) => b.name === "CF_ACCESS_CLIENT_SECRET",
    );
    expect(secret?.text).toBe(token.state.clientSecret);
    expect(named(second, "access-bridge-route").inputs.script).toBe(script.inputs.scriptName);
  });

  it("adopts only what it is given: a route alone leaves the rest to be created and the Worker declared", async () => {
    const routeOnly = await adopting({ routeId: handMade.routeId });
    expect(routeOnly.resources.filter((r) => r.options.importId !== "").map((r) => r.name)).toEqual(
      ["access-bridge-route"],
    );
    expect(named(routeOnly, "access-bridge-worker").inputs.content.length).toBeGreaterThan(1000);
    expect(named(routeOnly, "access-bridge-route").options.ignoreChanges).toEqual(
      adoptedInputs.route,
    );
  });
});

describe("the adopt key given wrong", () => {
  it.each([
    ["an unknown key", { frontendApp: "x" }, /adopt: has no key "frontendApp"/],
    ["an id that is not one", { apiAppId: "not an id" }, /adopt: apiAppId must be an id/],
  ])("refuses %s, declaring nothing", async (_, adopt, message) => {
    await expect(adopting(adopt)).rejects.toMatchObject({
      name: "ConfigError",
      message: expect.stringMatching(message),
    });
  });

  it("refuses to adopt a token without a secret version to rotate to", async () => {
    await expect(
      declareStack("prod", { config: { adopt: { serviceTokenId: handMade.serviceTokenId } } }),
    ).rejects.toMatchObject({
      message: expect.stringMatching(
        /adopt: serviceTokenId needs serviceTokenSecretVersion 2 or more/,
      ),
    });
  });
});
