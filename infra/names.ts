/**
 * Names Cloudflare shows in the dashboard. They carry the project, the stack
 * and (from a program of its own) the component's name, so two stacks, or two
 * components in one stack, never collide and a reader can tell them apart.
 */

/** What the front end's side is called: one set a component. */
export interface FrontendNames {
  frontendApp: string;
  peoplePolicy: string;
  tokenExpiryAlert: string;
}

/** What one API's side is called. */
export interface ApiNames {
  apiApp: string;
  serviceAuthPolicy: string;
  serviceToken: string;
  /** Prefix of the Worker script name; a random suffix is appended to it. */
  workerPrefix: string;
}

export type CloudflareNames = FrontendNames & ApiNames;

/** The stack program's name prefix: `<project>-<stack>`, e.g. `access-bridge-prod`. */
export function namePrefixFor(project: string, stack: string): string {
  return `${project}-${stack}`;
}

/** A component's default prefix: the stack program's, then the component's own name. */
export function componentNamePrefix(project: string, stack: string, component: string): string {
  return `${namePrefixFor(project, stack)}-${component}`;
}

export function frontendNames(base: string): FrontendNames {
  return {
    frontendApp: `${base}-frontend`,
    peoplePolicy: `${base}-people`,
    tokenExpiryAlert: `${base}-proxy-token-expiring`,
  };
}

/**
 * One API's names. The first API's key is empty, and it is named as a
 * single-API stack's API always was; the others carry their key.
 */
export function apiNames(base: string, key = ""): ApiNames {
  const at = key === "" ? base : `${base}-${key}`;
  return {
    apiApp: `${at}-api`,
    serviceAuthPolicy: `${at}-service-auth`,
    serviceToken: `${at}-proxy`,
    workerPrefix: `${at}-proxy`,
  };
}

/** The names of a single-API set-up. */
export function cloudflareNames(base: string): CloudflareNames {
  return { ...frontendNames(base), ...apiNames(base) };
}

/**
 * The Worker script name: the prefix plus a stable random suffix, lower-cased
 * and cut to the 63 characters Workers allows, since it doubles as a subdomain label.
 * Without a suffix (a provider or mock that reports none) the prefix alone is used.
 */
export function workerScriptName(prefix: string, suffix: string | undefined): string {
  const tail = suffix ? `-${suffix.toLowerCase()}` : "";
  const head = prefix.toLowerCase().replace(/[^a-z0-9-]/g, "-");
  return `${head.slice(0, 63 - tail.length)}${tail}`;
}
