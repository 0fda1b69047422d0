/**
 * The signed statement of who called, which the Worker sets on every request
 * it forwards and an API verifies with the stack's `identityJwks`. Shared by
 * the Worker that signs it, the stack that publishes its keys, and the
 * verifier API authors import, so that none of them can drift from the others.
 */

/** The request header that carries the statement, a compact JWS. */
export const IDENTITY_HEADER = "x-access-bridge-identity";

/** The only algorithm: Ed25519 signatures. */
export const IDENTITY_ALG = "EdDSA";

/** A statement's longest life, `exp - iat`, in seconds. */
export const IDENTITY_MAX_TTL_S = 120;

/** The claims of a statement. */
export interface IdentityClaims {
  /** The front end's origin, as the Worker saw it in the request it served. */
  iss: string;
  /** `https://<API_HOSTNAME>`: the API the statement is for. */
  aud: string;
  /** The person's verified email, or a service token's common name (its client id). */
  sub: string;
  /** The verified email; absent for a service token. */
  email?: string;
  iat: number;
  exp: number;
}

/**
 * What an Ed25519 key's RFC 7638 thumbprint (its `kid`) hashes: the required
 * members in lexical order, no spaces. The stack that publishes the key and
 * the Worker that names it in each statement must agree byte for byte.
 */
export function thumbprintInput(x: string): string {
  return JSON.stringify({ crv: "Ed25519", kty: "OKP", x });
}
