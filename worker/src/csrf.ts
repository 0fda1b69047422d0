const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The Access cookie is `SameSite=None`, so a browser attaches it to requests
 * any site makes. Refused:
 *
 * - anything the browser says another site started (`Sec-Fetch-Site:
 *   cross-site`), except a read that navigates: a link to the API followed
 *   from elsewhere shows the person their own data, while a `<script>`,
 *   `<img>` or `fetch` would hand it to the other site's page;
 * - a write that names an origin other than ours. Browsers always send
 *   `Origin` on unsafe methods, so a write with neither marker is not a
 *   browser's and carries no ambient credential to abuse.
 *
 * `frontend` is the URL the request arrived on.
 */
export function isCrossSite(request: Request, frontend: URL): boolean {
  const headers = request.headers;
  const safe = SAFE_METHODS.has(request.method.toUpperCase());
  if (headers.get("sec-fetch-site")?.toLowerCase() === "cross-site") {
    return !safe || headers.get("sec-fetch-mode")?.toLowerCase() !== "navigate";
  }
  if (safe) return false;
  const origin = headers.get("origin");
  return origin !== null && origin !== frontend.origin;
}
