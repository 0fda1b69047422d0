/**
 * What the rules of every resource family share: where they cite, how they
 * read inputs, and the provider's validators they reproduce, each written once
 * so a message keeps the provider's wording wherever the validator recurs.
 */
import { kindOf, type ResourceKind } from "../../infra/resource-types";
import type { DeclaredInputs } from ".";

export type Inputs = Record<string, unknown>;

export const TFP = "cloudflare/terraform-provider-cloudflare@v5.22.0 internal/services";
export const FV = "hashicorp/terraform-plugin-framework-validators@v0.17.0";

export const isSet = (value: unknown): boolean => value !== undefined && value !== null;
export const isObject = (value: unknown): value is Inputs =>
  typeof value === "object" && value !== null && !Array.isArray(value);
export const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** Go's `time.ParseDuration` syntax, the regex the provider checks session durations with. */
export const goDuration =
  /^(?:0|[-+]?(\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h)(?:(\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))*)$/;

/** Problems for each required attribute that is missing, in the provider's words. */
export function required(inputs: Inputs, attributes: Record<string, string>): string[] {
  return Object.entries(attributes)
    .filter(([input]) => !isSet(inputs[input]) || inputs[input] === "")
    .map(([, tf]) => `Missing Configuration for Required Attribute: "${tf}" must be specified`);
}

/** FV's OneOf on a string, compared case-insensitively as the provider's validators do. */
export function oneOfIgnoringCase(
  value: unknown,
  allowed: readonly string[],
  tf: string,
): string[] {
  if (!isSet(value)) return [];
  const ok = typeof value === "string" && allowed.includes(value.toLowerCase());
  return ok
    ? []
    : [
        `Attribute ${tf} value must be one of: [${allowed.map((a) => `"${a}"`).join(" ")}], got: ${JSON.stringify(value)}`,
      ];
}

/** An attribute as the program names it and as the provider prints it. */
export type Attribute = readonly [input: string, tf: string];

/**
 * FV's validators between two attributes of one object, in the provider's
 * words: `exactlyOne` (ExactlyOneOf) fails when neither or both are set,
 * `conflicts` (ConflictsWith) when both are, `alsoRequires` (AlsoRequires)
 * when `a` is set without `b`. `false` counts as set, as it does for the
 * provider; an absent object has nothing to check.
 */
export function pair(
  shape: "exactlyOne" | "conflicts" | "alsoRequires",
  object: Inputs | undefined,
  [a, tfA]: Attribute,
  [b, tfB]: Attribute,
): string[] {
  if (object === undefined) return [];
  const count = [a, b].filter((k) => isSet(object[k])).length;
  switch (shape) {
    case "conflicts":
      return count === 2
        ? [`Attribute "${tfA}" cannot be specified when "${tfB}" is specified`]
        : [];
    case "alsoRequires":
      return isSet(object[a]) && !isSet(object[b])
        ? [`Attribute "${tfB}" must be specified when "${tfA}" is specified`]
        : [];
    case "exactlyOne": {
      if (count === 1) return [];
      const what = count === 0 ? "No attribute specified" : "2 attributes specified";
      return [`${what} when one (and only one) of [${tfA},${tfB}] is required`];
    }
  }
}

/** The API's scope rule for resources that live in an account or a zone. */
export function exactlyOneScope(inputs: Inputs): string[] {
  const count = [inputs.accountId, inputs.zoneId].filter(isSet).length;
  return count === 1 ? [] : ["exactly one of account_id or zone_id must be set"];
}

/** The declared resources of a kind whose inputs match, for rules that allow one of a kind. */
export function sharing(
  all: readonly DeclaredInputs[],
  kind: ResourceKind,
  matches: (inputs: Inputs) => boolean,
): DeclaredInputs[] {
  return all.filter((r) => kindOf(r.type) === kind && matches(r.inputs));
}

/** An app's public hostname, lower-cased; undefined when it has none as plain text. */
export function domainOf(inputs: Inputs): string | undefined {
  return typeof inputs.domain === "string" && inputs.domain !== ""
    ? inputs.domain.toLowerCase()
    : undefined;
}
