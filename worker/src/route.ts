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
 * What the URL parser leaves in a path that the API's server may still turn
 * into a step out of the prefix, so `/api/<any of these>admin` could reach
 * `/admin`. Each alternative is one family of spellings.
 */
const TRAVERSAL = new RegExp(
  [
    // An encoded dot, slash, backslash or NUL, decoded again by the server;
    // `%25` is an encoded `%`, which makes any of them once more (`%252e`).
    "%(?:2e|2f|5c|00|25)",
    // IIS-style `%u002e`; never a valid percent-encoding.
    "%u",
    // Overlong UTF-8 (`%c0%ae` is a dot, `%e0%80%af` a slash) and lead bytes
    // that never start valid UTF-8: lenient decoders turn them into ASCII.
    "%c[01]|%e0%[89]|%f0%8|%f[5-9a-f]",
    // Full-width and small forms of `.`, `/` and `\` (U+FF0E, U+FF0F, U+FF3C,
    // U+FE52, U+FE68, U+2024, U+2025), which Unicode normalisation folds to
    // ASCII: encoded, as the URL parser leaves them, and raw.
    "%ef%bc%(?:8e|8f|bc)|%ef%b9%(?:92|a8)|%e2%80%a[45]",
    "[\uff0e\uff0f\uff3c\ufe52\ufe68\u2024\u2025]",
    // A `.` or `..` segment once `;` parameters are removed: Tomcat-style
    // servers read `/api/..;/admin` as `/admin`; the URL parser does not.
    "(?:^|/)\\.\\.?(?:[;/]|$)",
  ].join("|"),
  "i",
);

export function hasTraversal(pathname: string): boolean {
  return TRAVERSAL.test(pathname);
}

/** The path the API sees: the prefix removed when stripping, never empty. */
export function upstreamPath(pathname: string, prefix: string, strip: boolean): string {
  if (!strip || prefix === "") return pathname;
  const rest = pathname.slice(prefix.length);
  return rest === "" ? "/" : rest;
}
