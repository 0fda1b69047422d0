/**
 * For API authors: verifies the `X-Access-Bridge-Identity` statement the
 * Worker sets, with the stack's `identityJwks`. Runs on Node (20.19+), Deno,
 * Bun and Workers alike; it uses only jose and the platform's Headers.
 *
 * ```ts
 * import { verifyIdentity } from "@access-bridge/identity";
 * const who = await verifyIdentity(req, process.env.IDENTITY_JWKS!, { apiOrigin: "https://api.mysite.com" });
 * ```
 */
import {
  createLocalJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from "jose";
import { IDENTITY_ALG, IDENTITY_HEADER, IDENTITY_MAX_TTL_S } from "./claims.ts";

export { IDENTITY_HEADER } from "./claims.ts";

/** Who called, as the Worker verified it. */
export interface VerifiedIdentity {
  /** `person` for someone who logged in, `service` for a service token. */
  kind: "person" | "service";
  /** The person's email, or the service token's common name (its client id). */
  sub: string;
  /** The person's email; absent for a service token. */
  email?: string;
  /** The front end's origin the request came through. */
  iss: string;
  /** When the statement was signed and when it expires, in seconds since the epoch. */
  iat: number;
  exp: number;
}

export interface VerifyIdentityOptions {
  /** This API's origin, `https://<apiHostname>`: the statement's `aud` must equal it. */
  apiOrigin: string;
  /** The front end's origin(s) the statement may come through; any, if absent. */
  issuer?: string | string[];
  /** Allowed clock drift in seconds; default 5. */
  clockToleranceSeconds?: number;
  /** The clock, for tests; default now. */
  currentDate?: Date;
}

/** The statement is missing or does not verify; answer 401 and log `message`. */
export class IdentityError extends Error {
  override name = "IdentityError";
}

/** Anything that carries request headers: a Fetch Request, Headers, or Node's `req`. */
export type HeaderSource =
  Headers | { headers: Headers | Record<string, string | string[] | undefined> };

function headerOf(source: HeaderSource): string | undefined {
  const headers = source instanceof Headers ? source : source.headers;
  if (headers instanceof Headers) return headers.get(IDENTITY_HEADER) ?? undefined;
  // Node lower-cases header names; an array means the header was sent twice.
  const value = headers[IDENTITY_HEADER];
  if (Array.isArray(value)) throw new IdentityError(`${IDENTITY_HEADER} was sent more than once`);
  return value;
}

// A key set per JWKS text, so a verifier reused across requests imports each key once.
const keySets = new Map<string, JWTVerifyGetKey>();

function keySetOf(jwks: string | JSONWebKeySet): JWTVerifyGetKey {
  const text = typeof jwks === "string" ? jwks : JSON.stringify(jwks);
  let keys = keySets.get(text);
  if (keys === undefined) {
    keys = createLocalJWKSet(JSON.parse(text) as JSONWebKeySet);
    keySets.set(text, keys);
  }
  return keys;
}

/**
 * The verified identity of the request's caller, or an {@link IdentityError}:
 * EdDSA only, signed by a key of `jwks` (matched by `kid`), `aud` this API,
 * `iss` an allowed front end, unexpired, at most 120 s between `iat` and `exp`.
 */
export async function verifyIdentity(
  request: HeaderSource,
  jwks: string | JSONWebKeySet,
  options: VerifyIdentityOptions,
): Promise<VerifiedIdentity> {
  const token = headerOf(request);
  if (token === undefined || token === "") {
    throw new IdentityError(
      `no ${IDENTITY_HEADER} header: the request did not come through the Worker`,
    );
  }
  let claims: Record<string, unknown>;
  try {
    ({ payload: claims } = await jwtVerify(token, keySetOf(jwks), {
      algorithms: [IDENTITY_ALG],
      audience: options.apiOrigin,
      issuer: options.issuer,
      clockTolerance: options.clockToleranceSeconds ?? 5,
      requiredClaims: ["iss", "aud", "sub", "iat", "exp"],
      currentDate: options.currentDate,
    }));
  } catch (err) {
    const detail = err instanceof errors.JOSEError ? `${err.code}: ${err.message}` : String(err);
    throw new IdentityError(`${IDENTITY_HEADER} does not verify (${detail})`);
  }
  const { iss, sub, email, iat, exp } = claims;
  if (typeof iat !== "number" || typeof exp !== "number" || exp - iat > IDENTITY_MAX_TTL_S) {
    throw new IdentityError(`${IDENTITY_HEADER} lives longer than ${IDENTITY_MAX_TTL_S} s`);
  }
  if (typeof sub !== "string" || sub === "" || (email !== undefined && email !== sub)) {
    throw new IdentityError(`${IDENTITY_HEADER} names no caller`);
  }
  return {
    kind: typeof email === "string" ? "person" : "service",
    sub,
    ...(typeof email === "string" ? { email } : {}),
    iss: iss as string,
    iat,
    exp,
  };
}
