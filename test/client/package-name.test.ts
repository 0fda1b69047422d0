import { bridgeFetch, isSessionExpired, REASON_HEADER } from "access-bridge/client";
import { verifyIdentity } from "access-bridge/identity";
import { AccessBridge } from "access-bridge";

describe("the package's entry points, by the names users import them by", () => {
  it("resolve to the same modules as the source", async () => {
    const client = await import("../../client");
    expect(bridgeFetch).toBe(client.bridgeFetch);
    expect(isSessionExpired).toBe(client.isSessionExpired);
    expect(REASON_HEADER).toBe("x-access-bridge-reason");
    expect(typeof verifyIdentity).toBe("function");
    expect(typeof AccessBridge).toBe("function");
  });
});
