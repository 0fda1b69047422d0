import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import * as time from "@pulumiverse/time";
import { adoptionOptions, adoptionPlan, type Adoptable, type AdoptionPlan } from "./adopt";
import { resolveArgs, type ResolvedApi, type ResolvedArgs } from "./arguments";
import { buildBindings, buildObservability } from "./bindings";
import type { AccessBridgeArgs, ApiBridgeOutputs } from "./access-bridge-args";

export type {
  AccessBridgeArgs,
  ApiArgs,
  ApiBridgeOutputs,
  ApiSettings,
} from "./access-bridge-args";
import { buildIdentityJwks } from "./identity-keys";
import {
  apiNames,
  componentNamePrefix,
  frontendNames,
  workerScriptName,
  type ApiNames,
} from "./names";
import { expiryAlertDescription } from "./token-renewal";
import { loadWorkerBundle, type WorkerBundle } from "./worker-bundle";

/** One API's children. */
interface ApiChildren {
  app: cloudflare.ZeroTrustAccessApplication;
  serviceAuthPolicy: cloudflare.ZeroTrustAccessPolicy;
  token: cloudflare.ZeroTrustAccessServiceToken;
  previousSecretExpiry: time.Offset | undefined;
  worker: cloudflare.WorkersScript | undefined;
  route: cloudflare.WorkersRoute | undefined;
  identityJwks: pulumi.Output<string>;
  outputs: pulumi.Output<ApiBridgeOutputs>;
}

/** What every API's side shares: the front end's app (or its aud) and the people policy. */
interface Shared {
  args: ResolvedArgs;
  plan: AdoptionPlan;
  /** The policies that let people in, in the order attached: the people policy, or the ones given. */
  peoplePolicyIds: pulumi.Input<string>[];
  frontendAud: pulumi.Input<string>;
  base: string;
  bundle: () => WorkerBundle;
}

/**
 * Cloudflare Access in front of a front end and its APIs, with a proxy Worker
 * on each API's route of the front end that verifies the caller's Access JWT
 * and forwards to that API with a service token of its own.
 *
 * Every dependency flows through data (ids, names), so `pulumi destroy` removes
 * each route before its script, and each app before its policies before its token.
 */
export class AccessBridge extends pulumi.ComponentResource {
  /** Id of the front end's Access application; absent when frontendAud names one managed elsewhere. */
  public readonly frontendAppId: pulumi.Output<string | undefined>;
  /** AUD tag of the front end's app: the audience of the JWTs the Workers accept. */
  public readonly frontendAud: pulumi.Output<string>;
  /**
   * Id of the reusable policy that lets people in, on the front end's app and
   * every API's; with peoplePolicyIds, the first of them, which is attached first.
   */
  public readonly peoplePolicyId: pulumi.Output<string>;
  /** Id of the (first) API's Access application. */
  public readonly apiAppId: pulumi.Output<string>;
  /** AUD tag of the (first) API's app. */
  public readonly apiAud: pulumi.Output<string>;
  /** Name of the (first) API's Worker script; absent while a hand-made service token is being adopted. */
  public readonly workerName: pulumi.Output<string | undefined>;
  /** The route the (first) API's Worker serves, <frontendHostname><routePrefix>/*. */
  public readonly routePattern: pulumi.Output<string | undefined>;
  /** Id of the service token the (first) API's Worker presents. */
  public readonly serviceTokenId: pulumi.Output<string>;
  /** When the (first) API's service token expires (RFC 3339); renew it before then. */
  public readonly serviceTokenExpiresAt: pulumi.Output<string>;
  /** Version of the tokens' current client secrets; raise it to rotate. */
  public readonly serviceTokenSecretVersion: pulumi.Output<number>;
  /** Until when the (first) API's previous client secret keeps working after a rotation; absent before the first one. */
  public readonly previousSecretExpiresAt: pulumi.Output<string | undefined>;
  /** The JWKS (JSON) the (first) API verifies X-Access-Bridge-Identity with: Ed25519 public keys, each with its kid. */
  public readonly identityJwks: pulumi.Output<string>;
  /** Every API's route, Worker, app, token and JWKS, in the order given. */
  public readonly apis: pulumi.Output<ApiBridgeOutputs[]>;

  /** The front end's Access application; absent when frontendAud names one managed elsewhere. */
  public readonly frontendApp?: cloudflare.ZeroTrustAccessApplication;
  /** The reusable allow policy for people; absent when peoplePolicyIds attaches policies the account has. */
  public readonly peoplePolicy?: cloudflare.ZeroTrustAccessPolicy;
  /** Each API's Access application, in the order given. */
  public readonly apiApps: cloudflare.ZeroTrustAccessApplication[];
  /** Each API's Service Auth (non_identity) policy. */
  public readonly serviceAuthPolicies: cloudflare.ZeroTrustAccessPolicy[];
  /** Each API's service token. */
  public readonly serviceTokens: cloudflare.ZeroTrustAccessServiceToken[];
  /** Each API's proxy Worker; the first is missing while a hand-made token is being adopted. */
  public readonly workers: cloudflare.WorkersScript[];
  /** Each API's Worker route on the front end's zone. */
  public readonly routes: cloudflare.WorkersRoute[];

  constructor(name: string, args: AccessBridgeArgs, opts?: pulumi.ComponentResourceOptions) {
    // Checked before anything is registered, so bad arguments declare nothing.
    const resolved = resolveArgs(args, pulumi.getStack());
    const { config } = resolved;
    const plan = adoptionPlan(config.adopt, args.accountId, args.frontendZoneId);
    super("access-bridge:index:AccessBridge", name, {}, opts);

    const { accountId, sessionDuration, protect, alertEmails } = {
      ...config,
      accountId: resolved.accountId,
      alertEmails: resolved.alertEmails,
    };
    const base =
      args.namePrefix ?? componentNamePrefix(pulumi.getProject(), pulumi.getStack(), name);
    const names = frontendNames(base);
    // Protection is the caller's, through the options every child inherits;
    // an explicit argument still decides it for what must never be deleted.
    const guarded = (adopted?: Adoptable): pulumi.CustomResourceOptions => ({
      parent: this,
      ...(protect === undefined ? {} : { protect }),
      ...(adopted ? adoptionOptions(plan, adopted) : {}),
    });

    const { rules, policyIds } = resolved.people;
    this.peoplePolicy =
      rules === undefined
        ? undefined
        : new cloudflare.ZeroTrustAccessPolicy(
            `${name}-people-policy`,
            {
              accountId,
              name: resolved.afterChecks(names.peoplePolicy),
              decision: "allow",
              // A policy's session duration overrides its apps', and the provider
              // sends 24h when none is given, so the configured one must be here too.
              sessionDuration,
              ...rules,
            },
            guarded("peoplePolicy"),
          );
    const peoplePolicyIds = this.peoplePolicy ? [this.peoplePolicy.id] : policyIds;

    // With frontendAud the front end's app is another stack's: only its aud is needed here.
    this.frontendApp =
      resolved.frontendAud === undefined
        ? new cloudflare.ZeroTrustAccessApplication(
            `${name}-frontend-app`,
            {
              accountId,
              name: resolved.afterChecks(names.frontendApp),
              type: "self_hosted",
              domain: resolved.frontendHostname,
              sessionDuration,
              ...resolved.login,
              policies: peoplePolicyIds.map((id, n) => ({ id, precedence: n + 1 })),
            },
            guarded("frontendApp"),
          )
        : undefined;

    let bundle: WorkerBundle | undefined;
    const shared: Shared = {
      args: resolved,
      plan,
      peoplePolicyIds,
      frontendAud: resolved.frontendAud ?? this.frontendApp!.aud,
      base,
      bundle: () => (bundle ??= loadWorkerBundle()),
    };
    const apis = resolved.apis.map((api, n) =>
      this.declareApi(name, api, n === 0, shared, guarded),
    );

    if (alertEmails.length > 0) {
      // Every call through a Worker fails once its token expires; Cloudflare
      // warns these addresses ahead of it, and the alert says how to renew.
      new cloudflare.NotificationPolicy(
        `${name}-token-expiry-alert`,
        {
          accountId,
          name: resolved.afterChecks(names.tokenExpiryAlert),
          description: pulumi
            .all([accountId, pulumi.all(apis.map((a) => a.token.id))])
            .apply(([account, ids]) => expiryAlertDescription(account, ids)),
          alertType: "expiring_service_token_alert",
          enabled: true,
          mechanisms: { emails: alertEmails.map((id) => ({ id })) },
        },
        { parent: this },
      );
    }

    const first = apis[0]!;
    this.apiApps = apis.map((a) => a.app);
    this.serviceAuthPolicies = apis.map((a) => a.serviceAuthPolicy);
    this.serviceTokens = apis.map((a) => a.token);
    this.workers = apis.flatMap((a) => (a.worker ? [a.worker] : []));
    this.routes = apis.flatMap((a) => (a.route ? [a.route] : []));

    this.frontendAppId = pulumi.output(this.frontendApp?.id);
    this.frontendAud = pulumi.output(shared.frontendAud);
    this.peoplePolicyId = pulumi.output(peoplePolicyIds[0]!);
    this.apiAppId = first.app.id;
    this.apiAud = first.app.aud;
    this.workerName = pulumi.output(first.worker?.scriptName);
    this.routePattern = pulumi.output(first.route?.pattern);
    this.serviceTokenId = first.token.id;
    this.serviceTokenExpiresAt = first.token.expiresAt;
    this.serviceTokenSecretVersion = pulumi.output(
      resolved.apis[0]!.config.serviceTokenSecretVersion,
    );
    this.previousSecretExpiresAt = pulumi.output(first.previousSecretExpiry?.rfc3339);
    this.identityJwks = first.identityJwks;
    this.apis = pulumi.all(apis.map((a) => a.outputs));

    this.registerOutputs({
      frontendAppId: this.frontendAppId,
      frontendAud: this.frontendAud,
      peoplePolicyId: this.peoplePolicyId,
      apiAppId: this.apiAppId,
      apiAud: this.apiAud,
      workerName: this.workerName,
      routePattern: this.routePattern,
      serviceTokenId: this.serviceTokenId,
      serviceTokenExpiresAt: this.serviceTokenExpiresAt,
      serviceTokenSecretVersion: this.serviceTokenSecretVersion,
      previousSecretExpiresAt: this.previousSecretExpiresAt,
      identityJwks: this.identityJwks,
      apis: this.apis,
      frontendApp: this.frontendApp,
      peoplePolicy: this.peoplePolicy,
      apiApps: this.apiApps,
      serviceAuthPolicies: this.serviceAuthPolicies,
      serviceTokens: this.serviceTokens,
      workers: this.workers,
      routes: this.routes,
    });
  }

  /**
   * One API's side: its app, the Service Auth policy and token that let its
   * Worker in, the Worker with that token alone, and the route to it. The
   * first API's children keep the names a single-API component has always
   * had; the others carry their key.
   */
  private declareApi(
    name: string,
    api: ResolvedApi,
    isFirst: boolean,
    { args, plan, peoplePolicyIds, frontendAud, base, bundle }: Shared,
    guarded: (adopted?: Adoptable) => pulumi.CustomResourceOptions,
  ): ApiChildren {
    const { config } = args;
    const { accountId, frontendZoneId, frontendHostname, accessTeamDomain } = args;
    const { sessionDuration, serviceTokenDuration, serviceTokenRotationGraceHours } = config;
    const { identityKeyPrepublish, workerLogs, workerLogsSampleRate, analyticsDataset } = config;
    const { key, routePrefix, stripRoutePrefix, upstreamTimeoutMs } = api.config;
    // Each API rotates its own token and key, at the stack's versions unless its entry sets its own.
    const { serviceTokenSecretVersion, identityKeyVersion } = api.config;
    const names: ApiNames = apiNames(base, key);
    const child = (part: string) => (key === "" ? `${name}-${part}` : `${name}-${key}-${part}`);
    // Only the first API's resources can be adopted: the guide's set-up has one.
    const adoptable = (resource: Adoptable) => guarded(isFirst ? resource : undefined);
    const childOpts: pulumi.CustomResourceOptions = { parent: this };

    // The previous secret's deadline is computed once per secret version, so
    // that previews stay quiet between rotations.
    const previousSecretExpiry =
      serviceTokenSecretVersion > 1
        ? new time.Offset(
            child("previous-secret-expiry"),
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

    // A token of its own: a leaked secret reaches this API and no other. The
    // provider marks only the secret as sensitive; the client id is half of
    // the credential, so the state holds it encrypted too.
    const token = new cloudflare.ZeroTrustAccessServiceToken(
      child("service-token"),
      {
        accountId,
        name: args.afterChecks(names.serviceToken),
        duration: serviceTokenDuration,
        ...rotation,
      },
      { ...adoptable("serviceToken"), additionalSecretOutputs: ["clientId"] },
    );

    const serviceAuthPolicy = new cloudflare.ZeroTrustAccessPolicy(
      child("service-auth-policy"),
      {
        accountId,
        name: args.afterChecks(names.serviceAuthPolicy),
        decision: "non_identity",
        // Without it the provider sends 24h, which overrides the apps' length
        // and which an account that caps session length refuses at `up`.
        sessionDuration,
        includes: [{ serviceToken: { tokenId: token.id } }],
      },
      adoptable("serviceAuthPolicy"),
    );

    // Access answers preflights itself only when it has corsHeaders; with
    // `origin` the OPTIONS request bypasses Access instead. The API rejects
    // both at once, so each mode sends only its own setting. Leaving the other
    // out is enough to clear it when switching modes: neither is a computed
    // attribute, so an omitted one is planned as unset, not kept.
    const preflightSettings =
      api.corsHeaders !== undefined
        ? { corsHeaders: api.corsHeaders }
        : { optionsPreflightBypass: true };

    const app = new cloudflare.ZeroTrustAccessApplication(
      child("api-app"),
      {
        accountId,
        name: args.afterChecks(names.apiApp),
        type: "self_hosted",
        domain: api.hostname,
        sessionDuration,
        // An API is called by pages, not opened by people from the App Launcher.
        appLauncherVisible: false,
        ...preflightSettings,
        ...args.login,
        // The Service Auth policy first, so that the Worker's token never meets a login.
        policies: [
          { id: serviceAuthPolicy.id, precedence: 1 },
          ...peoplePolicyIds.map((id, n) => ({ id, precedence: n + 2 })),
        ],
      },
      adoptable("apiApp"),
    );

    // One key per version, named by it: raising the version adds a key instead
    // of replacing one, so the previous key can stay published for a while.
    // Each API has its own, so a statement signed for one is no good at another.
    const identityKey = (version: number) =>
      new tls.PrivateKey(child(`identity-key-v${version}`), { algorithm: "ED25519" }, childOpts);
    const signingKey = identityKey(identityKeyVersion);
    const nextKey = identityKeyPrepublish ? identityKey(identityKeyVersion + 1) : undefined;
    const previousKey = identityKeyVersion > 1 ? identityKey(identityKeyVersion - 1) : undefined;
    const rotated =
      identityKeyVersion > 1
        ? new time.Static(
            child("identity-key-rotated"),
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

    const pattern = pulumi.interpolate`${frontendHostname}${routePrefix}/*`;
    let worker: cloudflare.WorkersScript | undefined;
    if (!isFirst || plan.declaresWorker) {
      const { content, moduleName, compatibilityDate } = bundle();
      const suffix = new random.RandomId(child("worker-suffix"), { byteLength: 3 }, childOpts);
      worker = new cloudflare.WorkersScript(
        child("worker"),
        {
          accountId,
          scriptName: suffix.hex.apply((hex) => workerScriptName(names.workerPrefix, hex)),
          content: args.afterChecks(content),
          mainModule: moduleName,
          compatibilityDate,
          bindings: buildBindings({
            clientId: pulumi.secret(token.clientId),
            clientSecret: pulumi.secret(token.clientSecret),
            identitySigningKey: pulumi.secret(signingKey.privateKeyPemPkcs8),
            apiHostname: api.hostname,
            accessTeamDomain,
            accessAud: frontendAud,
            routePrefix,
            stripRoutePrefix,
            upstreamTimeoutMs,
            analyticsDataset,
          }),
          observability: buildObservability(workerLogs, workerLogsSampleRate),
        },
        childOpts,
      );

      // A Worker holding a service token must be reachable only through its route.
      new cloudflare.WorkersScriptSubdomain(
        child("worker-subdomain"),
        {
          accountId,
          scriptName: worker.scriptName,
          enabled: args.afterChecks(false),
          previewsEnabled: false,
        },
        childOpts,
      );
    }

    // An adopted route keeps pointing at its own script on the adopting update
    // (its inputs are ignored then), even when this Worker is not declared
    // yet; the update after adoption moves it to this Worker in place.
    const adoptingRoute = isFirst && plan.imports.route !== undefined;
    const route =
      worker !== undefined || adoptingRoute
        ? new cloudflare.WorkersRoute(
            child("route"),
            {
              zoneId: frontendZoneId,
              pattern: args.afterChecks(pattern),
              // The script's own output: the route is created once the upload has finished.
              ...(worker ? { script: worker.scriptName } : {}),
            },
            adoptable("route"),
          )
        : undefined;

    const outputs = pulumi
      .all([
        api.hostname,
        route?.pattern,
        worker?.scriptName,
        app.id,
        app.aud,
        token.id,
        token.expiresAt,
        identityJwks,
      ])
      .apply(
        ([hostname, routePattern, workerName, appId, aud, serviceTokenId, expiresAt, jwks]) => ({
          hostname,
          ...(routePattern === undefined ? {} : { routePattern }),
          ...(workerName === undefined ? {} : { workerName }),
          appId,
          aud,
          serviceTokenId,
          serviceTokenExpiresAt: expiresAt,
          identityJwks: jwks,
        }),
      );

    return {
      app,
      serviceAuthPolicy,
      token,
      previousSecretExpiry,
      worker,
      route,
      identityJwks,
      outputs,
    };
  }
}
