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
import {
  apiProblems,
  countOf,
  hostnameProblems,
  originsOrFrontEnd,
  peopleProblems,
  redirectProblem,
  shorthandOf,
  type LabelledApi,
} from "./cross-checks";
import { peopleRuleProblems } from "./people-rules";
import { closestOf, unknownKeys } from "./did-you-mean";
import type { Checked } from "./validate";

export {
  apiProblems,
  corsProblems,
  hostnameProblems,
  loginProblem,
  originsOrFrontEnd,
  peopleProblems,
  redirectProblem,
  type LabelledApi,
} from "./cross-checks";
export { unknownKeys } from "./did-you-mean";

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
    peopleRules: () => {
      const rules = values.peopleRules as ValueOf<"peopleRules"> | undefined;
      if (rules === undefined) return;
      const secret = secretKeys.includes("peopleRules");
      for (const [path, problem] of peopleRuleProblems(rules, shorthandOf(values), secret)) {
        fail(path, problem);
      }
    },
    peoplePolicyIds: () => {
      const ids = countOf(values.peoplePolicyIds, raw.peoplePolicyIds);
      for (const [path, problem] of peopleProblems(values, ids)) fail(path, problem);
    },
    autoRedirectToIdentity: () => {
      const problem = redirectProblem(
        values.autoRedirectToIdentity as boolean | undefined,
        values.allowedIdps as string[] | undefined,
      );
      if (problem) fail("autoRedirectToIdentity", problem);
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
  if (adopt?.peoplePolicyId !== undefined && countOf(values.peoplePolicyIds, raw.peoplePolicyIds)) {
    problems.push([
      "adopt",
      "peoplePolicyId cannot be adopted together with peoplePolicyIds: with peoplePolicyIds no people policy " +
        "is declared; list that policy's id in peoplePolicyIds instead, and it is attached as it is",
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
