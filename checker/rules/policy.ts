/** The Access policy's rules: who a policy admits, and for how long. */
import { policyDecisions } from "../../infra/cloudflare";
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
    source: `${TFP}/zero_trust_access_policy/schema.go L261-287, L410-418`,
    check: (i) =>
      rulesOf(i).flatMap(([, rule]) =>
        (
          [
            ["email", "email", "email.email"],
            ["emailDomain", "domain", "email_domain.domain"],
            ["serviceToken", "tokenId", "service_token.token_id"],
          ] as const
        ).flatMap(([selector, field, tf]) => {
          const value = rule[selector];
          if (!isSet(value)) return [];
          return isObject(value) && isSet(value[field]) && value[field] !== ""
            ? []
            : [`Missing Configuration for Required Attribute: "${tf}" must be specified`];
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
