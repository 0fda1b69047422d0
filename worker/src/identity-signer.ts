import { calculateJwkThumbprint, exportJWK, importPKCS8, SignJWT } from "jose";
import { IDENTITY_ALG, IDENTITY_MAX_TTL_S, type IdentityClaims } from "./identity-claims";

/** Who the Worker vouches for: a person (with an email) or a service token. */
export interface Caller {
  sub: string;
  email: string | undefined;
}

/** Statements are reused until this many seconds before they expire, so an API always gets one with a minute left. */
export const REUSE_WINDOW_S = 60;
/** Statements kept per isolate; past this the oldest is dropped. */
export const STATEMENT_CACHE_SIZE = 1000;

interface SigningKey {
  key: CryptoKey;
  kid: string;
}

interface Statement {
  jws: string;
  reuseUntil: number;
}

/**
 * Signs and caches the statements of one signing key. Signing costs an
 * Ed25519 signature; reusing a statement costs a map lookup, so a person's
 * requests pay for a signature about once a minute.
 */
export class IdentitySigner {
  private readonly statements = new Map<string, Statement>();
  private signing: Promise<SigningKey> | undefined;

  constructor(private readonly pkcs8: string) {}

  /** A statement still fit to reuse for this caller and front end, without a promise. */
  cached(caller: Caller, iss: string, nowS: number): string | undefined {
    const statement = this.statements.get(cacheKey(caller, iss));
    return statement !== undefined && nowS < statement.reuseUntil ? statement.jws : undefined;
  }

  /** A fresh statement for this caller, signed now and cached for reuse. */
  async sign(caller: Caller, iss: string, aud: string, nowS: number): Promise<string> {
    const { key, kid } = await this.signingKey();
    const iat = Math.floor(nowS);
    const claims: IdentityClaims = {
      iss,
      aud,
      sub: caller.sub,
      ...(caller.email !== undefined ? { email: caller.email } : {}),
      iat,
      exp: iat + IDENTITY_MAX_TTL_S,
    };
    const jws = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: IDENTITY_ALG, kid, typ: "JWT" })
      .sign(key);
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

  /** The imported key and its kid, the RFC 7638 thumbprint of its public half, as the stack publishes it. */
  private signingKey(): Promise<SigningKey> {
    this.signing ??= (async () => {
      const key = await importPKCS8(this.pkcs8, IDENTITY_ALG, { extractable: true });
      const { kty, crv, x } = await exportJWK(key);
      const kid = await calculateJwkThumbprint({ kty, crv, x });
      return { key, kid };
    })();
    // A key that fails to import is retried on the next request, not cached as a failure.
    this.signing.catch(() => (this.signing = undefined));
    return this.signing;
  }
}

function cacheKey(caller: Caller, iss: string): string {
  return `${iss}\n${caller.sub}\n${caller.email ?? ""}`;
}
