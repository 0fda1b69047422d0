/**
 * Adopting a set-up made by hand (the guide's): each resource named in `adopt`
 * is imported instead of created. Pulumi refuses an import whose declared
 * inputs differ from what exists, and a hand-made set-up differs in names,
 * policies and CORS settings, so the adopting update imports them as they are
 * (every declared input is ignored for that update) and changes nothing on
 * Cloudflare; the next update, with `adopt` removed, brings them to what the
 * stack declares, in place.
 */
import type * as pulumi from "@pulumi/pulumi";
import { ConfigError, projectName, type AdoptIds } from "./config";

export type Adoptable =
  "frontendApp" | "apiApp" | "peoplePolicy" | "serviceAuthPolicy" | "serviceToken" | "route";

export interface AdoptionPlan {
  /** The `import` id of each adopted resource, in the provider's format. */
  imports: Partial<Record<Adoptable, string>>;
  /**
   * Whether the Worker is declared on this update. Cloudflare never returns a
   * service token's secret, so while the token is being adopted the Worker,
   * which needs it, waits for the next update, which rotates the secret.
   */
  declaresWorker: boolean;
}

/**
 * Flags an import reads back as `false` where state created from config holds
 * null, so Pulumi reports that the inputs to import do not match although
 * nothing differs; the provider's own import tests ignore exactly these
 * (zero_trust_access_application and zero_trust_access_policy resource_test.go,
 * ImportStateVerifyIgnore).
 */
export const importedAppFlags = [
  "serviceAuth401Redirect",
  "enableBindingCookie",
  "optionsPreflightBypass",
  "autoRedirectToIdentity",
] as const;
export const importedPolicyFlags = [
  "approvalRequired",
  "isolationRequired",
  "purposeJustificationRequired",
] as const;

/** The inputs each adopted resource takes from Cloudflare rather than from the stack, for the adopting update. */
export const adoptedInputs: Record<Adoptable, string[]> = {
  frontendApp: [
    "name",
    "domain",
    "type",
    "sessionDuration",
    "allowedIdps",
    "policies",
    ...importedAppFlags,
  ],
  apiApp: [
    "name",
    "domain",
    "type",
    "sessionDuration",
    "appLauncherVisible",
    "corsHeaders",
    "allowedIdps",
    "policies",
    ...importedAppFlags,
  ],
  peoplePolicy: [
    "name",
    "decision",
    "includes",
    "requires",
    "excludes",
    "sessionDuration",
    ...importedPolicyFlags,
  ],
  serviceAuthPolicy: ["name", "decision", "includes", "sessionDuration", ...importedPolicyFlags],
  serviceToken: ["name", "duration", "clientSecretVersion", "previousClientSecretExpiresAt"],
  route: ["pattern", "script"],
};

const accountScoped: [Adoptable, keyof AdoptIds, (account: string, id: string) => string][] = [
  // Import id formats: the "Import" section of each resource in @pulumi/cloudflare.
  ["frontendApp", "frontendAppId", (account, id) => `accounts/${account}/${id}`],
  ["apiApp", "apiAppId", (account, id) => `accounts/${account}/${id}`],
  ["peoplePolicy", "peoplePolicyId", (account, id) => `${account}/${id}`],
  ["serviceAuthPolicy", "serviceAuthPolicyId", (account, id) => `${account}/${id}`],
  ["serviceToken", "serviceTokenId", (account, id) => `accounts/${account}/${id}`],
];

/**
 * What this update adopts. Import ids are built from the account and zone
 * ids, so adopting needs those as plain strings, not another resource's outputs.
 */
export function adoptionPlan(
  adopt: AdoptIds,
  accountId: pulumi.Input<string>,
  zoneId: pulumi.Input<string>,
): AdoptionPlan {
  const imports: AdoptionPlan["imports"] = {};
  const problems: string[] = [];
  for (const [resource, key, importId] of accountScoped) {
    const id = adopt[key];
    if (id === undefined) continue;
    if (typeof accountId !== "string") {
      problems.push(
        `${projectName}:adopt: ${key} needs accountId as a plain string, to build the import id`,
      );
    } else {
      imports[resource] = importId(accountId, id);
    }
  }
  if (adopt.routeId !== undefined) {
    if (typeof zoneId !== "string") {
      problems.push(
        `${projectName}:adopt: routeId needs frontendZoneId as a plain string, to build the import id`,
      );
    } else {
      imports.route = `${zoneId}/${adopt.routeId}`;
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { imports, declaresWorker: imports.serviceToken === undefined };
}

/** The resource options that adopt one resource, or none when it is not adopted. */
export function adoptionOptions(
  plan: AdoptionPlan,
  resource: Adoptable,
): pulumi.CustomResourceOptions {
  const id = plan.imports[resource];
  return id === undefined ? {} : { import: id, ignoreChanges: adoptedInputs[resource] };
}
