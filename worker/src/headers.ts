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

// The runtime writes a response's connection-level headers itself and drops
// these on the way out, so the Worker leaves them to it.
const HOP_BY_HOP_DROPPED_BY_RUNTIME = new Set([
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

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

/** The names a `Connection` header value lists, lower-cased. */
function listedNames(connection: string): string[] {
  return connection.split(",").map((name) => name.trim().toLowerCase());
}

export interface ServiceToken {
  clientId: string;
  clientSecret: string;
}

export type HeaderList = [name: string, value: string][];

/** What the Worker needs from the client's headers, read in one pass. */
export interface ClientHeaders {
  /** `Cf-Access-Jwt-Assertion`, the token Access added. */
  assertion: string | undefined;
  origin: string | undefined;
  /** `Sec-Fetch-Site`. */
  fetchSite: string | undefined;
  /**
   * The headers the API may see: the client's minus what belongs to the front
   * end, to Access or to the connection. Neither the token nor the user yet.
   */
  forwarded: HeaderList;
}

/**
 * Reads the client's headers once. Every Headers call crosses into the
 * runtime, so the assertion, the CSRF markers and the forwarded list all come
 * out of a single `forEach`, and the upstream request is built from the list
 * instead of copying the headers and deleting from the copy.
 *
 * `bodyDropped` says the client's body will not be forwarded, so the length
 * that described it goes too.
 */
export function readClientHeaders(headers: Headers, bodyDropped: boolean): ClientHeaders {
  let assertion: string | undefined;
  let origin: string | undefined;
  let fetchSite: string | undefined;
  let connection: string | undefined;
  let forwarded: HeaderList = [];
  headers.forEach((value, name) => {
    if (name === "cf-access-jwt-assertion") assertion = value;
    else if (name === "origin") origin = value;
    else if (name === "sec-fetch-site") fetchSite = value;
    else if (name === "connection") connection = value;
    else if (name === "content-length" && bodyDropped) return;
    if (
      DROPPED_REQUEST_HEADERS.has(name) ||
      HOP_BY_HOP.has(name) ||
      name.startsWith("cf-access-client-")
    ) {
      return;
    }
    forwarded.push([name, value]);
  });
  if (connection !== undefined) {
    const listed = new Set(listedNames(connection));
    forwarded = forwarded.filter(([name]) => !listed.has(name));
  }
  return { assertion, origin, fetchSite, forwarded };
}

/** The forwarded list completed with the verified user and the service token. */
export function withServiceToken(
  forwarded: HeaderList,
  token: ServiceToken,
  email: string | undefined,
): HeaderList {
  if (email !== undefined) forwarded.push([USER_EMAIL_HEADER, email]);
  forwarded.push(["cf-access-client-id", token.clientId]);
  forwarded.push(["cf-access-client-secret", token.clientSecret]);
  return forwarded;
}

/** What the API's response headers need before the browser may see them. */
export interface ResponseChanges {
  /** Names to delete: cookies, anything carrying the token, leftover hop-by-hop. */
  dropped: string[];
  /** The API's `Location`, to be mapped with {@link rewriteLocation}. */
  location: string | undefined;
}

/**
 * Reads the API's response headers once and says what must change, or
 * `undefined` when they can go back as they are. That is the common case, and
 * it lets the Worker return the API's response without copying it.
 */
export function responseChanges(
  headers: Headers,
  token: ServiceToken,
): ResponseChanges | undefined {
  const { clientId, clientSecret } = token;
  const dropped: string[] = [];
  let location: string | undefined;
  let connection: string | undefined;
  headers.forEach((value, name) => {
    if (
      name === "set-cookie" ||
      name === "proxy-connection" ||
      // An API that echoes request headers must not hand the service token to the browser.
      value.includes(clientId) ||
      value.includes(clientSecret)
    ) {
      dropped.push(name);
    } else if (name === "location") {
      location = value;
    } else if (name === "connection") {
      connection = value;
    }
  });
  if (connection !== undefined) {
    for (const name of listedNames(connection)) {
      if (!HOP_BY_HOP_DROPPED_BY_RUNTIME.has(name)) dropped.push(name);
    }
  }
  if (dropped.length === 0 && location === undefined) return undefined;
  return { dropped, location };
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
