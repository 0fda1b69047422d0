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
 * Escapes refused as written, whatever they decode to: `%25` is an encoded
 * `%`, which makes any escape once more (`%252e`); IIS-style `%u002e` is
 * never a valid escape; and overlong UTF-8 (`%c0%ae` is a dot, `%e0%80%af` a
 * slash) and lead bytes that never start valid UTF-8, which lenient
 * decoders turn into ASCII and a strict one into U+FFFD.
 */
const REFUSED_ESCAPES = /%(?:25|u|c[01]|e0%[89]|f0%8|f[5-9a-f])/i;

/**
 * A `.` or `..` segment once `;` parameters are removed, as Tomcat-style
 * servers read `/api/..;/admin`; `\` separates segments on some servers.
 */
const DOT_SEGMENT = /(?:^|[/\\])\.\.?(?:[;/\\]|$)/;

/**
 * What an ordinary path never has: an escape, a character outside ASCII (the
 * URL parser encodes those, so this is only a second guard) or a dot segment.
 * Most paths fail this one test and are done.
 */
const WORTH_A_LOOK = /[%\u0080-\uffff]|(?:^|\/)\.\.?(?:[;/]|$)/;

/** What only decoding may add to a path: dots, separators and NUL. */
const DOTS_AND_SEPARATORS = /[./\\\0]/g;
/** A `%` that starts no escape; a fully decoded path has only these. */
const LONE_PERCENT = /%(?![\da-f]{2})/gi;
const count = (text: string, pattern: RegExp): number => text.match(pattern)?.length ?? 0;

/** A run of escapes, decoded together so that multi-byte UTF-8 comes out whole. */
const ESCAPE_RUN = /(?:%[\da-f]{2})+/gi;
const utf8 = new TextDecoder();

/** One round of a lenient percent-decoder: bad UTF-8 becomes U+FFFD, a lone `%` stays. */
function decodeOnce(path: string): string {
  return path.replace(ESCAPE_RUN, (run) =>
    utf8.decode(Uint8Array.from(run.slice(1).split("%"), (hex) => parseInt(hex, 16))),
  );
}

/** Past this many rounds a path that still changes is refused. */
const MAX_DECODING_ROUNDS = 8;

/**
 * Whether a server behind the API could still turn `pathname` (already
 * normalised by the URL parser) into a step out of the prefix, so that
 * `/api/<trick>admin` reached `/admin`.
 *
 * A server may decode a path more than once, and normalise Unicode (NFKC)
 * between: `%2%65` is `%2e` after one decoding and `.` after two; a
 * full-width `％` (U+FF05) is `%` once normalised; `︰` (U+FE30) is `..`. So
 * the path is decoded and normalised until it stops changing, and refused
 * when that made a dot, a separator, NUL or a lone `%` that the path did
 * not spell plainly, or when the result has a dot segment.
 */
export function hasTraversal(pathname: string): boolean {
  if (!WORTH_A_LOOK.test(pathname)) return false;
  if (REFUSED_ESCAPES.test(pathname)) return true;
  let path = pathname;
  for (let round = 0; round < MAX_DECODING_ROUNDS; round++) {
    const next = decodeOnce(path).normalize("NFKC");
    if (next === path) {
      return (
        DOT_SEGMENT.test(path) ||
        count(path, DOTS_AND_SEPARATORS) > count(pathname, DOTS_AND_SEPARATORS) ||
        count(path, LONE_PERCENT) > count(pathname, LONE_PERCENT)
      );
    }
    path = next;
  }
  return true;
}

/** The path the API sees: the prefix removed when stripping, never empty. */
export function upstreamPath(pathname: string, prefix: string, strip: boolean): string {
  if (!strip || prefix === "") return pathname;
  const rest = pathname.slice(prefix.length);
  return rest === "" ? "/" : rest;
}
