const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The Access cookie is `SameSite=None`, so a browser attaches it to requests
 * any site makes. A write is refused when the browser says it is cross-site,
 * or when it names an origin other than ours. Browsers always send `Origin`
 * on unsafe methods, so a request with neither marker is not a browser's and
 * carries no ambient credential to abuse.
 */
export function isCrossSiteWrite(request: Request, ownOrigin: string): boolean {
  if (SAFE_METHODS.has(request.method.toUpperCase())) return false;
  if (request.headers.get("sec-fetch-site")?.toLowerCase() === "cross-site") return true;
  const origin = request.headers.get("origin");
  return origin !== null && origin !== ownOrigin;
}
