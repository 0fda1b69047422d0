import * as pulumi from "@pulumi/pulumi";
import {
  Checked,
  checkBoolean,
  checkCloudflareId,
  checkDuration,
  checkEach,
  checkEmail,
  checkEmailDomain,
  checkHeaderName,
  checkHostname,
  checkInteger,
  checkMethod,
  checkOneOf,
  checkOrigin,
  checkRoutePrefix,
  checkTeamDomain,
} from "./validate";

/** The Pulumi project name, which is also the config namespace. */
export const projectName = "access-bridge";

export const preflightModes = ["cloudflare", "origin"] as const;
export type PreflightMode = (typeof preflightModes)[number];

/** Every key the program reads, in the order they are documented. */
export const configKeys = [
  "accountId",
  "frontendHostname",
  "frontendZoneId",
  "apiHostname",
  "accessTeamDomain",
  "preflight",
  "corsAllowedOrigins",
  "corsAllowedMethods",
  "corsAllowedHeaders",
  "corsAllowCredentials",
  "corsMaxAge",
  "allowedEmails",
  "allowedEmailDomains",
  "routePrefix",
  "stripRoutePrefix",
  "sessionDuration",
  "serviceTokenDuration",
  "serviceTokenSecretVersion",
  "serviceTokenRotationGraceHours",
  "protect",
  "upstreamTimeoutMs",
] as const;
export type ConfigKey = (typeof configKeys)[number];

/** Defaults that do not depend on other keys or on the stack; Pulumi.yaml repeats them. */
export const defaults = {
  preflight: "cloudflare",
  // Empty means "only https://<frontendHostname>", which depends on another key.
  corsAllowedOrigins: [],
  corsAllowedMethods: ["GET", "POST", "OPTIONS"],
  corsAllowedHeaders: [],
  corsAllowCredentials: true,
  corsMaxAge: 600,
  allowedEmails: [],
  allowedEmailDomains: [],
  routePrefix: "/api",
  stripRoutePrefix: false,
  sessionDuration: "24h",
  serviceTokenDuration: "8760h",
  serviceTokenSecretVersion: 1,
  serviceTokenRotationGraceHours: 24,
  upstreamTimeoutMs: 30000,
} satisfies Partial<Record<ConfigKey, unknown>>;

/** The stack whose resources are protected unless `protect` says otherwise. */
export const protectedByDefaultStack = "prod";

export interface CorsConfig {
  /** Normalised origins, or `["*"]` for all origins. */
  allowedOrigins: string[];
  /** Upper-case methods, or `["*"]` for all methods. */
  allowedMethods: string[];
  /** Lower-case header names, or `["*"]` for all headers; may be empty. */
  allowedHeaders: string[];
  allowCredentials: boolean;
  /** Seconds a browser may cache a preflight answer; -1 disables caching. */
  maxAge: number;
}

/** The validated, normalised configuration of one stack. */
export interface BridgeConfig {
  accountId: string;
  frontendHostname: string;
  frontendZoneId: string;
  apiHostname: string;
  accessTeamDomain: string;
  preflight: PreflightMode;
  cors: CorsConfig;
  allowedEmails: string[];
  allowedEmailDomains: string[];
  routePrefix: string;
  stripRoutePrefix: boolean;
  sessionDuration: string;
  serviceTokenDuration: string;
  serviceTokenSecretVersion: number;
  serviceTokenRotationGraceHours: number;
  protect: boolean;
  upstreamTimeoutMs: number;
}

/** Every problem found in a stack's config, one `<key>: <what is wrong>` per line. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

export type RawConfig = Partial<Record<ConfigKey, unknown>>;

/**
 * Reads the raw config values and validates them. Values are read as text, so
 * that a malformed one becomes a listed problem rather than a thrown parse error.
 */
export function loadConfig(config: pulumi.Config, stack: string): BridgeConfig {
  const raw: RawConfig = {};
  const secretKeys: ConfigKey[] = [];
  for (const key of configKeys) {
    const value = config.get(key);
    if (value !== undefined) raw[key] = value;
    if (isSecretKey(`${config.name}:${key}`)) secretKeys.push(key);
  }
  return validateConfig(raw, stack, secretKeys);
}

function isSecretKey(fullKey: string): boolean {
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
  return runtime.isConfigSecret?.(fullKey) ?? false;
}

/**
 * Validates and normalises raw config for a stack. Collects every problem and
 * throws one ConfigError listing them all. Values of keys set as secrets are
 * never echoed in the message.
 */
export function validateConfig(
  raw: RawConfig,
  stack: string,
  secretKeys: readonly ConfigKey[] = [],
): BridgeConfig {
  const problems: string[] = [];
  const redact = () => "is not valid (the value is a secret, so it is not shown)";

  function take<T>(key: ConfigKey, check: (v: unknown) => Checked<T>, fallback?: T): T {
    const value = raw[key];
    if (value === undefined || value === "") {
      if (fallback !== undefined) return fallback;
      problems.push(
        `${projectName}:${key}: is required; set it with \`pulumi config set ${key} <value>\``,
      );
      return undefined as T;
    }
    const checked = check(value);
    if (!checked.ok) {
      const problem = secretKeys.includes(key) ? redact() : checked.problem;
      problems.push(`${projectName}:${key}: ${problem}`);
      return undefined as T;
    }
    return checked.value;
  }
  const fail = (key: ConfigKey, problem: string) =>
    problems.push(`${projectName}:${key}: ${problem}`);

  const accountId = take("accountId", checkCloudflareId);
  const frontendHostname = take("frontendHostname", checkHostname);
  const frontendZoneId = take("frontendZoneId", checkCloudflareId);
  const apiHostname = take("apiHostname", checkHostname);
  const accessTeamDomain = take("accessTeamDomain", checkTeamDomain);
  const preflight = take(
    "preflight",
    (v) => checkOneOf(v, preflightModes),
    defaults.preflight as PreflightMode,
  );

  if (frontendHostname !== undefined && frontendHostname === apiHostname) {
    fail("apiHostname", `must differ from frontendHostname (both are ${frontendHostname})`);
  }

  const listedOrigins = take(
    "corsAllowedOrigins",
    (v) => checkEach(v, checkOrigin),
    defaults.corsAllowedOrigins,
  );
  // An empty list means the front end's own origin, the one caller the design expects.
  const allowedOrigins =
    listedOrigins?.length === 0 && frontendHostname !== undefined
      ? [`https://${frontendHostname}`]
      : listedOrigins;
  const allowedMethods = take(
    "corsAllowedMethods",
    (v) => checkEach(v, checkMethod),
    defaults.corsAllowedMethods,
  );
  const allowedHeaders = take(
    "corsAllowedHeaders",
    (v) => checkEach(v, checkHeaderName),
    defaults.corsAllowedHeaders,
  );
  const allowCredentials = take(
    "corsAllowCredentials",
    checkBoolean,
    defaults.corsAllowCredentials,
  );
  const maxAge = take("corsMaxAge", (v) => checkInteger(v, -1, 86400), defaults.corsMaxAge);

  const lists: [ConfigKey, string[] | undefined][] = [
    ["corsAllowedOrigins", allowedOrigins],
    ["corsAllowedMethods", allowedMethods],
    ["corsAllowedHeaders", allowedHeaders],
  ];
  for (const [key, list] of lists) {
    if (list && list.includes("*") && list.length > 1) {
      fail(key, `"*" means all and cannot be combined with other entries`);
    }
  }
  if (allowedMethods && allowedMethods.length === 0) {
    fail("corsAllowedMethods", "must list at least one method");
  }
  if (allowCredentials === true && allowedOrigins?.includes("*")) {
    fail(
      "corsAllowedOrigins",
      `"*" (all origins) cannot be combined with corsAllowCredentials: true; list the origins, or set corsAllowCredentials to false`,
    );
  }

  const allowedEmails = take(
    "allowedEmails",
    (v) => checkEach(v, checkEmail),
    defaults.allowedEmails,
  );
  const allowedEmailDomains = take(
    "allowedEmailDomains",
    (v) => checkEach(v, checkEmailDomain),
    defaults.allowedEmailDomains,
  );
  if (allowedEmails?.length === 0 && allowedEmailDomains?.length === 0) {
    fail(
      "allowedEmails",
      "nobody could log in: set allowedEmails or allowedEmailDomains (at least one entry)",
    );
  }

  const routePrefix = take("routePrefix", checkRoutePrefix, defaults.routePrefix);
  const stripRoutePrefix = take("stripRoutePrefix", checkBoolean, defaults.stripRoutePrefix);
  const sessionDuration = take("sessionDuration", checkDuration, defaults.sessionDuration);
  const serviceTokenDuration = take(
    "serviceTokenDuration",
    (v) => (v === "forever" ? { ok: true, value: "forever" } : checkDuration(v)),
    defaults.serviceTokenDuration,
  );
  const serviceTokenSecretVersion = take(
    "serviceTokenSecretVersion",
    (v) => checkInteger(v, 1, Number.MAX_SAFE_INTEGER),
    defaults.serviceTokenSecretVersion,
  );
  const serviceTokenRotationGraceHours = take(
    "serviceTokenRotationGraceHours",
    (v) => checkInteger(v, 0, 8760),
    defaults.serviceTokenRotationGraceHours,
  );
  const protect = take("protect", checkBoolean, stack === protectedByDefaultStack);
  const upstreamTimeoutMs = take(
    "upstreamTimeoutMs",
    (v) => checkInteger(v, 1, 300000),
    defaults.upstreamTimeoutMs,
  );

  if (problems.length > 0) throw new ConfigError(problems);

  return {
    accountId,
    frontendHostname,
    frontendZoneId,
    apiHostname,
    accessTeamDomain,
    preflight,
    cors: { allowedOrigins, allowedMethods, allowedHeaders, allowCredentials, maxAge },
    allowedEmails,
    allowedEmailDomains,
    routePrefix,
    stripRoutePrefix,
    sessionDuration,
    serviceTokenDuration,
    serviceTokenSecretVersion,
    serviceTokenRotationGraceHours,
    protect,
    upstreamTimeoutMs,
  };
}
