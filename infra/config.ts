/**
 * Reading and checking the settings (infra/settings.ts declares each one):
 * from the stack's config or from the component's arguments, the same checks
 * with messages that name the config key or the argument. Every problem is
 * collected and reported at once, before anything is declared.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  apiEntrySettings,
  apiKeys,
  checkOf,
  configKeys,
  defaults,
  perApiKeys,
  protectedByDefaultStack,
  settings,
  type ApiKey,
  type ConfigKey,
  type PerApiKey,
  type Setting,
  type ValueOf,
} from "./settings";
import type { Checked } from "./validate";

export {
  PreflightMode,
  apiKeys,
  configKeys,
  defaults,
  perApiKeys,
  preflightModes,
  protectedByDefaultStack,
  type ApiKey,
  type ConfigKey,
} from "./settings";
export { adoptKeys, checkAud, type AdoptIds } from "./validate";

/** The Pulumi project name, which is also the config namespace. */
export const projectName = "access-bridge";

/** The single API's route prefix when none is set. */
export const defaultRoutePrefix = defaults.routePrefix;

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

/** One API behind the front end, validated and with the stack's values for what it does not set. */
export type ApiConfig = { [K in PerApiKey]: ValueOf<K> } & {
  /**
   * What this API's resources are named by: its `name`; without one, "" for
   * the first API, which keeps the names a single-API stack has, and its route
   * prefix as a slug for the others (`/billing` → `billing`).
   */
  key: string;
  hostname: string;
  routePrefix: string;
};

/**
 * The validated, normalised configuration of one stack, keyed as the config
 * is. The single-API keys hold the first API's values; `apis` holds every API.
 */
export type BridgeConfig = {
  [K in Exclude<ConfigKey, "apis" | "frontendAud" | "protect">]: ValueOf<K>;
} & {
  /** The aud tag of a front-end Access app managed elsewhere; then none is declared. */
  frontendAud: string | undefined;
  /** Undefined only for component arguments that leave protection to the resource options. */
  protect: boolean | undefined;
  /** Every API behind the front end, in the order given; at least one. */
  apis: ApiConfig[];
};

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

/** Takes values from where they were given, checks them and collects the problems. */
class Taker {
  readonly problems: string[] = [];

  constructor(
    private readonly voice: Voice,
    private readonly deferred: ReadonlySet<string>,
  ) {}

  fail(path: string, problem: string): void {
    this.problems.push(`${this.voice.label(path)}: ${problem}`);
  }

  /**
   * The checked value at `path`, or `fallback` when it is not given. A value
   * not known yet is left out (checked when it resolves); a secret's value is
   * never shown in a problem.
   */
  take<T>(
    path: string,
    value: unknown,
    secret: boolean,
    check: (v: unknown) => Checked<T>,
    fallback: { value: T } | "required" | "optional",
  ): T {
    if (this.deferred.has(path)) return undefined as T;
    if (!isGiven(value)) {
      if (fallback === "required") this.fail(path, this.voice.required(path));
      return (typeof fallback === "object" ? fallback.value : undefined) as T;
    }
    const checked = check(value);
    if (checked.ok) return checked.value;
    this.fail(
      path,
      secret ? "is not valid (the value is a secret, so it is not shown)" : checked.problem,
    );
    return undefined as T;
  }
}

/** What a setting falls back to when it is not given. */
function fallbackOf<T>(s: Setting<T>): { value: T } | "required" | "optional" {
  if (s.required) return "required";
  return "default" in s ? { value: s.default as T } : "optional";
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
  options: ValidateOptions = {},
): BridgeConfig {
  const source = options.source ?? "config";
  const voice = voices[source];
  const deferred = options.deferred ?? new Set<string>();
  const taker = new Taker(voice, deferred);
  for (const [key, closest] of unknownKeys(setKeys)) {
    taker.fail(key, voice.unknownKey(closest));
  }
  const fail = (path: string, problem: string) => taker.fail(path, problem);

  const several = isGiven(raw.apis);
  const values = {} as Record<ConfigKey, unknown>;
  // What a key's value must agree with, checked right after it.
  const after: Partial<Record<ConfigKey, () => void>> = {
    apis: () => {
      if (!several) return;
      for (const [key, perApi] of [
        ["apiHostname", "hostname"],
        ["routePrefix", "routePrefix"],
      ] as const) {
        if (isGiven(raw[key]) || deferred.has(key))
          fail(
            key,
            `cannot be set together with apis; give each API its own, as apis[n].${perApi}`,
          );
      }
    },
    apiHostname: () => {
      const single = {
        hostname: values.apiHostname as string | undefined,
        labels: { hostname: "apiHostname" },
      };
      const front = values.frontendHostname as string | undefined;
      for (const [path, problem] of hostnameProblems(front, [single])) fail(path, problem);
    },
    allowedEmailDomains: () => {
      const nobody = loginProblem(
        values.allowedEmails as string[] | undefined,
        values.allowedEmailDomains as string[] | undefined,
      );
      if (nobody) fail("allowedEmails", nobody);
    },
    adopt: () => adoptProblems(values, raw, secretKeys).forEach(([p, problem]) => fail(p, problem)),
  };
  for (const key of configKeys) {
    const s = settings[key] as Setting<unknown>;
    // The single API's keys give way to `apis`; protection left unset is the
    // component's options' to decide, and the stack's name's for a stack.
    if (several && (key === "apiHostname" || key === "routePrefix")) continue;
    let fallback = fallbackOf(s);
    if (key === "apiHostname") fallback = "required";
    if (key === "protect") {
      fallback = source === "args" ? "optional" : { value: stack === protectedByDefaultStack };
    }
    values[key] = taker.take(key, raw[key], secretKeys.includes(key), s.check, fallback);
    after[key]?.();
  }
  const frontendHostname = values.frontendHostname as string | undefined;

  // Each API: its own hostname and prefix, the stack's keys unless it sets its own.
  const stackApiDefaults = Object.fromEntries(perApiKeys.map((k) => [k, values[k]])) as Pick<
    ApiConfig,
    PerApiKey
  >;
  const entries = values.apis as Record<string, unknown>[] | undefined;
  const listed: ApiEntry[] =
    entries?.map((entry, n) => ({
      entry,
      at: `apis[${n}]`,
      secret: secretKeys.includes("apis"),
    })) ??
    (several
      ? []
      : [
          {
            entry: { hostname: values.apiHostname, routePrefix: values.routePrefix },
            at: undefined,
            secret: false,
          },
        ]);
  const apis = listed.map((api, n) =>
    apiConfigOf(api, n, stackApiDefaults, frontendHostname, taker, deferred),
  );
  for (const [path, problem] of apiProblems(frontendHostname, apis, listed)) fail(path, problem);

  if (taker.problems.length > 0) throw new ConfigError([...new Set(taker.problems)], source);

  const first = apis[0]!;
  return {
    ...(values as Omit<BridgeConfig, "apis">),
    frontendAud: isGiven(raw.frontendAud) ? (values.frontendAud as string) : undefined,
    apiHostname: first.hostname,
    routePrefix: first.routePrefix,
    corsAllowedOrigins: originsOrFrontEnd(values.corsAllowedOrigins as string[], frontendHostname)!,
    protect: values.protect as boolean | undefined,
    apis: apis.map(({ labels: _labels, named: _named, ...api }) => api),
  };
}

/** What the `adopt` ids need of the other keys. */
function adoptProblems(
  values: Record<ConfigKey, unknown>,
  raw: RawConfig,
  secretKeys: readonly ConfigKey[],
): [string, string][] {
  const adopt = values.adopt as ValueOf<"adopt"> | undefined;
  const problems: [string, string][] = [];
  if (adopt?.serviceTokenId !== undefined && values.serviceTokenSecretVersion === 1) {
    problems.push([
      "adopt",
      "serviceTokenId needs serviceTokenSecretVersion 2 or more: Cloudflare never returns a token's secret, " +
        "so the stack issues the Worker a new one, by rotation, on the update after adoption",
    ]);
  }
  if (adopt?.frontendAppId !== undefined && isGiven(raw.frontendAud)) {
    problems.push([
      "adopt",
      "frontendAppId cannot be adopted together with frontendAud: with frontendAud the front end's app is managed elsewhere",
    ]);
  }
  // Import ids are built from the account and zone ids, which then cannot be secrets.
  const adopted = Object.keys(adopt ?? {});
  for (const [id, needed] of [
    ["accountId", adopted.some((k) => k !== "routeId")],
    ["frontendZoneId", adopted.includes("routeId")],
  ] as const) {
    if (needed && secretKeys.includes(id)) {
      problems.push([
        "adopt",
        `needs ${id} as a plain value to build the import ids, but ${id} is set as a secret; ` +
          "set it without --secret for the adopting update, and as a secret again after it",
      ]);
    }
  }
  return problems;
}

/** One entry of `apis` as given, and where it sits; the single-API keys make one without a place. */
interface ApiEntry {
  entry: Record<string, unknown>;
  /** `apis[n]`, or undefined for the single API named by apiHostname and routePrefix. */
  at: string | undefined;
  secret: boolean;
}

/** An API's config, and the path each of its values is named by in a problem. */
export type LabelledApi = ApiConfig & {
  labels: Record<ApiKey, string>;
  /** Whether the entry gives its own name. */
  named: boolean;
};

/** An API with the stack's values for what it does not set itself. */
function apiConfigOf(
  { entry, at, secret }: ApiEntry,
  n: number,
  stackDefaults: Pick<ApiConfig, PerApiKey>,
  frontendHostname: string | undefined,
  taker: Taker,
  deferred: ReadonlySet<string>,
): LabelledApi {
  const known: readonly string[] = apiKeys;
  if (at !== undefined) {
    for (const key of Object.keys(entry).filter((k) => !known.includes(k))) {
      taker.fail(
        `${at}.${key}`,
        `is not a key of an API; did you mean ${closestOf(key, apiKeys)}? (an API takes ${apiKeys.join(", ")})`,
      );
    }
  }
  const labels = {} as Record<ApiKey, string>;
  const values: Record<string, unknown> = {};
  for (const key of apiKeys) {
    const own = at !== undefined && (isGiven(entry[key]) || deferred.has(`${at}.${key}`));
    const inherited = (perApiKeys as readonly string[]).includes(key) && !own;
    labels[key] = inherited || at === undefined ? singleApiKey(key) : `${at}.${key}`;
    if (inherited) values[key] = stackDefaults[key as PerApiKey];
    else if (at === undefined) values[key] = entry[key];
    else {
      const required = key in apiEntrySettings && key !== "name" ? "required" : "optional";
      values[key] = taker.take(labels[key], entry[key], secret, checkOf(key), required);
    }
  }
  const api = values as Omit<ApiConfig, "key"> & { name?: string };
  api.corsAllowedOrigins = originsOrFrontEnd(api.corsAllowedOrigins, frontendHostname)!;
  const { name, ...rest } = api;
  const key = name ?? (n === 0 ? "" : apiKeyOf(api.routePrefix ?? ""));
  return { ...rest, key, labels, named: name !== undefined };
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
 * What is wrong with the APIs together: hostnames, prefixes and names each
 * used once, none on the front end's own hostname, and each API's CORS
 * settings coherent. Values not known yet are skipped.
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

/** Each API on a prefix of its own, and named apart from the others. */
function prefixProblems(
  apis: readonly LabelledApi[],
  listed: readonly { at: string | undefined }[],
): [string, string][] {
  const problems: [string, string][] = [];
  apis.forEach((api, n) => {
    if (api.routePrefix === undefined) return;
    const earlier = apis.slice(0, n);
    const same = earlier.findIndex((e) => e.routePrefix === api.routePrefix);
    const sameKey = api.key === "" ? -1 : earlier.findIndex((e) => e.key === api.key);
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
    } else if (sameKey >= 0) {
      const other = apis[sameKey]!;
      const theirs = other.named
        ? `${ownerOf(listed, sameKey)}.name`
        : `${ownerOf(listed, sameKey)}.routePrefix ${other.routePrefix}`;
      problems.push(
        api.named
          ? [
              api.labels.name,
              `names this API's resources "${api.key}", as ${theirs} does; give each API a name of its own`,
            ]
          : [
              api.labels.routePrefix,
              `names this API's resources "${api.key}", as ${theirs} does; change one of them`,
            ],
      );
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
