/**
 * The lab's scenarios: the stack as configured, and variants of its config
 * that show each way a CORS set-up fails. Every variant is declared by the
 * real program with config overrides; the one exception is labelled as an
 * emulated hand-made app, because the program never declares it. On a stack
 * with several APIs, a variant changes every API alike.
 */
import { isCrossSite } from "../doctor/sites";
import type { CorsSettings } from "./topology";

export interface Scenario {
  name: string;
  title: string;
  /** One or two sentences for the page: what to expect and why. */
  summary: string;
  stack: string;
  /** Overrides of the stack's config, as `npx pulumi config set` would give them. */
  config: Record<string, unknown>;
  /** Emulation only: remove the declared corsHeaders from every API app. */
  dropCorsHeaders?: boolean;
  /** Whether the demo API's own CORS policy admits the front end (it matters when OPTIONS bypass Access). */
  originAdmitsFrontend: boolean;
  /** It shows the demo API's own policy, so it has no meaning in front of the user's API. */
  demoApiOnly?: boolean;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

type Config = Record<string, unknown>;

const isObject = (value: unknown): value is Config =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The entries of a stack's `apis` (YAML in the stack file, or JSON text from the CLI); undefined without it. */
function apiEntries(config: Config): Config[] | undefined {
  let value = config["apis"];
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return Array.isArray(value) ? value.filter(isObject) : undefined;
}

/** One API's config as the program reads it: the stack's keys, with the API's own on top. */
export interface ApiSettings {
  hostname: string;
  config: Config;
}

/** Every API of a stack, in order: the one of `apiHostname`, or each entry of `apis`. */
export function apiSettings(config: Config): ApiSettings[] {
  const entries = apiEntries(config);
  if (entries === undefined)
    return [{ hostname: String(config["apiHostname"] ?? "").toLowerCase(), config }];
  return entries.map((entry) => ({
    hostname: String(entry["hostname"] ?? "").toLowerCase(),
    config: { ...config, ...entry },
  }));
}

/**
 * A variant's config overrides. With `apis`, each entry gets its part too,
 * since an API's own key wins over the stack's.
 */
function everywhere(
  config: Config,
  overrides: Config,
  perApi: (entry: Config, index: number) => Config = () => overrides,
): Config {
  const entries = apiEntries(config);
  if (entries === undefined) return overrides;
  return { ...overrides, apis: entries.map((entry, i) => ({ ...entry, ...perApi(entry, i) })) };
}

/** The allowed headers without the one the page's preflighted request sends. */
function withoutProbe(config: Config): string[] {
  const probe = probeHeader(config);
  return strings(config["corsAllowedHeaders"]).filter(
    (h) => h.toLowerCase() !== (probe ?? "content-type"),
  );
}

/** A host on the guide's API site for the `index`th API, keeping its first label. */
function guideApiHost(hostname: string, index: number, taken: Set<string>): string {
  let host = index === 0 ? guideHosts.apiHostname : `${hostname.split(".")[0]}.mysite.com`;
  for (let n = 2; taken.has(host); n++) host = `${hostname.split(".")[0]}-${n}.mysite.com`;
  taken.add(host);
  return host;
}

/** The custom header the page's preflighted request sends: the first allowed one that is not content-type. */
export function probeHeader(config: Config): string | null {
  return (
    strings(config["corsAllowedHeaders"])
      .find((h) => h.toLowerCase() !== "content-type")
      ?.toLowerCase() ?? null
  );
}

/** The guide's own hosts: a front end and an API on different sites. */
export const guideHosts = { frontendHostname: "example.com", apiHostname: "api.mysite.com" };

/** The scenarios for a stack; in front of the user's API (`ownApi`), without those about the demo API's own policy. */
export function scenariosFor(
  stack: string,
  config: Record<string, unknown>,
  options: { ownApi?: boolean } = {},
): Scenario[] {
  const removed = [
    ...new Set(apiSettings(config).map((a) => probeHeader(a.config) ?? "content-type")),
  ];
  const base = { stack, originAdmitsFrontend: true };
  const list: Scenario[] = [
    {
      ...base,
      name: "as-configured",
      title: `${stack} as configured`,
      summary:
        "The stack's own config. Access answers preflights from the API app's corsHeaders; the Worker path needs no API login.",
      config: {},
    },
    {
      ...base,
      name: "origin-not-allowed",
      title: "Origin not allowed",
      summary:
        "corsAllowedOrigins lists another site, so Access answers the preflight without Access-Control-Allow-Origin and the browser refuses.",
      config: everywhere(config, { corsAllowedOrigins: ["https://partner.example.net"] }),
    },
    {
      ...base,
      name: "header-not-allowed",
      title: "Header not allowed",
      summary: `corsAllowedHeaders leaves out ${removed.join(" and ")}, which the preflighted request sends, so the browser refuses it.`,
      config: everywhere(config, { corsAllowedHeaders: withoutProbe(config) }, (entry) => ({
        corsAllowedHeaders: withoutProbe({ ...config, ...entry }),
      })),
    },
    {
      ...base,
      name: "credentials-off",
      title: "Credentials off",
      summary:
        "corsAllowCredentials is false: no Access-Control-Allow-Credentials, so a request with credentials: 'include' is refused.",
      config: everywhere(config, { corsAllowCredentials: false }),
    },
    {
      ...base,
      name: "preflight-origin",
      title: "preflight: origin (origin allows)",
      summary:
        "OPTIONS bypass Access (optionsPreflightBypass) and reach the API, whose own CORS policy must admit the front end (the demo API's does).",
      config: everywhere(config, { preflight: "origin" }),
    },
    {
      ...base,
      name: "preflight-origin-refuses",
      title: "preflight: origin (origin refuses)",
      summary:
        "OPTIONS bypass Access, and the demo API's own CORS policy does not admit the front end: its 403 decides.",
      config: everywhere(config, { preflight: "origin" }),
      originAdmitsFrontend: false,
      demoApiOnly: true,
    },
    {
      ...base,
      name: "no-cors-settings",
      title: "Hand-made app without CORS settings (emulated)",
      summary:
        "Emulated, never declared by access-bridge: the guide's starting point, an API app with neither CORS settings nor OPTIONS bypass. Access refuses the cookie-less preflight with 403.",
      config: {},
      dropCorsHeaders: true,
    },
  ];
  const frontend = String(config["frontendHostname"] ?? "");
  const sameSite = apiSettings(config).some(
    (a) => !isCrossSite({ frontendHost: frontend, apiHost: a.hostname }),
  );
  if (sameSite) {
    const origins = [`https://${guideHosts.frontendHostname}`];
    const taken = new Set<string>();
    list.push({
      name: "cross-site",
      title: `Cross-site hosts (the guide's ${guideHosts.frontendHostname} → ${guideHosts.apiHostname})`,
      summary:
        "This stack with the guide's host names, a front end and an API on different sites. The API's cookie is a third-party cookie there; with third-party cookies blocked, only the Worker path works, even after logging in to the API.",
      stack,
      config: apiEntries(config)
        ? everywhere(
            config,
            { frontendHostname: guideHosts.frontendHostname, corsAllowedOrigins: origins },
            (entry, i) => ({
              hostname: guideApiHost(String(entry["hostname"] ?? ""), i, taken),
              corsAllowedOrigins: origins,
            }),
          )
        : { ...guideHosts, corsAllowedOrigins: origins },
      originAdmitsFrontend: true,
    });
  }
  return options.ownApi ? list.filter((s) => !s.demoApiOnly) : list;
}

/** The demo API's own CORS policy: the stack's CORS intent, for the front end's origin or, to show a refusal, for another site. */
export function originPolicy(
  config: Record<string, unknown>,
  frontendHostname: string,
  admitsFrontend: boolean,
): CorsSettings {
  const methods = strings(config["corsAllowedMethods"]);
  return {
    allowedOrigins: [
      admitsFrontend ? `https://${frontendHostname}` : "https://partner.example.net",
    ],
    allowedMethods: methods.length > 0 ? methods : ["GET", "POST", "OPTIONS"],
    allowedHeaders: strings(config["corsAllowedHeaders"]),
    allowCredentials: true,
    maxAge: 600,
  };
}
