import {
  declareStack,
  defaultServiceToken,
  mockClientSecret,
  mockNow,
  one,
  only,
} from "../support/stacks";

const tokenType = "cloudflare:index/zeroTrustAccessServiceToken:ZeroTrustAccessServiceToken";
const scriptType = "cloudflare:index/workersScript:WorkersScript";
const offsetType = "time:index/offset:Offset";

function secretBinding(stack: Awaited<ReturnType<typeof declareStack>>): string {
  const bindings = one(stack, scriptType).inputs.bindings as { name: string; text: string }[];
  const found = bindings.find((b) => b.name === "CF_ACCESS_CLIENT_SECRET");
  if (!found) throw new Error("no CF_ACCESS_CLIENT_SECRET binding");
  return found.text;
}

describe("service token secret rotation", () => {
  it("starts at the provider's secret version 1, sending neither the version nor a previous-secret deadline", async () => {
    const stack = await declareStack("dev");
    const token = one(stack, tokenType);
    expect(token.inputs.duration).toBe("8760h");
    expect(token.inputs.name).toBe("access-bridge-dev-proxy");
    // The provider requires the two together or not at all.
    expect("clientSecretVersion" in token.inputs).toBe(false);
    expect("previousClientSecretExpiresAt" in token.inputs).toBe(false);
    expect(stack.outputs.serviceTokenSecretVersion).toBe(1);
    expect(stack.resources.map((r) => r.type)).not.toContain(offsetType);
  });

  it("rotates in place: a version bump changes the token's inputs, and the Worker takes the new secret", async () => {
    const before = await declareStack("dev");
    const after = await declareStack("dev", {
      config: { serviceTokenSecretVersion: 2, serviceTokenRotationGraceHours: 48 },
    });
    const oldToken = one(before, tokenType);
    const newToken = one(after, tokenType);

    expect(newToken.inputs.clientSecretVersion).toBe(2);
    const [offset] = only(after, offsetType);
    expect(offset!.inputs).toEqual({ triggers: { version: "2" }, offsetHours: 48 });
    expect(newToken.inputs.previousClientSecretExpiresAt).toBe(offset!.state.rfc3339);
    expect(Date.parse(newToken.inputs.previousClientSecretExpiresAt) - Date.parse(mockNow)).toBe(
      48 * 3_600_000,
    );

    // The binding is wired to the token's output, not to a copy of it.
    expect(secretBinding(before)).toBe(oldToken.state.clientSecret);
    expect(secretBinding(after)).toBe(newToken.state.clientSecret);
    expect(secretBinding(after)).toBe(mockClientSecret(defaultServiceToken.clientSecret, 2));
    expect(secretBinding(after)).not.toBe(secretBinding(before));
  });

  it("keeps the token's identity, so the Client ID does not change", async () => {
    const before = await declareStack("dev");
    const after = await declareStack("dev", { config: { serviceTokenSecretVersion: 3 } });
    const oldToken = one(before, tokenType);
    const newToken = one(after, tokenType);
    expect(newToken.name).toBe(oldToken.name);
    expect(newToken.inputs.name).toBe(oldToken.inputs.name);
    expect(newToken.state.clientId).toBe(oldToken.state.clientId);
    expect(newToken.options.replaceOnChanges).toEqual([]);
    expect(newToken.options.deleteBeforeReplace).toBe(false);
  });

  it("uses the configured token duration", async () => {
    const stack = await declareStack("dev", { config: { serviceTokenDuration: "720h" } });
    expect(one(stack, tokenType).inputs.duration).toBe("720h");
  });

  it("never puts the secret in a stack output, before or after rotation", async () => {
    for (const version of [1, 2]) {
      const stack = await declareStack("prod", { config: { serviceTokenSecretVersion: version } });
      const secret = mockClientSecret(defaultServiceToken.clientSecret, version);
      expect(secretBinding(stack)).toBe(secret);
      expect(JSON.stringify(stack.outputs)).not.toContain(secret);
      expect(stack.outputs.serviceTokenSecretVersion).toBe(version);
    }
  });
});
