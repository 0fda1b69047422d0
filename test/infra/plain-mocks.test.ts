/**
 * Runs infra/index.ts the way a third-party harness would: Pulumi's default
 * mock project and stack names, a mock that only echoes inputs (no computed
 * aud, secret or suffix), and config handed over as the CLI does, as strings
 * with lists in JSON. The program must neither depend on the engine's project
 * name for its config namespace nor crash on computed values left undefined.
 */
import * as pulumi from "@pulumi/pulumi";
import { checkContract } from "../../checker/rules";

interface Recorded {
  type: string;
  name: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  inputs: Record<string, any>;
}

const recorded: Recorded[] = [];
void pulumi.runtime.setMocks({
  newResource(args) {
    recorded.push({ type: args.type, name: args.name, inputs: args.inputs });
    return { id: `${args.name}-id`, state: args.inputs };
  },
  call(args) {
    throw new Error(`unmocked call to ${args.token}`);
  },
});
pulumi.runtime.setAllConfig({
  "access-bridge:accountId": "test-account",
  "access-bridge:frontendZoneId": "test-zone",
  "access-bridge:frontendHostname": "example.com",
  "access-bridge:apiHostname": "api.example.com",
  "access-bridge:accessTeamDomain": "team.cloudflareaccess.com",
  "access-bridge:allowedEmails": JSON.stringify(["alice@example.com"]),
  "access-bridge:corsAllowedHeaders": JSON.stringify(["content-type"]),
  "access-bridge:corsMaxAge": "300",
  "access-bridge:stripRoutePrefix": "false",
  "access-bridge:serviceTokenSecretVersion": "2",
});

function byType(suffix: string): Recorded[] {
  return recorded.filter((r) => r.type.endsWith(suffix));
}

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

describe("the program under a plain echoing mock", () => {
  let outputs: Record<string, unknown>;

  beforeAll(async () => {
    // Imported only now, after the mocks and config above are in place.
    const program = (await import("../../infra/index")) as Record<string, unknown>;
    outputs = {};
    for (const [key, value] of Object.entries(program)) {
      if (pulumi.Output.isInstance(value)) outputs[key] = await valueOf(value);
    }
    const settings = (await import("@pulumi/pulumi/runtime/settings")) as {
      waitForRPCs?: () => Promise<void>;
    };
    await settings.waitForRPCs?.();
  });

  it("reads the access-bridge config namespace and declares the whole design", () => {
    expect(recorded.map((r) => r.type.split(":").pop()).sort()).toEqual(
      [
        "AccessBridge",
        "Offset",
        "PrivateKey",
        "RandomId",
        "WorkersRoute",
        "WorkersScript",
        "WorkersScriptSubdomain",
        "ZeroTrustAccessApplication",
        "ZeroTrustAccessApplication",
        "ZeroTrustAccessPolicy",
        "ZeroTrustAccessPolicy",
        "ZeroTrustAccessServiceToken",
      ].sort(),
    );
    const apps = byType("ZeroTrustAccessApplication");
    expect(apps.map((a) => [a.inputs.domain, a.inputs.type, a.inputs.accountId])).toEqual([
      ["example.com", "self_hosted", "test-account"],
      ["api.example.com", "self_hosted", "test-account"],
    ]);
    const api = apps[1]!;
    expect(api.inputs.corsHeaders).toEqual({
      allowedOrigins: ["https://example.com"],
      allowedMethods: ["GET", "POST", "OPTIONS"],
      allowedHeaders: ["content-type"],
      allowCredentials: true,
      maxAge: 300,
    });
    expect(byType("ZeroTrustAccessServiceToken")[0]!.inputs.clientSecretVersion).toBe(2);
  });

  it("names the Worker after the stack even without a random suffix, and routes to that name", () => {
    const [script] = byType("WorkersScript");
    const [route] = byType("WorkersRoute");
    const [subdomain] = byType("WorkersScriptSubdomain");
    expect(script!.inputs.scriptName).toBe("project-stack-proxy");
    expect(route!.inputs).toMatchObject({
      zoneId: "test-zone",
      pattern: "example.com/api/*",
      script: "project-stack-proxy",
    });
    expect(subdomain!.inputs).toMatchObject({
      scriptName: "project-stack-proxy",
      enabled: false,
      previewsEnabled: false,
    });
    expect(outputs.workerName).toBe("project-stack-proxy");
    expect(outputs.routePattern).toBe("example.com/api/*");
  });

  it("declares nothing the provider refuses, short of the values only a provider computes", () => {
    // The echoing mock computes nothing, so the rotation deadline the time
    // provider would compute is missing here. At a real preview it is
    // unknown, and the provider's check skips unknown values.
    expect(checkContract(recorded).map((v) => `${v.rule} ${v.resource}`)).toEqual([
      "TOK-1 access-bridge-service-token",
    ]);
  });

  it("still exports the ids that the mock does know", () => {
    expect(outputs).toMatchObject({
      frontendAppId: "access-bridge-frontend-app-id",
      apiAppId: "access-bridge-api-app-id",
      serviceTokenId: "access-bridge-service-token-id",
      serviceTokenSecretVersion: 2,
    });
  });
});
