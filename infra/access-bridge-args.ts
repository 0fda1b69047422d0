/**
 * The component's arguments and per-API outputs: a plain, documented
 * interface, which the analyzer reads to describe the component to other
 * languages. The settings (infra/settings.ts) check and document the same
 * keys; the types below fail to compile when the two disagree.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { AdoptIds, PreflightMode } from "./config";
import type { ApiKey, ConfigKey, PerApiKey, ValueOf } from "./settings";

/**
 * What each API may set for itself. As the component's arguments they are
 * every API's defaults; in an entry of `apis`, that API's own.
 */
export interface ApiSettings {
  /** Who answers the API's CORS preflights: "cloudflare" (Access, from the cors* arguments) or "origin" (OPTIONS bypasses Access). Default "cloudflare". */
  preflight?: PreflightMode;
  /** Origins (scheme://host[:port]) allowed to call the API directly. Empty means only https://<frontendHostname>; ["*"] means all and needs corsAllowCredentials false. */
  corsAllowedOrigins?: pulumi.Input<pulumi.Input<string>[]>;
  /** HTTP methods allowed cross-origin, from GET POST HEAD PUT DELETE CONNECT OPTIONS TRACE PATCH; ["*"] means all. Default [GET, POST, OPTIONS]. */
  corsAllowedMethods?: pulumi.Input<pulumi.Input<string>[]>;
  /** Request header names allowed cross-origin, e.g. ["content-type"]; ["*"] means all. Default none. */
  corsAllowedHeaders?: pulumi.Input<pulumi.Input<string>[]>;
  /** Whether browsers may send the Access cookie cross-origin. Default true. */
  corsAllowCredentials?: boolean;
  /** Seconds browsers may cache a preflight answer, -1 to 86400. Default 600. */
  corsMaxAge?: number;
  /** Whether the Worker removes routePrefix from the path before forwarding to the API. Default false. */
  stripRoutePrefix?: boolean;
  /** Milliseconds the Worker waits for the API before answering 504, 1 to 300000. Default 30000. */
  upstreamTimeoutMs?: number;
  /** Version of the service token's client secret; raise it by one to rotate it in place. Default 1. */
  serviceTokenSecretVersion?: number;
  /** Version of the Ed25519 key the Worker signs identity statements with; raise it by one to replace it. Default 1. */
  identityKeyVersion?: number;
}

/** One API behind the front end: its hostname and route prefix; what it leaves out, the component's arguments give. */
export interface ApiArgs extends ApiSettings {
  /** Hostname of the API behind Access, e.g. billing.mysite.com. Must differ from frontendHostname and from every other API's. */
  hostname: pulumi.Input<string>;
  /** Path on frontendHostname whose requests the Worker forwards to this API: the route is <frontendHostname><routePrefix>/*. */
  routePrefix: string;
  /** What this API's resources are named by (lower-case letters, digits and -), so that moving the entry or changing its prefix renames nothing. Default: none for the first API, its prefix as a slug for the others. */
  name?: string;
}

/**
 * Arguments of {@link AccessBridge}, named as the stack's config keys are.
 * Values a program wires from other resources are inputs; what decides which
 * resources exist (how many APIs, whether a front-end app is declared, the
 * alert's addresses) is plain.
 */
export interface AccessBridgeArgs extends ApiSettings {
  /** Cloudflare account id (32 hex characters) that owns the Access apps, policies, tokens and Workers. */
  accountId: pulumi.Input<string>;
  /** Id of the Cloudflare zone that serves frontendHostname; the Worker routes are created there. */
  frontendZoneId: pulumi.Input<string>;
  /** Hostname of the front end people log in to, e.g. example.com. Hostname only, no scheme or path. */
  frontendHostname: pulumi.Input<string>;
  /** The aud tag (64 hex characters) of the front end's Access app when that app is managed elsewhere (another stack, another AccessBridge); then no front-end app is declared and the Workers verify that app's JWTs. */
  frontendAud?: pulumi.Input<string>;
  /** Hostname of the single API behind Access, e.g. api.mysite.com. Give it, or apis, not both. */
  apiHostname?: pulumi.Input<string>;
  /** Several APIs behind the front end, each on its own route prefix. The first keeps the resource names a single API has; add new ones after it. */
  apis?: ApiArgs[];
  /** Zero Trust team domain that issues the Access JWTs, <team>.cloudflareaccess.com. */
  accessTeamDomain: pulumi.Input<string>;
  /** Email addresses allowed to log in. With allowedEmailDomains, at least one entry. */
  allowedEmails?: pulumi.Input<pulumi.Input<string>[]>;
  /** Email domains allowed to log in, e.g. ["example.com"]. */
  allowedEmailDomains?: pulumi.Input<pulumi.Input<string>[]>;
  /** Path on frontendHostname that the proxy Worker serves; the route is <frontendHostname><routePrefix>/*. Default /api. With apis, each API has its own. */
  routePrefix?: string;
  /** How long an Access login lasts, on every app and policy, e.g. 24h or 30m. Default 24h. */
  sessionDuration?: string;
  /** Lifetime of each service token, e.g. 8760h, or "forever". Default 8760h. */
  serviceTokenDuration?: string;
  /** Hours a previous client secret keeps working after a rotation, 1 to 8760. Default 24. */
  serviceTokenRotationGraceHours?: number;
  /** Protect the Access apps, policies, tokens and routes against deletion, over what the resource options say. Default: the component's protect option, which every child inherits. */
  protect?: boolean;
  /** Email addresses Cloudflare notifies a week before a service token expires; empty declares no alert. */
  alertEmails?: pulumi.Input<string>[];
  /** Whether each Worker turns on Workers Logs (its JSON line per request and invocation logs); false declares observability disabled. Default true. */
  workerLogs?: boolean;
  /** The share of requests Workers Logs keeps, above 0 and at most 1 (0.1 keeps one in ten). Default 1. */
  workerLogsSampleRate?: number;
  /** An Analytics Engine dataset bound to every Worker as ANALYTICS, one data point per request; empty binds none. Default none. */
  analyticsDataset?: string;
  /** Also create the next version's identity keys and list them in identityJwks ahead of their rotation. Default false. */
  identityKeyPrepublish?: boolean;
  /** Ids of a hand-made set-up (the guide's) to adopt on this update instead of creating anew; they are the first API's. See the adoption runbook. */
  adopt?: AdoptIds;
  /** Prefix of every name Cloudflare shows. Default <project>-<stack>-<component name>. */
  namePrefix?: string;
}

// The arguments are the settings: a key added to one and not the other fails to compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const argumentsAreSettings: [
  Same<Exclude<keyof AccessBridgeArgs, "namePrefix">, ConfigKey>,
  Same<keyof ApiSettings, PerApiKey>,
  Same<keyof ApiArgs, ApiKey>,
  // A checked value always fits its argument.
  {
    [K in Exclude<ConfigKey, "apis">]-?: ValueOf<K> extends AccessBridgeArgs[K] ? true : K;
  }[Exclude<ConfigKey, "apis">],
] = [true, true, true, true];
void argumentsAreSettings;

/** What one API's side declares, and what an API author needs of it. */
export interface ApiBridgeOutputs {
  /** The API's hostname. */
  hostname: string;
  /** The route its Worker serves, <frontendHostname><routePrefix>/*; absent while a hand-made token is being adopted. */
  routePattern?: string;
  /** Name of its Worker script; absent while a hand-made token is being adopted. */
  workerName?: string;
  /** Id of its Access application. */
  appId: string;
  /** AUD tag of its Access application. */
  aud: string;
  /** Id of the service token its Worker presents. */
  serviceTokenId: string;
  /** When that token expires (RFC 3339). */
  serviceTokenExpiresAt: string;
  /** The JWKS (JSON) this API verifies X-Access-Bridge-Identity with. */
  identityJwks: string;
}
