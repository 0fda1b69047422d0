/**
 * The Worker's bindings. Every value is set by the Pulumi program on the
 * `WorkersScript` it uploads: plain-text bindings for the settings, secret-text
 * bindings for the service token.
 */
export interface Env {
  /**
   * The Access service token's client id, sent to the API as
   * `cf-access-client-id`. Required. Secret binding, from the service token
   * resource's `clientId`.
   */
  CF_ACCESS_CLIENT_ID?: string;
  /**
   * The service token's client secret, sent to the API as
   * `cf-access-client-secret`. Required. Secret binding, from the service
   * token resource's `clientSecret`.
   */
  CF_ACCESS_CLIENT_SECRET?: string;
  /**
   * The Ed25519 private key (PKCS#8 PEM) the Worker signs
   * `X-Access-Bridge-Identity` with. Required. Secret binding, from the
   * stack's `tls.PrivateKey` of the current `identityKeyVersion`; its public
   * half is the stack output `identityJwks`.
   */
  IDENTITY_SIGNING_KEY?: string;
  /**
   * The API's hostname, e.g. `api.mysite.com`: the only host requests are
   * forwarded to. Required. From stack config `apiHostname`.
   */
  API_HOSTNAME?: string;
  /**
   * The Zero Trust team domain, e.g. `myteam.cloudflareaccess.com`. Keys come
   * from `https://<it>/cdn-cgi/access/certs`; a token's `iss` must be
   * `https://<it>`. Required. From stack config.
   */
  ACCESS_TEAM_DOMAIN?: string;
  /**
   * The front-end Access application's AUD tag; a token's `aud` must contain
   * it. Required. From the front-end application resource's `aud` output.
   */
  ACCESS_AUD?: string;
  /**
   * The route's path prefix; other paths get 404. Default `/api`. From stack
   * config `routePrefix` (the Worker route is `<frontendHostname><prefix>/*`).
   */
  ROUTE_PREFIX?: string;
  /**
   * `"true"` (or a JSON `true`) forwards `/api/v1/x` as `/v1/x`; anything else
   * forwards the path unchanged. Default `"false"`.
   */
  STRIP_ROUTE_PREFIX?: string | boolean;
  /**
   * Milliseconds to wait for the API's response headers before answering
   * 504. A positive integer, as a string or number; anything else means the
   * default, 30000.
   */
  UPSTREAM_TIMEOUT_MS?: string | number;
}

/** The bindings after validation, with defaults applied. */
export interface Config {
  clientId: string;
  clientSecret: string;
  identitySigningKey: string;
  apiHostname: string;
  teamDomain: string;
  aud: string;
  /** Without a trailing slash; `""` means every path is inside the route. */
  routePrefix: string;
  stripRoutePrefix: boolean;
  upstreamTimeoutMs: number;
}

export const DEFAULT_ROUTE_PREFIX = "/api";
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 30_000;

const REQUIRED = [
  "CF_ACCESS_CLIENT_ID",
  "CF_ACCESS_CLIENT_SECRET",
  "IDENTITY_SIGNING_KEY",
  "API_HOSTNAME",
  "ACCESS_TEAM_DOMAIN",
  "ACCESS_AUD",
] as const;

/** Thrown when the deployment itself is wrong; the message names bindings, never their values. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

function required(env: Env, name: (typeof REQUIRED)[number]): string {
  const value = env[name];
  if (typeof value !== "string" || value.trim() === "") {
    throw new ConfigError(`binding ${name} is missing or empty`);
  }
  return value.trim();
}

export function parseTimeout(value: unknown): number {
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : NaN;
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_UPSTREAM_TIMEOUT_MS;
}

export function parseRoutePrefix(value: unknown): string {
  if (value === undefined || value === null || value === "") return DEFAULT_ROUTE_PREFIX;
  if (typeof value !== "string" || !value.startsWith("/") || /[?#%\\]/.test(value)) {
    throw new ConfigError("binding ROUTE_PREFIX must be a path starting with /");
  }
  return value.replace(/\/+$/, "");
}

export function readConfig(env: Env): Config {
  const [clientId, clientSecret, identitySigningKey, apiHostname, teamDomain, aud] = REQUIRED.map(
    (name) => required(env, name),
  ) as [string, string, string, string, string, string];
  return {
    clientId,
    clientSecret,
    identitySigningKey,
    apiHostname: apiHostname.toLowerCase(),
    teamDomain: teamDomain.toLowerCase(),
    aud,
    routePrefix: parseRoutePrefix(env.ROUTE_PREFIX),
    stripRoutePrefix: String(env.STRIP_ROUTE_PREFIX).trim().toLowerCase() === "true",
    upstreamTimeoutMs: parseTimeout(env.UPSTREAM_TIMEOUT_MS),
  };
}
