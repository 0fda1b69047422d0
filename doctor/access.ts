/**
 * Recognising Cloudflare Access's own answers, as opposed to the API's.
 */
import { getHeader, type HeaderField, type ResponseView } from "./cors-check";

/** Headers on a response that show Access (or Cloudflare's edge) produced it. */
export function accessEvidence(headers: HeaderField[]): string[] {
  const evidence = new Set<string>();
  for (const h of headers) {
    const name = h.name.toLowerCase();
    if (name.startsWith("cf-access-")) evidence.add(`${name} header`);
    if (name === "set-cookie" && /^cf_authorization=/i.test(h.value.trim())) {
      evidence.add("CF_Authorization cookie");
    }
  }
  const server = getHeader(headers, "server");
  if (server !== null && server.toLowerCase() === "cloudflare") evidence.add("server: cloudflare");
  return [...evidence];
}

/**
 * True when only Access (not merely Cloudflare's proxy) can have produced the
 * response: `server: cloudflare` alone is on every proxied response.
 */
export function isFromAccess(res: ResponseView): boolean {
  return accessEvidence(res.headers).some((e) => e !== "server: cloudflare");
}

/** Access's login page: `<team>.cloudflareaccess.com/cdn-cgi/access/login/...` or the app's own host. */
export function isAccessLoginUrl(location: string, base?: string): boolean {
  let url: URL;
  try {
    url = new URL(location, base);
  } catch {
    return false;
  }
  return url.pathname.startsWith("/cdn-cgi/access/login");
}

export function accessLoginLocation(res: ResponseView, base?: string): string | null {
  if (![301, 302, 303, 307, 308].includes(res.status)) return null;
  const location = getHeader(res.headers, "location");
  return location !== null && isAccessLoginUrl(location, base) ? location : null;
}

/**
 * Whether a request carries the mark that gets a 401 from Access where it
 * would redirect to its login: "In order to receive a 401 for expired
 * session, add the following header to all AJAX requests:
 * X-Requested-With: XMLHttpRequest" (Cloudflare's "Session management").
 */
export function isMarkedXhr(value: string | null | undefined): boolean {
  return (value ?? "").trim().toLowerCase() === "xmlhttprequest";
}
