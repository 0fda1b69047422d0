/**
 * Reads what the Pulumi program declared into the shape the emulated edges
 * need: the front end's Access app, and for each API its Access app with the
 * policies attached to it, its service token, its Worker's exact content and
 * bindings, and that Worker's route on the front end.
 *
 * Nothing here is configured a second time: every host, AUD tag, CORS setting
 * and credential comes from the declared resources.
 */
import type { DeclaredResource, DeclaredStack } from "../checker/recorder";
import { resourceTypes } from "../infra/resource-types";
import { BINDINGS } from "../worker/src/env";

/** An Access application's CORS settings, as the provider's `corsHeaders` input spells them. */
export interface CorsSettings {
  allowedOrigins?: string[];
  allowedMethods?: string[];
  allowedHeaders?: string[];
  allowCredentials?: boolean;
  maxAge?: number;
  allowAllOrigins?: boolean;
  allowAllMethods?: boolean;
  allowAllHeaders?: boolean;
}

export interface ServiceTokenCredential {
  tokenId: string;
  clientId: string;
  clientSecret: string;
}

/**
 * Who an app lets in, flattened from its attached policies. The lab
 * evaluates email, email domain and everyone includes, email and email
 * domain excludes, and a required `authMethod: mfa`; every other rule it
 * names in `unemulated` and treats as satisfied.
 */
export interface AppAccess {
  /** People, from the include rules of `decision: "allow"` policies. */
  emails: string[];
  emailDomains: string[];
  /** An `everyone` include rule. */
  everyone?: boolean;
  /** People an exclude rule keeps out. */
  excludedEmails?: string[];
  excludedDomains?: string[];
  /** A require rule of `authMethod: mfa`: the login asks for a second factor. */
  requireMfa?: boolean;
  /**
   * What the lab cannot evaluate and treats as satisfied, e.g. `include
   * githubOrganization`: such an include admits anyone, such a require is
   * met, such an exclude keeps nobody out. A reusable policy the stack does
   * not declare is named here too, as `policy <id>`.
   */
  unemulated?: string[];
  /** Service tokens, from `decision: "non_identity"` (Service Auth) policies. */
  serviceTokens: ServiceTokenCredential[];
}

export interface LabApp {
  hostname: string;
  aud: string;
  name: string;
  corsHeaders: CorsSettings | undefined;
  optionsPreflightBypass: boolean;
  access: AppAccess;
}

export interface LabWorker {
  scriptName: string;
  mainModule: string;
  content: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  /** Every binding as the text the runtime would see, secrets included. */
  bindings: Record<string, string>;
  /** Analytics Engine datasets by binding name, which miniflare runs locally (writes are dropped). */
  analyticsDatasets: Record<string, { dataset: string }>;
}

/** One API behind the front end: its Access app, the Worker in front of it and that Worker's route. */
export interface LabApi {
  app: LabApp;
  worker: LabWorker;
  /** The WorkersRoute pattern, e.g. `www.example.com/api/*`. */
  routePattern: string;
  /** The Worker's ROUTE_PREFIX binding, e.g. `/api`. */
  routePrefix: string;
  /** This API's `identityJwks`: the keys it verifies X-Access-Bridge-Identity with. */
  identityJwks: string;
}

export interface LabTopology {
  stack: string;
  teamDomain: string;
  frontend: LabApp;
  /**
   * Whether the front end's Access app is managed elsewhere (`frontendAud`):
   * then the program declares none, and the lab emulates it from the Workers'
   * ACCESS_AUD and the people policy.
   */
  frontendManagedElsewhere: boolean;
  /** Every API, in the order of the stack's `apis` output; the first is the single-API stack's one. */
  apis: LabApi[];
}

function ofType(stack: DeclaredStack, type: string): DeclaredResource[] {
  return stack.resources.filter((r) => r.type === type);
}

function hostOf(domain: string): string {
  return domain.split("/")[0]!.toLowerCase();
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** A rule as the provider spells it: one selector. */
type Rule = Record<string, Record<string, unknown> | undefined>;

const rulesIn = (policy: DeclaredResource, list: string): Rule[] =>
  Array.isArray(policy.inputs[list]) ? (policy.inputs[list] as Rule[]) : [];

const text = (value: unknown): string | undefined =>
  typeof value === "string" ? value.toLowerCase() : undefined;

/** Reads one allow policy's rules into `access`, naming what the lab cannot evaluate. */
function readPeopleRules(policy: DeclaredResource, access: AppAccess): void {
  const unemulated = (access.unemulated ??= []);
  const skip = (list: string, selector: string) => {
    const what = `${list} ${selector}`;
    if (!unemulated.includes(what)) unemulated.push(what);
  };
  for (const rule of rulesIn(policy, "includes")) {
    const [selector = ""] = Object.keys(rule);
    const email = text(rule.email?.email);
    const domain = text(rule.emailDomain?.domain);
    if (email !== undefined) access.emails.push(email);
    else if (domain !== undefined) access.emailDomains.push(domain);
    else if (rule.everyone) access.everyone = true;
    else skip("include", selector);
  }
  for (const rule of rulesIn(policy, "requires")) {
    const [selector = ""] = Object.keys(rule);
    if (rule.authMethod?.authMethod === "mfa") access.requireMfa = true;
    else
      skip(
        "require",
        selector === "authMethod" ? `authMethod ${String(rule.authMethod?.authMethod)}` : selector,
      );
  }
  for (const rule of rulesIn(policy, "excludes")) {
    const [selector = ""] = Object.keys(rule);
    const email = text(rule.email?.email);
    const domain = text(rule.emailDomain?.domain);
    if (email !== undefined) (access.excludedEmails ??= []).push(email);
    else if (domain !== undefined) (access.excludedDomains ??= []).push(domain);
    else skip("exclude", selector);
  }
}

/** Who a set of policies admits, flattened from their rules. */
function policiesAccess(stack: DeclaredStack, policies: DeclaredResource[]): AppAccess {
  const tokens = ofType(stack, resourceTypes.token);
  const access: AppAccess = { emails: [], emailDomains: [], serviceTokens: [] };
  for (const policy of policies) {
    const decision = policy.inputs["decision"];
    if (decision === "allow") readPeopleRules(policy, access);
    if (decision !== "non_identity") continue;
    for (const rule of rulesIn(policy, "includes")) {
      const tokenId = rule.serviceToken?.tokenId;
      if (typeof tokenId !== "string") continue;
      const token = tokens.find((t) => t.id === tokenId);
      if (!token) throw new Error(`policy ${policy.name} includes an undeclared service token`);
      access.serviceTokens.push({
        tokenId: token.id,
        clientId: String(token.state["clientId"]),
        clientSecret: String(token.state["clientSecret"]),
      });
    }
  }
  return access;
}

/**
 * Who an app admits, from the policies its `policies` input references by
 * id. A policy the stack does not declare (peoplePolicyIds) is the
 * account's own: its rules are unknown here, so the lab names it and lets
 * anyone who logs in through it.
 */
export function appAccess(stack: DeclaredStack, app: DeclaredResource): AppAccess {
  const declared = ofType(stack, resourceTypes.policy);
  const refs = Array.isArray(app.inputs["policies"])
    ? (app.inputs["policies"] as { id?: string }[])
    : [];
  const policies = refs.flatMap((ref) => declared.filter((p) => p.id === ref.id));
  const access = policiesAccess(stack, policies);
  const unknown = refs.filter((ref) => !declared.some((p) => p.id === ref.id));
  if (unknown.length > 0) {
    access.unemulated = [
      ...(access.unemulated ?? []),
      ...unknown.map((ref) => `policy ${String(ref.id)} (not declared by this stack)`),
    ];
  }
  return access;
}

function declaredApp(stack: DeclaredStack, hostname: string): DeclaredResource | undefined {
  return ofType(stack, resourceTypes.app).find(
    (a) => hostOf(String(a.inputs["domain"] ?? "")) === hostname,
  );
}

function labApp(stack: DeclaredStack, hostname: string): LabApp {
  const app = declaredApp(stack, hostname);
  if (!app) throw new Error(`no Access application was declared for ${hostname}`);
  const cors = app.inputs["corsHeaders"] as CorsSettings | undefined;
  return {
    hostname,
    aud: String(app.state["aud"]),
    name: String(app.inputs["name"] ?? app.name),
    corsHeaders: cors && Object.keys(cors).length > 0 ? cors : undefined,
    optionsPreflightBypass: app.inputs["optionsPreflightBypass"] === true,
    access: appAccess(stack, app),
  };
}

/**
 * The front end's app when it is managed elsewhere (`frontendAud`): the aud
 * the Workers verify the front end's assertion with, and the people the
 * declared allow policies admit, since the stack says nothing else about who
 * may use the front end.
 */
function managedFrontendApp(stack: DeclaredStack, hostname: string, aud: string): LabApp {
  const people = ofType(stack, resourceTypes.policy).filter(
    (p) => p.inputs["decision"] === "allow",
  );
  const access = policiesAccess(stack, people);
  if (people.length === 0) access.unemulated = ["the account's own policies (peoplePolicyIds)"];
  return {
    hostname,
    aud,
    name: `${hostname} (Access app managed elsewhere, frontendAud)`,
    corsHeaders: undefined,
    optionsPreflightBypass: false,
    access,
  };
}

export function workerOf(script: DeclaredResource): LabWorker {
  const bindings: Record<string, string> = {};
  const analyticsDatasets: Record<string, { dataset: string }> = {};
  for (const b of (script.inputs["bindings"] ?? []) as {
    name: string;
    type: string;
    text?: string;
    dataset?: string;
  }[]) {
    if ((b.type === "plain_text" || b.type === "secret_text") && typeof b.text === "string")
      bindings[b.name] = b.text;
    if (b.type === "analytics_engine" && typeof b.dataset === "string")
      analyticsDatasets[b.name] = { dataset: b.dataset };
  }
  return {
    scriptName: String(script.inputs["scriptName"]),
    mainModule: String(script.inputs["mainModule"]),
    content: String(script.inputs["content"]),
    compatibilityDate: String(script.inputs["compatibilityDate"]),
    compatibilityFlags: strings(script.inputs["compatibilityFlags"]),
    bindings,
    analyticsDatasets,
  };
}

/** One entry of the stack's `apis` output, as far as the lab reads it. */
interface ApiOutput {
  hostname: string;
  routePattern: string;
  workerName: string;
  identityJwks: string;
}

function apiOutputs(stack: DeclaredStack): ApiOutput[] {
  const listed = stack.outputs["apis"];
  if (!Array.isArray(listed) || listed.length === 0)
    throw new Error(`stack ${stack.stack} has no apis output listing its APIs`);
  return listed as ApiOutput[];
}

function labApi(stack: DeclaredStack, listed: ApiOutput): LabApi {
  const route = ofType(stack, resourceTypes.route).find(
    (r) => r.inputs["pattern"] === listed.routePattern,
  );
  const script = ofType(stack, resourceTypes.script).find(
    (s) => s.inputs["scriptName"] === listed.workerName,
  );
  if (!route || !script)
    throw new Error(
      `stack ${stack.stack} lists ${listed.hostname} on ${listed.routePattern}, but declares no ${route ? "Worker" : "route"} for it`,
    );
  if (route.inputs["script"] !== listed.workerName)
    throw new Error(
      `route ${listed.routePattern} runs ${String(route.inputs["script"])}, not ${listed.workerName}`,
    );
  const worker = workerOf(script);
  const apiHost = worker.bindings[BINDINGS.apiHostname]?.toLowerCase();
  if (apiHost !== listed.hostname.toLowerCase())
    throw new Error(
      `Worker ${worker.scriptName} forwards to ${String(apiHost)}, not ${listed.hostname}`,
    );
  return {
    app: labApp(stack, apiHost),
    worker,
    routePattern: listed.routePattern,
    routePrefix: worker.bindings[BINDINGS.routePrefix] ?? "",
    identityJwks: listed.identityJwks,
  };
}

export function topologyOf(stack: DeclaredStack): LabTopology {
  const listed = apiOutputs(stack);
  const apis = listed.map((entry) => labApi(stack, entry));
  const routes = ofType(stack, resourceTypes.route).map((r) => String(r.inputs["pattern"]));
  const unlisted = routes.filter((p) => !apis.some((a) => a.routePattern === p));
  if (unlisted.length > 0)
    throw new Error(`stack ${stack.stack} declares routes no API lists: ${unlisted.join(", ")}`);
  const first = apis[0]!.worker;
  const teamDomain = first.bindings[BINDINGS.teamDomain];
  const aud = first.bindings[BINDINGS.aud];
  if (!teamDomain || !aud)
    throw new Error("the Worker is missing its ACCESS_TEAM_DOMAIN or ACCESS_AUD binding");
  const frontendHost = hostOf(apis[0]!.routePattern);
  const managedElsewhere = declaredApp(stack, frontendHost) === undefined;
  return {
    stack: stack.stack,
    teamDomain: teamDomain.toLowerCase(),
    frontend: managedElsewhere
      ? managedFrontendApp(stack, frontendHost, aud)
      : labApp(stack, frontendHost),
    frontendManagedElsewhere: managedElsewhere,
    apis,
  };
}

/** The API a host serves directly, if any. */
export function apiByHost(topology: LabTopology, host: string): LabApi | undefined {
  return topology.apis.find((a) => a.app.hostname === host.toLowerCase());
}

/** Whether a Workers route pattern (`host/path*`) matches a request's host and path, as Cloudflare matches routes. */
export function routeMatches(pattern: string, host: string, pathname: string): boolean {
  const escaped = pattern
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${escaped}$`, "i").test(`${host}${pathname}`);
}

/**
 * How specific a route pattern is: "If more than one route pattern could
 * match a request URL, the most specific route pattern wins" (Cloudflare's
 * Workers routes docs). Scored as miniflare scores routes: more host labels,
 * then more path segments, a leading or trailing wildcard counting less, and
 * the longer pattern on a tie.
 */
function specificity(pattern: string): [number, number] {
  const slash = pattern.indexOf("/");
  const host = (slash < 0 ? pattern : pattern.slice(0, slash)).split(".");
  const path = (slash < 0 ? "/" : pattern.slice(slash)).split("/");
  const hostScore = host.length - (host[0]!.startsWith("*") ? 2 : 0);
  const pathScore = path.length - (path[path.length - 1] === "*" ? 2 : 0);
  return [hostScore * 26 + pathScore, pattern.length];
}

/** The route that serves a request among several on a zone: the most specific that matches. */
export function routeFor(
  patterns: readonly string[],
  host: string,
  pathname: string,
): string | undefined {
  const [best] = patterns
    .filter((p) => routeMatches(p, host, pathname))
    .map((p) => ({ p, score: specificity(p) }))
    .sort((a, b) => b.score[0] - a.score[0] || b.score[1] - a.score[1]);
  return best?.p;
}

/** The API whose Worker's route serves a request on the front end, if any. */
export function apiByRoute(
  topology: LabTopology,
  host: string,
  pathname: string,
): LabApi | undefined {
  const pattern = routeFor(
    topology.apis.map((a) => a.routePattern),
    host,
    pathname,
  );
  return topology.apis.find((a) => a.routePattern === pattern);
}
