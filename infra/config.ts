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
  quote,
} from "./validate";

/** The Pulumi project name, which is also the config namespace. */
export const projectName = "access-bridge";

/** Who answers the API's CORS preflights. */
export const PreflightMode = {
  /** Access answers them from the API app's CORS settings. */
  Cloudflare: "cloudflare",
  /** OPTIONS requests bypass Access; the API's origin answers them and must enforce CORS itself. */
  Origin: "origin",
} as const;
export type PreflightMode = (typeof PreflightMode)[keyof typeof PreflightMode];
export const preflightModes: readonly PreflightMode[] = Object.values(PreflightMode);

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
  "alertEmails",
  "identityKeyVersion",
  "identityKeyPrepublish",
  "adopt",
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
  alertEmails: [],
  identityKeyVersion: 1,
  identityKeyPrepublish: false,
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

/** Ids of what a hand-made set-up already has, for the stack to adopt instead of creating anew. */
export interface AdoptIds {
  frontendAppId?: string;
  apiAppId?: string;
  peoplePolicyId?: string;
  serviceAuthPolicyId?: string;
  serviceTokenId?: string;
  routeId?: string;
}

export const adoptKeys = [
  "frontendAppId",
  "apiAppId",
  "peoplePolicyId",
  "serviceAuthPolicyId",
  "serviceTokenId",
  "routeId",
] as const satisfies readonly (keyof AdoptIds)[];

/** The validated, normalised configuration of one stack, keyed as the config is. */
export interface BridgeConfig {
  accountId: string;
  frontendHostname: string;
  frontendZoneId: string;
  apiHostname: string;
  accessTeamDomain: string;
  preflight: PreflightMode;
  /** Normalised origins, or `["*"]` for all origins. */
  corsAllowedOrigins: string[];
  /** Upper-case methods, or `["*"]` for all methods. */
  corsAllowedMethods: string[];
  /** Lower-case header names, or `["*"]` for all headers; may be empty. */
  corsAllowedHeaders: string[];
  corsAllowCredentials: boolean;
  /** Seconds a browser may cache a preflight answer; -1 disables caching. */
  corsMaxAge: number;
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
  /** Who Cloudflare emails before the service token expires; empty declares no alert. */
  alertEmails: string[];
  /** Version of the key the Worker signs identity statements with; raise it to replace the key. */
  identityKeyVersion: number;
  /** Whether the next version's identity key is created and published ahead of its rotation. */
  identityKeyPrepublish: boolean;
  /** What to adopt from a hand-made set-up; empty adopts nothing. */
  adopt: AdoptIds;
}

/** The CORS part of a config, as the API app's corsHeaders are built from it. */
export function corsConfigOf(config: BridgeConfig): CorsConfig {
  return {
    allowedOrigins: config.corsAllowedOrigins,
    allowedMethods: config.corsAllowedMethods,
    allowedHeaders: config.corsAllowedHeaders,
    allowCredentials: config.corsAllowCredentials,
    maxAge: config.corsMaxAge,
  };
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
  return validateConfig(raw, stack, secretKeys, keysIn(config.name));
}

/** Every key set in a config namespace, without the namespace, as the engine hands them over. */
function keysIn(namespace: string): string[] {
  const prefix = `${namespace}:`;
  return Object.keys(pulumi.runtime.allConfig())
    .filter((key) => key.startsWith(prefix))
    .map((key) => key.slice(prefix.length));
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
  setKeys: readonly string[] = Object.keys(raw),
): BridgeConfig {
  const problems: string[] = unknownKeys(setKeys).map(
    ([key, closest]) =>
      `${projectName}:${key}: is not a key of this program; did you mean ${closest}? (every key is in Pulumi.yaml)`,
  );
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
    checkVersion,
    defaults.serviceTokenSecretVersion,
  );
  const serviceTokenRotationGraceHours = take(
    "serviceTokenRotationGraceHours",
    checkGraceHours,
    defaults.serviceTokenRotationGraceHours,
  );
  const protect = take("protect", checkBoolean, stack === protectedByDefaultStack);
  const upstreamTimeoutMs = take(
    "upstreamTimeoutMs",
    (v) => checkInteger(v, 1, 300000),
    defaults.upstreamTimeoutMs,
  );

  const alertEmails = take("alertEmails", (v) => checkEach(v, checkEmail), defaults.alertEmails);
  const identityKeyVersion = take("identityKeyVersion", checkVersion, defaults.identityKeyVersion);
  const identityKeyPrepublish = take(
    "identityKeyPrepublish",
    checkBoolean,
    defaults.identityKeyPrepublish,
  );
  const adopt = take("adopt", checkAdopt, {});
  if (adopt?.serviceTokenId !== undefined && serviceTokenSecretVersion === 1) {
    fail(
      "adopt",
      "serviceTokenId needs serviceTokenSecretVersion 2 or more: Cloudflare never returns a token's secret, " +
        "so the stack issues the Worker a new one, by rotation, on the update after adoption",
    );
  }

  if (problems.length > 0) throw new ConfigError(problems);

  return {
    accountId,
    frontendHostname,
    frontendZoneId,
    apiHostname,
    accessTeamDomain,
    preflight,
    corsAllowedOrigins: allowedOrigins,
    corsAllowedMethods: allowedMethods,
    corsAllowedHeaders: allowedHeaders,
    corsAllowCredentials: allowCredentials,
    corsMaxAge: maxAge,
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
    alertEmails,
    identityKeyVersion,
    identityKeyPrepublish,
    adopt,
  };
}

/** A version number that is raised by one to rotate something: 1 or more. */
const checkVersion = (value: unknown): Checked<number> =>
  checkInteger(value, 1, Number.MAX_SAFE_INTEGER);

/**
 * The previous secret must outlive the update that hands the Worker the new
 * one; with no grace at all, calls fail between the token's update and the
 * Worker's.
 */
function checkGraceHours(value: unknown): Checked<number> {
  if (checkInteger(value, 0, 0).ok) {
    return {
      ok: false,
      problem:
        "must be at least 1: with 0 the previous secret stops working before the Worker has the new one, " +
        "and calls fail in between; to cut off a leaked secret at once, rotate twice (docs/runbooks.md)",
    };
  }
  return checkInteger(value, 1, 8760);
}

/** The `adopt` object: only its known keys, each a non-empty id. */
function checkAdopt(value: unknown): Checked<AdoptIds> {
  let object = value;
  if (typeof value === "string") {
    try {
      object = JSON.parse(value);
    } catch {
      return {
        ok: false,
        problem: `must be an object of ids, e.g. {"apiAppId": "..."}, got ${quote(value)}`,
      };
    }
  }
  if (typeof object !== "object" || object === null || Array.isArray(object)) {
    return {
      ok: false,
      problem: `must be an object of ids, e.g. {"apiAppId": "..."}, got ${quote(value)}`,
    };
  }
  const known: readonly string[] = adoptKeys;
  const problems: string[] = [];
  const ids: AdoptIds = {};
  for (const [key, id] of Object.entries(object)) {
    if (!known.includes(key)) {
      problems.push(`has no key ${quote(key)} (known: ${adoptKeys.join(", ")})`);
    } else if (typeof id !== "string" || !/^[A-Za-z0-9._-]{1,128}$/.test(id.trim())) {
      problems.push(`${key} must be an id as Cloudflare shows it, got ${quote(id)}`);
    } else {
      ids[key as keyof AdoptIds] = id.trim();
    }
  }
  return problems.length > 0
    ? { ok: false, problem: problems.join("; ") }
    : { ok: true, value: ids };
}

/** Keys set in the namespace that the program does not read, each with the closest known one. */
export function unknownKeys(setKeys: readonly string[]): [string, ConfigKey][] {
  const known: readonly string[] = configKeys;
  return setKeys.filter((key) => !known.includes(key)).map((key) => [key, closestKey(key)]);
}

function closestKey(key: string): ConfigKey {
  let best: ConfigKey = configKeys[0];
  let bestDistance = Infinity;
  for (const candidate of configKeys) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Levenshtein distance, for suggesting the key a typo meant. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + cost);
    }
    row = next;
  }
  return row[b.length]!;
}
