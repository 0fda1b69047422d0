/** The header the API reads to learn who acted; the Worker alone sets it. */
export const USER_EMAIL_HEADER = "x-access-bridge-user-email";

// RFC 9110 §7.6.1: these describe one connection, not the message, so a proxy
// must not forward them; `Connection` may name more.
const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

function deleteHopByHop(headers: Headers): void {
  const listed = headers.get("connection");
  if (listed) {
    for (const name of listed.split(",")) {
      const trimmed = name.trim();
      if (trimmed) headers.delete(trimmed);
    }
  }
  for (const name of HOP_BY_HOP) headers.delete(name);
}

export interface ServiceToken {
  clientId: string;
  clientSecret: string;
}

/**
 * The headers the API receives: the client's, minus what belongs to the
 * front end, to Access, or to the connection, plus the service token and the
 * verified user.
 */
export function upstreamRequestHeaders(
  incoming: Headers,
  token: ServiceToken,
  email: string | undefined,
): Headers {
  const headers = new Headers(incoming);
  deleteHopByHop(headers);
  const dropped: string[] = [];
  headers.forEach((_value, name) => {
    if (name.startsWith("cf-access-client-")) dropped.push(name);
  });
  for (const name of [
    ...dropped,
    "cookie",
    "cf-access-jwt-assertion",
    "proxy-authorization",
    "host",
    // Servers that honour these take the host or path from them instead of
    // the URL, which would undo the constant host and the route prefix.
    "x-forwarded-host",
    "forwarded",
    "x-original-url",
    "x-rewrite-url",
    USER_EMAIL_HEADER,
  ]) {
    headers.delete(name);
  }
  if (email !== undefined) headers.set(USER_EMAIL_HEADER, email);
  headers.set("cf-access-client-id", token.clientId);
  headers.set("cf-access-client-secret", token.clientSecret);
  return headers;
}

export interface ResponseRewrite {
  apiHostname: string;
  /** The front end's origin, e.g. `https://app.mysite.com`. */
  frontendOrigin: string;
  /** The route prefix when the API does not see it (stripped), else `""`. */
  pathPrefix: string;
  token: ServiceToken;
}

/**
 * Maps a `Location` on the API host back to the front end's route, so a
 * redirect never sends the browser to the API directly: absolute and
 * scheme-relative URLs on the API host become the front end's, and a
 * path-only one gets back the prefix the API never saw. Other hosts and
 * path-relative locations are left alone.
 */
export function rewriteLocation(
  location: string,
  apiHostname: string,
  frontendOrigin: string,
  pathPrefix: string,
): string {
  if (location.startsWith("/") && !location.startsWith("//") && !location.startsWith("/\\")) {
    return `${pathPrefix}${location}`;
  }
  if (!/^(https?:)?[/\\]{2}/i.test(location)) return location;
  let url: URL;
  try {
    url = new URL(location, `https://${apiHostname}`);
  } catch {
    return location;
  }
  if (url.host !== apiHostname) return location;
  return `${frontendOrigin}${pathPrefix}${url.pathname}${url.search}${url.hash}`;
}

/** Cleans the API's response headers in place. */
export function cleanResponseHeaders(headers: Headers, rewrite: ResponseRewrite): void {
  deleteHopByHop(headers);
  headers.delete("set-cookie");
  const location = headers.get("location");
  if (location !== null) {
    headers.set(
      "location",
      rewriteLocation(location, rewrite.apiHostname, rewrite.frontendOrigin, rewrite.pathPrefix),
    );
  }
  // An API that echoes request headers must not hand the service token to the browser.
  const leaking: string[] = [];
  headers.forEach((value, name) => {
    if (value.includes(rewrite.token.clientId) || value.includes(rewrite.token.clientSecret)) {
      leaking.push(name);
    }
  });
  for (const name of leaking) headers.delete(name);
}
