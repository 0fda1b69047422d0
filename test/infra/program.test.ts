import { readFileSync } from "node:fs";
import { resourceTypes } from "../../infra/resource-types";
import {
  bundleWorker,
  compatibilityDate,
  workerBundlePath,
  workerModuleName,
} from "../../worker/build";
import {
  DeclaredResource,
  DeclaredStack,
  declareStack,
  defaultServiceToken,
  isSecretAt,
  named,
  one,
  only,
} from "../support/stacks";

const T = { ...resourceTypes, identityKey: resourceTypes.privateKey };

function binding(
  script: DeclaredResource,
  name: string,
): { name: string; type: string; text: string } {
  const found = (script.inputs.bindings as { name: string; type: string; text: string }[]).find(
    (b) => b.name === name,
  );
  if (!found) throw new Error(`no binding ${name}`);
  return found;
}

describe.each(["dev", "prod"])("the %s stack", (stackName) => {
  let stack: DeclaredStack;
  beforeAll(async () => {
    stack = await declareStack(stackName);
  });

  it("declares exactly the resources of the design, under one component", () => {
    expect(stack.resources.map((r) => r.type).sort()).toEqual(
      [
        T.component,
        T.randomId,
        T.token,
        T.policy,
        T.policy,
        T.app,
        T.app,
        T.script,
        T.subdomain,
        T.route,
        T.identityKey,
      ].sort(),
    );
    const component = one(stack, T.component);
    for (const r of stack.resources.filter((r) => r !== component)) {
      expect(r.options.parent).toBe(component.name);
    }
  });

  it("makes both apps self_hosted on their hostnames with an explicit session duration", () => {
    const frontend = named(stack, "access-bridge-frontend-app");
    const api = named(stack, "access-bridge-api-app");
    const expected =
      stackName === "prod"
        ? ["example.com", "api.mysite.com"]
        : ["www.example.com", "api.example.com"];
    expect([frontend.inputs.domain, api.inputs.domain]).toEqual(expected);
    for (const app of only(stack, T.app)) {
      expect(app.inputs.type).toBe("self_hosted");
      expect(app.inputs.sessionDuration).toMatch(/^\d+h$/);
      expect(app.inputs.accountId).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(frontend.inputs.name).toBe(`access-bridge-${stackName}-frontend`);
    expect(api.inputs.name).toBe(`access-bridge-${stackName}-api`);
  });

  it("lets people in through one reusable allow policy attached to both apps", () => {
    const people = named(stack, "access-bridge-people-policy");
    expect(people.inputs.decision).toBe("allow");
    expect(people.inputs.includes.length).toBeGreaterThan(0);
    for (const include of people.inputs.includes) {
      expect(Object.keys(include)).toEqual([expect.stringMatching(/^(email|emailDomain)$/)]);
    }
    expect(named(stack, "access-bridge-frontend-app").inputs.policies).toEqual([
      { id: people.id, precedence: 1 },
    ]);
  });

  it("admits exactly the service token through a non_identity policy that the API app checks first", () => {
    const token = one(stack, T.token);
    const serviceAuth = named(stack, "access-bridge-service-auth-policy");
    const people = named(stack, "access-bridge-people-policy");
    expect(serviceAuth.inputs.decision).toBe("non_identity");
    expect(serviceAuth.inputs.includes).toEqual([{ serviceToken: { tokenId: token.id } }]);
    expect(token.id).toBe("access-bridge-service-token-id");
    expect(named(stack, "access-bridge-api-app").inputs.policies).toEqual([
      { id: serviceAuth.id, precedence: 1 },
      { id: people.id, precedence: 2 },
    ]);
  });

  it("lets Access answer the API's preflights from the cors keys, never with the bypass", () => {
    const api = named(stack, "access-bridge-api-app");
    expect(api.inputs.corsHeaders).toMatchObject({
      allowedOrigins: [stackName === "prod" ? "https://example.com" : "https://www.example.com"],
      allowedMethods: ["GET", "POST", "OPTIONS"],
      allowCredentials: true,
      maxAge: 600,
    });
    expect(Object.keys(api.inputs.corsHeaders).filter((k) => k.startsWith("allowAll"))).toEqual([]);
    expect("optionsPreflightBypass" in api.inputs).toBe(false);
    const frontend = named(stack, "access-bridge-frontend-app");
    expect(frontend.inputs.type).toBe("self_hosted");
    expect(frontend.inputs.corsHeaders).toBeUndefined();
    expect(frontend.inputs.optionsPreflightBypass).toBeUndefined();
  });

  it("uploads the bundled Worker as one ES module with the pinned compatibility date", () => {
    const script = one(stack, T.script);
    expect(script.inputs.mainModule).toBe(workerModuleName);
    expect(script.inputs.compatibilityDate).toBe(compatibilityDate);
    expect(script.inputs.content).toBe(bundleWorker());
    expect(script.inputs.content).toBe(readFileSync(workerBundlePath, "utf8"));
    expect(script.inputs.scriptName).toMatch(
      new RegExp(`^access-bridge-${stackName}-proxy-[0-9a-f]{6}$`),
    );
  });

  it("binds the Worker exactly as it expects, with the credentials kept secret", () => {
    const script = one(stack, T.script);
    const frontend = named(stack, "access-bridge-frontend-app");
    const bindings = script.inputs.bindings as { name: string; type: string; text: string }[];
    expect(bindings.map((b) => [b.name, b.type])).toEqual([
      ["CF_ACCESS_CLIENT_ID", "secret_text"],
      ["CF_ACCESS_CLIENT_SECRET", "secret_text"],
      ["IDENTITY_SIGNING_KEY", "secret_text"],
      ["API_HOSTNAME", "plain_text"],
      ["ACCESS_TEAM_DOMAIN", "plain_text"],
      ["ACCESS_AUD", "plain_text"],
      ["ROUTE_PREFIX", "plain_text"],
      ["STRIP_ROUTE_PREFIX", "plain_text"],
    ]);
    expect(binding(script, "CF_ACCESS_CLIENT_ID").text).toBe(defaultServiceToken.clientId);
    expect(binding(script, "CF_ACCESS_CLIENT_SECRET").text).toBe(defaultServiceToken.clientSecret);
    expect(binding(script, "API_HOSTNAME").text).toBe(
      stackName === "prod" ? "api.mysite.com" : "api.example.com",
    );
    expect(binding(script, "ACCESS_TEAM_DOMAIN").text).toMatch(/\.cloudflareaccess\.com$/);
    expect(binding(script, "ACCESS_AUD").text).toBe(frontend.state.aud);
    expect(binding(script, "ROUTE_PREFIX").text).toBe("/api");
    expect(binding(script, "STRIP_ROUTE_PREFIX").text).toBe("false");

    const index = bindings.findIndex((b) => b.name === "CF_ACCESS_CLIENT_SECRET");
    expect(isSecretAt(script, `bindings[${index}].text`)).toBe(true);
    expect(isSecretAt(script, `bindings[0].text`)).toBe(true);
    const key = one(stack, T.identityKey);
    expect(binding(script, "IDENTITY_SIGNING_KEY").text).toBe(key.state.privateKeyPemPkcs8);
    expect(binding(script, "IDENTITY_SIGNING_KEY").text).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const keyIndex = bindings.findIndex((b) => b.name === "IDENTITY_SIGNING_KEY");
    expect(isSecretAt(script, `bindings[${keyIndex}].text`)).toBe(true);
    expect(isSecretAt(script, "content")).toBe(false);
  });

  it("switches off the Worker's workers.dev address and preview URLs", () => {
    const subdomain = one(stack, T.subdomain);
    expect(subdomain.inputs).toMatchObject({ enabled: false, previewsEnabled: false });
    expect(subdomain.inputs.scriptName).toBe(one(stack, T.script).state.scriptName);
  });

  it("routes <frontendHostname>/api/* on the front end's zone to the script", () => {
    const route = one(stack, T.route);
    expect(route.inputs.pattern).toBe(
      stackName === "prod" ? "example.com/api/*" : "www.example.com/api/*",
    );
    expect(route.inputs.script).toBe(one(stack, T.script).inputs.scriptName);
    // The name is the script's own output, so the route is created only after
    // the upload has finished, as a data edge rather than a dependsOn.
    expect(route.options.propertyDependencies.script).toEqual([one(stack, T.script).name]);
    expect(route.inputs.zoneId).toMatch(/^[0-9a-f]{32}$/);
    expect(stack.outputs.routePattern).toBe(route.inputs.pattern);
  });

  it("exports ids, AUDs, names and the token's expiry, and never its credentials", () => {
    expect(Object.keys(stack.outputs).sort()).toEqual(
      [
        "apiAppId",
        "apiAud",
        "apis",
        "frontendAppId",
        "frontendAud",
        "identityJwks",
        "peoplePolicyId",
        "previousSecretExpiresAt",
        "routePattern",
        "serviceTokenExpiresAt",
        "serviceTokenId",
        "serviceTokenSecretVersion",
        "workerName",
      ].sort(),
    );
    expect(stack.outputs.previousSecretExpiresAt).toBeUndefined();
    expect(stack.secretOutputs).toEqual([]);
    expect(stack.outputs.frontendAud).toBe(named(stack, "access-bridge-frontend-app").state.aud);
    expect(stack.outputs.workerName).toBe(one(stack, T.script).inputs.scriptName);
    const serialized = JSON.stringify(stack.outputs);
    expect(serialized).toContain(stack.outputs.serviceTokenId as string);
    expect(serialized).not.toContain(defaultServiceToken.clientSecret);
    expect(serialized).not.toContain(defaultServiceToken.clientId);
  });
});

describe("sessionDuration", () => {
  it("is carried by every app and every policy, so no policy's 24h default overrides it", async () => {
    const stack = await declareStack("dev", { config: { sessionDuration: "12h" } });
    const policies = only(stack, T.policy);
    expect(policies.map((p) => p.name).sort()).toEqual([
      "access-bridge-people-policy",
      "access-bridge-service-auth-policy",
    ]);
    for (const r of [...policies, ...only(stack, T.app)]) {
      expect([r.name, r.inputs.sessionDuration]).toEqual([r.name, "12h"]);
    }
  });
});

describe("alertEmails", () => {
  it("warns them before the token expires, naming the refresh call that renews it for certain", async () => {
    const stack = await declareStack("prod", { config: { alertEmails: ["ops@example.com"] } });
    const alert = one(stack, T.notification);
    const token = one(stack, T.token);
    expect(alert.inputs).toMatchObject({
      alertType: "expiring_service_token_alert",
      enabled: true,
      mechanisms: { emails: [{ id: "ops@example.com" }] },
    });
    expect(alert.inputs.description).toContain(
      `POST https://api.cloudflare.com/client/v4/accounts/${token.inputs.accountId}/access/service_tokens/${token.id}/refresh`,
    );
    expect(alert.inputs.description).toContain("Access: Service Tokens Edit");
    expect(alert.inputs.description).toContain("docs/runbooks.md#renew-the-service-token");
  });

  it("declares no alert when empty", async () => {
    const stack = await declareStack("prod");
    expect(stack.resources.map((r) => r.type)).not.toContain(T.notification);
    expect(stack.resources.map((r) => r.type)).toContain(T.token);
  });
});

describe("preflight: origin", () => {
  it("bypasses Access for OPTIONS and sends no CORS settings", async () => {
    const stack = await declareStack("dev", { config: { preflight: "origin" } });
    const api = named(stack, "access-bridge-api-app");
    expect(api.inputs.optionsPreflightBypass).toBe(true);
    expect(api.inputs.corsHeaders).toBeUndefined();
  });
});

describe("config overrides", () => {
  it("builds the route and bindings from routePrefix and stripRoutePrefix", async () => {
    const stack = await declareStack("prod", {
      config: { routePrefix: "backend/", stripRoutePrefix: true },
    });
    expect(one(stack, T.route).inputs.pattern).toBe("example.com/backend/*");
    const script = one(stack, T.script);
    expect(binding(script, "ROUTE_PREFIX").text).toBe("/backend");
    expect(binding(script, "STRIP_ROUTE_PREFIX").text).toBe("true");
  });

  it("binds UPSTREAM_TIMEOUT_MS only when upstreamTimeoutMs changes the Worker's default", async () => {
    const stack = await declareStack("dev", { config: { upstreamTimeoutMs: 5000 } });
    expect(binding(one(stack, T.script), "UPSTREAM_TIMEOUT_MS")).toEqual({
      name: "UPSTREAM_TIMEOUT_MS",
      type: "plain_text",
      text: "5000",
    });
  });

  it("names resources after the stack so two stacks never collide", async () => {
    const dev = await declareStack("dev");
    const prod = await declareStack("prod");
    const cfNames = (s: DeclaredStack) =>
      s.resources
        .map((r) => r.inputs.name ?? r.inputs.scriptName)
        .filter((n): n is string => typeof n === "string");
    const devNames = cfNames(dev);
    expect(devNames.length).toBeGreaterThanOrEqual(6);
    for (const name of devNames) expect(cfNames(prod)).not.toContain(name);
  });
});

describe("the Worker bundle", () => {
  it("is byte-identical across builds, so a second `pulumi up` changes nothing", () => {
    const first = bundleWorker();
    const second = bundleWorker();
    expect(first.length).toBeGreaterThan(0);
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
  });
});
