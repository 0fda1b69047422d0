import type { JSONWebKeySet, JWTVerifyGetKey, createLocalJWKSet } from "jose";

/** Keys older than this are refetched before use, as jose's remote key set does. */
export const KEYS_MAX_AGE_MS = 10 * 60_000;
/** At most one fetch starts per this long once keys are held, whatever arrives. */
export const KEYS_COOLDOWN_MS = 30_000;
/** How long one fetch of the keys may take. */
export const KEYS_FETCH_TIMEOUT_MS = 5_000;

/** The keys could not be had; not the token's fault. */
export class KeysUnavailable extends Error {
  override name = "KeysUnavailable";
}

/** Keeps a promise's work alive past the request that started it (`ctx.waitUntil`). */
export type WaitUntil = (promise: Promise<unknown>) => void;

type LocalKeySet = ReturnType<typeof createLocalJWKSet>;
/** Finds the key for a token among fetched keys, as jose's `createLocalJWKSet` result does. */
export type KeyFinder = (...args: Parameters<LocalKeySet>) => ReturnType<LocalKeySet>;

interface HeldKeys {
  find: KeyFinder;
  fetchedAt: number;
}

/**
 * The team's signing keys in one isolate.
 *
 * Concurrent requests share one fetch, and once keys are held at most one
 * fetch starts per {@link KEYS_COOLDOWN_MS}: an unknown `kid` or stale keys
 * ask for a refetch, and a request that arrives while one is under way waits
 * for it rather than starting another. (jose's remote key set is not used:
 * on Workers it starts one fetch per waiting request, so a burst of forged
 * `kid`s becomes a burst of fetches.)
 *
 * A failed refetch keeps the keys already held, so an outage of the keys
 * endpoint only fails an isolate that never got any. Until it has some,
 * each request may try again, one fetch at a time.
 */
export class TeamKeys {
  private held: HeldKeys | undefined;
  private lastFetchStarted = -Infinity;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly fetchKeys: () => Promise<JSONWebKeySet>,
    /** Throws for anything that is not a key set. */
    private readonly finderFor: (jwks: JSONWebKeySet) => KeyFinder,
    /** Whether a finder's error means no key has the token's `kid`. */
    private readonly isUnknownKid: (err: unknown) => boolean,
    private readonly now: () => number = Date.now,
  ) {}

  /** The key for one token, for jose's `jwtVerify`; `waitUntil` carries a fetch this call starts. */
  async getKey(
    [header, token]: Parameters<JWTVerifyGetKey>,
    waitUntil: WaitUntil,
  ): ReturnType<KeyFinder> {
    if (this.held === undefined || this.now() - this.held.fetchedAt >= KEYS_MAX_AGE_MS) {
      await this.refresh(waitUntil);
    }
    const held = this.held;
    if (held === undefined) throw new KeysUnavailable("no keys fetched yet");
    try {
      return await held.find(header, token);
    } catch (err) {
      if (!this.isUnknownKid(err)) throw err;
      await this.refresh(waitUntil);
      if (this.held === held) throw err;
      return this.held!.find(header, token);
    }
  }

  /**
   * Joins the fetch under way or starts one, unless keys are held and one
   * started within the cooldown. Rejects only while no keys are held.
   */
  private refresh(waitUntil: WaitUntil): Promise<void> {
    if (this.inFlight !== undefined) return this.inFlight;
    if (this.held !== undefined && this.now() - this.lastFetchStarted < KEYS_COOLDOWN_MS) {
      return Promise.resolve();
    }
    this.lastFetchStarted = this.now();
    const fetched = this.fetchKeys()
      .then((jwks) => this.finderFor(jwks))
      .then(
        (find) => {
          this.held = { find, fetchedAt: this.now() };
        },
        (err: unknown) => {
          if (this.held === undefined) throw err;
        },
      );
    const inFlight = fetched.finally(() => {
      if (this.inFlight === inFlight) this.inFlight = undefined;
    });
    this.inFlight = inFlight;
    // Other requests wait on this fetch: it must finish even if the client
    // that started it goes away.
    waitUntil(inFlight.catch(() => undefined));
    return inFlight;
  }
}

/** Fetches a key set from Access's certs endpoint. */
export async function fetchKeySet(url: string): Promise<JSONWebKeySet> {
  const response = await fetch(url, {
    headers: { accept: "application/json" },
    redirect: "manual",
    signal: AbortSignal.timeout(KEYS_FETCH_TIMEOUT_MS),
  });
  if (response.status !== 200) {
    throw new KeysUnavailable(`keys endpoint answered ${response.status}`);
  }
  return (await response.json()) as JSONWebKeySet;
}
