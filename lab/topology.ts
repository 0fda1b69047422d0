/**
 * Reads what the Pulumi program declared into the shape the emulated edges
 * need: the two Access apps with the policies attached to them, the service
 * token, the Worker's exact content and bindings, and its route.
 *
 * Nothing here is configured a second time: every host, AUD tag, CORS setting
 * and credential comes from the declared resources.
 */
import type { DeclaredResource, DeclaredStack } from "../infra/recorder";
import { resourceTypes } from "../infra/resource-types";

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

/** Who an app lets in, flattened from its attached policies. */
export interface AppAccess {
  /** People, from `decision: "allow"` policies. */
  emails: string[];
  emailDomains: string[];
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
}

export interface LabTopology {
  stack: string;
  teamDomain: string;
  frontend: LabApp;
  api: LabApp;
  worker: LabWorker;
  /** The WorkersRoute pattern, e.g. `www.example.com/api/*`. */
  routePattern: string;
  /** The stack's `identityJwks` output: the keys the API verifies X-Access-Bridge-Identity with. */
  identityJwks: string;
}

function ofType(stack: DeclaredStack, type: string): DeclaredResource[] {
  return stack.resources.filter((r) => r.type === type);
}

function single(stack: DeclaredStack, type: string): DeclaredResource {
  const found = ofType(stack, type);
  if (found.length !== 1) {
    const built = stack.resources.map((r) => r.type.split(":").pop()).join(", ");
    throw new Error(
      `the lab needs exactly one ${type} in stack ${stack.stack}; the program declared ${found.length} (built: ${built || "nothing"})`,
    );
  }
  return found[0]!;
}

function hostOf(domain: string): string {
  return domain.split("/")[0]!.toLowerCase();
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** The include rules the program uses, as the provider spells them. */
interface IncludeRule {
  email?: { email?: unknown };
  emailDomain?: { domain?: unknown };
  serviceToken?: { tokenId?: unknown };
}

/** Who an app admits, from the policies its `policies` input references by id. */
export function appAccess(stack: DeclaredStack, app: DeclaredResource): AppAccess {
  const policies = ofType(stack, resourceTypes.policy);
  const tokens = ofType(stack, resourceTypes.token);
  const access: AppAccess = { emails: [], emailDomains: [], serviceTokens: [] };
  const refs = Array.isArray(app.inputs["policies"])
    ? (app.inputs["policies"] as { id?: string }[])
    : [];
  for (const ref of refs) {
    const policy = policies.find((p) => p.id === ref.id);
    if (!policy)
      throw new Error(
        `app ${app.name} references policy ${String(ref.id)}, which was not declared`,
      );
    const includes = Array.isArray(policy.inputs["includes"])
      ? (policy.inputs["includes"] as IncludeRule[])
      : [];
    const decision = policy.inputs["decision"];
    for (const rule of includes) {
      const email = rule.email?.email;
      const domain = rule.emailDomain?.domain;
      const tokenId = rule.serviceToken?.tokenId;
      if (decision === "allow" && typeof email === "string") {
        access.emails.push(email.toLowerCase());
      } else if (decision === "allow" && typeof domain === "string") {
        access.emailDomains.push(domain.toLowerCase());
      } else if (decision === "non_identity" && typeof tokenId === "string") {
        const token = tokens.find((t) => t.id === tokenId);
        if (!token) throw new Error(`policy ${policy.name} includes an undeclared service token`);
        access.serviceTokens.push({
          tokenId: token.id,
          clientId: String(token.state["clientId"]),
          clientSecret: String(token.state["clientSecret"]),
        });
      }
    }
  }
  return access;
}

function labApp(stack: DeclaredStack, hostname: string): LabApp {
  const app = ofType(stack, resourceTypes.app).find(
    (a) => hostOf(String(a.inputs["domain"] ?? "")) === hostname,
  );
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

export function workerOf(stack: DeclaredStack): LabWorker {
  const script = single(stack, resourceTypes.script);
  const bindings: Record<string, string> = {};
  for (const b of (script.inputs["bindings"] ?? []) as {
    name: string;
    type: string;
    text?: string;
  }[]) {
    if ((b.type === "plain_text" || b.type === "secret_text") && typeof b.text === "string")
      bindings[b.name] = b.text;
  }
  return {
    scriptName: String(script.inputs["scriptName"]),
    mainModule: String(script.inputs["mainModule"]),
    content: String(script.inputs["content"]),
    compatibilityDate: String(script.inputs["compatibilityDate"]),
    compatibilityFlags: strings(script.inputs["compatibilityFlags"]),
    bindings,
  };
}

export function topologyOf(stack: DeclaredStack): LabTopology {
  const worker = workerOf(stack);
  const routePattern = String(single(stack, resourceTypes.route).inputs["pattern"]);
  const apiHost = worker.bindings["API_HOSTNAME"];
  const teamDomain = worker.bindings["ACCESS_TEAM_DOMAIN"];
  if (!apiHost || !teamDomain)
    throw new Error("the Worker is missing its API_HOSTNAME or ACCESS_TEAM_DOMAIN binding");
  return {
    stack: stack.stack,
    teamDomain: teamDomain.toLowerCase(),
    frontend: labApp(stack, hostOf(routePattern)),
    api: labApp(stack, apiHost.toLowerCase()),
    worker,
    routePattern,
    identityJwks: String(stack.outputs["identityJwks"]),
  };
}

/** Whether a Workers route pattern (`host/path*`) matches a request's host and path, as Cloudflare matches routes. */
export function routeMatches(pattern: string, host: string, pathname: string): boolean {
  const escaped = pattern
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${escaped}$`, "i").test(`${host}${pathname}`);
}
