import { compactVerify, createLocalJWKSet, errors, type JWTPayload } from "jose";
import { errorSummary, HttpError } from "./errors";
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

const utf8 = new TextDecoder();

/** A signed token that fails a check; `which` says which, in the log only. */
const invalid = (which: string): HttpError => new HttpError("invalid_assertion", which);

/**
 * The claims of an assertion whose signature verified, checked as jose's
 * `jwtVerify` would with this Worker's options, for a fraction of its code:
 * a JSON object, `iss` the team, `aud` the app's tag or a list holding it,
 * `exp` a number not past (with {@link CLOCK_TOLERANCE_S}), and `nbf` and
 * `iat`, where present, numbers, `nbf` not in the future.
 */
export function checkedClaims(
  payload: Uint8Array,
  teamDomain: string,
  aud: string,
  nowS: number,
): JWTPayload {
  let claims: JWTPayload | undefined;
  try {
    claims = JSON.parse(utf8.decode(payload)) as JWTPayload;
  } catch {
    // Refused below, like any other payload that is not a JSON object.
  }
  if (typeof claims !== "object" || claims === null || Array.isArray(claims)) {
    throw invalid("claims are not a JSON object");
  }
  const { iss, aud: audience, exp, nbf, iat } = claims;
  if (iss !== `https://${teamDomain}`) throw invalid("unexpected iss");
  if (audience !== aud && !(Array.isArray(audience) && audience.includes(aud))) {
    throw invalid("unexpected aud");
  }
  if (typeof exp !== "number" || exp <= nowS - CLOCK_TOLERANCE_S) {
    throw invalid("exp missing or past");
  }
  if (nbf !== undefined && (typeof nbf !== "number" || nbf > nowS + CLOCK_TOLERANCE_S)) {
    throw invalid("nbf not a number or in the future");
  }
  if (iat !== undefined && typeof iat !== "number") throw invalid("iat not a number");
  return claims;
}

/**
 * Verifies a Cloudflare Access assertion: RS256 only, signed by a current key
 * of the team, with the claims {@link checkedClaims} accepts, and naming a
 * person or a service token (see {@link identityOf}). Throws an `HttpError`,
 * 403 both for a bad token and when no keys can be had to check it (fail
 * closed). `waitUntil` keeps a keys fetch this request starts alive for the
 * requests that share it. For an assertion {@link cachedIdentity} does not
 * know: it does not look again.
 */
export async function verifyAssertion(
  token: string,
  teamDomain: string,
  aud: string,
  waitUntil: WaitUntil,
): Promise<Identity> {
  const verifier = verifierFor(teamDomain, aud);
  let verified: Awaited<ReturnType<typeof compactVerify>>;
  try {
    verified = await compactVerify(token, (...args) => verifier.keys.getKey(args, waitUntil), {
      algorithms: ["RS256"],
    });
  } catch (err) {
    if (isTokenFault(err)) throw invalid(describeError(err));
    throw new HttpError("keys_unavailable", describeError(err));
  }
  const payload = checkedClaims(verified.payload, teamDomain, aud, Math.floor(Date.now() / 1000));

  const identity = identityOf(payload);
  if (identity === undefined) {
    throw new HttpError(
      "no_identity",
      "names neither a person (email) nor a service token (common_name)",
    );
  }
  verifier.tokens.set(token, { identity, exp: payload.exp as number });
  return identity;
}
