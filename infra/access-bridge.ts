import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as time from "@pulumiverse/time";
import { buildBindings } from "./bindings";
import type { BridgeConfig } from "./config";
import { buildCorsHeaders } from "./cors";
import { cloudflareNames, namePrefixFor, workerScriptName } from "./names";

/** The bundled proxy Worker, exactly as it is uploaded. */
export interface WorkerBundle {
  /** The ES module source; the same bytes `npm run build:worker` writes. */
  content: string;
  /** The module name the content is uploaded under. */
  moduleName: string;
  /** The pinned Workers compatibility date. */
  compatibilityDate: string;
}

/** Arguments of {@link AccessBridge}: a validated config (see `validateConfig`) and the Worker bundle. */
export interface AccessBridgeArgs extends BridgeConfig {
  worker: WorkerBundle;
  /** Prefix of every name Cloudflare shows; defaults to `<project>-<stack>`. */
  namePrefix?: string;
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
  /** Name of the proxy Worker script. */
  public readonly workerName: pulumi.Output<string>;
  /** The route the Worker serves, `<frontendHostname><routePrefix>/*`. */
  public readonly routePattern: pulumi.Output<string>;
  /** Id of the service token the Worker presents to the API. */
  public readonly serviceTokenId: pulumi.Output<string>;
  /** When the service token expires (RFC 3339); renew it before then. */
  public readonly serviceTokenExpiresAt: pulumi.Output<string>;
  /** Version of the token's current client secret; raise it to rotate. */
  public readonly serviceTokenSecretVersion: pulumi.Output<number>;
  /** Until when the previous client secret keeps working after a rotation; absent before the first one. */
  public readonly previousSecretExpiresAt: pulumi.Output<string | undefined>;

  constructor(name: string, args: AccessBridgeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("access-bridge:index:AccessBridge", name, {}, opts);

    const {
      accountId,
      frontendHostname,
      frontendZoneId,
      apiHostname,
      accessTeamDomain,
      preflight,
      cors,
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
      worker,
      namePrefix,
    } = args;
    const names = cloudflareNames(
      namePrefix ?? namePrefixFor(pulumi.getProject(), pulumi.getStack()),
    );
    const childOpts: pulumi.CustomResourceOptions = { parent: this };
    const guardedOpts: pulumi.CustomResourceOptions = { parent: this, protect };

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
      {
        accountId,
        name: names.serviceToken,
        duration: serviceTokenDuration,
        ...rotation,
      },
      guardedOpts,
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
      guardedOpts,
    );

    const serviceAuthPolicy = new cloudflare.ZeroTrustAccessPolicy(
      `${name}-service-auth-policy`,
      {
        accountId,
        name: names.serviceAuthPolicy,
        decision: "non_identity",
        includes: [{ serviceToken: { tokenId: token.id } }],
      },
      guardedOpts,
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
      guardedOpts,
    );

    // Access answers preflights itself only when it has corsHeaders; with
    // `origin` the OPTIONS request bypasses Access instead. The API rejects
    // both at once, so each mode sends only its own setting. Leaving the other
    // out is enough to clear it when switching modes: neither is a computed
    // attribute, so an omitted one is planned as unset, not kept.
    const preflightSettings =
      preflight === "cloudflare"
        ? { corsHeaders: buildCorsHeaders(cors) }
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
      guardedOpts,
    );

    const suffix = new random.RandomId(`${name}-worker-suffix`, { byteLength: 3 }, childOpts);

    const script = new cloudflare.WorkersScript(
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

    const route = new cloudflare.WorkersRoute(
      `${name}-route`,
      {
        zoneId: frontendZoneId,
        pattern: `${frontendHostname}${routePrefix}/*`,
        script: script.scriptName,
      },
      guardedOpts,
    );

    if (alertEmails.length > 0) {
      // Every call through the Worker fails once the token expires; Cloudflare
      // warns these addresses ahead of it.
      new cloudflare.NotificationPolicy(
        `${name}-token-expiry-alert`,
        {
          accountId,
          name: names.tokenExpiryAlert,
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
    this.workerName = script.scriptName;
    this.routePattern = route.pattern;
    this.serviceTokenId = token.id;
    this.serviceTokenExpiresAt = token.expiresAt;
    this.serviceTokenSecretVersion = pulumi.output(serviceTokenSecretVersion);
    this.previousSecretExpiresAt = pulumi.output(previousSecretExpiry?.rfc3339);

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
    });
  }
}
