import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import * as time from "@pulumiverse/time";
import { adoptionOptions, adoptionPlan, type Adoptable } from "./adopt";
import { buildBindings } from "./bindings";
import {
  corsConfigOf,
  validateConfig,
  type AdoptIds,
  type BridgeConfig,
  type PreflightMode,
  type RawConfig,
} from "./config";
import { buildCorsHeaders } from "./cors";
import { buildIdentityJwks } from "./identity-keys";
import { cloudflareNames, namePrefixFor, workerScriptName } from "./names";
import { expiryAlertDescription } from "./token-renewal";
import { loadWorkerBundle } from "./worker-bundle";

/**
 * Arguments of {@link AccessBridge}, named as the stack's config keys are.
 * Ids usually taken from other resources are inputs; everything the component
 * checks before it declares anything is a plain value.
 */
export interface AccessBridgeArgs {
  /** Cloudflare account id (32 hex characters) that owns the Access apps, policies, token and Worker. */
  accountId: pulumi.Input<string>;
  /** Id of the Cloudflare zone that serves frontendHostname; the Worker route is created there. */
  frontendZoneId: pulumi.Input<string>;
  /** Hostname of the front end people log in to, e.g. example.com. Hostname only, no scheme or path. */
  frontendHostname: string;
  /** Hostname of the API behind Access, e.g. api.mysite.com. Must differ from frontendHostname. */
  apiHostname: string;
  /** Zero Trust team domain that issues the Access JWTs, <team>.cloudflareaccess.com. */
  accessTeamDomain: string;
  /** Who answers the API's CORS preflights: "cloudflare" (Access, from the cors* arguments) or "origin" (OPTIONS bypasses Access). Default "cloudflare". */
  preflight?: PreflightMode;
  /** Origins (scheme://host[:port]) allowed to call the API directly. Empty means only https://<frontendHostname>; ["*"] means all and needs corsAllowCredentials false. */
  corsAllowedOrigins?: string[];
  /** HTTP methods allowed cross-origin, from GET POST HEAD PUT DELETE CONNECT OPTIONS TRACE PATCH; ["*"] means all. Default [GET, POST, OPTIONS]. */
  corsAllowedMethods?: string[];
  /** Request header names allowed cross-origin, e.g. ["content-type"]; ["*"] means all. Default none. */
  corsAllowedHeaders?: string[];
  /** Whether browsers may send the Access cookie cross-origin. Default true. */
  corsAllowCredentials?: boolean;
  /** Seconds browsers may cache a preflight answer, -1 to 86400. Default 600. */
  corsMaxAge?: number;
  /** Email addresses allowed to log in. With allowedEmailDomains, at least one entry. */
  allowedEmails?: string[];
  /** Email domains allowed to log in, e.g. ["example.com"]. */
  allowedEmailDomains?: string[];
  /** Path on frontendHostname that the proxy Worker serves; the route is <frontendHostname><routePrefix>/*. Default /api. */
  routePrefix?: string;
  /** Whether the Worker removes routePrefix from the path before forwarding to the API. Default false. */
  stripRoutePrefix?: boolean;
  /** How long an Access login lasts, on both apps and every policy, e.g. 24h or 30m. Default 24h. */
  sessionDuration?: string;
  /** Lifetime of the service token, e.g. 8760h, or "forever". Default 8760h. */
  serviceTokenDuration?: string;
  /** Version of the service token's client secret; raise it by one to rotate the secret in place. Default 1. */
  serviceTokenSecretVersion?: number;
  /** Hours the previous client secret keeps working after a rotation, 1 to 8760. Default 24. */
  serviceTokenRotationGraceHours?: number;
  /** Protect the Access apps, policies, service token and route against deletion. Default true on a stack named prod, else false. */
  protect?: boolean;
  /** Milliseconds the Worker waits for the API before answering 504, 1 to 300000. Default 30000. */
  upstreamTimeoutMs?: number;
  /** Email addresses Cloudflare notifies a week before the service token expires; empty declares no alert. */
  alertEmails?: string[];
  /** Version of the Ed25519 key the Worker signs identity statements with; raise it by one to replace the key. Default 1. */
  identityKeyVersion?: number;
  /** Also create the next version's identity key and list it in identityJwks ahead of its rotation. Default false. */
  identityKeyPrepublish?: boolean;
  /** Ids of a hand-made set-up (the guide's) to adopt on this update instead of creating anew; see the adoption runbook. */
  adopt?: AdoptIds;
  /** Prefix of every name Cloudflare shows. Default <project>-<stack>. */
  namePrefix?: string;
}

const idKeys = ["accountId", "frontendZoneId"] as const;

/**
 * The component's arguments validated as a stack's config is, with the same
 * messages. Ids that are still unknown (another resource's outputs) are left
 * to the provider; an unknown argument is named like an unknown config key.
 */
function validateArgs(args: AccessBridgeArgs, stack: string): BridgeConfig {
  const raw: Record<string, unknown> = { ...args };
  delete raw.namePrefix;
  for (const key of idKeys) {
    // Only a plain string can be checked now; an Output is the provider's to check.
    if (raw[key] !== undefined && typeof raw[key] !== "string") raw[key] = "deferred";
  }
  return validateConfig(raw as RawConfig, stack, [], Object.keys(raw));
}

/**
 * Cloudflare Access in front of a front end and its API, with a proxy Worker on
 * the front end's route that verifies the caller's Access JWT and forwards to
 * the API with a service token.
 *
 * Every dependency flows through data (ids, names), so `pulumi destroy` removes
 * the route before the script, and each app before its policies before the token.
 */
export class AccessBridge extends pulumi.ComponentResource {
  /** Id of the front end's Access application. */
  public readonly frontendAppId: pulumi.Output<string>;
  /** AUD tag of the front end's app: the audience of the JWTs the Worker accepts. */
  public readonly frontendAud: pulumi.Output<string>;
  /** Id of the API's Access application. */
  public readonly apiAppId: pulumi.Output<string>;
  /** AUD tag of the API's app. */
  public readonly apiAud: pulumi.Output<string>;
  /** Name of the proxy Worker script; absent while a hand-made service token is being adopted. */
  public readonly workerName: pulumi.Output<string | undefined>;
  /** The route the Worker serves, <frontendHostname><routePrefix>/*. */
  public readonly routePattern: pulumi.Output<string | undefined>;
  /** Id of the service token the Worker presents to the API. */
  public readonly serviceTokenId: pulumi.Output<string>;
  /** When the service token expires (RFC 3339); renew it before then. */
  public readonly serviceTokenExpiresAt: pulumi.Output<string>;
  /** Version of the token's current client secret; raise it to rotate. */
  public readonly serviceTokenSecretVersion: pulumi.Output<number>;
  /** Until when the previous client secret keeps working after a rotation; absent before the first one. */
  public readonly previousSecretExpiresAt: pulumi.Output<string | undefined>;
  /** The JWKS (JSON) an API verifies X-Access-Bridge-Identity with: Ed25519 public keys, each with its kid. */
  public readonly identityJwks: pulumi.Output<string>;

  constructor(name: string, args: AccessBridgeArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before anything is registered, so bad arguments declare nothing.
    const config = validateArgs(args, pulumi.getStack());
    const plan = adoptionPlan(config.adopt, args.accountId, args.frontendZoneId);
    super("access-bridge:index:AccessBridge", name, {}, opts);

    const { accountId, frontendZoneId } = args;
    const {
      frontendHostname,
      apiHostname,
      accessTeamDomain,
      preflight,
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
    } = config;
    const names = cloudflareNames(
      args.namePrefix ?? namePrefixFor(pulumi.getProject(), pulumi.getStack()),
    );
    const childOpts: pulumi.CustomResourceOptions = { parent: this };
    const guardedOpts: pulumi.CustomResourceOptions = { parent: this, protect };
    const guarded = (adopted: Adoptable): pulumi.CustomResourceOptions => ({
      ...guardedOpts,
      ...adoptionOptions(plan, adopted),
    });

    // The previous secret's deadline is computed once per secret version, so
    // that previews stay quiet between rotations.
    const previousSecretExpiry =
      serviceTokenSecretVersion > 1
        ? new time.Offset(
            `${name}-previous-secret-expiry`,
            {
              triggers: { version: String(serviceTokenSecretVersion) },
              offsetHours: serviceTokenRotationGraceHours,
            },
            childOpts,
          )
        : undefined;

    // The provider requires the version and the previous secret's deadline
    // together or not at all; before the first rotation there is no previous
    // secret, and the version is left to the provider's default, 1.
    const rotation = previousSecretExpiry
      ? {
          clientSecretVersion: serviceTokenSecretVersion,
          previousClientSecretExpiresAt: previousSecretExpiry.rfc3339,
        }
      : {};

    const token = new cloudflare.ZeroTrustAccessServiceToken(
      `${name}-service-token`,
      { accountId, name: names.serviceToken, duration: serviceTokenDuration, ...rotation },
      guarded("serviceToken"),
    );

    const peoplePolicy = new cloudflare.ZeroTrustAccessPolicy(
      `${name}-people-policy`,
      {
        accountId,
        name: names.peoplePolicy,
        decision: "allow",
        // A policy's session duration overrides its apps', and the provider
        // sends 24h when none is given, so the configured one must be here too.
        sessionDuration,
        includes: [
          ...allowedEmails.map((email) => ({ email: { email } })),
          ...allowedEmailDomains.map((domain) => ({ emailDomain: { domain } })),
        ],
      },
      guarded("peoplePolicy"),
    );

    const serviceAuthPolicy = new cloudflare.ZeroTrustAccessPolicy(
      `${name}-service-auth-policy`,
      {
        accountId,
        name: names.serviceAuthPolicy,
        decision: "non_identity",
        // Without it the provider sends 24h, which overrides the apps' length
        // and which an account that caps session length refuses at `up`.
        sessionDuration,
        includes: [{ serviceToken: { tokenId: token.id } }],
      },
      guarded("serviceAuthPolicy"),
    );

    const frontendApp = new cloudflare.ZeroTrustAccessApplication(
      `${name}-frontend-app`,
      {
        accountId,
        name: names.frontendApp,
        type: "self_hosted",
        domain: frontendHostname,
        sessionDuration,
        policies: [{ id: peoplePolicy.id, precedence: 1 }],
      },
      guarded("frontendApp"),
    );

    // Access answers preflights itself only when it has corsHeaders; with
    // `origin` the OPTIONS request bypasses Access instead. The API rejects
    // both at once, so each mode sends only its own setting. Leaving the other
    // out is enough to clear it when switching modes: neither is a computed
    // attribute, so an omitted one is planned as unset, not kept.
    const preflightSettings =
      preflight === "cloudflare"
        ? { corsHeaders: buildCorsHeaders(corsConfigOf(config)) }
        : { optionsPreflightBypass: true };

    const apiApp = new cloudflare.ZeroTrustAccessApplication(
      `${name}-api-app`,
      {
        accountId,
        name: names.apiApp,
        type: "self_hosted",
        domain: apiHostname,
        sessionDuration,
        // An API is called by pages, not opened by people from the App Launcher.
        appLauncherVisible: false,
        ...preflightSettings,
        policies: [
          { id: serviceAuthPolicy.id, precedence: 1 },
          { id: peoplePolicy.id, precedence: 2 },
        ],
      },
      guarded("apiApp"),
    );

    // One key per version, named by it: raising the version adds a key instead
    // of replacing one, so the previous key can stay published for a while.
    const identityKey = (version: number) =>
      new tls.PrivateKey(`${name}-identity-key-v${version}`, { algorithm: "ED25519" }, childOpts);
    const signingKey = identityKey(identityKeyVersion);
    const nextKey = identityKeyPrepublish ? identityKey(identityKeyVersion + 1) : undefined;
    const previousKey = identityKeyVersion > 1 ? identityKey(identityKeyVersion - 1) : undefined;
    const rotated =
      identityKeyVersion > 1
        ? new time.Static(
            `${name}-identity-key-rotated`,
            { triggers: { version: String(identityKeyVersion) } },
            childOpts,
          )
        : undefined;
    const identityJwks = pulumi
      .all([
        signingKey.publicKeyPem,
        nextKey?.publicKeyPem,
        previousKey?.publicKeyPem,
        rotated?.unix,
      ])
      .apply(([current, next, previous, rotatedAt]) =>
        buildIdentityJwks({ current, next, previous, rotatedAt }, Date.now() / 1000),
      );

    const pattern = `${frontendHostname}${routePrefix}/*`;
    let script: cloudflare.WorkersScript | undefined;
    if (plan.declaresWorker) {
      const worker = loadWorkerBundle();
      const suffix = new random.RandomId(`${name}-worker-suffix`, { byteLength: 3 }, childOpts);
      script = new cloudflare.WorkersScript(
        `${name}-worker`,
        {
          accountId,
          scriptName: suffix.hex.apply((hex) => workerScriptName(names.workerPrefix, hex)),
          content: worker.content,
          mainModule: worker.moduleName,
          compatibilityDate: worker.compatibilityDate,
          bindings: buildBindings({
            clientId: pulumi.secret(token.clientId),
            clientSecret: pulumi.secret(token.clientSecret),
            identitySigningKey: pulumi.secret(signingKey.privateKeyPemPkcs8),
            apiHostname,
            accessTeamDomain,
            accessAud: frontendApp.aud,
            routePrefix,
            stripRoutePrefix,
            upstreamTimeoutMs,
          }),
        },
        childOpts,
      );

      // A Worker holding a service token must be reachable only through its route.
      new cloudflare.WorkersScriptSubdomain(
        `${name}-worker-subdomain`,
        { accountId, scriptName: script.scriptName, enabled: false, previewsEnabled: false },
        childOpts,
      );
    }

    // An adopted route keeps pointing at its own script on the adopting update
    // (its inputs are ignored then), even when this Worker is not declared
    // yet; the update after adoption moves it to this Worker in place.
    const adoptingRoute = plan.imports.route !== undefined;
    const route =
      script !== undefined || adoptingRoute
        ? new cloudflare.WorkersRoute(
            `${name}-route`,
            { zoneId: frontendZoneId, pattern, ...(script ? { script: script.scriptName } : {}) },
            guarded("route"),
          )
        : undefined;

    if (alertEmails.length > 0) {
      // Every call through the Worker fails once the token expires; Cloudflare
      // warns these addresses ahead of it.
      new cloudflare.NotificationPolicy(
        `${name}-token-expiry-alert`,
        {
          accountId,
          name: names.tokenExpiryAlert,
          description: pulumi
            .all([accountId, token.id])
            .apply(([account, id]) => expiryAlertDescription(account, [id])),
          alertType: "expiring_service_token_alert",
          enabled: true,
          mechanisms: { emails: alertEmails.map((id) => ({ id })) },
        },
        childOpts,
      );
    }

    this.frontendAppId = frontendApp.id;
    this.frontendAud = frontendApp.aud;
    this.apiAppId = apiApp.id;
    this.apiAud = apiApp.aud;
    this.workerName = pulumi.output(script?.scriptName);
    this.routePattern = pulumi.output(route?.pattern);
    this.serviceTokenId = token.id;
    this.serviceTokenExpiresAt = token.expiresAt;
    this.serviceTokenSecretVersion = pulumi.output(serviceTokenSecretVersion);
    this.previousSecretExpiresAt = pulumi.output(previousSecretExpiry?.rfc3339);
    this.identityJwks = identityJwks;

    this.registerOutputs({
      frontendAppId: this.frontendAppId,
      frontendAud: this.frontendAud,
      apiAppId: this.apiAppId,
      apiAud: this.apiAud,
      workerName: this.workerName,
      routePattern: this.routePattern,
      serviceTokenId: this.serviceTokenId,
      serviceTokenExpiresAt: this.serviceTokenExpiresAt,
      serviceTokenSecretVersion: this.serviceTokenSecretVersion,
      previousSecretExpiresAt: this.previousSecretExpiresAt,
      identityJwks: this.identityJwks,
    });
  }
}
