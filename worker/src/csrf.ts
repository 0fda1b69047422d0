import type { RequestHeaderFacts } from "./headers";

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
 * `facts` are what the client's headers said ({@link readRequestHeaders});
 * `frontendOrigin` is the origin the request arrived on.
 */
export function isCrossSite(
  method: string,
  facts: Pick<RequestHeaderFacts, "fetchSite" | "fetchMode" | "origin">,
  frontendOrigin: string,
): boolean {
  const safe = SAFE_METHODS.has(method.toUpperCase());
  if (facts.fetchSite?.toLowerCase() === "cross-site") {
    return !safe || facts.fetchMode?.toLowerCase() !== "navigate";
  }
  if (safe) return false;
  return facts.origin !== undefined && facts.origin !== frontendOrigin;
}
