/** The header the API reads to learn who acted; the Worker alone sets it. */
export const USER_EMAIL_HEADER = "x-access-bridge-user-email";

// RFC 9110 §7.6.1: these describe one connection, not the message, so a proxy
// must not forward them; `Connection` may name more.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** The extra hop-by-hop names a `Connection` header lists, lower-cased. */
function listedInConnection(headers: Headers): Set<string> | undefined {
  const listed = headers.get("connection");
  if (!listed) return undefined;
  return new Set(listed.split(",").map((name) => name.trim().toLowerCase()));
}

// Each Headers call crosses into the runtime, so both directions read the
// headers once, decide in JavaScript, and delete only what is present.
function deleteAll(headers: Headers, names: string[]): void {
  for (const name of names) headers.delete(name);
}

/** Request headers that belong to the front end, to Access or to the client's proxy. */
const DROPPED_REQUEST_HEADERS = new Set([
  "cookie",
  "cf-access-jwt-assertion",
  "proxy-authorization",
  "host",
  // Servers that honour these take the host or path from them instead of the
  // URL, which would undo the constant host and the route prefix.
  "x-forwarded-host",
  "forwarded",
  "x-original-url",
  "x-rewrite-url",
  USER_EMAIL_HEADER,
]);

export interface ServiceToken {
  clientId: string;
  clientSecret: string;
}

/**
 * Turns a copy of the client's headers into the ones the API receives, in
 * place: minus what belongs to the front end, to Access, or to the
 * connection, plus the service token and the verified user.
 */
export function rewriteRequestHeaders(
  headers: Headers,
  token: ServiceToken,
  email: string | undefined,
): Headers {
  const connection = listedInConnection(headers);
  const dropped: string[] = [];
  headers.forEach((_value, name) => {
    if (
      DROPPED_REQUEST_HEADERS.has(name) ||
      HOP_BY_HOP.has(name) ||
      name.startsWith("cf-access-client-") ||
      connection?.has(name)
    ) {
      dropped.push(name);
    }
  });
  deleteAll(headers, dropped);
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
  const connection = listedInConnection(headers);
  const { clientId, clientSecret } = rewrite.token;
  const dropped: string[] = [];
  let location: string | undefined;
  headers.forEach((value, name) => {
    if (
      name === "set-cookie" ||
      HOP_BY_HOP.has(name) ||
      connection?.has(name) ||
      // An API that echoes request headers must not hand the service token to the browser.
      value.includes(clientId) ||
      value.includes(clientSecret)
    ) {
      dropped.push(name);
    } else if (name === "location") {
      location = value;
    }
  });
  deleteAll(headers, dropped);
  if (location !== undefined) {
    headers.set(
      "location",
      rewriteLocation(location, rewrite.apiHostname, rewrite.frontendOrigin, rewrite.pathPrefix),
    );
  }
}
