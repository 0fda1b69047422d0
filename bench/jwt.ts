import { createSign, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";

/** A key pair the benchmark signs Access-style assertions with; it lives only for one run. */
export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface AccessClaims {
  aud: string[];
  iss: string;
  email: string;
  sub: string;
  iat: number;
  nbf: number;
  exp: number;
}

export function createSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { kid: randomBytes(8).toString("hex"), privateKey, publicKey };
}

/** The body of `https://<team>/cdn-cgi/access/certs`, as far as a verifier reads it. */
export function jwksFor(key: SigningKey): { keys: Record<string, unknown>[] } {
  const jwk = key.publicKey.export({ format: "jwk" });
  return { keys: [{ ...jwk, kid: key.kid, alg: "RS256", use: "sig" }] };
}

/** Claims shaped like the assertion Access adds, valid for an hour from `nowSeconds`. */
export function accessClaims(
  teamDomain: string,
  aud: string,
  email: string,
  nowSeconds: number,
): AccessClaims {
  return {
    aud: [aud],
    iss: `https://${teamDomain}`,
    email,
    sub: randomBytes(16).toString("hex"),
    iat: nowSeconds,
    nbf: nowSeconds,
    exp: nowSeconds + 3600,
  };
}

// node:crypto instead of jose: jose is ESM-only and this harness runs as CommonJS.
export function signRs256(claims: object, key: SigningKey): string {
  const header = { alg: "RS256", typ: "JWT", kid: key.kid };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = createSign("RSA-SHA256").update(signingInput).sign(key.privateKey);
  return `${signingInput}.${signature.toString("base64url")}`;
}

function base64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}
