/**
 * The identity key set: the Ed25519 public keys with which an API verifies
 * the Worker's signed statements of who called (`X-Access-Bridge-Identity`).
 */
import { createHash, createPublicKey } from "node:crypto";
import { thumbprintInput } from "../identity/src/claims";

/** One public key, as a JWK. */
export interface IdentityJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  /** The key's RFC 7638 thumbprint, which the Worker puts in each statement's header. */
  kid: string;
  alg: "EdDSA";
  use: "sig";
}

/** How long after a rotation the previous key stays listed, for statements signed just before it. */
export const PREVIOUS_KEY_GRACE_HOURS = 24;

/** The RFC 7638 thumbprint of an Ed25519 public key: SHA-256 of its required members, in order. */
export function thumbprint(x: string): string {
  return createHash("sha256").update(thumbprintInput(x)).digest("base64url");
}

/** A PEM (SPKI) Ed25519 public key as a JWK carrying its thumbprint as `kid`. */
export function jwkOf(publicKeyPem: string): IdentityJwk {
  const jwk = createPublicKey(publicKeyPem).export({ format: "jwk" });
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.x !== "string") {
    throw new Error("the identity key is not an Ed25519 public key");
  }
  return { kty: "OKP", crv: "Ed25519", x: jwk.x, kid: thumbprint(jwk.x), alg: "EdDSA", use: "sig" };
}

export interface KeySetParts {
  /** The key the Worker signs with. */
  current: string;
  /** A key published ahead of the rotation that will make it current. */
  next?: string;
  /** The key the Worker signed with before the last rotation. */
  previous?: string;
  /** When the last rotation happened, in seconds since the epoch. */
  rotatedAt?: number;
}

/**
 * The JWKS an API trusts, as JSON: the current key, the next one if it is
 * published ahead, and the previous one until the first update after
 * {@link PREVIOUS_KEY_GRACE_HOURS} past the rotation.
 */
export function buildIdentityJwks(parts: KeySetParts, nowS: number): string {
  const pems = [parts.current, parts.next];
  const previousInGrace =
    parts.rotatedAt !== undefined && nowS < parts.rotatedAt + PREVIOUS_KEY_GRACE_HOURS * 3600;
  if (parts.previous !== undefined && previousInGrace) pems.push(parts.previous);
  return JSON.stringify({
    keys: pems.filter((pem): pem is string => typeof pem === "string").map(jwkOf),
  });
}
