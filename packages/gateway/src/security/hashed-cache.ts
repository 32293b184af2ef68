import { createHmac, randomBytes } from 'node:crypto';

/**
 * A bounded cache of credential checks keyed by an HMAC of the credential under a key made at
 * start and never stored: the credentials themselves (opaque tokens, user:password) are never
 * kept, and a heap dump gives no offline oracle to test guessed passwords against. Entries
 * expire at their own time; past `max` entries the oldest goes first (Map insertion order).
 */
export class HashedCache<V> {
  readonly #key = randomBytes(32);
  readonly #entries = new Map<string, { value: V; until: number }>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** The cache key of a credential (base64url HMAC-SHA-256), computed once per request. */
  keyOf(credential: string): string {
    return createHmac('sha256', this.#key).update(credential).digest('base64url');
  }

  get(key: string, now: number): V | undefined {
    const hit = this.#entries.get(key);
    if (hit === undefined) return undefined;
    if (hit.until <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return hit.value;
  }

  set(key: string, value: V, until: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, until });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
