import { BINDINGS, ConfigError } from "./env";
import { errorSummary } from "./errors";
import type { Identity } from "./identity";
import {
  IDENTITY_ALG,
  IDENTITY_MAX_TTL_S,
  thumbprintInput,
  type IdentityClaims,
} from "../../identity/src/claims";

/** Statements are reused until this many seconds before they expire, so an API always gets one with a minute left. */
export const REUSE_WINDOW_S = 60;
/** Statements kept per isolate; past this the oldest is dropped. */
export const STATEMENT_CACHE_SIZE = 1000;

interface SigningKey {
  key: CryptoKey;
  /** The protected header, encoded once: `{"alg":"EdDSA","kid":...,"typ":"JWT"}`. */
  header: string;
}

interface Statement {
  jws: string;
  reuseUntil: number;
}

const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const encodeJson = (value: unknown): string => base64url(encoder.encode(JSON.stringify(value)));

/** The DER bytes of a PEM block. */
function pemBody(pem: string): Uint8Array {
  const body = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
}

/**
 * Signs and caches the statements of one signing key, with the runtime's own
 * Ed25519 (WebCrypto), so the bundle carries no signing library. Signing
 * costs a signature; reusing a statement costs a map lookup, so a person's
 * requests pay for a signature about once a minute.
 */
export class IdentitySigner {
  private readonly statements = new Map<string, Statement>();
  private signing: Promise<SigningKey> | undefined;

  constructor(private readonly pkcs8: string) {}

  /** A statement still fit to reuse for this caller and front end, without a promise. */
  cached(caller: Identity, iss: string, nowS: number): string | undefined {
    const statement = this.statements.get(cacheKey(caller, iss));
    return statement !== undefined && nowS < statement.reuseUntil ? statement.jws : undefined;
  }

  /** A fresh statement for this caller, signed now and cached for reuse. */
  async sign(caller: Identity, iss: string, aud: string, nowS: number): Promise<string> {
    const { key, header } = await this.signingKey();
    const iat = Math.floor(nowS);
    // A person is named by the email Access verified; a service token, which
    // has none, by its common name.
    const who =
      "email" in caller ? { sub: caller.email, email: caller.email } : { sub: caller.commonName };
    const claims: IdentityClaims = { iss, aud, ...who, iat, exp: iat + IDENTITY_MAX_TTL_S };
    const input = `${header}.${encodeJson(claims)}`;
    const signature = await crypto.subtle.sign("Ed25519", key, encoder.encode(input));
    const jws = `${input}.${base64url(new Uint8Array(signature))}`;

    const statementKey = cacheKey(caller, iss);
    if (!this.statements.has(statementKey) && this.statements.size >= STATEMENT_CACHE_SIZE) {
      const oldest = this.statements.keys().next();
      if (!oldest.done) this.statements.delete(oldest.value);
    }
    this.statements.set(statementKey, {
      jws,
      reuseUntil: iat + IDENTITY_MAX_TTL_S - REUSE_WINDOW_S,
    });
    return jws;
  }

  /**
   * The imported key and the header naming it. The `kid` is the RFC 7638
   * thumbprint of the public half, as the stack publishes it in identityJwks;
   * the private key's JWK carries that half as `x`.
   */
  private signingKey(): Promise<SigningKey> {
    this.signing ??= (async () => {
      let key: CryptoKey;
      try {
        key = await crypto.subtle.importKey(
          "pkcs8",
          pemBody(this.pkcs8),
          { name: "Ed25519" },
          true,
          ["sign"],
        );
      } catch (err) {
        throw new ConfigError(
          `binding ${BINDINGS.identitySigningKey} is not an Ed25519 PKCS#8 PEM key (${errorSummary(err)})`,
        );
      }
      const { x } = (await crypto.subtle.exportKey("jwk", key)) as JsonWebKey;
      if (x === undefined) {
        throw new ConfigError(`binding ${BINDINGS.identitySigningKey} has no Ed25519 public half`);
      }
      const kid = base64url(
        new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(thumbprintInput(x)))),
      );
      return { key, header: encodeJson({ alg: IDENTITY_ALG, kid, typ: "JWT" }) };
    })();
    // A key that fails to import is tried again on the next request, not kept as a failure.
    this.signing.catch(() => (this.signing = undefined));
    return this.signing;
  }
}

function cacheKey(caller: Identity, iss: string): string {
  return "email" in caller ? `${iss}\ne\n${caller.email}` : `${iss}\nc\n${caller.commonName}`;
}
