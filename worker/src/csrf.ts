const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The request markers a browser sets that tell where a request came from. */
export interface RequestSource {
  method: string;
  origin: string | undefined;
  /** `Sec-Fetch-Site`. */
  fetchSite: string | undefined;
}

/**
 * The Access cookie is `SameSite=None`, so a browser attaches it to requests
 * any site makes. A write is refused when the browser says it is cross-site,
 * or when it names an origin other than ours. Browsers always send `Origin`
 * on unsafe methods, so a request with neither marker is not a browser's and
 * carries no ambient credential to abuse.
 *
 * `frontend` is the URL the request arrived on; its origin is only worked out
 * for a write that names one.
 */
export function isCrossSiteWrite(source: RequestSource, frontend: URL): boolean {
  if (SAFE_METHODS.has(source.method.toUpperCase())) return false;
  if (source.fetchSite?.toLowerCase() === "cross-site") return true;
  return source.origin !== undefined && source.origin !== frontend.origin;
}
