/**
 * Whether `pathname` (already normalised by the URL parser) lies inside
 * `prefix`: exactly the prefix, or the prefix followed by `/`. `/apix` is
 * outside `/api`.
 */
export function isInsidePrefix(pathname: string, prefix: string): boolean {
  if (prefix === "") return true;
  return pathname === prefix || pathname.startsWith(`${prefix}/`);
}

/**
 * Encoded separators and dots survive URL normalisation and may be decoded
 * again by the API's server, turning `/api/..%2fadmin` into `/admin`.
 */
const ENCODED_TRAVERSAL = /%2f|%5c|%2e|%00/i;

export function hasEncodedTraversal(pathname: string): boolean {
  return ENCODED_TRAVERSAL.test(pathname);
}

/** The path the API sees: the prefix removed when stripping, never empty. */
export function upstreamPath(pathname: string, prefix: string, strip: boolean): string {
  if (!strip || prefix === "") return pathname;
  const rest = pathname.slice(prefix.length);
  return rest === "" ? "/" : rest;
}
