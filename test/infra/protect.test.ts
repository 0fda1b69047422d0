import { DeclaredStack, declareStack } from "../support/stacks";

const guarded = [
  "access-bridge-frontend-app",
  "access-bridge-api-app",
  "access-bridge-people-policy",
  "access-bridge-service-auth-policy",
  "access-bridge-service-token",
  "access-bridge-route",
];

function protectedNames(stack: DeclaredStack): string[] {
  return stack.resources
    .filter((r) => r.options.protect)
    .map((r) => r.name)
    .sort();
}

describe("protection against accidental deletion", () => {
  it("protects the apps, policies, token and route on prod, as its stack file says", async () => {
    const stack = await declareStack("prod");
    expect(protectedNames(stack)).toEqual([...guarded].sort());
  });

  it("protects nothing on dev", async () => {
    const stack = await declareStack("dev");
    expect(stack.resources.length).toBeGreaterThan(0);
    expect(protectedNames(stack)).toEqual([]);
  });

  it("respects protect: false on prod", async () => {
    const stack = await declareStack("prod", { config: { protect: false } });
    expect(stack.resources.length).toBeGreaterThan(0);
    expect(protectedNames(stack)).toEqual([]);
  });

  it("respects protect: true on dev", async () => {
    const stack = await declareStack("dev", { config: { protect: true } });
    expect(protectedNames(stack)).toEqual([...guarded].sort());
  });
});
