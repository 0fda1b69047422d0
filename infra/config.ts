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
  "frontendAud",
  "apiHostname",
  "apis",
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

/** The keys of one entry of `apis`. */
export const apiKeys = [
  "hostname",
  "routePrefix",
  "preflight",
  "corsAllowedOrigins",
  "corsAllowedMethods",
  "corsAllowedHeaders",
  "corsAllowCredentials",
  "corsMaxAge",
  "stripRoutePrefix",
  "upstreamTimeoutMs",
] as const;
export type ApiKey = (typeof apiKeys)[number];

/** The keys an API entry may set for itself; each defaults to the stack's key of the same name. */
export const perApiKeys = apiKeys.filter(
  (k): k is Exclude<ApiKey, "hostname" | "routePrefix"> => k !== "hostname" && k !== "routePrefix",
);

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

/**
 * The single API's route prefix when none is set. Pulumi.yaml declares an
 * empty default instead, so that a stack that sets `apis` can be told apart
 * from one that sets `routePrefix`.
 */
export const defaultRoutePrefix = "/api";

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

/** One API behind the front end, validated and with the stack's defaults filled in. */
export interface ApiConfig {
  /**
   * What this API's resources are named by: "" for the first API, which keeps
   * the names a single-API stack has; otherwise its route prefix as a slug
   * (`/billing` → `billing`).
   */
  key: string;
  hostname: string;
  routePrefix: string;
  preflight: PreflightMode;
  corsAllowedOrigins: string[];
  corsAllowedMethods: string[];
  corsAllowedHeaders: string[];
  corsAllowCredentials: boolean;
  corsMaxAge: number;
  stripRoutePrefix: boolean;
  upstreamTimeoutMs: number;
}

/**
 * The validated, normalised configuration of one stack, keyed as the config
 * is. The single-API keys hold the first API's values; `apis` holds every API.
 */
export interface BridgeConfig {
  accountId: string;
  frontendHostname: string;
  frontendZoneId: string;
  /** The aud tag of a front-end Access app managed elsewhere; then none is declared. */
  frontendAud: string | undefined;
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
  /** Undefined only for component arguments that leave protection to the resource options. */
  protect: boolean | undefined;
  upstreamTimeoutMs: number;
  /** Who Cloudflare emails before the service token expires; empty declares no alert. */
  alertEmails: string[];
  /** Version of the key the Worker signs identity statements with; raise it to replace the key. */
  identityKeyVersion: number;
  /** Whether the next version's identity key is created and published ahead of its rotation. */
  identityKeyPrepublish: boolean;
  /** What to adopt from a hand-made set-up; empty adopts nothing. */
  adopt: AdoptIds;
  /** Every API behind the front end, in the order given; at least one. */
  apis: ApiConfig[];
}

/** The CORS part of an API's config, as its app's corsHeaders are built from it. */
export function corsConfigOf(api: Omit<ApiConfig, "key" | "hostname" | "routePrefix">): CorsConfig {
  return {
    allowedOrigins: api.corsAllowedOrigins,
    allowedMethods: api.corsAllowedMethods,
    allowedHeaders: api.corsAllowedHeaders,
    allowCredentials: api.corsAllowCredentials,
    maxAge: api.corsMaxAge,
  };
}

/** Where values come from, which decides how a problem names them. */
export type Source = "config" | "args";

/** Every problem found in a stack's config, one `<key>: <what is wrong>` per line. */
export class ConfigError extends Error {
  constructor(
    readonly problems: string[],
    source: Source = "config",
  ) {
    const what =
      source === "config" ? "invalid configuration" : "invalid arguments to AccessBridge";
    super(
      `${what} (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

/** How a problem names the key, or the argument, it is about. */
interface Voice {
  label(path: string): string;
  required(path: string): string;
  unknownKey(closest: string): string;
}

const voices: Record<Source, Voice> = {
  config: {
    label: (path) => `${projectName}:${path}`,
    required: (path) =>
      path.includes("[")
        ? `is required; set it with \`pulumi config set --path '${path}' <value>\``
        : `is required; set it with \`pulumi config set ${path} <value>\``,
    unknownKey: (closest) =>
      `is not a key of this program; did you mean ${closest}? (every key is in Pulumi.yaml)`,
  },
  args: {
    label: (path) => path,
    required: () => "is required",
    unknownKey: (closest) => `is not an argument of AccessBridge; did you mean ${closest}?`,
  },
};

export type RawConfig = Partial<Record<ConfigKey, unknown>>;

/**
 * The stack's raw config and which of its keys are set as secrets. Values are
 * read as text, so that a malformed one becomes a listed problem rather than a
 * thrown parse error.
 */
export function readConfig(config: pulumi.Config): { raw: RawConfig; secretKeys: ConfigKey[] } {
  const raw: RawConfig = {};
  const secretKeys: ConfigKey[] = [];
  for (const key of configKeys) {
    const value = config.get(key);
    if (value !== undefined) raw[key] = value;
    if (isSecretKey(`${config.name}:${key}`)) secretKeys.push(key);
  }
  return { raw, secretKeys };
}

/** Every key set in a config namespace, without the namespace, as the engine hands them over. */
export function keysIn(namespace: string): string[] {
  const prefix = `${namespace}:`;
  return Object.keys(pulumi.runtime.allConfig())
    .filter((key) => key.startsWith(prefix))
    .map((key) => key.slice(prefix.length));
}

function isSecretKey(fullKey: string): boolean {
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
  return runtime.isConfigSecret?.(fullKey) ?? false;
}

export interface ValidateOptions {
  /** `config` (the default) names problems by config key, `args` by the component's argument. */
  source?: Source;
  /**
   * Paths (`apiHostname`, `apis[1].hostname`) whose values are not known yet,
   * such as another resource's outputs: they are checked when they resolve.
   */
  deferred?: ReadonlySet<string>;
}

const isGiven = (value: unknown): boolean => value !== undefined && value !== "";

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
  options: ValidateOptions = {},
): BridgeConfig {
  const source = options.source ?? "config";
  const voice = voices[source];
  const deferred = options.deferred ?? new Set<string>();
  const problems: string[] = unknownKeys(setKeys).map(
    ([key, closest]) => `${voice.label(key)}: ${voice.unknownKey(closest)}`,
  );
  const fail = (path: string, problem: string) => problems.push(`${voice.label(path)}: ${problem}`);
  const redacted = "is not valid (the value is a secret, so it is not shown)";

  function takeAt<T>(
    path: string,
    value: unknown,
    secret: boolean,
    check: (v: unknown) => Checked<T>,
    fallback?: T,
  ): T {
    if (deferred.has(path)) return undefined as T;
    if (!isGiven(value)) {
      if (fallback !== undefined) return fallback;
      fail(path, voice.required(path));
      return undefined as T;
    }
    const checked = check(value);
    if (!checked.ok) {
      fail(path, secret ? redacted : checked.problem);
      return undefined as T;
    }
    return checked.value;
  }
  const take = <T>(key: ConfigKey, check: (v: unknown) => Checked<T>, fallback?: T): T =>
    takeAt(key, raw[key], secretKeys.includes(key), check, fallback);

  const accountId = take("accountId", checkCloudflareId);
  const frontendHostname = take("frontendHostname", checkHostname);
  const frontendZoneId = take("frontendZoneId", checkCloudflareId);
  const frontendAud = isGiven(raw.frontendAud) ? take("frontendAud", checkAud) : undefined;
  const entries = isGiven(raw.apis) ? take("apis", checkApiList) : undefined;
  if (isGiven(raw.apis)) {
    for (const [key, perApi] of [
      ["apiHostname", "hostname"],
      ["routePrefix", "routePrefix"],
    ] as const) {
      if (isGiven(raw[key]) || deferred.has(key))
        fail(key, `cannot be set together with apis; give each API its own, as apis[n].${perApi}`);
    }
  }
  const apiHostname = isGiven(raw.apis) ? undefined : take("apiHostname", checkHostname);
  const single = { hostname: apiHostname, labels: { hostname: "apiHostname" } };
  for (const [path, problem] of hostnameProblems(frontendHostname, [single])) fail(path, problem);
  const accessTeamDomain = take("accessTeamDomain", checkTeamDomain);
  const preflight = take(
    "preflight",
    (v) => checkOneOf(v, preflightModes),
    defaults.preflight as PreflightMode,
  );

  const stackCors = {
    corsAllowedOrigins: take(
      "corsAllowedOrigins",
      (v) => checkEach(v, checkOrigin),
      defaults.corsAllowedOrigins,
    ),
    corsAllowedMethods: take(
      "corsAllowedMethods",
      (v) => checkEach(v, checkMethod),
      defaults.corsAllowedMethods,
    ),
    corsAllowedHeaders: take(
      "corsAllowedHeaders",
      (v) => checkEach(v, checkHeaderName),
      defaults.corsAllowedHeaders,
    ),
    corsAllowCredentials: take("corsAllowCredentials", checkBoolean, defaults.corsAllowCredentials),
    corsMaxAge: take("corsMaxAge", (v) => checkInteger(v, -1, 86400), defaults.corsMaxAge),
  };

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
  const nobody = loginProblem(allowedEmails, allowedEmailDomains);
  if (nobody) fail("allowedEmails", nobody);

  const routePrefix = isGiven(raw.apis)
    ? undefined
    : take("routePrefix", checkRoutePrefix, defaultRoutePrefix);
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
  const protect =
    source === "args" && !isGiven(raw.protect)
      ? undefined
      : take("protect", checkBoolean, stack === protectedByDefaultStack);
  const upstreamTimeoutMs = take("upstreamTimeoutMs", checkTimeout, defaults.upstreamTimeoutMs);

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
  if (adopt?.frontendAppId !== undefined && isGiven(raw.frontendAud)) {
    fail(
      "adopt",
      "frontendAppId cannot be adopted together with frontendAud: with frontendAud the front end's app is managed elsewhere",
    );
  }
  // Import ids are built from the account and zone ids, which then cannot be secrets.
  const adopted = Object.keys(adopt ?? {});
  for (const [id, needed] of [
    ["accountId", adopted.some((k) => k !== "routeId")],
    ["frontendZoneId", adopted.includes("routeId")],
  ] as const) {
    if (needed && secretKeys.includes(id)) {
      fail(
        "adopt",
        `needs ${id} as a plain value to build the import ids, but ${id} is set as a secret; ` +
          "set it without --secret for the adopting update, and as a secret again after it",
      );
    }
  }

  // Each API: its own hostname and prefix, the stack's keys unless it sets its own.
  const stackApiDefaults = {
    preflight,
    ...stackCors,
    stripRoutePrefix,
    upstreamTimeoutMs,
  };
  const listed: ApiEntry[] =
    entries?.map((entry, n) => ({
      entry,
      at: `apis[${n}]`,
      secret: secretKeys.includes("apis"),
    })) ??
    (isGiven(raw.apis)
      ? []
      : [
          {
            entry: { hostname: apiHostname, routePrefix },
            at: undefined,
            secret: false,
          },
        ]);
  const apis = listed.map((api, n) =>
    apiConfigOf(api, n, stackApiDefaults, frontendHostname, { takeAt, fail, deferred }),
  );
  for (const [path, problem] of apiProblems(frontendHostname, apis, listed)) fail(path, problem);

  if (problems.length > 0) throw new ConfigError([...new Set(problems)], source);

  const first = apis[0]!;
  return {
    accountId,
    frontendHostname,
    frontendZoneId,
    frontendAud,
    apiHostname: first.hostname,
    accessTeamDomain,
    preflight,
    corsAllowedOrigins: originsOrFrontEnd(stackCors.corsAllowedOrigins, frontendHostname)!,
    corsAllowedMethods: stackCors.corsAllowedMethods,
    corsAllowedHeaders: stackCors.corsAllowedHeaders,
    corsAllowCredentials: stackCors.corsAllowCredentials,
    corsMaxAge: stackCors.corsMaxAge,
    allowedEmails,
    allowedEmailDomains,
    routePrefix: first.routePrefix,
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
    apis: apis.map(({ labels: _labels, ...api }) => api),
  };
}

/** One entry of `apis` as given, and where it sits; the single-API keys make one without a place. */
interface ApiEntry {
  entry: Record<string, unknown>;
  /** `apis[n]`, or undefined for the single API named by apiHostname and routePrefix. */
  at: string | undefined;
  secret: boolean;
}

/** An API's config, and the path each of its values is named by in a problem. */
export type LabelledApi = ApiConfig & { labels: Record<ApiKey, string> };

interface Taker {
  takeAt<T>(
    path: string,
    value: unknown,
    secret: boolean,
    check: (v: unknown) => Checked<T>,
    fallback?: T,
  ): T;
  fail(path: string, problem: string): void;
  deferred: ReadonlySet<string>;
}

const apiChecks: Record<ApiKey, (v: unknown) => Checked<unknown>> = {
  hostname: checkHostname,
  routePrefix: checkRoutePrefix,
  preflight: (v) => checkOneOf(v, preflightModes),
  corsAllowedOrigins: (v) => checkEach(v, checkOrigin),
  corsAllowedMethods: (v) => checkEach(v, checkMethod),
  corsAllowedHeaders: (v) => checkEach(v, checkHeaderName),
  corsAllowCredentials: checkBoolean,
  corsMaxAge: (v) => checkInteger(v, -1, 86400),
  stripRoutePrefix: checkBoolean,
  upstreamTimeoutMs: (v) => checkTimeout(v),
};

/** An API with the stack's values for what it does not set itself. */
function apiConfigOf(
  { entry, at, secret }: ApiEntry,
  n: number,
  stackDefaults: Omit<ApiConfig, "key" | "hostname" | "routePrefix">,
  frontendHostname: string | undefined,
  { takeAt, fail, deferred }: Taker,
): LabelledApi {
  const known: readonly string[] = apiKeys;
  if (at !== undefined) {
    for (const key of Object.keys(entry).filter((k) => !known.includes(k))) {
      fail(
        `${at}.${key}`,
        `is not a key of an API; did you mean ${closestOf(key, apiKeys)}? (an API takes ${apiKeys.join(", ")})`,
      );
    }
  }
  const labels = {} as Record<ApiKey, string>;
  const values: Record<string, unknown> = {};
  for (const key of apiKeys) {
    const own = at !== undefined && (isGiven(entry[key]) || deferred.has(`${at}.${key}`));
    const inherited = key !== "hostname" && key !== "routePrefix" && !own;
    labels[key] = inherited || at === undefined ? singleApiKey(key) : `${at}.${key}`;
    if (inherited) values[key] = stackDefaults[key as keyof typeof stackDefaults];
    else if (at === undefined) values[key] = entry[key];
    else values[key] = takeAt(labels[key], entry[key], secret, apiChecks[key]);
  }
  const api = values as Omit<ApiConfig, "key">;
  api.corsAllowedOrigins = originsOrFrontEnd(api.corsAllowedOrigins, frontendHostname)!;
  return { ...api, key: n === 0 ? "" : apiKeyOf(api.routePrefix ?? ""), labels };
}

/** The single-API (stack-level) key an API's value comes from. */
const singleApiKey = (key: ApiKey): string => (key === "hostname" ? "apiHostname" : key);

/** The name an API's resources carry: its route prefix as a slug, `/v1/users` → `v1-users`. */
export function apiKeyOf(routePrefix: string): string {
  return routePrefix
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/**
 * What is wrong with the APIs together: hostnames and prefixes each used once,
 * none on the front end's own hostname, and each API's CORS settings coherent.
 * Values not known yet are skipped.
 */
export function apiProblems(
  frontendHostname: string | undefined,
  apis: readonly LabelledApi[],
  listed: readonly { at: string | undefined }[] = [],
): [string, string][] {
  return [
    ...hostnameProblems(frontendHostname, apis, listed),
    ...prefixProblems(apis, listed),
    ...apis.flatMap((api) =>
      corsProblems(api).map(([key, problem]): [string, string] => [api.labels[key], problem]),
    ),
  ];
}

/** Where the n-th API is given, for a problem that names another API. */
const ownerOf = (listed: readonly { at: string | undefined }[], n: number): string =>
  listed[n]?.at ?? `apis[${n}]`;

/** Each API on a hostname of its own, and none on the front end's. */
export function hostnameProblems(
  frontendHostname: string | undefined,
  apis: readonly { hostname: string | undefined; labels: { hostname: string } }[],
  listed: readonly { at: string | undefined }[] = [],
): [string, string][] {
  const problems: [string, string][] = [];
  apis.forEach((api, n) => {
    if (api.hostname === undefined) return;
    if (api.hostname === frontendHostname) {
      problems.push([
        api.labels.hostname,
        `must differ from frontendHostname (both are ${frontendHostname})`,
      ]);
    }
    const same = apis.slice(0, n).findIndex((e) => e.hostname === api.hostname);
    if (same >= 0) {
      problems.push([
        api.labels.hostname,
        `${api.hostname} is also ${ownerOf(listed, same)}.hostname; each API needs a hostname of its own (Access takes one app per hostname)`,
      ]);
    }
  });
  return problems;
}

/** Each API on a prefix of its own, whose slug names its resources apart from the others'. */
function prefixProblems(
  apis: readonly LabelledApi[],
  listed: readonly { at: string | undefined }[],
): [string, string][] {
  const problems: [string, string][] = [];
  apis.forEach((api, n) => {
    if (api.routePrefix === undefined) return;
    const earlier = apis.slice(0, n);
    const same = earlier.findIndex((e) => e.routePrefix === api.routePrefix);
    const sameKey = earlier.findIndex((e, i) => i > 0 && e.key === api.key);
    if (same >= 0) {
      problems.push([
        api.labels.routePrefix,
        `${api.routePrefix} is also ${ownerOf(listed, same)}.routePrefix; each API needs a prefix of its own (a zone takes one route per pattern)`,
      ]);
    } else if (n > 0 && api.key === "") {
      problems.push([
        api.labels.routePrefix,
        "needs a letter or digit, to name the API's resources",
      ]);
    } else if (n > 0 && sameKey >= 0) {
      problems.push([
        api.labels.routePrefix,
        `names this API's resources "${api.key}", as ${ownerOf(listed, sameKey)}.routePrefix ${apis[sameKey]!.routePrefix} does; change one of them`,
      ]);
    }
  });
  return problems;
}

/** What is wrong with one API's CORS settings as a whole. */
export function corsProblems(
  api: Pick<
    ApiConfig,
    "corsAllowedOrigins" | "corsAllowedMethods" | "corsAllowedHeaders" | "corsAllowCredentials"
  >,
): [ApiKey, string][] {
  const problems: [ApiKey, string][] = [];
  for (const key of ["corsAllowedOrigins", "corsAllowedMethods", "corsAllowedHeaders"] as const) {
    const list = api[key];
    if (list && list.includes("*") && list.length > 1) {
      problems.push([key, `"*" means all and cannot be combined with other entries`]);
    }
  }
  if (api.corsAllowedMethods && api.corsAllowedMethods.length === 0) {
    problems.push(["corsAllowedMethods", "must list at least one method"]);
  }
  if (api.corsAllowCredentials === true && api.corsAllowedOrigins?.includes("*")) {
    problems.push([
      "corsAllowedOrigins",
      `"*" (all origins) cannot be combined with corsAllowCredentials: true; list the origins, or set corsAllowCredentials to false`,
    ]);
  }
  return problems;
}

/** An empty origin list means the front end's own origin, the one caller the design expects. */
export function originsOrFrontEnd(
  origins: string[] | undefined,
  frontendHostname: string | undefined,
): string[] | undefined {
  return origins?.length === 0 && frontendHostname !== undefined
    ? [`https://${frontendHostname}`]
    : origins;
}

/** Why nobody could log in, or undefined when somebody can. */
export function loginProblem(
  emails: readonly string[] | undefined,
  domains: readonly string[] | undefined,
): string | undefined {
  return emails?.length === 0 && domains?.length === 0
    ? "nobody could log in: set allowedEmails or allowedEmailDomains (at least one entry)"
    : undefined;
}

/** A version number that is raised by one to rotate something: 1 or more. */
const checkVersion = (value: unknown): Checked<number> =>
  checkInteger(value, 1, Number.MAX_SAFE_INTEGER);

const checkTimeout = (value: unknown): Checked<number> => checkInteger(value, 1, 300000);

/** The aud tag of an Access application: 64 hex characters. */
export function checkAud(value: unknown): Checked<string> {
  const aud = typeof value === "string" ? value.trim().toLowerCase() : "";
  return /^[0-9a-f]{64}$/.test(aud)
    ? { ok: true, value: aud }
    : {
        ok: false,
        problem: `must be the aud tag of the front end's Access app (64 hex characters, under the app's Overview), got ${quote(value)}`,
      };
}

/** `apis`: a non-empty list of objects, as YAML in the stack file or JSON text from the CLI. */
function checkApiList(value: unknown): Checked<Record<string, unknown>[]> {
  let list = value;
  const example = `e.g. [{"hostname": "api.example.com", "routePrefix": "/api"}]`;
  if (typeof value === "string") {
    try {
      list = JSON.parse(value);
    } catch {
      return { ok: false, problem: `must be a list of APIs, ${example}, got ${quote(value)}` };
    }
  }
  if (
    !Array.isArray(list) ||
    !list.every((e) => typeof e === "object" && e !== null && !Array.isArray(e))
  ) {
    return { ok: false, problem: `must be a list of APIs, ${example}, got ${quote(value)}` };
  }
  if (list.length === 0) return { ok: false, problem: `must list at least one API, ${example}` };
  return { ok: true, value: list as Record<string, unknown>[] };
}

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
  return setKeys
    .filter((key) => !known.includes(key))
    .map((key) => [key, closestOf(key, configKeys)]);
}

function closestOf<K extends string>(key: string, candidates: readonly K[]): K {
  let best: K = candidates[0]!;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
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
