/**
 * The component's arguments, checked as a stack's config is and with the same
 * messages, naming the argument. Plain values are checked at once, before
 * anything is declared. A value that is not known yet (another resource's
 * output, or a secret) is checked when it resolves, and a bad one then fails
 * the preview or update with the same message. Each such value stays its own
 * Output, so it carries its secrecy only into the inputs made from it.
 */
import type * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import {
  ConfigError,
  corsConfigOf,
  corsProblems,
  hostnameProblems,
  originsOrFrontEnd,
  validateConfig,
  type ApiConfig,
  type BridgeConfig,
  type RawConfig,
} from "./config";
import type { PeopleRule, PeopleRules } from "./access-bridge-args";
import { buildCorsHeaders } from "./cors";
import { peopleProblems, redirectProblem } from "./cross-checks";
import { checkPeopleRules, includesOf, peopleRuleProblems } from "./people-rules";
import { apiKeys, checkOf, configKeys, settingOf, type ApiKey, type ConfigKey } from "./settings";
import { checkEmail, checkObjectId, type Checked } from "./validate";

type CorsHeaders = cloudflare.types.input.ZeroTrustAccessApplicationCorsHeaders;
type Include = cloudflare.types.input.ZeroTrustAccessPolicyInclude;
type Require = cloudflare.types.input.ZeroTrustAccessPolicyRequire;
type Exclude = cloudflare.types.input.ZeroTrustAccessPolicyExclude;

/** The arguments that may be inputs: another resource's output, checked when it resolves. */
const inputKeys = configKeys.filter((key) => settingOf(key).input === true);
/** The arguments that are lists whose entries may be outputs. */
const entryInputKeys = configKeys.filter((key) => settingOf(key).inputEntries === true);
const apiInputKeys = apiKeys.filter((key) => settingOf(key).input === true);

/**
 * How the stack program hands the component its config: the values as the
 * config holds them, which of them are secrets and every key set in the
 * namespace. The component then checks them once, naming config keys.
 */
export interface ConfigOrigin {
  secretKeys: readonly ConfigKey[];
  setKeys: readonly string[];
}

const configOrigins = new WeakMap<object, ConfigOrigin>();

/** Marks arguments as a stack's config, for the component to check and name as such. */
export function fromStackConfig<T extends object>(args: T, origin: ConfigOrigin): T {
  configOrigins.set(args, origin);
  return args;
}

/** One API's values for its resources: plain where they decide what exists, inputs otherwise. */
export interface ResolvedApi {
  config: ApiConfig;
  hostname: pulumi.Input<string>;
  /** The app's CORS settings with `preflight: cloudflare`; undefined with `origin`. */
  corsHeaders: pulumi.Input<CorsHeaders> | undefined;
}

/** The people policy's rules, as the provider's inputs; a list left out is not declared. */
export interface PeoplePolicyRules {
  includes: pulumi.Input<Include[]>;
  requires?: pulumi.Input<Require[]>;
  excludes?: pulumi.Input<Exclude[]>;
}

/** Who may log in: the rules of a people policy of the component's own, or policies the account has. */
export interface PeopleAccess {
  /** Undefined when reusable policies are attached instead. */
  rules: PeoplePolicyRules | undefined;
  /** The reusable policies to attach, in the order given; empty with rules of the component's own. */
  policyIds: pulumi.Input<string>[];
}

/** What every Access app's login page offers; a setting left at its default is left out. */
export interface LoginSettings {
  allowedIdps?: pulumi.Input<string[]>;
  autoRedirectToIdentity?: true;
}

export interface ResolvedArgs {
  /** Every plain value, validated; values not known yet are missing from it. */
  config: BridgeConfig;
  accountId: pulumi.Input<string>;
  frontendZoneId: pulumi.Input<string>;
  frontendHostname: pulumi.Input<string>;
  /** Given when the front end's app is managed elsewhere. */
  frontendAud: pulumi.Input<string> | undefined;
  accessTeamDomain: pulumi.Input<string>;
  /** Who may log in. */
  people: PeopleAccess;
  /** What the apps' login pages offer. */
  login: LoginSettings;
  alertEmails: pulumi.Input<string>[];
  apis: ResolvedApi[];
  /** A value held back until every check on a value not known yet has passed. */
  afterChecks<T>(value: pulumi.Input<T>): pulumi.Input<T>;
}

/** Whether a value is known now: no Output or promise in it, at any depth of a list or object. */
function isKnown(value: unknown): boolean {
  if (pulumi.Output.isInstance(value) || value instanceof Promise) return false;
  if (Array.isArray(value)) return value.every(isKnown);
  return typeof value === "object" && value !== null ? Object.values(value).every(isKnown) : true;
}

/** A value's check, run when it resolves; the value is only shown when it is not a secret. */
function checkedLater<T>(
  label: string,
  value: unknown,
  check: (v: unknown) => Checked<T>,
): pulumi.Output<T> {
  const output = pulumi.output(value as pulumi.Input<unknown>);
  return pulumi.all([output, pulumi.isSecret(output)]).apply(([resolved, secret]) => {
    // Nothing to check: this is how a value not known yet reaches a program
    // under mocks, and a real provider refuses a missing required value itself.
    if (resolved === undefined) return resolved as T;
    const checked = check(resolved);
    if (checked.ok) return checked.value;
    const problem = secret
      ? "is not valid (the value is a secret, so it is not shown)"
      : checked.problem;
    throw new ConfigError([`${label}: ${problem}`], "args");
  });
}

/** Throws the problems found once values have resolved, as the argument check would have. */
function refuse(problems: readonly [string, string][]): void {
  if (problems.length > 0) {
    throw new ConfigError(
      [...new Set(problems.map(([label, problem]) => `${label}: ${problem}`))],
      "args",
    );
  }
}

/** The include rules of the shorthand lists alone, one selector each. */
export function peopleIncludesOf(emails: readonly string[], domains: readonly string[]): Include[] {
  return includesOf([], emails, domains) as Include[];
}

/**
 * The people policy's rules: peopleRules' own, with the shorthand's include
 * rules after its own; require and exclude only when given, since the
 * provider plans a list that is not configured as null.
 */
export function peoplePolicyRulesOf(
  rules: PeopleRules,
  emails: readonly string[],
  domains: readonly string[],
): { includes: Include[]; requires?: Require[]; excludes?: Exclude[] } {
  const listOf = (list: "require" | "exclude") => (rules[list] ?? []) as PeopleRule[];
  return {
    includes: includesOf((rules.include ?? []) as PeopleRule[], emails, domains) as Include[],
    ...(listOf("require").length > 0 ? { requires: listOf("require") as Require[] } : {}),
    ...(listOf("exclude").length > 0 ? { excludes: listOf("exclude") as Exclude[] } : {}),
  };
}

/**
 * Checks the component's arguments. Throws a ConfigError naming every bad
 * plain argument before anything is registered; returns what the component
 * declares its resources from.
 */
export function resolveArgs(args: object, stack: string): ResolvedArgs {
  const given = args as Record<string, unknown>;
  const raw: Record<string, unknown> = { ...given };
  delete raw.namePrefix;
  const origin = configOrigins.get(args);
  const apiEntries = Array.isArray(given.apis)
    ? (given.apis as Record<string, unknown>[])
    : undefined;

  const deferred = new Set<string>();
  for (const key of inputKeys) if (!isKnown(raw[key])) deferred.add(key);
  for (const key of entryInputKeys) if (!isKnown(raw[key])) deferred.add(key);
  apiEntries?.forEach((entry, n) => {
    for (const key of apiInputKeys) if (!isKnown(entry?.[key])) deferred.add(`apis[${n}].${key}`);
  });
  const config = validateConfig(
    raw as RawConfig,
    stack,
    origin?.secretKeys ?? [],
    origin?.setKeys ?? Object.keys(raw),
    { source: origin ? "config" : "args", deferred },
  );

  // Every check that waits for a value, so that no Cloudflare resource is
  // registered before all of them have passed.
  const checks: pulumi.Output<unknown>[] = [];
  const checking = <T>(output: pulumi.Output<T>): pulumi.Output<T> => {
    checks.push(output);
    return output;
  };
  // A value from a key set with `--secret` goes to every resource as a secret input.
  const secretKeys = new Set<string>(origin?.secretKeys ?? []);
  const secretly = <T>(value: pulumi.Input<T>, ...keys: string[]): pulumi.Input<T> =>
    keys.some((key) => secretKeys.has(key)) ? (pulumi.secret(value) as pulumi.Output<T>) : value;
  /** The plain value, checked already, or the input checked when it resolves. */
  const input = <T>(label: string, value: unknown, plain: T, check: (v: unknown) => Checked<T>) =>
    deferred.has(label) ? checking(checkedLater(label, value, check)) : plain;
  const top = (key: ConfigKey) =>
    secretly(
      input(key, given[key], config[key as keyof BridgeConfig], checkOf(key)),
      key,
    ) as pulumi.Input<string>;
  const list = (key: ConfigKey) =>
    input(key, given[key], config[key as keyof BridgeConfig], checkOf(key)) as
      pulumi.Output<string[]> | string[];

  const frontendHostname = top("frontendHostname");
  const frontendDeferred = deferred.has("frontendHostname");

  const people = resolvePeople(given, config, deferred, list, checking, secretly, secretKeys);
  const login = resolveLogin(given, config, deferred, checking, secretly);

  const alertEmails = deferred.has("alertEmails")
    ? ((given.alertEmails ?? []) as unknown[]).map((email, n) =>
        checking(checkedLater(`alertEmails[${n}]`, email, checkEmail)),
      )
    : config.alertEmails.map((email) => secretly(email, "alertEmails"));

  // Where each API's value is named: its own entry, or the single-API argument.
  const at = (n: number, key: ApiKey): string => {
    if (apiEntries === undefined) return key === "hostname" ? "apiHostname" : key;
    const own = apiEntries[n]?.[key] !== undefined;
    return own ? `apis[${n}].${key}` : key;
  };
  const apiValue = (n: number, key: ApiKey): unknown => {
    const label = at(n, key);
    if (label.startsWith("apis[")) return apiEntries![n]![key];
    return given[label];
  };
  const isDeferred = (n: number, key: ApiKey) => deferred.has(at(n, key));
  /** The config keys an API's value came from, whose secrecy it keeps. */
  const sourceKeys = (n: number, key: ApiKey): string[] => {
    const label = at(n, key);
    return [label.startsWith("apis[") ? "apis" : label];
  };

  const hostnames = config.apis.map((api, n) =>
    input(at(n, "hostname"), apiValue(n, "hostname"), api.hostname, checkOf("hostname")),
  );
  const anyHostDeferred = frontendDeferred || config.apis.some((_, n) => isDeferred(n, "hostname"));
  // The hostnames are held to each other and to the front end's once all are known.
  const checkedHostnames = anyHostDeferred
    ? checking(
        pulumi.all([frontendHostname, ...hostnames]).apply(([front, ...hosts]) => {
          const apis = config.apis.map((_, n) => ({
            hostname: hosts[n] as string,
            labels: Object.fromEntries(apiKeys.map((k) => [k, at(n, k)])) as Record<ApiKey, string>,
          }));
          refuse(hostnameProblems(front, apis));
          return hosts as string[];
        }),
      )
    : undefined;

  const apis = config.apis.map((api, n): ResolvedApi => {
    const hostname = secretly(
      checkedHostnames ? checkedHostnames.apply((h) => h[n]!) : api.hostname,
      ...sourceKeys(n, "hostname"),
    );
    if (api.preflight !== "cloudflare") return { config: api, hostname, corsHeaders: undefined };
    const corsKeys = ["corsAllowedOrigins", "corsAllowedMethods", "corsAllowedHeaders"] as const;
    const lists = corsKeys.map((key) =>
      input(at(n, key), apiValue(n, key), api[key], checkOf(key)),
    );
    const corsDeferred = frontendDeferred || corsKeys.some((key) => isDeferred(n, key));
    const corsHeaders = secretly(
      corsDeferred
        ? checking(
            pulumi.all([frontendHostname, pulumi.all(lists)]).apply(([front, [o, m, h]]) => {
              const cors = {
                ...api,
                corsAllowedOrigins: originsOrFrontEnd(o as string[], front)!,
                corsAllowedMethods: m as string[],
                corsAllowedHeaders: h as string[],
              };
              refuse(corsProblems(cors).map(([key, problem]) => [at(n, key), problem]));
              return buildCorsHeaders(corsConfigOf(cors));
            }),
          )
        : buildCorsHeaders(corsConfigOf(api)),
      ...corsKeys.flatMap((key) => sourceKeys(n, key)),
    );
    return { config: api, hostname, corsHeaders };
  });

  const aud = given.frontendAud;
  const accountId = top("accountId");
  const frontendZoneId = top("frontendZoneId");
  const frontendAud = aud === undefined || aud === "" ? undefined : top("frontendAud");
  const accessTeamDomain = top("accessTeamDomain");

  // Made to wait for the checks, no Cloudflare resource is registered, at
  // preview or at up, before all of them pass. The gate carries only that they
  // passed, so it passes on no secrecy; and it holds back inputs that update in
  // place (names, content, patterns), never the account or zone a change of
  // which, while unknown, would plan a replacement.
  const gate =
    checks.length > 0 ? pulumi.unsecret(pulumi.all(checks).apply(() => true)) : undefined;
  const afterChecks = <T>(value: pulumi.Input<T>): pulumi.Input<T> =>
    gate ? pulumi.all([value, gate]).apply(([v]) => v as T) : value;

  return {
    config,
    accountId,
    frontendZoneId,
    frontendHostname,
    frontendAud,
    accessTeamDomain,
    people,
    login,
    alertEmails,
    apis,
    afterChecks,
  };
}

type Secretly = <T>(value: pulumi.Input<T>, ...keys: string[]) => pulumi.Input<T>;
type Checking = <T>(output: pulumi.Output<T>) => pulumi.Output<T>;

/**
 * Who may log in. Plain values were checked with the rest; a rule, a list or
 * an id that is another resource's output is checked, with the others it
 * must agree with, when it resolves.
 */
function resolvePeople(
  given: Record<string, unknown>,
  config: BridgeConfig,
  deferred: ReadonlySet<string>,
  list: (key: ConfigKey) => pulumi.Output<string[]> | string[],
  checking: Checking,
  secretly: Secretly,
  secretKeys: ReadonlySet<string>,
): PeopleAccess {
  const givenIds = (given.peoplePolicyIds ?? []) as unknown[];
  const policyIds: pulumi.Input<string>[] = deferred.has("peoplePolicyIds")
    ? givenIds.map((id, n) => checking(checkedLater(`peoplePolicyIds[${n}]`, id, checkObjectId)))
    : config.peoplePolicyIds;
  const ruleKeys = ["peopleRules", "allowedEmails", "allowedEmailDomains"] as const;
  if (!ruleKeys.some((key) => deferred.has(key))) {
    if (policyIds.length > 0) return { rules: undefined, policyIds };
    const rules = peoplePolicyRulesOf(
      config.peopleRules,
      config.allowedEmails,
      config.allowedEmailDomains,
    );
    return { rules: secretRules(rules, secretly), policyIds };
  }
  const givenRules = pulumi.output(given.peopleRules ?? {});
  const resolved = checking(
    pulumi
      .all([
        list("allowedEmails"),
        list("allowedEmailDomains"),
        givenRules,
        pulumi.isSecret(givenRules),
      ])
      .apply(([emails, domains, raw, rulesSecret]) => {
        const checked = checkPeopleRules(raw);
        if (!checked.ok) refuse([["peopleRules", checked.problem]]);
        const rules = (checked.ok ? checked.value : {}) as PeopleRules;
        const values = { peopleRules: rules, allowedEmails: emails, allowedEmailDomains: domains };
        const secret = rulesSecret || secretKeys.has("peopleRules");
        refuse([
          ...peopleRuleProblems(rules, { entries: emails.length + domains.length }, secret),
          ...peopleProblems(values, policyIds.length),
        ]);
        return peoplePolicyRulesOf(rules, emails, domains);
      }),
  );
  if (policyIds.length > 0) return { rules: undefined, policyIds };
  return {
    rules: secretRules(
      {
        includes: resolved.apply((r) => r.includes),
        requires: resolved.apply((r) => r.requires as Require[]),
        excludes: resolved.apply((r) => r.excludes as Exclude[]),
      },
      secretly,
    ),
    policyIds,
  };
}

/** The people policy's lists, secret when a key they come from is. */
function secretRules(rules: PeoplePolicyRules, secretly: Secretly): PeoplePolicyRules {
  const { includes, requires, excludes } = rules;
  return {
    includes: secretly(includes, "peopleRules", "allowedEmails", "allowedEmailDomains"),
    ...(requires === undefined ? {} : { requires: secretly(requires, "peopleRules") }),
    ...(excludes === undefined ? {} : { excludes: secretly(excludes, "peopleRules") }),
  };
}

/** The identity providers every app's login page offers, and whether it skips the choice. */
function resolveLogin(
  given: Record<string, unknown>,
  config: BridgeConfig,
  deferred: ReadonlySet<string>,
  checking: Checking,
  secretly: Secretly,
): LoginSettings {
  const redirect = config.autoRedirectToIdentity ? ({ autoRedirectToIdentity: true } as const) : {};
  if (!deferred.has("allowedIdps")) {
    const ids = config.allowedIdps;
    return ids.length > 0 ? { allowedIdps: secretly(ids, "allowedIdps"), ...redirect } : redirect;
  }
  const ids = checking(
    checkedLater("allowedIdps", given.allowedIdps, checkOf("allowedIdps")).apply((resolved) => {
      const problem = redirectProblem(config.autoRedirectToIdentity, resolved);
      refuse(problem ? [["autoRedirectToIdentity", problem]] : []);
      return resolved;
    }),
  );
  return { allowedIdps: secretly(ids, "allowedIdps"), ...redirect };
}
