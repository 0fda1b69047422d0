/**
 * The component's arguments and per-API outputs: a plain, documented
 * interface, which the analyzer reads to describe the component to other
 * languages. The settings (infra/settings.ts) check and document the same
 * keys; the types below fail to compile when the two disagree.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { AdoptIds, PreflightMode } from "./config";
import type { PeopleSelector, peopleSelectors } from "./people-rules";
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

/** A person's email address. */
export interface EmailRule {
  /** The email of the user. */
  email: pulumi.Input<string>;
}
/** Everyone whose email is in a domain. */
export interface EmailDomainRule {
  /** The email domain to match, e.g. example.com. */
  domain: pulumi.Input<string>;
}
/** A list, an Access group, an IP list or a login method, by its id. */
export interface IdRule {
  /** The id of the list, group or identity provider (as Cloudflare shows it). */
  id: pulumi.Input<string>;
}
/** A selector without fields: `everyone` or `certificate`, written `{}`. */
// The provider's own shape for these selectors is an empty object.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface EmptyRule {}
/** Members of a GitHub organization, or of one of its teams. */
export interface GithubOrganizationRule {
  /** The name of the organization. */
  name: pulumi.Input<string>;
  /** The name of a team in it; without one, the whole organization. */
  team?: pulumi.Input<string>;
  /** The id of your GitHub identity provider. */
  identityProviderId: pulumi.Input<string>;
}
/** Members of a Google Workspace group. */
export interface GsuiteRule {
  /** The email of the Google Workspace group. */
  email: pulumi.Input<string>;
  /** The id of your Google Workspace identity provider. */
  identityProviderId: pulumi.Input<string>;
}
/** Members of an Okta group. */
export interface OktaRule {
  /** The name of the Okta group. */
  name: pulumi.Input<string>;
  /** The id of your Okta identity provider. */
  identityProviderId: pulumi.Input<string>;
}
/** Members of an Azure AD (Entra ID) group. */
export interface AzureAdRule {
  /** The id of the Azure group. */
  id: pulumi.Input<string>;
  /** The id of your Azure identity provider. */
  identityProviderId: pulumi.Input<string>;
}
/** People whose SAML assertion carries an attribute value. */
export interface SamlRule {
  /** The name of the SAML attribute. */
  attributeName: pulumi.Input<string>;
  /** The value to look for. */
  attributeValue: pulumi.Input<string>;
  /** The id of your SAML identity provider. */
  identityProviderId: pulumi.Input<string>;
}
/** People whose OIDC token carries a claim value. */
export interface OidcRule {
  /** The name of the OIDC claim. */
  claimName: pulumi.Input<string>;
  /** The value to look for. */
  claimValue: pulumi.Input<string>;
  /** The id of your OIDC identity provider. */
  identityProviderId: pulumi.Input<string>;
}
/** How a person authenticated: an RFC 8176 method such as "mfa" or "hwk". */
export interface AuthMethodRule {
  /** The authentication method, e.g. "mfa". */
  authMethod: pulumi.Input<string>;
}
/** Devices that pass a device posture check. */
export interface DevicePostureRule {
  /** The id of the device posture integration. */
  integrationUid: pulumi.Input<string>;
  /** The account that owns the integration, where it is not the stack's. */
  accountId?: pulumi.Input<string>;
}
/** Requests from a country. */
export interface GeoRule {
  /** The country code (ISO 3166-1 alpha-2), e.g. "DE". */
  countryCode: pulumi.Input<string>;
}
/** Requests from an address range. */
export interface IpRule {
  /** An IPv4 or IPv6 CIDR block. */
  ip: pulumi.Input<string>;
}
/** A client certificate with a common name. */
export interface CommonNameRule {
  /** The common name to match. */
  commonName: pulumi.Input<string>;
}

/**
 * One rule of an Access policy, in the shape of @pulumi/cloudflare's
 * ZeroTrustAccessPolicy include/require/exclude: exactly one selector.
 */
export interface PeopleRule {
  email?: pulumi.Input<EmailRule>;
  emailDomain?: pulumi.Input<EmailDomainRule>;
  /** A list of emails made beforehand, by its id. */
  emailList?: pulumi.Input<IdRule>;
  /** Every person who can log in; `{}`. */
  everyone?: pulumi.Input<EmptyRule>;
  /** An Access group, by its id. */
  group?: pulumi.Input<IdRule>;
  githubOrganization?: pulumi.Input<GithubOrganizationRule>;
  gsuite?: pulumi.Input<GsuiteRule>;
  okta?: pulumi.Input<OktaRule>;
  azureAd?: pulumi.Input<AzureAdRule>;
  saml?: pulumi.Input<SamlRule>;
  oidc?: pulumi.Input<OidcRule>;
  /** People who logged in with an identity provider, by its id. */
  loginMethod?: pulumi.Input<IdRule>;
  authMethod?: pulumi.Input<AuthMethodRule>;
  devicePosture?: pulumi.Input<DevicePostureRule>;
  geo?: pulumi.Input<GeoRule>;
  ip?: pulumi.Input<IpRule>;
  /** An IP list made beforehand, by its id. */
  ipList?: pulumi.Input<IdRule>;
  /** Any valid client certificate (mTLS); `{}`. */
  certificate?: pulumi.Input<EmptyRule>;
  commonName?: pulumi.Input<CommonNameRule>;
}

/** Who the people policy admits, as Access evaluates it. */
export interface PeopleRules {
  /** Rules of which a person must meet one (OR). */
  include?: pulumi.Input<PeopleRule>[];
  /** Rules a person must all meet (AND), e.g. an authMethod of "mfa". */
  require?: pulumi.Input<PeopleRule>[];
  /** Rules a person must meet none of (NOT). */
  exclude?: pulumi.Input<PeopleRule>[];
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
  /** Who the people policy admits, in Cloudflare's rules: include (any of), require (all of) and exclude (none of), one selector a rule. allowedEmails and allowedEmailDomains add email and emailDomain include rules. */
  peopleRules?: PeopleRules;
  /** Ids of reusable Access policies the account already has, attached in this order instead of a people policy of the component's own (on the front end's app, and on each API's app after its Service Auth policy). */
  peoplePolicyIds?: pulumi.Input<string>[];
  /** Ids of the identity providers the login page of every app offers; empty offers every one the account has. */
  allowedIdps?: pulumi.Input<pulumi.Input<string>[]>;
  /** Skip the identity provider choice and go straight to the one allowedIdps lists; needs exactly one. Default false. */
  autoRedirectToIdentity?: boolean;
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

// A rule's selectors and each selector's fields are the vocabulary's (infra/people-rules.ts).
type RuleOf<S extends PeopleSelector> = Exclude<
  PeopleRule[S],
  undefined | Promise<unknown> | pulumi.OutputInstance<unknown>
>;
type FieldsDiffer = {
  [S in PeopleSelector]-?: Same<
    keyof RuleOf<S>,
    keyof (typeof peopleSelectors)[S]["fields"]
  > extends true
    ? never
    : S;
}[PeopleSelector];
const rulesAreTheVocabulary: [
  Same<keyof PeopleRule, PeopleSelector>,
  [FieldsDiffer] extends [never] ? true : FieldsDiffer,
] = [true, true];
void rulesAreTheVocabulary;

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
