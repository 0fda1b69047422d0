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
// all of these but `Proxy-Connection` on the way out, so the Worker leaves
// them to it.
const HOP_BY_HOP_DROPPED_BY_RUNTIME = new Set(
  [...HOP_BY_HOP].filter((name) => name !== "proxy-connection"),
);

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

/**
 * The names among the client's headers that must not reach the API: what
 * belongs to the front end, to Access or to the connection, including what a
 * `Connection` header lists. The runtime copies the headers natively; this
 * pass reads the names alone, because each header handed to JavaScript
 * costs far more than one the runtime copies.
 */
export function droppedRequestHeaders(headers: Headers): string[] {
  const dropped: string[] = [];
  let listsMore = false;
  for (const name of headers.keys()) {
    if (
      DROPPED_REQUEST_HEADERS.has(name) ||
      HOP_BY_HOP.has(name) ||
      name.startsWith("cf-access-client-")
    ) {
      dropped.push(name);
      if (name === "connection") listsMore = true;
    }
  }
  if (listsMore) dropped.push(...listedNames(headers.get("connection") ?? ""));
  return dropped;
}

/**
 * Turns a copy of the client's headers into the ones the API receives, in
 * place: minus `dropped`, plus the verified user and the service token.
 */
export function rewriteRequestHeaders(
  headers: Headers,
  dropped: string[],
  token: ServiceToken,
  email: string | undefined,
): void {
  for (const name of dropped) headers.delete(name);
  if (email !== undefined) headers.set(USER_EMAIL_HEADER, email);
  headers.set("cf-access-client-id", token.clientId);
  headers.set("cf-access-client-secret", token.clientSecret);
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
