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
    "x-forwarded-host",
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
  /** The front end's origin plus the prefix the API does not see (or `""`). */
  frontendBase: string;
  token: ServiceToken;
}

/**
 * Maps an absolute `Location` on the API host back to the front end's route,
 * so a redirect never sends the browser to the API directly. Relative and
 * foreign locations are left alone.
 */
export function rewriteLocation(
  location: string,
  apiHostname: string,
  frontendBase: string,
): string {
  if (!/^https:\/\//i.test(location)) return location;
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return location;
  }
  if (url.host !== apiHostname) return location;
  return `${frontendBase}${url.pathname}${url.search}${url.hash}`;
}

/** Cleans the API's response headers in place. */
export function cleanResponseHeaders(headers: Headers, rewrite: ResponseRewrite): void {
  deleteHopByHop(headers);
  headers.delete("set-cookie");
  const location = headers.get("location");
  if (location !== null) {
    headers.set("location", rewriteLocation(location, rewrite.apiHostname, rewrite.frontendBase));
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
