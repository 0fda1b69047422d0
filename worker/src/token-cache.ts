import type { Identity } from "./identity";

/** What a verified token told us, kept until it expires. */
export interface CachedToken {
  identity: Identity;
  /** Seconds since the epoch, from the token's `exp`. */
  exp: number;
}

/**
 * Verified tokens keyed by the token string itself, so only the exact bytes
 * that passed verification are let through again. Bounded: past `capacity`
 * the oldest entry goes, so a stream of distinct valid tokens cannot grow the
 * isolate's memory without limit.
 */
export class TokenCache {
  private readonly entries = new Map<string, CachedToken>();

  constructor(
    readonly capacity: number,
    /** Seconds a token still counts as unexpired after its `exp`. */
    readonly toleranceS: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The entry for `token` if it has not expired at `nowS`; an expired one is dropped. */
  get(token: string, nowS: number): CachedToken | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (nowS < entry.exp + this.toleranceS) return entry;
    this.entries.delete(token);
    return undefined;
  }

  set(token: string, entry: CachedToken): void {
    if (!this.entries.has(token) && this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, entry);
  }
}
