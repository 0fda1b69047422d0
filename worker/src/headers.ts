import { privateCacheControl } from "./cache-control";
import type { Identity } from "./identity";
import { IDENTITY_HEADER } from "../../identity/src/claims";
import { URL_REWRITES } from "./redirects";

/** Every header the Worker sets itself starts so; the client's never reach the API. */
const OWN_PREFIX = "x-access-bridge-";
/** A person's verified `email`. */
export const USER_EMAIL_HEADER = "x-access-bridge-user-email";
/** A service token's verified `common_name`, on requests no person made. */
export const COMMON_NAME_HEADER = "x-access-bridge-common-name";
/** The client's address as Cloudflare reports it in `CF-Connecting-IP`. */
export const CLIENT_IP_HEADER = "x-access-bridge-client-ip";

/**
 * A header name as the API's server may read it. CGI, WSGI and Rack fold `_`
 * into `-` (`X_Access_Bridge_User_Email` arrives as the Worker's own header),
 * so every drop decision is made on this form. Names come lower-cased.
 */
export function canonicalName(name: string): string {
  return name.includes("_") ? name.replaceAll("_", "-") : name;
}

// RFC 9110 §7.6.1: these describe one connection, not the message, so a proxy
// must not forward them; `Connection` may name more.
export const HOP_BY_HOP: readonly string[] = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

// The runtime writes a response's connection-level headers itself and drops
// all of these but `Proxy-Connection` on the way out, so the Worker leaves
// them to it.
const HOP_BY_HOP_DROPPED_BY_RUNTIME = new Set(
  HOP_BY_HOP.filter((name) => name !== "proxy-connection"),
);

/** Request headers dropped by exact (canonical) name. */
const DROPPED_REQUEST_HEADERS = [
  ...HOP_BY_HOP,
  // The front end's, or the client's proxy's.
  "cookie",
  "proxy-authorization",
  "host",
  // Frameworks take the URL's host, scheme or path, the client's address or
  // the method from these instead of the request itself, which would undo
  // the constant host, the route prefix, IP allow-lists and the method rule.
  "forwarded",
  "x-host",
  "x-real-ip",
  "true-client-ip",
  "x-http-method-override",
  "x-http-method",
  "x-method-override",
  // Where other proxies put the client's address: frameworks and rate
  // limiters read these first (`request-ip` starts with X-Client-IP), so a
  // caller would choose the address the API logs and limits. The API gets
  // the address from X-Access-Bridge-Client-IP.
  "x-client-ip",
  "client-ip",
  "x-cluster-client-ip",
  "fastly-client-ip",
  "x-forwarded",
  "forwarded-for",
  "x-originating-ip",
  "x-remote-ip",
  "x-remote-addr",
  "x-proxyuser-ip",
  "x-appengine-user-ip",
  // The scheme and mount point as Rack, WSGI and IIS front ends pass them:
  // the API would build its URLs, or judge https, from the client's word.
  "x-scheme",
  "x-url-scheme",
  "front-end-https",
  "x-script-name",
];

/**
 * Request header families the client must not speak for, as prefixes of the
 * canonical name: Access's (`Cf-Access-Jwt-Assertion`,
 * `-Authenticated-User-Email`, the service token, which the Worker sets
 * itself), the forwarding and rewriting headers proxies and frameworks trust,
 * and the Worker's own.
 */
const DROPPED_REQUEST_PREFIXES = [
  "cf-access-",
  "x-forwarded-",
  "x-original-",
  "x-rewrite-",
  "x-envoy-",
  OWN_PREFIX,
];

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A canonical name as a pattern that also matches each of its `_` spellings. */
const spellings = (name: string): string => escapeRegExp(name).replaceAll("-", "[-_]");

/**
 * Every drop rule for a request header name, in one pattern matched against
 * the name as the client spelled it, so no canonical copy of each name is
 * made: the names, the families, and any name with `_` that reads as a
 * `cf-*` header (Cloudflare's own headers are the edge's to set).
 */
const DROPPED_REQUEST_NAME = new RegExp(
  [
    `^(?:${DROPPED_REQUEST_HEADERS.map(spellings).join("|")})$`,
    `^(?:${DROPPED_REQUEST_PREFIXES.map(spellings).join("|")})`,
    "^cf(?:_|-[^_]*_)",
  ].join("|"),
);

/** The names a `Connection` header value lists, lower-cased. */
function listedNames(connection: string): string[] {
  return connection.split(",").map((name) => name.trim().toLowerCase());
}

export interface ServiceToken {
  clientId: string;
  clientSecret: string;
}

/**
 * What the Worker reads of the client's headers, in one pass: the names that
 * must not reach the API, as the client spelled them (with what a
 * `Connection` header lists), and the few values the later rules need. Each
 * `headers.get` is a call into the runtime that costs about as much as
 * judging every name in JavaScript, so the values are picked up on the way.
 * `forEach` hands the headers over faster than iterating `keys()` in workerd,
 * even with the values it passes along (measured with `npm run bench:handler`).
 */
export interface RequestHeaderFacts {
  dropped: string[];
  /** `Sec-Fetch-Site`, `Sec-Fetch-Mode` and `Origin`, as a browser sent them. */
  fetchSite: string | undefined;
  fetchMode: string | undefined;
  origin: string | undefined;
  /** `CF-Connecting-IP`, the client's address as Cloudflare saw it. */
  clientIp: string | undefined;
  /** `CF-Ray`, Cloudflare's id for the request: the log line's `requestId`. */
  ray: string | undefined;
  /** `Cf-Access-Jwt-Assertion`, dropped like every `Cf-Access-*` header the client sends. */
  assertion: string | undefined;
  /** `Upgrade`, hop-by-hop and so dropped, unless the request is a WebSocket's that may pass. */
  upgrade: string | undefined;
}

export function readRequestHeaders(headers: Headers): RequestHeaderFacts {
  const facts: RequestHeaderFacts = {
    dropped: [],
    fetchSite: undefined,
    fetchMode: undefined,
    origin: undefined,
    clientIp: undefined,
    ray: undefined,
    assertion: undefined,
    upgrade: undefined,
  };
  const dropped = facts.dropped;
  let connection: string | undefined;
  headers.forEach((value, name) => {
    if (DROPPED_REQUEST_NAME.test(name)) {
      dropped.push(name);
      if (name === "cf-access-jwt-assertion") facts.assertion = value;
      else if (name === "connection") connection = value;
      else if (name === "upgrade") facts.upgrade = value;
    } else if (name === "sec-fetch-site") facts.fetchSite = value;
    else if (name === "sec-fetch-mode") facts.fetchMode = value;
    else if (name === "origin") facts.origin = value;
    else if (name === "cf-connecting-ip") facts.clientIp = value;
    else if (name === "cf-ray") facts.ray = value;
  });
  if (connection !== undefined) dropped.push(...listedNames(connection));
  return facts;
}

/**
 * Turns a copy of the client's headers into the ones the API receives, in
 * place: minus `dropped`, plus who the verified assertion names (signed, and
 * plainly for APIs that only log), the client's address, the service token
 * and an order to every cache not to keep the answer.
 */
export function rewriteRequestHeaders(
  headers: Headers,
  dropped: string[],
  token: ServiceToken,
  identity: Identity,
  statement: string,
  clientIp: string | undefined,
): void {
  for (const name of dropped) headers.delete(name);
  headers.set(IDENTITY_HEADER, statement);
  if ("email" in identity) headers.set(USER_EMAIL_HEADER, identity.email);
  else headers.set(COMMON_NAME_HEADER, identity.commonName);
  if (clientIp) headers.set(CLIENT_IP_HEADER, clientIp);
  headers.set("cf-access-client-id", token.clientId);
  headers.set("cf-access-client-secret", token.clientSecret);
  // `cache: "no-store"` keeps the edge from answering; this tells any cache
  // between the edge and the API the same, whatever the client asked for.
  headers.set("cache-control", "no-store");
}

/**
 * Response headers dropped by exact (canonical) name: cookies, and the
 * cache orders meant only for CDNs (RFC 9213's, Cloudflare's, Akamai's and
 * Fastly's), which would let a cache in front of the browser keep one
 * person's answer for the next.
 */
const DROPPED_RESPONSE_HEADERS = new Set([
  "set-cookie",
  "proxy-connection",
  "cdn-cache-control",
  "cloudflare-cdn-cache-control",
  "surrogate-control",
]);

/** What the API's response headers need before the browser may see them. */
export interface ResponseChanges {
  /**
   * Names to delete: cookies, CORS, CDN cache orders, the Worker's own,
   * anything carrying the token or the statement, leftover hop-by-hop.
   */
  dropped: string[];
  /** Headers that may hold a URL on the API host, with their values, to map back. */
  urls: [string, string][];
  /** `Cache-Control` made private, where the API let shared caches keep the answer. */
  cacheControl: string | undefined;
}

/**
 * Finds the token's id or secret, in any letter case, in a text. A text
 * shorter than both cannot hold either, and most header values are, so
 * those skip the pattern.
 */
export interface TokenFinder {
  test(text: string): boolean;
}

// The token is the same on every request of a deployment, so its finder is
// built once.
let finder: { token: ServiceToken; finder: TokenFinder } | undefined;

export function tokenFinder(token: ServiceToken): TokenFinder {
  if (finder?.token !== token) {
    const source = `${escapeRegExp(token.clientId)}|${escapeRegExp(token.clientSecret)}`;
    const pattern = new RegExp(source, "i");
    const shortest = Math.min(token.clientId.length, token.clientSecret.length);
    finder = {
      token,
      finder: { test: (text) => text.length >= shortest && pattern.test(text) },
    };
  }
  return finder.finder;
}

/**
 * Reads the API's response headers once and says what must change.
 * `carriesToken` is {@link tokenFinder}'s; `signature` is the last
 * segment of the statement sent with the request, so an API that echoes it,
 * whole or in part, never shows it to the browser.
 */
export function responseChanges(
  headers: Headers,
  carriesToken: TokenFinder,
  signature: string,
): ResponseChanges {
  const dropped: string[] = [];
  const urls: [string, string][] = [];
  let cacheControl: string | undefined;
  let connection: string | undefined;
  headers.forEach((value, name) => {
    const canonical = canonicalName(name);
    if (
      DROPPED_RESPONSE_HEADERS.has(canonical) ||
      // CORS: the browser talks to the front end's own origin, and an API
      // that reflected any Origin with credentials would make the person's
      // session readable cross-site through the front end.
      canonical.startsWith("access-control-") ||
      // The Worker's own, which an API that echoes request headers would
      // hand back with the signed statement.
      canonical.startsWith(OWN_PREFIX) ||
      // An API that echoes request headers must hand the browser neither
      // the service token nor the caller's statement.
      carriesToken.test(value) ||
      carriesToken.test(name) ||
      (value.length >= signature.length && value.includes(signature))
    ) {
      dropped.push(name);
    } else if (URL_REWRITES.has(name)) {
      urls.push([name, value]);
    } else if (name === "cache-control") {
      cacheControl = privateCacheControl(value);
    } else if (name === "connection") {
      connection = value;
    }
  });
  if (connection !== undefined) {
    for (const name of listedNames(connection)) {
      if (!HOP_BY_HOP_DROPPED_BY_RUNTIME.has(name)) dropped.push(name);
    }
  }
  return { dropped, urls, cacheControl };
}
