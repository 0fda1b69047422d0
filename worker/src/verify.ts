import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey, type JWTPayload } from "jose";
import { invalidAssertion, keysUnavailable } from "./errors";

/** Allowed drift between Access's clock and ours when checking `exp` and `nbf`. */
export const CLOCK_TOLERANCE_S = 5;
/** Verified tokens kept per isolate; past this the oldest is dropped. */
export const TOKEN_CACHE_SIZE = 1000;

export interface Identity {
  /** The `email` claim, absent for service-token callers. */
  email: string | undefined;
}

interface CachedToken extends Identity {
  /** Seconds since the epoch, from the token's `exp`. */
  exp: number;
}

interface Verifier {
  keys: JWTVerifyGetKey;
  tokens: Map<string, CachedToken>;
}

// Module scope: one key set and one token cache per isolate and team, so a
// warm isolate verifies a repeated token with a map lookup and an `exp` check.
const verifiers = new Map<string, Verifier>();

function verifierFor(teamDomain: string, aud: string): Verifier {
  const key = `${teamDomain}\n${aud}`;
  let verifier = verifiers.get(key);
  if (!verifier) {
    // jose refetches for an unknown `kid` at most once per cooldown (30 s), so
    // forged kids cannot turn the Worker into a load generator for Access.
    const keys = createRemoteJWKSet(new URL(`https://${teamDomain}/cdn-cgi/access/certs`));
    verifier = { keys, tokens: new Map() };
    verifiers.set(key, verifier);
  }
  return verifier;
}

const nowSeconds = (): number => Date.now() / 1000;

/** Errors that mean "this token is not acceptable", as opposed to "we could not get keys". */
function isTokenFault(err: unknown): boolean {
  return (
    err instanceof errors.JWTClaimValidationFailed ||
    err instanceof errors.JWTExpired ||
    err instanceof errors.JWTInvalid ||
    err instanceof errors.JWSInvalid ||
    err instanceof errors.JWSSignatureVerificationFailed ||
    err instanceof errors.JOSEAlgNotAllowed ||
    err instanceof errors.JOSENotSupported ||
    err instanceof errors.JWKSNoMatchingKey ||
    err instanceof errors.JWKSMultipleMatchingKeys
  );
}

function describeError(err: unknown): string {
  if (err instanceof errors.JOSEError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return "unknown error";
}

/**
 * Verifies a Cloudflare Access assertion: RS256 only, signed by a current key
 * of the team, `iss` the team, `aud` containing the app's tag, `exp`/`nbf`
 * within {@link CLOCK_TOLERANCE_S}. Throws an `HttpError` (403 for a bad
 * token, 503 when keys are unavailable: fail closed).
 */
export async function verifyAssertion(
  token: string,
  teamDomain: string,
  aud: string,
): Promise<Identity> {
  const verifier = verifierFor(teamDomain, aud);
  const cached = verifier.tokens.get(token);
  if (cached) {
    if (nowSeconds() < cached.exp + CLOCK_TOLERANCE_S) return { email: cached.email };
    verifier.tokens.delete(token);
  }

  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, verifier.keys, {
      algorithms: ["RS256"],
      issuer: `https://${teamDomain}`,
      audience: aud,
      clockTolerance: CLOCK_TOLERANCE_S,
      requiredClaims: ["exp"],
    }));
  } catch (err) {
    if (isTokenFault(err)) throw invalidAssertion(describeError(err));
    throw keysUnavailable(describeError(err));
  }

  const email =
    typeof payload.email === "string" && payload.email !== "" ? payload.email : undefined;
  if (verifier.tokens.size >= TOKEN_CACHE_SIZE) {
    const oldest = verifier.tokens.keys().next();
    if (!oldest.done) verifier.tokens.delete(oldest.value);
  }
  verifier.tokens.set(token, { email, exp: payload.exp as number });
  return { email };
}
