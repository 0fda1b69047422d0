/**
 * The Access application's rules. The self-hosted settings and CORS are where
 * the provider checks most, and where the component sets most.
 */
import { appTypes, corsMethods } from "../../infra/cloudflare";
import type { Rule } from ".";
import {
  domainOf,
  exactlyOneScope,
  goDuration,
  isObject,
  isSet,
  listOf,
  oneOfIgnoringCase,
  pair,
  sharing,
  TFP,
  type Attribute,
  type Inputs,
} from "./helpers";

/** App types that may carry the self-hosted settings (CORS, cookies, preflight bypass). */
const selfHostedLike = ["self_hosted", "ssh", "vnc", "rdp", "mcp_portal"];

/** Self-hosted settings, Pulumi name to Terraform name, that only `selfHostedLike` apps may set. */
const selfHostedSettings: Record<string, string> = {
  corsHeaders: "cors_headers",
  optionsPreflightBypass: "options_preflight_bypass",
  httpOnlyCookieAttribute: "http_only_cookie_attribute",
  allowIframe: "allow_iframe",
  sameSiteCookieAttribute: "same_site_cookie_attribute",
  skipInterstitial: "skip_interstitial",
  serviceAuth401Redirect: "service_auth_401_redirect",
  enableBindingCookie: "enable_binding_cookie",
  pathCookieAttribute: "path_cookie_attribute",
  readServiceTokensFromHeader: "read_service_tokens_from_header",
  selfHostedDomains: "self_hosted_domains",
};

const corsOf = (inputs: Inputs): Inputs | undefined =>
  isObject(inputs.corsHeaders) ? inputs.corsHeaders : undefined;

/** A preview rule on two attributes of an app's `cors_headers`, cited in the app's schema. */
const corsPair = (
  id: string,
  where: string,
  shape: "exactlyOne" | "conflicts",
  a: Attribute,
  b: Attribute,
): Rule => ({
  id,
  kind: "app",
  stage: "preview",
  source: `${TFP}/zero_trust_access_application/${where}`,
  check: (i) => pair(shape, corsOf(i), a, b),
});

export const appRules: readonly Rule[] = [
  {
    id: "APP-1",
    kind: "app",
    stage: "preview",
    source: `${TFP}/zero_trust_access_application/schema.go L143-165`,
    check: (i) => oneOfIgnoringCase(i.type, appTypes, "type"),
  },
  {
    id: "APP-2",
    kind: "app",
    stage: "preview",
    source: `${TFP}/zero_trust_access_application/plan_modifiers.go L15-25; internal/customvalidator/requires_other_attribute_to_be_one_of_validator.go L51-95`,
    check: (i) =>
      selfHostedLike.includes(i.type as string)
        ? []
        : Object.entries(selfHostedSettings)
            .filter(([input]) => isSet(i[input]))
            .map(
              ([, tf]) =>
                `"${tf}" can only be set if "type" is one of: ${selfHostedLike.map((t) => `"${t}"`).join(", ")}`,
            ),
  },
  corsPair(
    "APP-3",
    "schema.go L189-195 (ExactlyOneOf)",
    "exactlyOne",
    ["allowAllMethods", "cors_headers.allow_all_methods"],
    ["allowedMethods", "cors_headers.allowed_methods"],
  ),
  corsPair(
    "APP-4",
    "schema.go L196-202 (ExactlyOneOf)",
    "exactlyOne",
    ["allowAllOrigins", "cors_headers.allow_all_origins"],
    ["allowedOrigins", "cors_headers.allowed_origins"],
  ),
  corsPair(
    "APP-5",
    "schema.go L203-209 (ConflictsWith, false included)",
    "conflicts",
    ["allowAllOrigins", "cors_headers.allow_all_origins"],
    ["allowCredentials", "cors_headers.allow_credentials"],
  ),
  corsPair(
    "APP-6",
    "schema.go L182-188 (ConflictsWith)",
    "conflicts",
    ["allowedHeaders", "cors_headers.allowed_headers"],
    ["allowAllHeaders", "cors_headers.allow_all_headers"],
  ),
  {
    id: "APP-7",
    kind: "app",
    stage: "preview",
    source: `${TFP}/zero_trust_access_application/schema.go L215-234`,
    check: (i) =>
      listOf(corsOf(i)?.allowedMethods).flatMap((m) =>
        typeof m === "string" && (corsMethods as readonly string[]).includes(m.toUpperCase())
          ? []
          : [
              `Attribute cors_headers.allowed_methods[Value(${JSON.stringify(m)})] value must be one of: [${corsMethods.map((x) => `"${x}"`).join(" ")}], got: ${JSON.stringify(m)}`,
            ],
      ),
  },
  {
    id: "APP-8",
    kind: "app",
    stage: "preview",
    source: `${TFP}/zero_trust_access_application/schema.go L240-246`,
    check: (i) => {
      const maxAge = corsOf(i)?.maxAge;
      if (!isSet(maxAge)) return [];
      return typeof maxAge === "number" && maxAge >= -1 && maxAge <= 86400
        ? []
        : [
            `Attribute cors_headers.max_age value must be between -1.000000 and 86400.000000, got: ${String(maxAge)}`,
          ];
    },
  },
  {
    id: "APP-9",
    kind: "app",
    stage: "preview",
    source: `${TFP}/zero_trust_access_application/schema.go L502-510; regex plan_modifiers.go L24`,
    check: (i) =>
      !isSet(i.sessionDuration) ||
      (typeof i.sessionDuration === "string" && goDuration.test(i.sessionDuration))
        ? []
        : [
            `Attribute session_duration "session_duration" only supports "ns", "us" (or "µs"), "ms", "s", "m", or "h" as valid units, got: ${String(i.sessionDuration)}`,
          ],
  },
  {
    id: "APP-10",
    kind: "app",
    stage: "preview",
    source: `${TFP}/zero_trust_access_application/schema.go L519-549 (ConflictsWith)`,
    check: (i) =>
      pair(
        "conflicts",
        i,
        ["destinations", "destinations"],
        ["selfHostedDomains", "self_hosted_domains"],
      ),
  },
  {
    id: "APP-11",
    kind: "app",
    stage: "preview",
    source: `${TFP}/zero_trust_access_application/schema.go L683-689 (ExactlyOneOf)`,
    check: (i) =>
      listOf(i.policies).flatMap((p, n) =>
        pair(
          "exactlyOne",
          isObject(p) ? p : {},
          ["id", `policies[${n}].id`],
          ["includes", "<.include"],
        ),
      ),
  },
  {
    id: "APP-12",
    kind: "app",
    stage: "preview",
    source: `${TFP}/zero_trust_access_application/schema.go L690-697 (AtLeast 1)`,
    check: (i) =>
      listOf(i.policies).flatMap((p, n) => {
        const precedence = isObject(p) ? p.precedence : undefined;
        return !isSet(precedence) || (typeof precedence === "number" && precedence >= 1)
          ? []
          : [
              `Attribute policies[${n}].precedence value must be at least 1, got: ${String(precedence)}`,
            ];
      }),
  },
  {
    id: "APP-14",
    kind: "app",
    stage: "apply",
    source: `${TFP}/zero_trust_access_application/schema.go L108-110 ("Cannot turn on if cors_headers is set")`,
    check: (i) =>
      i.optionsPreflightBypass === true && isSet(i.corsHeaders)
        ? ["options_preflight_bypass cannot be turned on while cors_headers is set"]
        : [],
  },
  {
    id: "APP-15",
    kind: "app",
    stage: "apply",
    source:
      "https://github.com/cloudflare/terraform-provider-cloudflare/pull/1073 (the service refuses credentials with all origins)",
    check: (i) => {
      const cors = corsOf(i);
      const allOrigins =
        cors?.allowAllOrigins === true || listOf(cors?.allowedOrigins).includes("*");
      return cors?.allowCredentials === true && allOrigins
        ? ["CORS credentials are not permitted when all origins are allowed"]
        : [];
    },
  },
  {
    id: "APP-16",
    kind: "app",
    stage: "apply",
    source:
      "https://github.com/cloudflare/terraform-provider-cloudflare/issues/779 (code 12057 invalid_cors_methods)",
    check: (i) => {
      const cors = corsOf(i);
      if (!cors) return [];
      return (["allowedMethods", "allowedOrigins"] as const)
        .filter((k) => Array.isArray(cors[k]) && (cors[k] as unknown[]).length === 0)
        .map(
          (k) =>
            `cors_headers.${k === "allowedMethods" ? "allowed_methods" : "allowed_origins"} is an empty list, which the API refuses`,
        );
    },
  },
  {
    id: "APP-17",
    kind: "app",
    stage: "apply",
    source:
      "https://github.com/cloudflare/terraform-provider-cloudflare/issues/5529 (a self_hosted app needs a public hostname)",
    check: (i) =>
      i.type === "self_hosted" &&
      !(typeof i.domain === "string" && i.domain !== "") &&
      listOf(i.destinations).length === 0 &&
      listOf(i.selfHostedDomains).length === 0
        ? ["a self_hosted application needs a domain"]
        : [],
  },
  {
    id: "APP-18",
    kind: "app",
    stage: "apply",
    source: `${TFP}/zero_trust_access_application/schema.go L690-692 ("must be unique for each policy within an app")`,
    check: (i) => {
      const seen = listOf(i.policies)
        .map((p) => (isObject(p) ? p.precedence : undefined))
        .filter(isSet);
      const dupes = seen.filter((p, n) => seen.indexOf(p) !== n);
      return dupes.length > 0
        ? [`policies[].precedence must be unique within the app; ${String(dupes[0])} is used twice`]
        : [];
    },
  },
  {
    id: "APP-20",
    kind: "app",
    stage: "apply",
    source: `${TFP}/zero_trust_access_application/resource.go L82-86 (account_id, else zone_id)`,
    check: (i) => exactlyOneScope(i),
  },

  {
    id: "APP-23",
    kind: "app",
    stage: "apply",
    source: `${TFP}/zero_trust_access_application/schema.go (auto_redirect_to_identity: "You must specify only one identity provider in allowed_idps"; no validator, so the API refuses it)`,
    check: (i) => {
      if (i.autoRedirectToIdentity !== true) return [];
      const idps = listOf(i.allowedIdps).length;
      return idps === 1
        ? []
        : [
            `auto_redirect_to_identity needs exactly one identity provider in allowed_idps, got ${idps}`,
          ];
    },
  },
  {
    id: "APP-24",
    kind: "app",
    stage: "preview",
    source: `${TFP}/zero_trust_access_application/schema.go (allowed_idps: a ListAttribute of StringType)`,
    check: (i) =>
      listOf(i.allowedIdps).flatMap((idp, n) =>
        typeof idp === "string" && idp !== ""
          ? []
          : [
              `Attribute allowed_idps[${n}] must be an identity provider id (text), got: ${JSON.stringify(idp)}`,
            ],
      ),
  },

  {
    id: "APP-22",
    kind: "app",
    stage: "apply",
    source:
      "https://developers.cloudflare.com/cloudflare-one/applications/configure-apps/self-hosted-public-app/ (an application per public hostname; a second one for a hostname is refused, 409 application_already_exists)",
    check: (i, all) => {
      const domain = domainOf(i);
      if (domain === undefined) return [];
      const same = sharing(
        all,
        "app",
        (o) => domainOf(o) === domain && o.accountId === i.accountId,
      );
      return same.length > 1
        ? [
            `domain ${JSON.stringify(domain)} has ${same.length} Access applications in one account (${same.map((r) => r.name).join(", ")}); Access takes one per hostname`,
          ]
        : [];
    },
  },
];
