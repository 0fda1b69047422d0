/**
 * Every setting, declared once: its name, type, default, documentation and
 * check. Reading the stack's config, checking the component's arguments, the
 * per-API inheritance of `apis` entries and the "did you mean" for unknown
 * keys all come from this table; Pulumi.yaml's config section and the
 * README's table are generated from it (`npm run docs:settings`), and a test
 * fails when they disagree.
 *
 * A typed table rather than a schema library: every check here is a function
 * that already returns the normalised value or the sentence a person reads,
 * the defaults of some keys depend on other keys, and the Worker must not
 * carry a schema library; a table of those functions is the smallest thing
 * that holds it all.
 */
import {
  DEFAULT_ROUTE_PREFIX,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  MAX_UPSTREAM_TIMEOUT_MS,
} from "../worker/src/env";
import {
  checkAdopt,
  checkApiList,
  checkAud,
  checkBoolean,
  checkCloudflareId,
  checkDatasetName,
  checkDuration,
  checkEach,
  checkEmail,
  checkEmailDomain,
  checkGraceHours,
  checkHeaderName,
  checkHostname,
  checkInteger,
  checkMethod,
  checkOneOf,
  checkOrigin,
  checkRate,
  checkResourceKey,
  checkRoutePrefix,
  checkTeamDomain,
  checkVersion,
  checkObjectId,
  type Checked,
} from "./validate";
import { checkPeopleRules } from "./people-rules";
import type { PeopleRules } from "./access-bridge-args";

/** How Pulumi.yaml declares a key; an `object` key is documented in its comment instead. */
export type ProjectType = "string" | "integer" | "boolean" | "array" | "object";

export interface Setting<T> {
  /** One line for the README's table. */
  summary: string;
  /** What it is and how to use it: Pulumi.yaml's description. */
  doc: string;
  type: ProjectType;
  /** The value when it is not set. Absent: the stack must set it, or it is optional (`required`). */
  default?: T;
  /** The stack must set it. */
  required?: true;
  /** Pulumi.yaml's default when it differs from `default` (`""`: unset, for keys another key replaces). */
  projectDefault?: unknown;
  /** The README's default column when it is not the default itself. */
  shownDefault?: string;
  /** Checks a value as the config or an argument gives it, and normalises it. */
  check(value: unknown): Checked<T>;
  /** An entry of `apis` may set its own; without it, the entry takes the stack's value. */
  perApi?: true;
  /** As the component's argument, it may be another resource's output, checked when it resolves. */
  input?: true;
  /** As the component's argument, a list whose entries may be other resources' outputs. */
  inputEntries?: true;
  /** What `verify` checks in its place when it is a secret it cannot decrypt. */
  standIn?: T;
  /** A worked example in a stack file, for Pulumi.yaml's comment on an `object` key. */
  example?: string;
}

// The literal shape is kept, so that types can ask which keys are per-API or have a default.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const setting = <S extends Setting<any>>(s: S): S => s;
const list =
  <T>(check: (v: unknown) => Checked<T>) =>
  (v: unknown) =>
    checkEach(v, check);

/** Who answers the API's CORS preflights. */
export const PreflightMode = {
  /** Access answers them from the API app's CORS settings. */
  Cloudflare: "cloudflare",
  /** OPTIONS requests bypass Access; the API's origin answers them and must enforce CORS itself. */
  Origin: "origin",
} as const;
export type PreflightMode = (typeof PreflightMode)[keyof typeof PreflightMode];
export const preflightModes: readonly PreflightMode[] = Object.values(PreflightMode);

export const settings = {
  accountId: setting({
    summary: "Account that owns apps, policies, token and Worker",
    doc: "Cloudflare account id (32 hex characters) that owns the Access apps, policies, token and Worker. Required.",
    type: "string",
    required: true,
    check: checkCloudflareId,
    input: true,
    standIn: "0".repeat(32),
  }),
  frontendHostname: setting({
    summary: "The front end, e.g. `example.com` (no scheme)",
    doc: "Hostname of the front end people log in to, e.g. example.com. Hostname only, no scheme or path. Required.",
    type: "string",
    required: true,
    check: checkHostname,
    input: true,
    standIn: "frontend.unread-secret.invalid",
  }),
  frontendZoneId: setting({
    summary: "Zone serving `frontendHostname`; the route goes there",
    doc: "Id of the Cloudflare zone that serves frontendHostname; the Worker route is created there. Required.",
    type: "string",
    required: true,
    check: checkCloudflareId,
    input: true,
    standIn: "0".repeat(32),
  }),
  frontendAud: setting({
    summary: "Aud of a front-end app managed elsewhere: none declared",
    doc: "The aud tag (64 hex characters) of the front end's Access app when that app is managed elsewhere, e.g. by another stack. Then no front-end app is declared, and the Worker accepts that app's JWTs. Empty declares the front end's app.",
    type: "string",
    projectDefault: "",
    shownDefault: "(none)",
    check: checkAud,
    input: true,
    standIn: "0".repeat(64),
  }),
  apiHostname: setting({
    summary: "The API, e.g. `api.mysite.com`",
    doc: "Hostname of the API behind Access, e.g. api.example.com. Must differ from frontendHostname. Required, unless apis lists the APIs instead.",
    type: "string",
    projectDefault: "",
    shownDefault: "required, or `apis`",
    check: checkHostname,
    input: true,
    standIn: "api.unread-secret.invalid",
  }),
  apis: setting({
    summary: "Several APIs, each `{hostname, routePrefix, ...}`",
    doc:
      "several APIs behind the one front end, instead of apiHostname and routePrefix: a list of " +
      "{hostname, routePrefix}, each entry optionally with its own name (what its resources are " +
      "named by, so that moving the entry or changing its prefix renames nothing), preflight, " +
      "corsAllowedOrigins, corsAllowedMethods, corsAllowedHeaders, corsAllowCredentials, corsMaxAge, " +
      "stripRoutePrefix, upstreamTimeoutMs, serviceTokenSecretVersion and identityKeyVersion (default: " +
      "the stack's key of the same name). Set it as a YAML list in the stack file, or with " +
      "`pulumi config set --path 'apis[0].hostname' api.mysite.com`. The first API keeps the resource " +
      "names a single-API stack has; add new APIs after it. See docs/stack.md.",
    type: "object",
    shownDefault: "(none)",
    check: checkApiList,
    standIn: [{ hostname: "api.unread-secret.invalid", routePrefix: "/unread-secret" }],
  }),
  accessTeamDomain: setting({
    summary: "`<team>.cloudflareaccess.com`, issuer of the JWTs",
    doc: "Zero Trust team domain that issues the Access JWTs, <team>.cloudflareaccess.com. Required.",
    type: "string",
    required: true,
    check: checkTeamDomain,
    input: true,
    standIn: "unread-secret.cloudflareaccess.com",
  }),
  preflight: setting({
    summary: "Who answers preflights: Access, or the `origin`",
    doc: 'Who answers the API\'s CORS preflights. "cloudflare" - Access answers them from the cors* keys; "origin" - OPTIONS requests bypass Access and the API origin must enforce CORS itself.',
    type: "string",
    default: "cloudflare",
    check: (v) => checkOneOf(v, preflightModes),
    perApi: true,
  }),
  corsAllowedOrigins: setting({
    summary: '`["*"]` needs `corsAllowCredentials: false`',
    doc: 'Origins (scheme://host[:port]) allowed to call the API when preflight is "cloudflare". Empty means only https://<frontendHostname>. ["*"] means all origins and needs corsAllowCredentials false.',
    type: "array",
    default: [],
    shownDefault: "`[https://<front end>]`",
    check: list(checkOrigin),
    perApi: true,
    input: true,
    standIn: ["https://frontend.unread-secret.invalid"],
  }),
  corsAllowedMethods: setting({
    summary: 'Methods Access allows, or `["*"]`',
    doc: 'HTTP methods allowed cross-origin, from GET POST HEAD PUT DELETE CONNECT OPTIONS TRACE PATCH; ["*"] means all.',
    type: "array",
    default: ["GET", "POST", "OPTIONS"],
    check: list(checkMethod),
    perApi: true,
    input: true,
  }),
  corsAllowedHeaders: setting({
    summary: "Headers the page may send, e.g. `[content-type]`",
    doc: 'Request header names allowed cross-origin, e.g. ["content-type"]; ["*"] means all.',
    type: "array",
    default: [],
    check: list(checkHeaderName),
    perApi: true,
    input: true,
  }),
  corsAllowCredentials: setting({
    summary: "Whether the Access cookie goes cross-origin",
    doc: "Whether browsers may send the Access cookie cross-origin. Needed for the front end to call the API as the logged-in person.",
    type: "boolean",
    default: true,
    check: checkBoolean,
    perApi: true,
  }),
  corsMaxAge: setting({
    summary: "Seconds a preflight is cached, -1..86400",
    doc: "Seconds browsers may cache a preflight answer, -1 to 86400.",
    type: "integer",
    default: 600,
    check: (v) => checkInteger(v, -1, 86400),
    perApi: true,
  }),
  allowedEmails: setting({
    summary: "People who may log in",
    doc: "Email addresses allowed to log in. allowedEmails and allowedEmailDomains together need at least one entry, unless peopleRules has include rules or peoplePolicyIds is set.",
    type: "array",
    default: [],
    check: list(checkEmail),
    input: true,
    standIn: ["unread-secret@unread-secret.invalid"],
  }),
  allowedEmailDomains: setting({
    summary: "Email domains who may log in",
    doc: 'Email domains allowed to log in, e.g. ["example.com"].',
    type: "array",
    default: [],
    check: list(checkEmailDomain),
    input: true,
    standIn: ["unread-secret.invalid"],
  }),
  peopleRules: setting({
    summary: "`{include, require, exclude}`, [example](docs/stack.md)",
    doc:
      "who the people policy admits, in Cloudflare's own rules: {include, require, exclude}, each a " +
      "list of rules of one selector each, camelCase as @pulumi/cloudflare's ZeroTrustAccessPolicy " +
      "spells them (email, emailDomain, emailList, everyone, group, githubOrganization, gsuite, okta, " +
      "azureAd, saml, oidc, loginMethod, authMethod, devicePosture, geo, ip, ipList, certificate, " +
      "commonName). A person must meet one include rule, every require rule and no exclude rule. " +
      "allowedEmails and allowedEmailDomains add email and emailDomain include rules. " +
      "See docs/stack.md. For example:",
    type: "object",
    default: {} as PeopleRules,
    check: checkPeopleRules,
    input: true,
    standIn: { include: [{ email: { email: "unread-secret@unread-secret.invalid" } }] },
    example: [
      "access-bridge:peopleRules:",
      "  include:",
      "    - githubOrganization: { name: acme, team: platform, identityProviderId: 0f1e2d3c-... }",
      "    - group: { id: 7d9c... }",
      "  require:",
      "    - authMethod: { authMethod: mfa }",
      "  exclude:",
      "    - email: { email: contractor@acme.com }",
    ].join("\n"),
  }),
  peoplePolicyIds: setting({
    summary: "Reusable policies to attach instead of the people policy",
    doc: "Ids of reusable Access policies the account already has. Then no people policy is declared, and these are attached in this order where it would be: on the front end's app, and on each API's app after its Service Auth policy. Not together with peopleRules, allowedEmails or allowedEmailDomains.",
    type: "array",
    default: [],
    check: list(checkObjectId),
    inputEntries: true,
  }),
  allowedIdps: setting({
    summary: "Identity providers the login page offers",
    doc: "Ids of the identity providers the login page of every Access app offers; empty offers every one the account has.",
    type: "array",
    default: [],
    check: list(checkObjectId),
    input: true,
  }),
  autoRedirectToIdentity: setting({
    summary: "Skip the IdP choice (one `allowedIdps`)",
    doc: "Send people straight to the one identity provider allowedIdps lists, without the choice; needs exactly one.",
    type: "boolean",
    default: false,
    check: checkBoolean,
  }),
  routePrefix: setting({
    summary: "The route is `<frontendHostname><routePrefix>/*`",
    doc: "Path on frontendHostname that the proxy Worker serves; the route is <frontendHostname><routePrefix>/*. Empty means /api. With apis, each API has its own and this stays empty.",
    type: "string",
    default: DEFAULT_ROUTE_PREFIX,
    // Empty, so that a stack that sets `apis` can be told apart from one that sets this.
    projectDefault: "",
    check: checkRoutePrefix,
  }),
  stripRoutePrefix: setting({
    summary: "`true` forwards `/api/v1/x` as `/v1/x`",
    doc: "Whether the Worker removes routePrefix from the path before forwarding to the API.",
    type: "boolean",
    default: false,
    check: checkBoolean,
    perApi: true,
  }),
  sessionDuration: setting({
    summary: "Login lifetime on both apps and both policies",
    doc: "How long an Access login lasts, on both apps and every policy (a policy's own length would override the apps'), as a duration such as 24h or 30m.",
    type: "string",
    default: "24h",
    check: checkDuration,
  }),
  serviceTokenDuration: setting({
    summary: "Token lifetime or `forever` ([renew](docs/runbooks.md))",
    doc: 'Lifetime of the service token the Worker uses, as a duration such as 8760h, or "forever".',
    type: "string",
    default: "8760h",
    check: (v) => (v === "forever" ? { ok: true, value: "forever" } : checkDuration(v)),
  }),
  serviceTokenSecretVersion: setting({
    summary: "Raise by one to rotate the token's secret",
    doc: "Version of the service token's client secret. Raise it by one to rotate the secret in place; the Worker takes the new secret in the same update.",
    type: "integer",
    default: 1,
    check: checkVersion,
    perApi: true,
  }),
  serviceTokenRotationGraceHours: setting({
    summary: "Hours the old secret still works, 1..8760",
    doc: "Hours the previous client secret keeps working after a rotation (1 to 8760). 0 is refused, as it would leave a gap; see docs/runbooks.md to cut off a leaked secret at once.",
    type: "integer",
    default: 24,
    check: checkGraceHours,
  }),
  protect: setting({
    summary: "Protects apps, policies, token and route",
    doc: "Protect the Access apps, policies, service token and Worker route against deletion. Every stack must set it (true for production); the program alone would default to true on the stack named prod.",
    type: "boolean",
    shownDefault: "set on every stack",
    check: checkBoolean,
  }),
  upstreamTimeoutMs: setting({
    summary: `Wait for the API before a 504, 1..${MAX_UPSTREAM_TIMEOUT_MS}`,
    doc: `Milliseconds the Worker waits for the API before answering 504 (1 to ${MAX_UPSTREAM_TIMEOUT_MS}).`,
    type: "integer",
    default: DEFAULT_UPSTREAM_TIMEOUT_MS,
    check: (v) => checkInteger(v, 1, MAX_UPSTREAM_TIMEOUT_MS),
    perApi: true,
  }),
  alertEmails: setting({
    summary: "Warned a week before the token expires",
    doc: "Email addresses Cloudflare notifies a week before the service token expires (a NotificationPolicy); empty declares no alert.",
    type: "array",
    default: [],
    check: list(checkEmail),
    inputEntries: true,
    standIn: ["unread-secret@unread-secret.invalid"],
  }),
  workerLogs: setting({
    summary: "Workers Logs on every Worker; `false` turns them off",
    doc: "Whether each Worker turns on Workers Logs: its one JSON line per request and Cloudflare's invocation logs, kept and queryable in the dashboard (docs/observability.md). false declares observability disabled.",
    type: "boolean",
    default: true,
    check: checkBoolean,
  }),
  workerLogsSampleRate: setting({
    summary: "Share of requests logged, above 0 and at most 1",
    doc: "The share of requests Workers Logs keeps (head sampling), above 0 and at most 1: 0.1 keeps one in ten. A string here only because project config has no type for fractions; set it as a number.",
    // Pulumi.yaml's types are string, integer, boolean and array: a fraction is declared as text.
    type: "string",
    default: 1,
    projectDefault: "1",
    check: checkRate,
  }),
  analyticsDataset: setting({
    summary: "Analytics Engine dataset counting each request",
    doc: "An Analytics Engine dataset (letters, digits, _ and -) bound to every Worker as ANALYTICS, which writes one data point per request to it (docs/observability.md). Empty declares no binding.",
    type: "string",
    default: "",
    shownDefault: "(none)",
    check: checkDatasetName,
  }),
  identityKeyVersion: setting({
    summary: "Raise by one to replace the identity key",
    doc: "Version of the Ed25519 key the Worker signs X-Access-Bridge-Identity with. Raise it by one to replace the key; the previous public key stays in the identityJwks output for 24 hours after. See docs/identity.md.",
    type: "integer",
    default: 1,
    check: checkVersion,
    perApi: true,
  }),
  identityKeyPrepublish: setting({
    summary: "Publish the next identity key ahead",
    doc: "Also create the next version's identity key and list it in identityJwks, so APIs trust it before the Worker signs with it; a rotation then refuses nothing.",
    type: "boolean",
    default: false,
    check: checkBoolean,
  }),
  adopt: setting({
    summary: "Ids of a hand-made set-up to adopt ([how](docs/adopt.md))",
    doc:
      "ids of a set-up made by hand (the guide's) that the next update adopts instead of creating " +
      "anew: {frontendAppId, apiAppId, peoplePolicyId, serviceAuthPolicyId, serviceTokenId, routeId}, " +
      "each optional. Remove it again after that update. See docs/adopt.md.",
    type: "object",
    default: {},
    check: checkAdopt,
  }),
};

export type ConfigKey = keyof typeof settings;
/** Every key the program reads, in the order they are documented. */
export const configKeys = Object.keys(settings) as ConfigKey[];

/** A setting's value once checked. */
export type ValueOf<K extends ConfigKey> =
  ReturnType<(typeof settings)[K]["check"]> extends Checked<infer T> ? T : never;

/** The keys an entry of `apis` may set for itself; each defaults to the stack's key of the same name. */
export type PerApiKey = {
  [K in ConfigKey]: (typeof settings)[K] extends { perApi: true } ? K : never;
}[ConfigKey];
export const perApiKeys = configKeys.filter(
  (k): k is PerApiKey => (settings[k] as Setting<unknown>).perApi === true,
);

/** What only an entry of `apis` says: where the API is and what its resources are named by. */
export const apiEntrySettings = {
  hostname: setting({
    summary: "The API's hostname",
    doc: "Hostname of the API behind Access, e.g. billing.mysite.com.",
    type: "string",
    required: true,
    check: checkHostname,
    input: true,
  }),
  routePrefix: setting({
    summary: "Its route prefix",
    doc: "Path on frontendHostname whose requests its Worker forwards to it.",
    type: "string",
    required: true,
    check: checkRoutePrefix,
  }),
  name: setting({
    summary: "What its resources are named by",
    doc: "What the API's resources are named by (lower-case letters, digits and -), instead of its position and prefix.",
    type: "string",
    check: checkResourceKey,
  }),
};

/** The keys of one entry of `apis`. */
export const apiKeys = [
  ...(Object.keys(apiEntrySettings) as (keyof typeof apiEntrySettings)[]),
  ...perApiKeys,
];
export type ApiKey = (typeof apiKeys)[number];

/** The value a key's check gives, whether the key is the stack's or an entry's. */
export type CheckedValue<K extends ApiKey | ConfigKey> = K extends ConfigKey
  ? ValueOf<K>
  : K extends keyof typeof apiEntrySettings
    ? ReturnType<(typeof apiEntrySettings)[K]["check"]> extends Checked<infer T>
      ? T
      : never
    : never;

/** A key's check, whether it is the stack's or an entry's. */
export function checkOf<K extends ApiKey | ConfigKey>(
  key: K,
): (value: unknown) => Checked<CheckedValue<K>> {
  return settingOf(key).check as (value: unknown) => Checked<CheckedValue<K>>;
}

/** A key's setting, whether the key is the stack's or an entry's. */
export function settingOf(key: ApiKey | ConfigKey): Setting<unknown> {
  const entry = apiEntrySettings as Record<string, Setting<unknown>>;
  return entry[key] ?? (settings as Record<string, Setting<unknown>>)[key]!;
}

type KeyWithDefault = {
  [K in ConfigKey]: (typeof settings)[K] extends { default: unknown } ? K : never;
}[ConfigKey];

/** The value of each key that has one when unset, as the program applies it. */
export const defaults = Object.fromEntries(
  configKeys
    .filter((k) => "default" in settings[k])
    .map((k) => [k, (settings[k] as Setting<unknown>).default]),
) as { [K in KeyWithDefault]: ValueOf<K> };

/** The stack whose resources are protected unless `protect` says otherwise. */
export const protectedByDefaultStack = "prod";
