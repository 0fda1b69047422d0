/**
 * Names Cloudflare shows in the dashboard. They carry the project and stack,
 * so two stacks in one account never collide and a reader can tell them apart.
 */
export interface CloudflareNames {
  frontendApp: string;
  apiApp: string;
  peoplePolicy: string;
  serviceAuthPolicy: string;
  serviceToken: string;
  tokenExpiryAlert: string;
  /** Prefix of the Worker script name; a random suffix is appended to it. */
  workerPrefix: string;
}

/** The default name prefix: `<project>-<stack>`, e.g. `access-bridge-prod`. */
export function namePrefixFor(project: string, stack: string): string {
  return `${project}-${stack}`;
}

export function cloudflareNames(base: string): CloudflareNames {
  return {
    frontendApp: `${base}-frontend`,
    apiApp: `${base}-api`,
    peoplePolicy: `${base}-people`,
    serviceAuthPolicy: `${base}-service-auth`,
    serviceToken: `${base}-proxy`,
    tokenExpiryAlert: `${base}-proxy-token-expiring`,
    workerPrefix: `${base}-proxy`,
  };
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
