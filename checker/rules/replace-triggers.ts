import type { ResourceKind } from "../../infra/resource-types";

/**
 * Inputs whose change makes the provider replace the resource instead of
 * updating it (RequiresReplace), from the reference's replace table; a change
 * of logical name or parent replaces any resource.
 */
export const replaceTriggers: Partial<Record<ResourceKind, readonly string[]>> = {
  // TFP zero_trust_access_application/schema.go: account_id, zone_id RequiresReplace
  app: ["accountId", "zoneId"],
  // TFP zero_trust_access_policy/schema.go: account_id RequiresReplace
  policy: ["accountId"],
  // TFP zero_trust_access_service_token/schema.go: account_id, zone_id RequiresReplace
  token: ["accountId", "zoneId"],
  // TFP workers_script/schema.go: script_name, account_id RequiresReplace; observability
  // and bindings carry no plan modifier, so adding or changing them updates in place
  script: ["accountId", "scriptName"],
  // TFP workers_script_subdomain/schema.go: account_id, script_name RequiresReplace
  subdomain: ["accountId", "scriptName"],
  // TFP workers_route/schema.go: zone_id RequiresReplace
  route: ["zoneId"],
  // TFP notification_policy/schema.go: account_id RequiresReplace
  notification: ["accountId"],
  // tls_private_key, random_id and the time resources replace on any change of their inputs
  privateKey: ["algorithm", "ecdsaCurve", "rsaBits"],
  static: ["triggers", "rfc3339"],
  randomId: ["byteLength", "keepers", "prefix"],
  offset: ["triggers", "offsetHours", "offsetDays", "offsetMinutes", "baseRfc3339"],
};
