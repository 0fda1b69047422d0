import type { JWTPayload } from "jose";

/**
 * Who a verified assertion speaks for: a person, by the `email` Access
 * signed, or a service token, by its `common_name` (the token's client id),
 * which Access issues with no email. A person's `sub` is Access's id for
 * them: what the log names them by, as an email is personal data.
 */
export type Identity = { email: string; sub?: string } | { commonName: string };

/**
 * A name the API can be sent: a non-empty string that fits in a header
 * value, which CR, LF and NUL do not (the runtime would throw setting it).
 */
const isName = (value: unknown): value is string =>
  typeof value === "string" && value !== "" && !/[\r\n\0]/.test(value);

/**
 * The identity a verified payload names, or `undefined` when it names none
 * the API could act on: no email and no common name, an email that is not a
 * name (see {@link isName}), or a common name next to an email claim.
 */
export function identityOf(payload: JWTPayload): Identity | undefined {
  const { email, sub } = payload;
  if (isName(email)) return typeof sub === "string" && sub !== "" ? { email, sub } : { email };
  if (email === undefined && isName(payload.common_name)) {
    return { commonName: payload.common_name };
  }
  return undefined;
}
