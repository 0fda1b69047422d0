/**
 * How the API's answer is told to be its Access application refusing the
 * Worker's service token (expired, revoked, its secret rotated past the grace
 * period, or no Service Auth policy admitting it) rather than the API
 * answering: a redirect whose `Location` is Access's own.
 *
 * What this relies on: Access answers a request it does not admit with a
 * redirect to the team's login, `https://<team>.cloudflareaccess.com/cdn-cgi/access/login/<host>?...`
 * (Cloudflare's CORS guide and "Service tokens" docs), unless the app's
 * `service_auth_401_redirect` is on, which the stack leaves off so that the
 * refusal keeps this unmistakable shape: no API answers with a redirect into
 * Access's own paths. Access's 401 and 403 pages carry no documented mark
 * that sets them apart from an API's own, so they are passed on as the API's.
 */

/** Access's own paths, on the team domain or on the application's hostname. */
const ACCESS_PATH = "/cdn-cgi/access/";
const ACCESS_DOMAIN = ".cloudflareaccess.com";

/**
 * The host of a URL an answer carries when it is Access's own: anywhere on
 * the team domain, or under Access's paths on any Access host or the API's.
 * Undefined for any other URL, and for text that is no URL.
 */
export function accessHostOf(
  location: string,
  teamDomain: string,
  apiHostname: string,
): string | undefined {
  let url: URL;
  try {
    url = new URL(location, `https://${apiHostname}`);
  } catch {
    return undefined;
  }
  const host = url.hostname.replace(/\.$/, "");
  if (host === teamDomain) return host;
  const onAccess = host === apiHostname || host.endsWith(ACCESS_DOMAIN);
  return onAccess && url.pathname.startsWith(ACCESS_PATH) ? host : undefined;
}
