/**
 * The local identity provider's keys and tokens: RS256 JWTs shaped like the
 * ones Cloudflare Access issues, and the JWKS document the Worker fetches from
 * `https://<team>/cdn-cgi/access/certs`.
 *
 * Emulation only. Signing uses node:crypto because jose is ESM-only and the
 * lab runs as CommonJS; verification here serves the emulated edges, never
 * the Worker, which verifies with its own code.
 *
 * Claim set per https://developers.cloudflare.com/cloudflare-one/identity/authorization-cookie/application-token/
 * (aud as a list of AUD tags, iss = team domain URL, email/sub for people,
 * common_name = client id for service tokens).
 */
import {
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  sign,
  verify,
  type KeyObject,
} from "node:crypto";

export interface AccessClaims {
  aud: string[];
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  sub: string;
  type: "app";
  email?: string;
  common_name?: string;
  /** How the person authenticated (RFC 8176), as Access writes it into the token. */
  amr?: string[];
  [claim: string]: unknown;
}

export interface KeySet {
  kid: string;
  privateKey: KeyObject;
  jwks: { keys: Record<string, unknown>[] };
}

export function newKeySet(): KeySet {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = randomUUID().replace(/-/g, "");
  const jwk = { ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" };
  return { kid, privateKey, jwks: { keys: [jwk] } };
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
const now = (): number => Math.floor(Date.now() / 1000);

export interface Subject {
  email?: string;
  clientId?: string;
  /** The authentication methods of a person's login, e.g. ["pwd", "mfa"]. */
  amr?: string[];
}

/** Claims for an app token, valid from a few seconds ago for `ttlSeconds`. */
export function accessClaims(
  teamDomain: string,
  aud: string,
  who: Subject,
  ttlSeconds = 3600,
): AccessClaims {
  const issuedAt = now() - 5;
  return {
    aud: [aud],
    iss: `https://${teamDomain}`,
    iat: issuedAt,
    nbf: issuedAt,
    exp: issuedAt + ttlSeconds,
    type: "app",
    sub: who.email ? `lab-user-${Buffer.from(who.email).toString("hex").slice(0, 16)}` : "",
    ...(who.email ? { email: who.email } : {}),
    ...(who.clientId ? { common_name: who.clientId } : {}),
    ...(who.amr ? { amr: who.amr } : {}),
  };
}

export function signToken(keys: KeySet, claims: AccessClaims): string {
  const input = `${b64url({ alg: "RS256", typ: "JWT", kid: keys.kid })}.${b64url(claims)}`;
  return `${input}.${sign("sha256", Buffer.from(input), keys.privateKey).toString("base64url")}`;
}

/**
 * The claims of a token this key set signed for `aud`, or null when the token
 * is malformed, signed by another key, expired, not yet valid or for another app.
 */
export function verifyToken(keys: KeySet, token: string, aud: string): AccessClaims | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  const [header, payload, signature] = parts as [string, string, string];
  try {
    const head = JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as Record<
      string,
      unknown
    >;
    if (head["alg"] !== "RS256" || head["kid"] !== keys.kid) return null;
    const publicKey = createPublicKey(keys.privateKey);
    const ok = verify(
      "sha256",
      Buffer.from(`${header}.${payload}`),
      publicKey,
      Buffer.from(signature, "base64url"),
    );
    if (!ok) return null;
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as AccessClaims;
    const t = now();
    if (!Array.isArray(claims.aud) || !claims.aud.includes(aud)) return null;
    if (typeof claims.exp !== "number" || claims.exp <= t) return null;
    if (typeof claims.nbf === "number" && claims.nbf > t + 5) return null;
    return claims;
  } catch {
    return null;
  }
}

/** The payload of a JWT without any check: for display by the demo API, which sits behind the edge. */
export function peekClaims(token: string): Record<string, unknown> | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<
      string,
      unknown
    >;
  } catch {
    return null;
  }
}
