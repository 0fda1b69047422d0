/**
 * The methods forwarded to the API. Anything else is refused before it gets
 * there: `TRACE` would echo the service token back in the body, and WebDAV or
 * cache methods (`PROPFIND`, `MKCOL`, `PURGE`) are no part of an API a page calls.
 */
const FORWARDED_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** The `Allow` header of a 405: the forwarded methods, in the order above. */
export const ALLOWED_METHODS = [...FORWARDED_METHODS].join(", ");

/**
 * Compared as sent: the runtime upper-cases the standard methods it
 * recognises, so anything still in another case is not one of them.
 */
export function isForwardedMethod(method: string): boolean {
  return FORWARDED_METHODS.has(method);
}
