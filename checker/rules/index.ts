/**
 * The provider contract: what Cloudflare's Pulumi provider checks before it
 * plans anything (the bridged Terraform provider's validators, run by
 * `pulumi preview` and `pulumi up` but never by Pulumi's mocks), and what the
 * Cloudflare API is documented to refuse at `up`.
 *
 * Each rule reads the inputs of one declared resource, or of the whole
 * declaration where a rule spans resources, and says what is wrong in the
 * provider's own words. Inputs are the Pulumi (camelCase) names the program
 * declares; messages use the Terraform attribute names the provider prints.
 * The rules live with their resource's family, one file each.
 *
 * Config mistakes are refused earlier, by `validateConfig`, naming the key;
 * this is the net under it, so a change to the program that would break a
 * real preview fails the tests instead.
 */
import { kindOf, type ResourceKind } from "../../infra/resource-types";
import { appRules } from "./app";
import type { Inputs } from "./helpers";
import { notificationRules } from "./notification";
import { policyRules } from "./policy";
import { routeRules } from "./route";
import { scriptRules } from "./script";
import { subdomainRules } from "./subdomain";
import { tokenRules } from "./token";

export { replaceTriggers } from "./replace-triggers";
export { routeHost } from "./route";

/** One declared resource as the contract reads it. */
export interface DeclaredInputs {
  type: string;
  name: string;
  /** The id the resource was given, for rules that follow references between resources. */
  id?: string;
  inputs: Record<string, unknown>;
  /** What the provider answered (e.g. an app's aud), where known. */
  state?: Record<string, unknown>;
}

export interface Violation {
  /** The rule's id, e.g. `APP-5`. */
  rule: string;
  /** Logical name of the resource that breaks it. */
  resource: string;
  /**
   * `preview`: the provider refuses it before planning; `apply`: the API
   * refuses it at `up`; `runtime`: Cloudflare takes it, and Access then does
   * what the declaration almost certainly did not mean.
   */
  stage: Stage;
  message: string;
  source: string;
}

type Stage = "preview" | "apply" | "runtime";

export interface Rule {
  id: string;
  kind: ResourceKind;
  stage: Stage;
  source: string;
  /** What is wrong with `inputs`; `all` is the whole declaration, for rules that span resources. */
  check(inputs: Inputs, all: readonly DeclaredInputs[]): string[];
}

function rules(now: Date): Rule[] {
  return [
    ...appRules,
    ...policyRules,
    ...tokenRules,
    ...scriptRules(now),
    ...subdomainRules,
    ...routeRules,
    ...notificationRules,
  ];
}

/** Every rule, for listing (the ids and sources the verify command prints). */
export function contractRules(
  now: Date = new Date(),
): readonly Pick<Rule, "id" | "kind" | "stage" | "source">[] {
  return rules(now);
}

/**
 * Holds every declared resource to every rule that applies to its type.
 * `now` is the clock the compatibility date is compared with.
 */
export function checkContract(
  resources: readonly DeclaredInputs[],
  now: Date = new Date(),
): Violation[] {
  const all = rules(now);
  return resources.flatMap((resource) => {
    const kind = kindOf(resource.type);
    return all
      .filter((rule) => rule.kind === kind)
      .flatMap((rule) =>
        rule.check(resource.inputs, resources).map((message) => ({
          rule: rule.id,
          resource: resource.name,
          stage: rule.stage,
          message,
          source: rule.source,
        })),
      );
  });
}

/** Thrown by the recorder when a declaration breaks the contract. */
export class ContractError extends Error {
  constructor(readonly violations: Violation[]) {
    super(
      `the declaration breaks the Cloudflare provider's contract (${violations.length}):\n` +
        violations.map(formatViolation).join("\n"),
    );
    this.name = "ContractError";
  }
}

/** One line per violation: rule, resource, when it fails, what is wrong, and the source. */
export function formatViolation(v: Violation): string {
  const when = {
    preview: "fails at pulumi preview",
    apply: "fails at pulumi up",
    runtime: "at runtime",
  };
  return `  - ${v.rule} ${v.resource} (${when[v.stage]}): ${v.message} [${v.source}]`;
}
