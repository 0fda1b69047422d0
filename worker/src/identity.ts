import type { JWTPayload } from "jose";

/**
 * Who a verified assertion speaks for: a person, by the `email` Access
 * signed, or a service token, by its `common_name` (the token's client id),
 * which Access issues with no email.
 */
export type Identity = { email: string } | { commonName: string };

const nonEmpty = (value: unknown): value is string => typeof value === "string" && value !== "";

/**
 * The identity a verified payload names, or `undefined` when it names none
 * the API could act on: no email and no common name, an email that is not a
 * non-empty string, or a common name next to an email claim.
 */
export function identityOf(payload: JWTPayload): Identity | undefined {
  if (nonEmpty(payload.email)) return { email: payload.email };
  if (payload.email === undefined && nonEmpty(payload.common_name)) {
    return { commonName: payload.common_name };
  }
  return undefined;
}
