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
 *
 * Config mistakes are refused earlier, by `validateConfig`, naming the key;
 * this is the net under it, so a change to the program that would break a
 * real preview fails the tests instead.
 */
import { appTypes, bindingTypes, corsMethods, policyDecisions } from "../infra/cloudflare";
import { kindOf, type ResourceKind } from "../infra/resource-types";

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
  /** `preview`: the provider refuses it before planning; `apply`: the API refuses it at `up`. */
  stage: Stage;
  message: string;
  source: string;
}

type Stage = "preview" | "apply";
type Inputs = Record<string, unknown>;

interface Rule {
  id: string;
  kind: ResourceKind;
  stage: Stage;
  source: string;
  /** What is wrong with `inputs`; `all` is the whole declaration, for rules that span resources. */
  check(inputs: Inputs, all: readonly DeclaredInputs[]): string[];
}

const TFP = "cloudflare/terraform-provider-cloudflare@v5.22.0 internal/services";
const FV = "hashicorp/terraform-plugin-framework-validators@v0.17.0";

const isSet = (value: unknown): boolean => value !== undefined && value !== null;
const isObject = (value: unknown): value is Inputs =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** Problems for each required attribute that is missing, in the provider's words. */
function required(inputs: Inputs, attributes: Record<string, string>): string[] {
  return Object.entries(attributes)
    .filter(([input]) => !isSet(inputs[input]) || inputs[input] === "")
    .map(([, tf]) => `Missing Configuration for Required Attribute: "${tf}" must be specified`);
}

/** FV's OneOf on a string, compared case-insensitively as the provider's validators do. */
function oneOfIgnoringCase(value: unknown, allowed: readonly string[], tf: string): string[] {
  if (!isSet(value)) return [];
  const ok = typeof value === "string" && allowed.includes(value.toLowerCase());
  return ok
    ? []
    : [
        `Attribute ${tf} value must be one of: [${allowed.map((a) => `"${a}"`).join(" ")}], got: ${JSON.stringify(value)}`,
      ];
}

/** FV's ExactlyOneOf between two attributes of one object. */
function exactlyOne(object: Inputs, a: string, b: string, tfPath: string): string[] {
  const count = [a, b].filter((k) => isSet(object[k])).length;
  if (count === 1) return [];
  const what = count === 0 ? "No attribute specified" : "2 attributes specified";
  return [`${what} when one (and only one) of [${tfPath}] is required`];
}

/** FV's ConflictsWith: both set fails, `false` included. */
function conflicts(object: Inputs, a: string, b: string, tfA: string, tfB: string): string[] {
  return isSet(object[a]) && isSet(object[b])
    ? [`Attribute "${tfA}" cannot be specified when "${tfB}" is specified`]
    : [];
}

/** Go's `time.ParseDuration` syntax, the regex the provider checks session durations with. */
export const goDuration =
  /^(?:0|[-+]?(\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h)(?:(\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))*)$/;

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

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

const contentTypes = [
  "application/javascript+module",
  "application/javascript",
  "text/javascript+module",
  "text/javascript",
  "text/x-python",
];

const corsOf = (inputs: Inputs): Inputs | undefined =>
  isObject(inputs.corsHeaders) ? inputs.corsHeaders : undefined;

/** The host of a route pattern such as `*.example.com/api/*`, lower-cased. */
export function routeHost(pattern: string): string {
  return pattern
    .replace(/^[a-z]+:\/\//i, "")
    .split("/")[0]!
    .toLowerCase();
}

/** Today's date in UTC as YYYY-MM-DD, the clock the Workers API compares against. */
const todayUtc = (now: Date): string => now.toISOString().slice(0, 10);

function rules(now: Date): Rule[] {
  return [
    // --- Access application --------------------------------------------------
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
    {
      id: "APP-3",
      kind: "app",
      stage: "preview",
      source: `${TFP}/zero_trust_access_application/schema.go L189-195 (ExactlyOneOf)`,
      check: (i) => {
        const cors = corsOf(i);
        return cors
          ? exactlyOne(
              cors,
              "allowAllMethods",
              "allowedMethods",
              "cors_headers.allow_all_methods,cors_headers.allowed_methods",
            )
          : [];
      },
    },
    {
      id: "APP-4",
      kind: "app",
      stage: "preview",
      source: `${TFP}/zero_trust_access_application/schema.go L196-202 (ExactlyOneOf)`,
      check: (i) => {
        const cors = corsOf(i);
        return cors
          ? exactlyOne(
              cors,
              "allowAllOrigins",
              "allowedOrigins",
              "cors_headers.allow_all_origins,cors_headers.allowed_origins",
            )
          : [];
      },
    },
    {
      id: "APP-5",
      kind: "app",
      stage: "preview",
      source: `${TFP}/zero_trust_access_application/schema.go L203-209 (ConflictsWith, false included)`,
      check: (i) => {
        const cors = corsOf(i);
        return cors
          ? conflicts(
              cors,
              "allowAllOrigins",
              "allowCredentials",
              "cors_headers.allow_all_origins",
              "cors_headers.allow_credentials",
            )
          : [];
      },
    },
    {
      id: "APP-6",
      kind: "app",
      stage: "preview",
      source: `${TFP}/zero_trust_access_application/schema.go L182-188 (ConflictsWith)`,
      check: (i) => {
        const cors = corsOf(i);
        return cors
          ? conflicts(
              cors,
              "allowedHeaders",
              "allowAllHeaders",
              "cors_headers.allowed_headers",
              "cors_headers.allow_all_headers",
            )
          : [];
      },
    },
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
        conflicts(i, "destinations", "selfHostedDomains", "destinations", "self_hosted_domains"),
    },
    {
      id: "APP-11",
      kind: "app",
      stage: "preview",
      source: `${TFP}/zero_trust_access_application/schema.go L683-689 (ExactlyOneOf)`,
      check: (i) =>
        listOf(i.policies).flatMap((p, n) =>
          exactlyOne(isObject(p) ? p : {}, "id", "includes", `policies[${n}].id,<.include`),
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
          ? [
              `policies[].precedence must be unique within the app; ${String(dupes[0])} is used twice`,
            ]
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

    // --- Access policy ---------------------------------------------------------
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

    // --- Access service token ----------------------------------------------------
    {
      id: "TOK-1",
      kind: "token",
      stage: "preview",
      source: `${TFP}/zero_trust_access_service_token/schema.go L63-73; ${FV} resourcevalidator/also_requires.go`,
      check: (i) =>
        isSet(i.clientSecretVersion) && !isSet(i.previousClientSecretExpiresAt)
          ? [
              `Invalid Attribute Combination. Attribute "previous_client_secret_expires_at" must be specified when "client_secret_version" is specified`,
            ]
          : [],
    },
    {
      id: "TOK-2",
      kind: "token",
      stage: "preview",
      source: `${TFP}/zero_trust_access_service_token/schema.go L53-62; ${FV} resourcevalidator/also_requires.go`,
      check: (i) =>
        isSet(i.previousClientSecretExpiresAt) && !isSet(i.clientSecretVersion)
          ? [
              `Invalid Attribute Combination. Attribute "client_secret_version" must be specified when "previous_client_secret_expires_at" is specified`,
            ]
          : [],
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
          : [
              `duration ${JSON.stringify(i.duration)} is neither a duration like 8760h nor "forever"`,
            ],
    },
    {
      id: "TOK-8",
      kind: "token",
      stage: "apply",
      source: `${TFP}/zero_trust_access_service_token/schema.go L39-48 (account_id, else zone_id)`,
      check: (i) => exactlyOneScope(i),
    },

    // --- Workers script ----------------------------------------------------------
    {
      id: "WS-1",
      kind: "script",
      stage: "preview",
      source: `${TFP}/workers_script/schema.go L973-985; ${FV} configvalidator/at_least_one_of.go`,
      check: (i) =>
        ["content", "contentFile", "assets"].some((k) => isSet(i[k]))
          ? []
          : [
              "Missing Attribute Configuration: At least one of these attributes must be configured: [content,content_file,assets]",
            ],
    },
    {
      id: "WS-2",
      kind: "script",
      stage: "preview",
      source: `${TFP}/workers_script/schema.go L54-74, L980-983`,
      check: (i) =>
        isSet(i.content) && isSet(i.contentFile)
          ? ["These attributes cannot be configured together: [content,content_file]"]
          : [],
    },
    {
      id: "WS-3",
      kind: "script",
      stage: "preview",
      source: `${TFP}/workers_script/schema.go L63-81`,
      check: (i) =>
        isSet(i.contentFile) && !isSet(i.contentSha256)
          ? [`Attribute "content_sha256" must be specified when "content_file" is specified`]
          : [],
    },
    {
      id: "WS-4",
      kind: "script",
      stage: "preview",
      source: `${TFP}/workers_script/schema.go L82-94`,
      check: (i) =>
        !isSet(i.contentType) || contentTypes.includes(i.contentType as string)
          ? []
          : [
              `Attribute content_type value must be one of: [${contentTypes.map((t) => `"${t}"`).join(" ")}], got: ${JSON.stringify(i.contentType)}`,
            ],
    },
    {
      id: "WS-5",
      kind: "script",
      stage: "preview",
      source: `${TFP}/workers_script/schema.go L169-222`,
      check: (i) =>
        listOf(i.bindings).flatMap((b, n) => {
          const binding = isObject(b) ? b : {};
          return [
            ...required(binding, { name: `bindings[${n}].name`, type: `bindings[${n}].type` }),
            ...oneOfIgnoringCase(binding.type, bindingTypes, `bindings[${n}].type`),
          ];
        }),
    },
    {
      id: "WS-7",
      kind: "script",
      stage: "preview",
      source: `${TFP}/workers_script/schema.go L783-795`,
      check: (i) =>
        oneOfIgnoringCase(i.usageModel, ["standard", "bundled", "unbound"], "usage_model"),
    },
    {
      id: "WS-8",
      kind: "script",
      stage: "preview",
      source: `${TFP}/workers_script/schema.go L44-53`,
      check: (i) => required(i, { accountId: "account_id", scriptName: "script_name" }),
    },
    {
      id: "WS-9",
      kind: "script",
      stage: "apply",
      source:
        "https://github.com/cloudflare/workers-sdk/pull/829 (code 10016 invalid_script_name; lower case, digits, - and _, at most 63)",
      check: (i) =>
        typeof i.scriptName !== "string" || /^[a-z0-9_-]{1,63}$/.test(i.scriptName)
          ? []
          : [
              `script_name ${JSON.stringify(i.scriptName)} must be 1 to 63 lower-case letters, digits, - or _`,
            ],
    },
    {
      id: "WS-10",
      kind: "script",
      stage: "apply",
      source:
        "https://github.com/cloudflare/workers-sdk/issues/5453 (code 10021: compatibility date in the future)",
      check: (i) => {
        const date = i.compatibilityDate;
        if (typeof date !== "string" || date === "") {
          return ["compatibility_date is unset, so the API would run the Worker on 2021-11-02"];
        }
        if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || isNaN(Date.parse(date))) {
          return [`compatibility_date ${JSON.stringify(date)} is not a YYYY-MM-DD date`];
        }
        return date > todayUtc(now) ? [`Can't set compatibility date in the future: ${date}`] : [];
      },
    },
    {
      id: "WS-11",
      kind: "script",
      stage: "apply",
      source: `${TFP}/workers_script/model.go L61-97 (without main_module the content is a service-worker script)`,
      check: (i) =>
        typeof i.content === "string" && /\bexport\b/.test(i.content) && !isSet(i.mainModule)
          ? [
              "an ES module (it has exports) needs main_module, or the API reads it as a service-worker script",
            ]
          : [],
    },
    {
      id: "WS-12",
      kind: "script",
      stage: "apply",
      source: `${TFP}/workers_script/model.go L66 (empty content uploads no script part)`,
      check: (i) => (i.content === "" ? ["content is empty, so no script would be uploaded"] : []),
    },

    {
      id: "WS-15",
      kind: "script",
      stage: "apply",
      source:
        "https://developers.cloudflare.com/api/resources/workers/subresources/scripts/methods/update/ (PUT /accounts/{account_id}/workers/scripts/{script_name}: an upload under a taken name replaces that Worker)",
      check: (i, all) => {
        if (typeof i.scriptName !== "string") return [];
        const same = sharing(
          all,
          "script",
          (o) => o.scriptName === i.scriptName && o.accountId === i.accountId,
        );
        return same.length > 1
          ? [
              `script_name ${JSON.stringify(i.scriptName)} is declared ${same.length} times in one account; each upload would replace the other's Worker`,
            ]
          : [];
      },
    },

    // --- workers.dev subdomain ---------------------------------------------------
    {
      id: "SUB-1",
      kind: "subdomain",
      stage: "preview",
      source: `${TFP}/workers_script_subdomain/schema.go L33-51`,
      check: (i) =>
        required(i, { accountId: "account_id", scriptName: "script_name", enabled: "enabled" }),
    },

    // --- Workers route -------------------------------------------------------------
    {
      id: "RT-1",
      kind: "route",
      stage: "preview",
      source: `${TFP}/workers_route/schema.go L33-46`,
      check: (i) => required(i, { zoneId: "zone_id", pattern: "pattern" }),
    },
    {
      id: "RT-2",
      kind: "route",
      stage: "apply",
      // The zone's name is not declared, so the host is held to the front end's
      // hostname, the one name the declaration knows to be served by that zone.
      // A route whose Worker verifies an aud no declared app has serves a front
      // end whose app, and hostname, are declared elsewhere: nothing to hold it to.
      source:
        "https://developers.cloudflare.com/workers/configuration/routing/routes/ (code 10022: route pattern must include zone name)",
      check: (i, all) => {
        if (typeof i.pattern !== "string") return [];
        const apps = all.filter(
          (r) => kindOf(r.type) === "app" && domainOf(r.inputs) !== undefined,
        );
        const aud = bindingText(scriptOfRoute(i, all), "ACCESS_AUD");
        const known = apps.filter((a) => typeof a.state?.aud === "string");
        if (
          aud !== undefined &&
          known.length === apps.length &&
          !known.some((a) => a.state!.aud === aud)
        ) {
          return [];
        }
        const domains = apps.map((r) => domainOf(r.inputs)!);
        const host = routeHost(i.pattern);
        return domains.includes(host)
          ? []
          : [
              `pattern ${JSON.stringify(i.pattern)} is not on a hostname this stack protects with Access (${domains.join(", ") || "none"}), so it may lie outside the front end's zone`,
            ];
      },
    },
    {
      id: "RT-4",
      kind: "route",
      stage: "apply",
      source:
        "https://developers.cloudflare.com/workers/configuration/routing/routes/ (wildcards only as host prefix or path suffix; no query)",
      check: (i) => {
        if (typeof i.pattern !== "string") return [];
        const pattern = i.pattern.replace(/^[a-z]+:\/\//i, "");
        const slash = pattern.indexOf("/");
        const host = slash < 0 ? pattern : pattern.slice(0, slash);
        const path = slash < 0 ? "" : pattern.slice(slash);
        const hostOk = !host.slice(1).includes("*");
        const pathOk = !path.slice(0, -1).includes("*");
        return hostOk && pathOk && !/[?#\s]/.test(pattern) && slash > 0
          ? []
          : [
              `pattern ${JSON.stringify(i.pattern)} is not a valid route: "*" only as a host prefix or a path suffix, a path is required, no query`,
            ];
      },
    },
    {
      id: "RT-5",
      kind: "route",
      stage: "apply",
      source:
        "https://github.com/cloudflare/cloudflare-docs/pull/8400 (one route per pattern per zone)",
      check: (i, all) => {
        // A pattern's host puts it in one zone, so the same pattern twice is
        // one zone's twice, whatever zone ids the declarations name.
        if (typeof i.pattern !== "string") return [];
        const same = sharing(all, "route", (o) => sameRoute(o.pattern, i.pattern as string));
        return same.length > 1
          ? [
              `pattern ${JSON.stringify(i.pattern)} is declared ${same.length} times (${same.map((r) => r.name).join(", ")}); a zone takes one route per pattern`,
            ]
          : [];
      },
    },

    // --- Notification policy -------------------------------------------------------
    {
      id: "NP-1",
      kind: "notification",
      stage: "preview",
      source: `${TFP}/notification_policy/schema.go L33-118 (account_id, alert_type, name, mechanisms required)`,
      check: (i) =>
        required(i, {
          accountId: "account_id",
          alertType: "alert_type",
          name: "name",
          mechanisms: "mechanisms",
        }),
    },
    {
      id: "NP-2",
      kind: "notification",
      stage: "apply",
      source:
        "https://developers.cloudflare.com/api/resources/alerting/subresources/policies/methods/create/ (email mechanisms are identified by the address)",
      check: (i) => {
        const mechanisms = isObject(i.mechanisms) ? i.mechanisms : {};
        const targets = ["emails", "pagerduties", "webhooks"].flatMap((k) => listOf(mechanisms[k]));
        if (targets.length === 0) return ["mechanisms names nobody to notify"];
        return listOf(mechanisms.emails).flatMap((e, n) =>
          isObject(e) && typeof e.id === "string" && /^[^@\s]+@[^@\s]+$/.test(e.id)
            ? []
            : [`mechanisms.emails[${n}].id must be an email address`],
        );
      },
    },
  ];
}

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

/** The declared resources of a kind whose inputs match, for rules that allow one of a kind. */
function sharing(
  all: readonly DeclaredInputs[],
  kind: ResourceKind,
  matches: (inputs: Inputs) => boolean,
): DeclaredInputs[] {
  return all.filter((r) => kindOf(r.type) === kind && matches(r.inputs));
}

/** An app's public hostname, lower-cased; undefined when it has none as plain text. */
function domainOf(inputs: Inputs): string | undefined {
  return typeof inputs.domain === "string" && inputs.domain !== ""
    ? inputs.domain.toLowerCase()
    : undefined;
}

/** Whether two route patterns are one: hosts compare without case, paths with it. */
function sameRoute(a: unknown, b: string): boolean {
  if (typeof a !== "string") return false;
  const split = (p: string) => {
    const bare = p.replace(/^[a-z]+:\/\//i, "");
    const slash = bare.indexOf("/");
    return slash < 0
      ? [bare.toLowerCase(), ""]
      : [bare.slice(0, slash).toLowerCase(), bare.slice(slash)];
  };
  const [hostA, pathA] = split(a);
  const [hostB, pathB] = split(b);
  return hostA === hostB && pathA === pathB;
}

/** The declared script a route sends its requests to. */
function scriptOfRoute(route: Inputs, all: readonly DeclaredInputs[]): DeclaredInputs | undefined {
  return all.find(
    (r) =>
      kindOf(r.type) === "script" && isSet(route.script) && r.inputs.scriptName === route.script,
  );
}

/** A script binding's text, when it is plain text in the declaration. */
function bindingText(script: DeclaredInputs | undefined, name: string): string | undefined {
  const binding = listOf(script?.inputs.bindings).find((b) => isObject(b) && b.name === name);
  return isObject(binding) && typeof binding.text === "string" ? binding.text : undefined;
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

function exactlyOneScope(inputs: Inputs): string[] {
  const count = [inputs.accountId, inputs.zoneId].filter(isSet).length;
  return count === 1 ? [] : ["exactly one of account_id or zone_id must be set"];
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
  const when = v.stage === "preview" ? "pulumi preview" : "pulumi up";
  return `  - ${v.rule} ${v.resource} (fails at ${when}): ${v.message} [${v.source}]`;
}

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
  // TFP workers_script/schema.go: script_name, account_id RequiresReplace
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
