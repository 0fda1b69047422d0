/** Where a URL the API sends back must point instead of the API host. */
export interface FrontEnd {
  /** The API's hostname, lower case. */
  apiHostname: string;
  /** The origin the browser called, e.g. `https://app.mysite.com`. */
  origin: string;
  /** Put back before a path the API saw without it; `""` when nothing was stripped. */
  pathPrefix: string;
}

// Browsers drop tabs and newlines anywhere in a URL, and controls or spaces
// at either end, before they parse it: `https:/\t/api…` is `https://api…`.
const IGNORED_BY_BROWSERS = /[\t\n\r]|^[\0- ]+|[\0- ]+$/g;

/** A path on whatever host the browser is on: `/x`, but not `//host` or `/\host`. */
function isPathOnly(url: string): boolean {
  return url.startsWith("/") && url.charAt(1) !== "/" && url.charAt(1) !== "\\";
}

/** The API host on its default port, spelt with or without the root's trailing dot. */
function isApiHost(url: URL, apiHostname: string): boolean {
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.port !== "") return false;
  const host = url.hostname;
  return host === apiHostname || host === `${apiHostname}.`;
}

/**
 * Maps a URL the API sends back (`Location`, `Content-Location`, a `Link`
 * target) to the
 * front end's route, so a redirect never sends the browser to the API
 * directly. The URL is read as the browser would read it on the front end's
 * origin; one that lands on the API host becomes the front end's, and a
 * path-only one gets back the prefix the API never saw. Other hosts and
 * relative paths are left alone.
 */
export function rewriteLocation(location: string, frontEnd: FrontEnd): string {
  const cleaned = location.replace(IGNORED_BY_BROWSERS, "");
  if (isPathOnly(cleaned)) {
    return frontEnd.pathPrefix === "" ? location : `${frontEnd.pathPrefix}${cleaned}`;
  }
  let url: URL;
  try {
    url = new URL(cleaned, frontEnd.origin);
  } catch {
    return location;
  }
  if (!isApiHost(url, frontEnd.apiHostname)) return location;
  return `${frontEnd.origin}${frontEnd.pathPrefix}${url.pathname}${url.search}${url.hash}`;
}

// HTML's declarative refresh: a delay, `;` or `,`, an optional `url=`, then
// the URL, optionally quoted (`5; url='https://…'`).
const REFRESH = /^(\s*[\d.]*\s*[;,]?\s*(?:url\s*=\s*)?)(["']?)([^]*)$/i;

/** Maps the URL in a `Refresh` header value as {@link rewriteLocation} does. */
export function rewriteRefresh(refresh: string, frontEnd: FrontEnd): string {
  const match = REFRESH.exec(refresh);
  if (match === null) return refresh;
  const [, lead = "", quote = "", rest = ""] = match;
  const end = quote === "" ? -1 : rest.indexOf(quote);
  const target = end < 0 ? rest : rest.slice(0, end);
  if (target === "") return refresh;
  const tail = end < 0 ? "" : rest.slice(end);
  return `${lead}${quote}${rewriteLocation(target, frontEnd)}${tail}`;
}

// A Link header's targets: each `<URI-reference>` outside a quoted parameter
// (RFC 8288 §3), so `title="<x>"` is left as written.
const LINK_TARGET = /"(?:[^"\\]|\\.)*"|<([^>]*)>/g;

/** Maps each target of a `Link` header value as {@link rewriteLocation} does. */
export function rewriteLink(link: string, frontEnd: FrontEnd): string {
  return link.replace(LINK_TARGET, (whole, target?: string) =>
    target === undefined ? whole : `<${rewriteLocation(target, frontEnd)}>`,
  );
}

/** The response headers that may name a URL on the API host, each with its mapping. */
export const URL_REWRITES: ReadonlyMap<string, (value: string, frontEnd: FrontEnd) => string> =
  new Map([
    ["location", rewriteLocation],
    ["content-location", rewriteLocation],
    ["refresh", rewriteRefresh],
    ["link", rewriteLink],
  ]);
