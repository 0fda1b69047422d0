/** The Workers script's rules: its content, bindings, observability, name and compatibility date. */
import { bindingTypes } from "../../infra/cloudflare";
import type { Rule } from ".";
import {
  FV,
  isObject,
  isSet,
  listOf,
  oneOfIgnoringCase,
  pair,
  required,
  sharing,
  TFP,
} from "./helpers";

const contentTypes = [
  "application/javascript+module",
  "application/javascript",
  "text/javascript+module",
  "text/javascript",
  "text/x-python",
];

/** Today's date in UTC as YYYY-MM-DD, the clock the Workers API compares against. */
const todayUtc = (now: Date): string => now.toISOString().slice(0, 10);

/** `now` is the clock the compatibility date is compared with. */
export function scriptRules(now: Date): Rule[] {
  return [
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
        pair(
          "alsoRequires",
          i,
          ["contentFile", "content_file"],
          ["contentSha256", "content_sha256"],
        ),
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
      id: "WS-6",
      kind: "script",
      stage: "preview",
      source: `${TFP}/workers_script/schema.go L655-727 (observability.enabled, logs.enabled, logs.invocation_logs Required)`,
      check: (i) => {
        const o = i.observability;
        if (!isObject(o)) return [];
        return [
          ...required(o, { enabled: "observability.enabled" }),
          ...(isObject(o.logs)
            ? required(o.logs, {
                enabled: "observability.logs.enabled",
                invocationLogs: "observability.logs.invocation_logs",
              })
            : []),
        ];
      },
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
      id: "WS-16",
      kind: "script",
      stage: "apply",
      source: `${TFP}/workers_script/schema.go L655-727 (every head_sampling_rate: "From 0 to 1", with no validator, so only the API refuses another)`,
      check: (i) => {
        const o = i.observability;
        if (!isObject(o)) return [];
        const rates: [string, unknown][] = [
          ["observability.head_sampling_rate", o.headSamplingRate],
          [
            "observability.logs.head_sampling_rate",
            isObject(o.logs) ? o.logs.headSamplingRate : undefined,
          ],
          [
            "observability.traces.head_sampling_rate",
            isObject(o.traces) ? o.traces.headSamplingRate : undefined,
          ],
        ];
        return rates
          .filter(
            ([, rate]) => isSet(rate) && !(typeof rate === "number" && rate >= 0 && rate <= 1),
          )
          .map(
            ([tf, rate]) => `${tf} must be a value between 0 and 1, got ${JSON.stringify(rate)}`,
          );
      },
    },
    {
      id: "WS-17",
      kind: "script",
      stage: "apply",
      source:
        "https://raw.githubusercontent.com/cloudflare/api-schemas/c92b9b0fde23ae00fece2025662f96dc8e2d6283/openapi.json (workers_binding_kind_analytics_engine requires name, type and dataset; the provider's dataset is Optional)",
      check: (i) =>
        listOf(i.bindings).flatMap((b, n) =>
          isObject(b) &&
          typeof b.type === "string" &&
          b.type.toLowerCase() === "analytics_engine" &&
          (typeof b.dataset !== "string" || b.dataset === "")
            ? [`bindings[${n}] is an analytics_engine binding without a dataset`]
            : [],
        ),
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
  ];
}
