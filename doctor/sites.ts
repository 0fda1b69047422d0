/** Origins, hosts and sites of the URLs a finding names. */

export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

export function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}

/** Whether a page's request goes to its own origin, where the browser applies no CORS check. */
export function isSameOrigin(req: { url: string; origin: string }): boolean {
  return originOf(req.url) === req.origin;
}

/**
 * Whether a page's request is on the stack's route: its own origin (the
 * front end's), under the Worker's prefix, as Cloudflare matches
 * `<host><prefix>/*`, or the bare prefix.
 */
export function isOnRoute(req: { url: string; origin: string }, routePrefix: string): boolean {
  if (!isSameOrigin(req)) return false;
  const path = new URL(req.url).pathname;
  return path === routePrefix || path.startsWith(`${routePrefix}/`);
}

/** Multi-label public suffixes common enough to matter; a full list would be a dependency. */
const TWO_LABEL_SUFFIXES = new Set([
  "co.uk",
  "org.uk",
  "ac.uk",
  "com.au",
  "net.au",
  "co.jp",
  "co.nz",
  "com.br",
]);

/** The registrable domain ("site") of a host name, for telling same-site from cross-site. */
export function siteOf(host: string): string {
  const labels = host.toLowerCase().split(".");
  const keep = TWO_LABEL_SUFFIXES.has(labels.slice(-2).join(".")) ? 3 : 2;
  return labels.slice(-keep).join(".");
}

/** Whether the browser treats the API's cookie as a third-party cookie on the front end's page. */
export function isCrossSite(hosts: { frontendHost: string; apiHost: string }): boolean {
  return siteOf(hosts.frontendHost) !== siteOf(hosts.apiHost);
}
