import type { JSONWebKeySet, JWTVerifyGetKey } from "jose";

/** What this module needs of jose's `createRemoteJWKSet` result. */
export interface RemoteKeySet {
  (...args: Parameters<JWTVerifyGetKey>): ReturnType<JWTVerifyGetKey>;
  /** The keys last fetched, if any. */
  jwks(): JSONWebKeySet | undefined;
}

/**
 * jose refetches keys older than its cache age (10 minutes) before using them
 * and fails when that fetch fails, although the keys it already has still
 * hold. This falls back to those keys when the failure is the fetch's, not the
 * token's, so only an isolate that never got any keys fails closed.
 */
export function keepKeysThroughOutages(
  remote: RemoteKeySet,
  local: (jwks: JSONWebKeySet) => JWTVerifyGetKey,
  isTokenFault: (err: unknown) => boolean,
): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (err) {
      const cached = remote.jwks();
      if (cached === undefined || isTokenFault(err)) throw err;
      return local(cached)(header, token);
    }
  };
}
