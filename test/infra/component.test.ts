/**
 * The component as another Pulumi program would use it: imported on its own,
 * given a validated config and a Worker bundle, inside that program's project
 * and stack, without infra/index.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { checkContract } from "../../infra/contract";

interface Recorded {
  type: string;
  name: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  inputs: Record<string, any>;
}

const recorded: Recorded[] = [];
void pulumi.runtime.setMocks(
  {
    newResource(args) {
      recorded.push({ type: args.type, name: args.name, inputs: args.inputs });
      const state = args.type.endsWith("RandomId")
        ? { ...args.inputs, hex: "c0ffee" }
        : args.inputs;
      return { id: `${args.name}-id`, state };
    },
    call(args) {
      throw new Error(`unmocked call to ${args.token}`);
    },
  },
  "shop",
  "staging",
);

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

describe("AccessBridge used from another program", () => {
  let workerName: string;
  let routePattern: string;

  beforeAll(async () => {
    const { AccessBridge } = await import("../../infra/access-bridge");
    const { validateConfig } = await import("../../infra/config");
    const config = validateConfig(
      {
        accountId: "test-account",
        frontendZoneId: "test-zone",
        frontendHostname: "shop.example.com",
        apiHostname: "api.shop.example.com",
        accessTeamDomain: "shop.cloudflareaccess.com",
        allowedEmailDomains: '["example.com"]',
        routePrefix: "/backend",
      },
      "staging",
    );
    const bridge = new AccessBridge("storefront", {
      ...config,
      worker: {
        content: "export default {};",
        moduleName: "index.js",
        compatibilityDate: "2026-04-01",
      },
    });
    [workerName, routePattern] = await Promise.all([
      valueOf(bridge.workerName),
      valueOf(bridge.routePattern),
    ]);
    const settings = (await import("@pulumi/pulumi/runtime/settings")) as {
      waitForRPCs?: () => Promise<void>;
    };
    await settings.waitForRPCs?.();
  });

  it("names its children after the component and Cloudflare's names after the host program", () => {
    const logical = recorded.map((r) => r.name).filter((n) => n !== "storefront");
    expect(logical.length).toBeGreaterThan(5);
    for (const name of logical) expect(name).toMatch(/^storefront-/);
    const apps = recorded.filter((r) => r.type.endsWith("ZeroTrustAccessApplication"));
    expect(apps.map((a) => a.inputs.name)).toEqual(["shop-staging-frontend", "shop-staging-api"]);
    expect(workerName).toBe("shop-staging-proxy-c0ffee");
  });

  it("declares nothing the Cloudflare provider would refuse", () => {
    expect(recorded.length).toBeGreaterThan(5);
    expect(checkContract(recorded)).toEqual([]);
  });

  it("uploads the bundle it is given and routes the configured prefix to it", () => {
    const script = recorded.find((r) => r.type.endsWith("WorkersScript"));
    expect(script?.inputs.content).toBe("export default {};");
    expect(routePattern).toBe("shop.example.com/backend/*");
    const route = recorded.find((r) => r.type.endsWith("WorkersRoute"));
    expect(route?.inputs).toMatchObject({ zoneId: "test-zone", script: workerName });
  });
});
