const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The Access cookie is `SameSite=None`, so a browser attaches it to requests
 * any site makes. A write is refused when the browser says it is cross-site,
 * or when it names an origin other than ours. Browsers always send `Origin`
 * on unsafe methods, so a request with neither marker is not a browser's and
 * carries no ambient credential to abuse.
 *
 * `frontend` is the URL the request arrived on. Reads are let through before
 * any header or origin is looked at, since they are most of the traffic.
 */
export function isCrossSiteWrite(request: Request, frontend: URL): boolean {
  if (SAFE_METHODS.has(request.method.toUpperCase())) return false;
  const headers = request.headers;
  if (headers.get("sec-fetch-site")?.toLowerCase() === "cross-site") return true;
  const origin = headers.get("origin");
  return origin !== null && origin !== frontend.origin;
}
