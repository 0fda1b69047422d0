/**
 * The stack's validated config as the component's arguments. A key set with
 * `--secret` goes in as a secret input, so every resource that takes its value
 * holds it encrypted in the state, and every value derived from it too.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AccessBridgeArgs, ApiArgs } from "./access-bridge";
import type { BridgeConfig, ConfigKey } from "./config";

export function stackArgs(
  config: BridgeConfig,
  secretKeys: readonly ConfigKey[],
  namePrefix: string,
): AccessBridgeArgs {
  const secret = new Set<string>(secretKeys);
  const input = <T>(value: T, ...keys: ConfigKey[]): pulumi.Input<T> =>
    keys.some((key) => secret.has(key)) ? (pulumi.secret(value) as pulumi.Output<T>) : value;

  // Each API's values come from its entry in `apis` or from the stack's key.
  const apis: ApiArgs[] = config.apis.map((api) => ({
    hostname: input(api.hostname, "apiHostname", "apis"),
    routePrefix: api.routePrefix,
    preflight: api.preflight,
    corsAllowedOrigins: input(api.corsAllowedOrigins, "corsAllowedOrigins", "apis"),
    corsAllowedMethods: input(api.corsAllowedMethods, "corsAllowedMethods", "apis"),
    corsAllowedHeaders: input(api.corsAllowedHeaders, "corsAllowedHeaders", "apis"),
    corsAllowCredentials: api.corsAllowCredentials,
    corsMaxAge: api.corsMaxAge,
    stripRoutePrefix: api.stripRoutePrefix,
    upstreamTimeoutMs: api.upstreamTimeoutMs,
  }));

  return {
    accountId: input(config.accountId, "accountId"),
    frontendZoneId: input(config.frontendZoneId, "frontendZoneId"),
    frontendHostname: input(config.frontendHostname, "frontendHostname"),
    ...(config.frontendAud === undefined
      ? {}
      : { frontendAud: input(config.frontendAud, "frontendAud") }),
    apis,
    accessTeamDomain: input(config.accessTeamDomain, "accessTeamDomain"),
    allowedEmails: input(config.allowedEmails, "allowedEmails"),
    allowedEmailDomains: input(config.allowedEmailDomains, "allowedEmailDomains"),
    sessionDuration: config.sessionDuration,
    serviceTokenDuration: config.serviceTokenDuration,
    serviceTokenSecretVersion: config.serviceTokenSecretVersion,
    serviceTokenRotationGraceHours: config.serviceTokenRotationGraceHours,
    ...(config.protect === undefined ? {} : { protect: config.protect }),
    alertEmails: config.alertEmails.map((email) => input(email, "alertEmails")),
    identityKeyVersion: config.identityKeyVersion,
    identityKeyPrepublish: config.identityKeyPrepublish,
    adopt: config.adopt,
    namePrefix,
  };
}
