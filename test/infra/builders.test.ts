import { buildBindings, buildObservability } from "../../infra/bindings";
import { defaults } from "../../infra/config";
import { buildCorsHeaders } from "../../infra/cors";
import { cloudflareNames, namePrefixFor, workerScriptName } from "../../infra/names";
import { DEFAULT_UPSTREAM_TIMEOUT_MS } from "../../worker/src/env";

const cors = {
  allowedOrigins: ["https://example.com"],
  allowedMethods: ["GET", "POST", "OPTIONS"],
  allowedHeaders: ["content-type"],
  allowCredentials: true,
  maxAge: 600,
};

describe("buildCorsHeaders", () => {
  it("sends the lists and leaves every allowAll* flag out", () => {
    const headers = buildCorsHeaders(cors);
    expect(headers).toEqual({
      allowedOrigins: ["https://example.com"],
      allowedMethods: ["GET", "POST", "OPTIONS"],
      allowedHeaders: ["content-type"],
      allowCredentials: true,
      maxAge: 600,
    });
    expect(Object.keys(headers).filter((k) => k.startsWith("allowAll"))).toEqual([]);
  });

  it('turns ["*"] into the matching allowAll* flag instead of a list', () => {
    const headers = buildCorsHeaders({
      ...cors,
      allowedOrigins: ["*"],
      allowedMethods: ["*"],
      allowedHeaders: ["*"],
      allowCredentials: false,
    });
    // The provider refuses allow_credentials next to allow_all_origins, even false.
    expect(headers).toEqual({
      allowAllOrigins: true,
      allowAllMethods: true,
      allowAllHeaders: true,
      maxAge: 600,
    });
  });

  it("states credentials, true or false, next to a list of origins", () => {
    for (const allowCredentials of [true, false]) {
      const headers = buildCorsHeaders({ ...cors, allowCredentials });
      expect(headers.allowedOrigins).toEqual(cors.allowedOrigins);
      expect(headers.allowCredentials).toBe(allowCredentials);
    }
  });

  it("omits allowedHeaders when none are configured", () => {
    const headers = buildCorsHeaders({ ...cors, allowedHeaders: [] });
    expect(headers.allowedMethods).toEqual(["GET", "POST", "OPTIONS"]);
    expect("allowedHeaders" in headers).toBe(false);
    expect("allowAllHeaders" in headers).toBe(false);
  });
});

describe("buildBindings", () => {
  const values = {
    clientId: "id",
    clientSecret: "secret",
    identitySigningKey: "pkcs8",
    apiHostname: "api.example.com",
    accessTeamDomain: "team.cloudflareaccess.com",
    accessAud: "aud",
    routePrefix: "/api",
    stripRoutePrefix: true,
    upstreamTimeoutMs: defaults.upstreamTimeoutMs,
  };

  it("binds exactly the Worker's eight names, credentials and signing key as secret_text", () => {
    expect(buildBindings(values)).toEqual([
      { name: "CF_ACCESS_CLIENT_ID", type: "secret_text", text: "id" },
      { name: "CF_ACCESS_CLIENT_SECRET", type: "secret_text", text: "secret" },
      { name: "IDENTITY_SIGNING_KEY", type: "secret_text", text: "pkcs8" },
      { name: "API_HOSTNAME", type: "plain_text", text: "api.example.com" },
      { name: "ACCESS_TEAM_DOMAIN", type: "plain_text", text: "team.cloudflareaccess.com" },
      { name: "ACCESS_AUD", type: "plain_text", text: "aud" },
      { name: "ROUTE_PREFIX", type: "plain_text", text: "/api" },
      { name: "STRIP_ROUTE_PREFIX", type: "plain_text", text: "true" },
    ]);
  });

  it("adds UPSTREAM_TIMEOUT_MS only to change the Worker's own default", () => {
    expect(defaults.upstreamTimeoutMs).toBe(DEFAULT_UPSTREAM_TIMEOUT_MS);
    const bindings = buildBindings({ ...values, upstreamTimeoutMs: 5000 });
    expect(bindings).toHaveLength(9);
    expect(bindings[8]).toEqual({ name: "UPSTREAM_TIMEOUT_MS", type: "plain_text", text: "5000" });
  });

  it("binds the Analytics Engine dataset as ANALYTICS only when one is named", () => {
    expect(buildBindings({ ...values, analyticsDataset: "" })).toEqual(buildBindings(values));
    const bindings = buildBindings({ ...values, analyticsDataset: "access_bridge" });
    expect(bindings).toHaveLength(9);
    expect(bindings[8]).toEqual({
      name: "ANALYTICS",
      type: "analytics_engine",
      dataset: "access_bridge",
    });
  });
});

describe("buildObservability", () => {
  it("turns on Workers Logs with invocation logs at the given head sampling rate", () => {
    expect(buildObservability(true, 0.25)).toEqual({
      enabled: true,
      headSamplingRate: 0.25,
      logs: { enabled: true, invocationLogs: true, headSamplingRate: 0.25 },
    });
  });

  it("says it is off rather than leaving the account's default", () => {
    expect(buildObservability(false, 1)).toEqual({
      enabled: false,
      logs: { enabled: false, invocationLogs: false },
    });
  });
});

describe("names", () => {
  it("carries project and stack in every Cloudflare-visible name", () => {
    expect(cloudflareNames(namePrefixFor("access-bridge", "prod"))).toEqual({
      frontendApp: "access-bridge-prod-frontend",
      apiApp: "access-bridge-prod-api",
      peoplePolicy: "access-bridge-prod-people",
      serviceAuthPolicy: "access-bridge-prod-service-auth",
      serviceToken: "access-bridge-prod-proxy",
      tokenExpiryAlert: "access-bridge-prod-proxy-token-expiring",
      workerPrefix: "access-bridge-prod-proxy",
    });
  });

  it("keeps Worker names within 63 lower-case characters and keeps the suffix", () => {
    expect(workerScriptName("access-bridge-dev-proxy", "a1b2c3")).toBe(
      "access-bridge-dev-proxy-a1b2c3",
    );
    const long = workerScriptName(`access-bridge-${"Feature_Branch".repeat(5)}-proxy`, "a1b2c3");
    expect(long).toHaveLength(63);
    expect(long).toMatch(/^[a-z0-9-]+-a1b2c3$/);
  });

  it("falls back to the prefix alone when no suffix is known", () => {
    expect(workerScriptName("access-bridge-dev-proxy", undefined)).toBe("access-bridge-dev-proxy");
    expect(workerScriptName("x".repeat(70), undefined)).toBe("x".repeat(63));
  });
});
