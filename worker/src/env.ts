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
  /**
   * The Analytics Engine dataset each request's data point is written to.
   * Optional: bound only when the stack sets `analyticsDataset`. A missing,
   * foreign or failing binding never changes an answer.
   */
  ANALYTICS?: AnalyticsBinding;
}

/** A data point as Analytics Engine takes it: one index, then labels and numbers by position. */
export interface DataPoint {
  indexes: string[];
  blobs: string[];
  doubles: number[];
}

/** The part of an Analytics Engine dataset binding the Worker uses. */
export interface AnalyticsBinding {
  writeDataPoint(point: DataPoint): void;
}

/** The bindings after validation, with defaults applied. */
export interface Config {
  clientId: string;
  clientSecret: string;
  identitySigningKey: string;
  apiHostname: string;
  teamDomain: string;
  aud: string;
  /** Without a trailing slash, e.g. `/api`. */
  routePrefix: string;
  stripRoutePrefix: boolean;
  upstreamTimeoutMs: number;
}

/**
 * The binding names, as the program declares them and the Worker reads them.
 * The program, the lab and the doctor import these rather than spell them.
 */
export const BINDINGS = {
  clientId: "CF_ACCESS_CLIENT_ID",
  clientSecret: "CF_ACCESS_CLIENT_SECRET",
  identitySigningKey: "IDENTITY_SIGNING_KEY",
  apiHostname: "API_HOSTNAME",
  teamDomain: "ACCESS_TEAM_DOMAIN",
  aud: "ACCESS_AUD",
  routePrefix: "ROUTE_PREFIX",
  stripRoutePrefix: "STRIP_ROUTE_PREFIX",
  upstreamTimeoutMs: "UPSTREAM_TIMEOUT_MS",
  analytics: "ANALYTICS",
} as const satisfies Record<string, keyof Env>;

export const DEFAULT_ROUTE_PREFIX = "/api";
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 30_000;
/** The longest wait for the API a stack may configure: five minutes. */
export const MAX_UPSTREAM_TIMEOUT_MS = 300_000;

const REQUIRED = [
  BINDINGS.clientId,
  BINDINGS.clientSecret,
  BINDINGS.identitySigningKey,
  BINDINGS.apiHostname,
  BINDINGS.teamDomain,
  BINDINGS.aud,
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

/** A value and what is wrong with it: the shape every check of a setting returns. */
export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

/**
 * The one check of a route prefix, for the stack's config, the Worker's
 * binding and the doctor's flag alike. A missing leading `/` is added and a
 * trailing `/` dropped; wildcards, query strings and the bare root are refused.
 */
export function checkRoutePrefix(value: unknown): Checked<string> {
  if (typeof value !== "string")
    return { ok: false, problem: `must be a path like /api, got ${quote(value)}` };
  let prefix = value.trim();
  if (!prefix.startsWith("/")) prefix = `/${prefix}`;
  prefix = prefix.replace(/\/+$/, "");
  return /^(\/[A-Za-z0-9._~-]+)+$/.test(prefix)
    ? { ok: true, value: prefix }
    : {
        ok: false,
        problem: `must be a path like /api (letters, digits, . _ ~ -; no wildcards), got ${quote(value)}`,
      };
}

/** Shows a value in a message without letting a long paste flood it. */
export function quote(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  const shown = text === undefined ? String(value) : text;
  return JSON.stringify(shown.length > 80 ? `${shown.slice(0, 77)}...` : shown);
}

export function parseRoutePrefix(value: unknown): string {
  if (value === undefined || value === null || value === "") return DEFAULT_ROUTE_PREFIX;
  const checked = checkRoutePrefix(value);
  if (!checked.ok) throw new ConfigError(`binding ${BINDINGS.routePrefix} ${checked.problem}`);
  return checked.value;
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
    routePrefix: parseRoutePrefix(env[BINDINGS.routePrefix]),
    stripRoutePrefix: String(env[BINDINGS.stripRoutePrefix]).trim().toLowerCase() === "true",
    upstreamTimeoutMs: parseTimeout(env[BINDINGS.upstreamTimeoutMs]),
  };
}
