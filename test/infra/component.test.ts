/**
 * The component as another Pulumi program would use it: imported on its own,
 * given a validated config and a Worker bundle, inside that program's project
 * and stack, without infra/index.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { checkContract } from "../../checker/rules";
import { bundleWorker, workerModuleName } from "../../worker/build";

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
  let workerName: string | undefined;
  let routePattern: string | undefined;

  beforeAll(async () => {
    // The package's entry, as another program imports it: plain arguments
    // named as the config keys, an account id from another resource's output,
    // and no Worker bundle, which the component brings itself.
    const { AccessBridge } = await import("../../index");
    const bridge = new AccessBridge("storefront", {
      accountId: pulumi.output("test-account"),
      frontendZoneId: "test-zone",
      frontendHostname: "shop.example.com",
      apiHostname: "api.shop.example.com",
      accessTeamDomain: "shop.cloudflareaccess.com",
      allowedEmailDomains: ["example.com"],
      routePrefix: "/backend",
      corsAllowedHeaders: ["Content-Type"],
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

  it("names its children after the component, and Cloudflare's names after the host program and the component", () => {
    const logical = recorded.map((r) => r.name).filter((n) => n !== "storefront");
    expect(logical.length).toBeGreaterThan(5);
    for (const name of logical) expect(name).toMatch(/^storefront-/);
    const apps = recorded.filter((r) => r.type.endsWith("ZeroTrustAccessApplication"));
    expect(apps.map((a) => a.inputs.name)).toEqual([
      "shop-staging-storefront-frontend",
      "shop-staging-storefront-api",
    ]);
    expect(apps.map((a) => a.inputs.accountId)).toEqual(["test-account", "test-account"]);
    expect(workerName).toBe("shop-staging-storefront-proxy-c0ffee");
  });

  it("validates and normalises its arguments as the stack's config is", () => {
    const api = recorded.find((r) => r.name === "storefront-api-app");
    expect(api?.inputs.corsHeaders).toMatchObject({
      allowedOrigins: ["https://shop.example.com"],
      allowedHeaders: ["content-type"],
      allowCredentials: true,
    });
  });

  it("declares nothing the Cloudflare provider would refuse", () => {
    expect(recorded.length).toBeGreaterThan(5);
    expect(checkContract(recorded)).toEqual([]);
  });

  it("uploads the package's own Worker bundle and routes the configured prefix to it", () => {
    const script = recorded.find((r) => r.type.endsWith("WorkersScript"));
    expect(script?.inputs.content).toBe(bundleWorker());
    expect(script?.inputs.mainModule).toBe(workerModuleName);
    expect(routePattern).toBe("shop.example.com/backend/*");
    const route = recorded.find((r) => r.type.endsWith("WorkersRoute"));
    expect(route?.inputs).toMatchObject({ zoneId: "test-zone", script: workerName });
  });

  it("refuses bad arguments naming each argument, before registering anything", async () => {
    const { AccessBridge } = await import("../../index");
    const before = recorded.length;
    expect(
      () =>
        new AccessBridge("broken", {
          accountId: "test-account",
          frontendZoneId: "test-zone",
          frontendHostname: "shop.example.com",
          apiHostname: "shop.example.com",
          accessTeamDomain: "shop.cloudflareaccess.com",
          allowedEmailDomains: ["example.com"],
          corsMaxAge: 90000,
          corsAllowedHeader: ["x"],
        } as never),
    ).toThrow(
      expect.objectContaining({
        name: "ConfigError",
        problems: [
          "corsAllowedHeader: is not an argument of AccessBridge; did you mean corsAllowedHeaders?",
          "apiHostname: must differ from frontendHostname (both are shop.example.com)",
          'corsMaxAge: must be an integer between -1 and 86400, got "90000"',
        ],
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(recorded.length).toBe(before);
  });
});
