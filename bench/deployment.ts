import { generateKeyPairSync, randomBytes } from "node:crypto";
import * as path from "node:path";
import { BINDINGS, DEFAULT_ROUTE_PREFIX } from "../worker/src/env";
// The benchmark plays the team's Access the same way the local lab does.
import { accessClaims, newKeySet, signToken, type KeySet } from "../lab/tokens";
import { browserHeaders } from "./browser-headers";

/** The hosts every benchmarked Worker is deployed for. */
export const apiHostname = "api.mysite.com";
export const frontendHostname = "app.mysite.com";
export const teamDomain = "bench.cloudflareaccess.com";
/**
 * What the stand-in API answers with under `--api-cookie`: a session cookie,
 * as most APIs set one. Every Worker must then drop it, so none can return
 * the API's response as it came.
 */
export const apiSetCookie = "session=bench-session-id; Path=/; Secure; HttpOnly; SameSite=Lax";
/** The path every measured request asks for, inside the route prefix. */
export const benchPath = "/api/bench";
export const guideWorkerPath = path.join(__dirname, "..", "test", "fixtures", "guide-worker.js");

/** One deployment of the Workers under measurement: its team keys, bindings and a person's assertion. */
export interface BenchDeployment {
  keys: KeySet;
  /** Text bindings, as `wrangler secret`/`vars` would give them; fresh secrets each run. */
  bindings: Record<string, string> & { CF_ACCESS_CLIENT_ID: string };
  assertion: string;
}

export function benchDeployment(): BenchDeployment {
  const keys = newKeySet();
  const aud = randomBytes(32).toString("hex");
  const bindings = {
    [BINDINGS.clientId]: `${randomBytes(16).toString("hex")}.access`,
    [BINDINGS.clientSecret]: randomBytes(32).toString("hex"),
    [BINDINGS.identitySigningKey]: generateKeyPairSync("ed25519")
      .privateKey.export({ format: "pem", type: "pkcs8" })
      .toString(),
    [BINDINGS.apiHostname]: apiHostname,
    [BINDINGS.teamDomain]: teamDomain,
    [BINDINGS.aud]: aud,
    [BINDINGS.routePrefix]: DEFAULT_ROUTE_PREFIX,
    [BINDINGS.stripRoutePrefix]: "false",
  };
  const assertion = signToken(keys, accessClaims(teamDomain, aud, { email: "bench@mysite.com" }));
  return { keys, bindings, assertion };
}

/**
 * What each measured request carries. Access adds the assertion to every
 * request, whichever Worker serves the route, so all Workers get the same
 * request; only ours reads it. `Host` is spelled so because wrk adds a
 * second one of its own unless it finds exactly that spelling.
 */
export function workerRequestHeaders(
  assertion: string,
  withBrowserHeaders: boolean,
): Record<string, string> {
  return {
    Host: frontendHostname,
    "Cf-Access-Jwt-Assertion": assertion,
    ...(withBrowserHeaders ? browserHeaders(assertion, `https://${frontendHostname}`) : {}),
  };
}
