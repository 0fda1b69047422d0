/** The Access policy's rules: who a policy admits, and for how long. */
import { policyDecisions } from "../../infra/cloudflare";
import {
  authMethods,
  otherProviderSelectors,
  peopleSelectors,
  type Selector,
} from "../../infra/people-rules";
import { kindOf } from "../../infra/resource-types";
import type { DeclaredInputs, Rule } from ".";
import {
  goDuration,
  isObject,
  isSet,
  listOf,
  oneOfIgnoringCase,
  required,
  TFP,
  type Inputs,
} from "./helpers";

export const policyRules: readonly Rule[] = [
  {
    id: "POL-1",
    kind: "policy",
    stage: "preview",
    source: `${TFP}/zero_trust_access_policy/schema.go L41-61`,
    check: (i) => required(i, { accountId: "account_id", decision: "decision", name: "name" }),
  },
  {
    id: "POL-2",
    kind: "policy",
    stage: "preview",
    source: `${TFP}/zero_trust_access_policy/schema.go L46-57`,
    check: (i) => oneOfIgnoringCase(i.decision, policyDecisions, "decision"),
  },
  {
    id: "POL-3",
    kind: "policy",
    stage: "preview",
    source: `${TFP}/zero_trust_access_policy/schema.go L174; internal/customvalidator/object_size_at_most_validator.go L22-40`,
    check: (i) =>
      rulesOf(i).flatMap(([list, rule]) => {
        const selectors = Object.values(rule).filter(isSet).length;
        return selectors > 1
          ? [`Attribute ${list}[Value(...)] must contain at most 1 elements, got: ${selectors}`]
          : [];
      }),
  },
  {
    id: "POL-4",
    kind: "policy",
    stage: "preview",
    source: `${TFP}/zero_trust_access_policy/schema.go L261-287, L410-418 (and every selector's Required attributes in the include, require and exclude blocks)`,
    check: (i) =>
      rulesOf(i).flatMap(([, rule]) =>
        Object.entries(selectorsWithFields).flatMap(([selector, { tf, fields }]) => {
          const value = rule[selector];
          if (!isSet(value)) return [];
          return Object.entries(fields)
            .filter(([, field]) => field.required)
            .filter(
              ([field]) =>
                !(isObject(value) && isSet(value[field]) && String(value[field]).trim() !== ""),
            )
            .map(
              ([, field]) =>
                `Missing Configuration for Required Attribute: "${tf}.${field.tf}" must be specified`,
            );
        }),
      ),
  },
  {
    id: "POL-5",
    kind: "policy",
    stage: "apply",
    source: `${TFP}/zero_trust_access_policy/schema.go L162-167 (no validator; the API parses it)`,
    check: (i) =>
      !isSet(i.sessionDuration) ||
      (typeof i.sessionDuration === "string" && goDuration.test(i.sessionDuration))
        ? []
        : [
            `session_duration ${JSON.stringify(i.sessionDuration)} is not a duration the API accepts`,
          ],
  },

  {
    id: "POL-8",
    kind: "policy",
    stage: "apply",
    source:
      "https://developers.cloudflare.com/api/resources/zero_trust/subresources/access/subresources/policies/methods/create/ (each rule is one of the rule types, each named by its selector)",
    check: (i) =>
      rulesOf(i).flatMap(([list, rule], n) =>
        selectorsOf(rule).length === 0
          ? [`a rule of ${list} (${n}) has no selector, which the API takes as no rule type at all`]
          : [],
      ),
  },
  {
    id: "POL-9",
    kind: "policy",
    stage: "preview",
    source: `${TFP}/zero_trust_access_policy/schema.go (the selectors the include, require and exclude blocks declare)`,
    check: (i) =>
      rulesOf(i).flatMap(([list, rule]) =>
        selectorsOf(rule)
          .filter((selector) => !knownSelectors.includes(selector))
          .map(
            (selector) =>
              `An argument named "${selector}" is not expected here: it is not a selector of the provider's ${list} rules`,
          ),
      ),
  },
  {
    id: "POL-10",
    kind: "policy",
    stage: "apply",
    source:
      "https://developers.cloudflare.com/cloudflare-one/policies/access/mfa-requirements/ (Access follows RFC 8176, https://datatracker.ietf.org/doc/html/rfc8176#section-2)",
    check: (i) =>
      rulesOf(i).flatMap(([list, rule]) => {
        const method = isObject(rule.authMethod) ? rule.authMethod.authMethod : undefined;
        return typeof method === "string" && !(authMethods as readonly string[]).includes(method)
          ? [
              `${list} auth_method.auth_method ${JSON.stringify(method)} is not an RFC 8176 authentication method (${authMethods.join(", ")})`,
            ]
          : [];
      }),
  },
  {
    id: "POL-11",
    kind: "policy",
    stage: "apply",
    source:
      "https://developers.cloudflare.com/api/resources/zero_trust/subresources/access/subresources/policies/methods/create/ (include is required: rules of which a user needs to meet one)",
    check: (i) =>
      listOf(i.includes).length === 0
        ? ["the policy has no include rule, so it admits nobody, and the API requires include"]
        : [],
  },
  {
    id: "POL-12",
    kind: "policy",
    stage: "runtime",
    source: `${TFP}/zero_trust_access_policy/schema.go (include: "A user needs to meet only one of the Include rules"; everyone: "matches on all users")`,
    check: (i) => {
      const includes = listOf(i.includes).filter(isObject);
      const everyone = includes.some((r) => isSet(r.everyone));
      const excluded = listOf(i.excludes).some((r) => isObject(r) && isSet(r.everyone));
      return [
        ...(everyone && includes.length > 1
          ? [
              `include holds everyone beside ${includes.length - 1} other rule(s): everyone matches every user, so the others change nothing`,
            ]
          : []),
        ...(excluded ? ["exclude holds everyone, so the policy admits nobody"] : []),
      ];
    },
  },

  {
    id: "POL-7",
    kind: "policy",
    stage: "apply",
    source:
      "https://github.com/cloudflare/terraform-provider-cloudflare/issues/6094 (a policy's session_duration, 24h when unset, overrides its apps'); https://github.com/cloudflare/terraform-provider-cloudflare/pull/7221 (accounts that cap session length refuse the default)",
    check: (i, all) => {
      if (!isSet(i.sessionDuration)) {
        return [
          "session_duration is unset, so the provider sends 24h: it overrides the apps' session length, and an account that caps session length refuses it",
        ];
      }
      return appsUsing(i, all)
        .filter((app) => isSet(app.inputs.sessionDuration))
        .filter((app) => app.inputs.sessionDuration !== i.sessionDuration)
        .map(
          (app) =>
            `session_duration ${JSON.stringify(i.sessionDuration)} overrides ${JSON.stringify(app.inputs.sessionDuration)} of the app ${app.name} that uses it`,
        );
    },
  },
];

/** Every selector whose fields the provider checks: the people selectors, and the Service Auth policy's. */
const selectorsWithFields: Record<string, Selector> = {
  ...peopleSelectors,
  serviceToken: { tf: "service_token", fields: { tokenId: { tf: "token_id", required: true } } },
};

/** Every selector the provider's schema declares for a rule. */
const knownSelectors = [...Object.keys(peopleSelectors), ...Object.keys(otherProviderSelectors)];

/** The selectors a rule sets. */
const selectorsOf = (rule: Inputs): string[] => Object.keys(rule).filter((k) => isSet(rule[k]));

/** The `include`, `exclude` and `require` rules of a policy, each with its list's name. */
function rulesOf(inputs: Inputs): [string, Inputs][] {
  return (
    [
      ["includes", "include"],
      ["excludes", "exclude"],
      ["requires", "require"],
    ] as const
  ).flatMap(([input, tf]) =>
    listOf(inputs[input]).map((rule): [string, Inputs] => [tf, isObject(rule) ? rule : {}]),
  );
}

/** The declared apps that list a policy among theirs, by the policy's id. */
function appsUsing(policy: Inputs, all: readonly DeclaredInputs[]): DeclaredInputs[] {
  const id = all.find((r) => r.inputs === policy)?.id;
  if (id === undefined) return [];
  return all.filter(
    (r) =>
      kindOf(r.type) === "app" && listOf(r.inputs.policies).some((p) => isObject(p) && p.id === id),
  );
}
