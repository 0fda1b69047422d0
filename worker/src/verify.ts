import { createLocalJWKSet, errors, jwtVerify, type JWTPayload } from "jose";
import { errorSummary, invalidAssertion, keysUnavailable } from "./errors";
import { identityOf, type Identity } from "./identity";
import { fetchKeySet, TeamKeys, type WaitUntil } from "./key-set";
import { TokenCache } from "./token-cache";

/** Allowed drift between Access's clock and ours when checking `exp` and `nbf`. */
export const CLOCK_TOLERANCE_S = 5;
/** Verified tokens kept per isolate; past this the oldest is dropped. */
export const TOKEN_CACHE_SIZE = 1000;

interface Verifier {
  keys: TeamKeys;
  tokens: TokenCache;
}

// Module scope: one key set and one token cache per isolate and team, so a
// warm isolate verifies a repeated token with a map lookup and an `exp` check.
const verifiers = new Map<string, Verifier>();

// The same deployment asks for the same verifier on every request: remember
// the last one so the hot path compares two short strings instead of building
// a key and hashing it.
let last: { teamDomain: string; aud: string; verifier: Verifier } | undefined;

function verifierFor(teamDomain: string, aud: string): Verifier {
  if (last !== undefined && last.teamDomain === teamDomain && last.aud === aud) {
    return last.verifier;
  }
  const key = `${teamDomain}\n${aud}`;
  let verifier = verifiers.get(key);
  if (!verifier) {
    const certs = `https://${teamDomain}/cdn-cgi/access/certs`;
    verifier = {
      keys: new TeamKeys(
        () => fetchKeySet(certs),
        createLocalJWKSet,
        (err) => err instanceof errors.JWKSNoMatchingKey,
      ),
      tokens: new TokenCache(TOKEN_CACHE_SIZE, CLOCK_TOLERANCE_S),
    };
    verifiers.set(key, verifier);
  }
  last = { teamDomain, aud, verifier };
  return verifier;
}

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
  return err instanceof errors.JOSEError ? `${err.code}: ${err.message}` : errorSummary(err);
}

/**
 * The identity of an assertion this isolate already verified and that has not
 * expired, without a promise: the hot path for a person's repeated requests.
 */
export function cachedIdentity(
  token: string,
  teamDomain: string,
  aud: string,
): Identity | undefined {
  return verifierFor(teamDomain, aud).tokens.get(token, Date.now() / 1000)?.identity;
}

/**
 * Verifies a Cloudflare Access assertion: RS256 only, signed by a current key
 * of the team, `iss` the team, `aud` containing the app's tag, `exp`/`nbf`
 * within {@link CLOCK_TOLERANCE_S}, and naming a person or a service token
 * (see {@link identityOf}). Throws an `HttpError`, 403 both for a bad token
 * and when no keys can be had to check it (fail closed). `waitUntil` keeps a
 * keys fetch this request starts alive for the requests that share it. For an
 * assertion {@link cachedIdentity} does not know: it does not look again.
 */
export async function verifyAssertion(
  token: string,
  teamDomain: string,
  aud: string,
  waitUntil: WaitUntil,
): Promise<Identity> {
  const verifier = verifierFor(teamDomain, aud);
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, (...args) => verifier.keys.getKey(args, waitUntil), {
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

  const identity = identityOf(payload);
  if (identity === undefined) {
    throw invalidAssertion("names neither a person (email) nor a service token (common_name)");
  }
  verifier.tokens.set(token, { identity, exp: payload.exp as number });
  return identity;
}
