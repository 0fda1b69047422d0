/**
 * The people policy's rules: Cloudflare's selectors, one table of them, and
 * the checks that refuse a rule the provider or the API would refuse (or that
 * is almost certainly a mistake) before anything is declared. The offline
 * checker's provider rules read the same table, so the two cannot disagree.
 *
 * Vocabulary: @pulumi/cloudflare 6.22.1 `types/input.d.ts`
 * (ZeroTrustAccessPolicyInclude, ...Require, ...Exclude: the same selectors in
 * all three, camelCase) and the provider's schema
 * (cloudflare/terraform-provider-cloudflare internal/services/
 * zero_trust_access_policy/schema.go: which fields are `Required`).
 */
import { isIP } from "node:net";
import type { PeopleRule, PeopleRules } from "./access-bridge-args";
import { closestOf } from "./did-you-mean";
import {
  checkEmail,
  checkEmailDomain,
  NOT_JSON,
  quote,
  structured,
  type Checked,
} from "./validate";

/** A selector's field: its Terraform name, and whether the provider requires it. */
interface Field {
  tf: string;
  required: boolean;
}

/** A selector: its Terraform name and its fields, by their Pulumi (camelCase) names. */
export interface Selector {
  tf: string;
  fields: Record<string, Field>;
}

const required = (tf: string): Field => ({ tf, required: true });
const optional = (tf: string): Field => ({ tf, required: false });
const idp = { identityProviderId: required("identity_provider_id") };

/** Every selector peopleRules takes, as the provider names it and its fields. */
export const peopleSelectors = {
  email: { tf: "email", fields: { email: required("email") } },
  emailDomain: { tf: "email_domain", fields: { domain: required("domain") } },
  emailList: { tf: "email_list", fields: { id: required("id") } },
  everyone: { tf: "everyone", fields: {} },
  group: { tf: "group", fields: { id: required("id") } },
  githubOrganization: {
    tf: "github_organization",
    fields: { name: required("name"), team: optional("team"), ...idp },
  },
  gsuite: { tf: "gsuite", fields: { email: required("email"), ...idp } },
  okta: { tf: "okta", fields: { name: required("name"), ...idp } },
  azureAd: { tf: "azure_ad", fields: { id: required("id"), ...idp } },
  saml: {
    tf: "saml",
    fields: {
      attributeName: required("attribute_name"),
      attributeValue: required("attribute_value"),
      ...idp,
    },
  },
  oidc: {
    tf: "oidc",
    fields: { claimName: required("claim_name"), claimValue: required("claim_value"), ...idp },
  },
  loginMethod: { tf: "login_method", fields: { id: required("id") } },
  authMethod: { tf: "auth_method", fields: { authMethod: required("auth_method") } },
  devicePosture: {
    tf: "device_posture",
    fields: { integrationUid: required("integration_uid"), accountId: optional("account_id") },
  },
  geo: { tf: "geo", fields: { countryCode: required("country_code") } },
  ip: { tf: "ip", fields: { ip: required("ip") } },
  ipList: { tf: "ip_list", fields: { id: required("id") } },
  certificate: { tf: "certificate", fields: {} },
  commonName: { tf: "common_name", fields: { commonName: required("common_name") } },
} as const satisfies Record<string, Selector>;

export type PeopleSelector = keyof typeof peopleSelectors;
export const peopleSelectorNames = Object.keys(peopleSelectors) as PeopleSelector[];

/**
 * Selectors the provider knows that peopleRules does not take, each with why:
 * service tokens are the Service Auth policy's (a token in an allow policy
 * still meets the login page), and the rest are left for a later need.
 */
export const otherProviderSelectors: Record<string, string> = {
  serviceToken: "service tokens are admitted by each API's Service Auth policy, not by people",
  anyValidServiceToken:
    "service tokens are admitted by each API's Service Auth policy, not by people",
  authContext: "peopleRules does not take it",
  cloudflareAccountMember: "peopleRules does not take it",
  externalEvaluation: "peopleRules does not take it",
  linkedAppToken: "peopleRules does not take it",
  userRiskScore: "peopleRules does not take it",
};

/**
 * The authentication methods Access matches: "Cloudflare Access follows RFC
 * 8176, Authentication Method Reference Values"
 * (https://developers.cloudflare.com/cloudflare-one/policies/access/mfa-requirements/),
 * whose registry's values are these (https://datatracker.ietf.org/doc/html/rfc8176#section-2).
 */
export const authMethods = [
  "face",
  "fpt",
  "geo",
  "hwk",
  "iris",
  "kba",
  "mca",
  "mfa",
  "otp",
  "pin",
  "pwd",
  "rba",
  "retina",
  "sc",
  "sms",
  "swk",
  "tel",
  "user",
  "vbm",
  "wia",
] as const;

/** The lists of a policy, as peopleRules and the provider's Pulumi inputs name them. */
export const ruleLists = [
  ["include", "includes"],
  ["require", "requires"],
  ["exclude", "excludes"],
] as const;
export type RuleList = (typeof ruleLists)[number][0];

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const example = `e.g. {"include": [{"emailDomain": {"domain": "example.com"}}]}`;

/**
 * `peopleRules` as a whole: an object of `include`, `require` and `exclude`
 * lists, as YAML in the stack file or JSON text from the CLI. Each rule is
 * checked on its own, with its path, by `peopleRuleProblems`.
 */
export function checkPeopleRules(value: unknown): Checked<PeopleRules> {
  const object = structured(value);
  if (object === NOT_JSON)
    return { ok: false, problem: `must be an object of rule lists, ${example}` };
  if (!isObject(object)) {
    return {
      ok: false,
      problem: `must be an object of rule lists, ${example}, got ${quote(value)}`,
    };
  }
  const known: readonly string[] = ruleLists.map(([list]) => list);
  const problems: string[] = [];
  for (const [key, list] of Object.entries(object)) {
    if (list === undefined) continue;
    if (!known.includes(key)) {
      problems.push(
        `has no list ${quote(key)}; did you mean ${closestOf(key, known)}? (lists: ${known.join(", ")})`,
      );
    } else if (!Array.isArray(list)) {
      problems.push(`${key} must be a list of rules, ${example}`);
    }
  }
  return problems.length > 0
    ? { ok: false, problem: problems.join("; ") }
    : { ok: true, value: object as PeopleRules };
}

/** What else admits people, beside peopleRules' own include rules. */
export interface Shorthand {
  /** How many allowedEmails and allowedEmailDomains entries there are; undefined when not known yet. */
  entries: number | undefined;
}

/**
 * Every problem of the rules, each `[path, problem]` with the path from
 * `peopleRules` (`peopleRules.include[1].githubOrganization.name`). Rules are
 * read resolved: a value still unknown is for the caller to check later.
 * With `secret`, no value is shown.
 */
export function peopleRuleProblems(
  rules: PeopleRules,
  shorthand: Shorthand,
  secret = false,
): [string, string][] {
  const problems: [string, string][] = [];
  const lists = rules as Record<RuleList, unknown[] | undefined>;
  for (const [list] of ruleLists) {
    (lists[list] ?? []).forEach((rule, n) => {
      problems.push(...ruleProblems(`peopleRules.${list}[${n}]`, rule, secret));
    });
  }
  const includes = lists.include ?? [];
  const everyone = includes.findIndex((r) => isObject(r) && isObject(r.everyone));
  const others = includes.length - 1 + (shorthand.entries ?? 0);
  if (everyone >= 0 && others > 0) {
    problems.push([
      `peopleRules.include[${everyone}]`,
      "everyone admits every person who can log in, and a person needs to meet only one include rule, " +
        "so the other include rules (and allowedEmails, allowedEmailDomains) would change nothing; " +
        "keep everyone alone, or remove it",
    ]);
  }
  (lists.exclude ?? []).forEach((rule, n) => {
    if (isObject(rule) && isObject(rule.everyone)) {
      problems.push([`peopleRules.exclude[${n}]`, "excluding everyone lets nobody in"]);
    }
  });
  const narrows = (lists.require?.length ?? 0) + (lists.exclude?.length ?? 0) > 0;
  // An include list given empty is named as such; with no list at all, allowedEmails is.
  if (
    includes.length === 0 &&
    shorthand.entries === 0 &&
    (narrows || lists.include !== undefined)
  ) {
    problems.push([
      "peopleRules.include",
      "needs at least one rule (or allowedEmails, allowedEmailDomains): Access admits only who meets an " +
        "include rule, and require and exclude only narrow that down",
    ]);
  }
  return problems;
}

/** The name a typo or an abbreviation meant: one the name begins, else the closest. */
function suggest(name: string, candidates: readonly string[]): string {
  const lower = name.toLowerCase();
  return (
    candidates.find(
      (c) => c.toLowerCase().startsWith(lower) || lower.startsWith(c.toLowerCase()),
    ) ?? closestOf(name, candidates)
  );
}

/** What is wrong with one rule: one selector, known, with its required fields. */
function ruleProblems(path: string, rule: unknown, secret: boolean): [string, string][] {
  if (!isObject(rule)) {
    return [
      [path, `must be a rule with one selector, e.g. {"email": {"email": "ada@example.com"}}`],
    ];
  }
  const selectors = Object.keys(rule).filter((k) => rule[k] !== undefined && rule[k] !== null);
  if (selectors.length === 0) {
    return [[path, `has no selector; a rule is one of ${peopleSelectorNames.join(", ")}`]];
  }
  if (selectors.length > 1) {
    return [
      [
        path,
        `has ${selectors.length} selectors (${selectors.join(", ")}); a rule takes exactly one, ` +
          "as Cloudflare's provider refuses more: make each its own rule",
      ],
    ];
  }
  const name = selectors[0]!;
  if (!(name in peopleSelectors)) {
    const why = otherProviderSelectors[name];
    return [
      [
        path,
        why
          ? `${name} is a selector of Cloudflare's that peopleRules does not take: ${why}`
          : `${name} is not a selector Cloudflare's provider knows; did you mean ${suggest(name, peopleSelectorNames)}?`,
      ],
    ];
  }
  return selectorProblems(`${path}.${name}`, name as PeopleSelector, rule[name], secret);
}

function selectorProblems(
  path: string,
  name: PeopleSelector,
  value: unknown,
  secret: boolean,
): [string, string][] {
  const { tf, fields } = peopleSelectors[name] as Selector;
  const names = Object.keys(fields);
  if (!isObject(value)) {
    const shape = names.length === 0 ? "{}" : `{${names.join(", ")}}`;
    return [[path, `must be an object, ${shape}`]];
  }
  const problems: [string, string][] = [];
  for (const key of Object.keys(value).filter((k) => !names.includes(k))) {
    problems.push([
      `${path}.${key}`,
      names.length === 0
        ? `${name} takes no field: write ${name}: {}`
        : `is not a field of ${name}; did you mean ${suggest(key, names)}? (fields: ${names.join(", ")})`,
    ]);
  }
  for (const [field, { tf: tfField, required: needed }] of Object.entries(fields)) {
    const v = value[field];
    const at = `${path}.${field}`;
    if (v === undefined || v === null || (typeof v === "string" && v.trim() === "")) {
      if (needed) {
        problems.push([at, `is required (the provider's ${tf}.${tfField}) and must not be empty`]);
      }
      continue;
    }
    if (typeof v !== "string") {
      problems.push([at, `must be text, got ${secret ? "another kind of value" : quote(v)}`]);
      continue;
    }
    const problem = valueProblem(name, field, v, secret ? () => "a secret, not shown" : quote);
    if (problem) problems.push([at, problem]);
  }
  return problems;
}

/** What the API would refuse about a field's text, where it says what it takes. */
function valueProblem(
  selector: PeopleSelector,
  field: string,
  value: string,
  show: (v: unknown) => string,
): string | undefined {
  if ((selector === "email" || selector === "gsuite") && field === "email") {
    return checkEmail(value).ok ? undefined : `must be an email address, got ${show(value)}`;
  }
  if (selector === "emailDomain") {
    return checkEmailDomain(value).ok
      ? undefined
      : `must be an email domain like example.com, got ${show(value)}`;
  }
  if (selector === "authMethod") {
    return (authMethods as readonly string[]).includes(value)
      ? undefined
      : `${show(value)} is not an authentication method Access accepts, which follows RFC 8176: ${authMethods.join(", ")}`;
  }
  if (selector === "geo") {
    return /^[A-Za-z]{2}$/.test(value)
      ? undefined
      : `must be a two-letter country code (ISO 3166-1 alpha-2) such as DE, got ${show(value)}`;
  }
  if (selector === "ip") {
    const [address = "", bits, extra] = value.split("/");
    const family = isIP(address);
    const max = family === 6 ? 128 : 32;
    const okBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= max);
    return family !== 0 && okBits && extra === undefined
      ? undefined
      : `must be an IPv4 or IPv6 address or CIDR block such as 192.0.2.0/24, got ${show(value)}`;
  }
  return undefined;
}

/** Whether two rules are the same rule, so that the union of the lists holds each once. */
const sameRule = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The include rules that let people in: peopleRules' own, then the
 * shorthand's (one email or emailDomain rule each), each rule once. Without
 * peopleRules this is exactly what the shorthand always declared.
 */
export function includesOf(
  rules: readonly PeopleRule[],
  emails: readonly string[],
  domains: readonly string[],
): PeopleRule[] {
  const all: PeopleRule[] = [
    ...rules,
    ...emails.map((email) => ({ email: { email } })),
    ...domains.map((domain) => ({ emailDomain: { domain } })),
  ];
  return all.filter((rule, n) => all.findIndex((r) => sameRule(r, rule)) === n);
}
