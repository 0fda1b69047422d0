/**
 * The longest assertion looked at. Access's are about 1 KB; without a bound, a
 * client could make every request hash and cache tens of kilobytes.
 */
export const MAX_ASSERTION_BYTES = 8192;

/** Three unpadded base64url segments, none empty. */
const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]+$/;

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/**
 * Whether `assertion` has the one spelling Access would give it: at most
 * {@link MAX_ASSERTION_BYTES}, three unpadded base64url segments, and a
 * signature segment that is the canonical encoding of its bytes.
 *
 * A base64 decoder ignores the unused low bits of the last character, so
 * `…Q`, `…R` and `…S` can all decode to the same signature. Verified tokens
 * are cached by their exact string, so each spelling would be verified and
 * cached again; only the canonical one is accepted. The header and payload
 * need no such check: their exact text is what the signature covers.
 */
export function isWellFormedAssertion(assertion: string): boolean {
  // The header value is a byte string, so its length is its size in bytes.
  if (assertion.length > MAX_ASSERTION_BYTES || !COMPACT_JWS.test(assertion)) return false;
  const signatureLength = assertion.length - assertion.lastIndexOf(".") - 1;
  const unusedBits = [0, -1, 4, 2][signatureLength % 4]!;
  if (unusedBits < 0) return false;
  const last = BASE64URL.indexOf(assertion.charAt(assertion.length - 1));
  return (last & ((1 << unusedBits) - 1)) === 0;
}
