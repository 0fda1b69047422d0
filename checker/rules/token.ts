/** The Access service token's rules: its secret's rotation and its lifetime. */
import type { Rule } from ".";
import {
  exactlyOneScope,
  FV,
  goDuration,
  isSet,
  pair,
  required,
  TFP,
  type Attribute,
  type Inputs,
} from "./helpers";

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

const secretVersion: Attribute = ["clientSecretVersion", "client_secret_version"];
const previousExpiry: Attribute = [
  "previousClientSecretExpiresAt",
  "previous_client_secret_expires_at",
];

/** FV's AlsoRequires, with the summary (Invalid Attribute Combination) its diagnostic carries. */
const combination =
  (a: Attribute, b: Attribute) =>
  (i: Inputs): string[] =>
    pair("alsoRequires", i, a, b).map((problem) => `Invalid Attribute Combination. ${problem}`);

export const tokenRules: readonly Rule[] = [
  {
    id: "TOK-1",
    kind: "token",
    stage: "preview",
    source: `${TFP}/zero_trust_access_service_token/schema.go L63-73; ${FV} resourcevalidator/also_requires.go`,
    check: combination(secretVersion, previousExpiry),
  },
  {
    id: "TOK-2",
    kind: "token",
    stage: "preview",
    source: `${TFP}/zero_trust_access_service_token/schema.go L53-62; ${FV} resourcevalidator/also_requires.go`,
    check: combination(previousExpiry, secretVersion),
  },
  {
    id: "TOK-3",
    kind: "token",
    stage: "preview",
    source: `${TFP}/zero_trust_access_service_token/schema.go L56 (timetypes.RFC3339)`,
    check: (i) => {
      const at = i.previousClientSecretExpiresAt;
      return !isSet(at) || (typeof at === "string" && RFC3339.test(at) && !isNaN(Date.parse(at)))
        ? []
        : [
            `Invalid RFC3339 String Value: previous_client_secret_expires_at ${JSON.stringify(at)} is not valid RFC3339 string format`,
          ];
    },
  },
  {
    id: "TOK-4",
    kind: "token",
    stage: "preview",
    source: `${TFP}/zero_trust_access_service_token/schema.go L80-83`,
    check: (i) => required(i, { name: "name" }),
  },
  {
    id: "TOK-6",
    kind: "token",
    stage: "apply",
    source:
      "https://developers.cloudflare.com/api/resources/zero_trust/subresources/access/subresources/service_tokens/methods/create/ (duration: Go duration or forever)",
    check: (i) =>
      !isSet(i.duration) ||
      i.duration === "forever" ||
      (typeof i.duration === "string" && goDuration.test(i.duration))
        ? []
        : [`duration ${JSON.stringify(i.duration)} is neither a duration like 8760h nor "forever"`],
  },
  {
    id: "TOK-8",
    kind: "token",
    stage: "apply",
    source: `${TFP}/zero_trust_access_service_token/schema.go L39-48 (account_id, else zone_id)`,
    check: (i) => exactlyOneScope(i),
  },
];
