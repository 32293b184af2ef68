import { createLocalJWKSet, createRemoteJWKSet, jwksCache, type JSONWebKeySet, type JWKSCacheInput, type JWTVerifyGetKey, type RemoteJWKSetOptions } from 'jose';

/** The keys last fetched from a key manager's JWKS URI, as the gateway's snapshot keeps them. */
export interface CachedJwks {
  readonly uri: string;
  readonly jwks: JSONWebKeySet;
  /** When they were fetched (epoch ms). */
  readonly uat: number;
}

/** jose's cache slot for one URI: it writes `jwks` and `uat` there on every successful fetch. */
interface Slot {
  jwks?: JSONWebKeySet;
  uat?: number;
}

// After a failed fetch, the last-known keys are used without trying the URI again for this long,
// so an unreachable identity provider costs one fetch timeout per period, not one per new token.
const RETRY_AFTER_FAILURE_MS = 30_000;

/**
 * The external key managers' key sets (fetched from their JWKS URIs), kept so that a gateway
 * restarted while an identity provider cannot be reached still verifies its tokens: the keys are
 * seeded from the local snapshot, used as jose's own cache while fresh, and as the last-known-good
 * keys when a fetch fails. A token whose `kid` the last-known keys lack is refused, as it would be
 * with fresh keys. Resident key managers' keys come inline with the internal data API instead.
 */
export class JwksCache {
  readonly #slots = new Map<string, Slot>();
  #onChange: (() => void) | undefined;

  /** Called after a fetch changed the keys of a URI (the snapshot saves them, batched). */
  onChange(listener: (() => void) | undefined): void {
    this.#onChange = listener;
  }

  /** Keys from a snapshot, before the issuers that use them are set. */
  seed(entries: readonly CachedJwks[]): void {
    for (const e of entries) {
      const slot = this.#slots.get(e.uri);
      if (slot?.uat !== undefined && slot.uat >= e.uat) continue;
      if (slot) Object.assign(slot, { jwks: e.jwks, uat: e.uat });
      else this.#slots.set(e.uri, { jwks: e.jwks, uat: e.uat });
    }
  }

  /** Every URI's last-fetched keys. */
  entries(): CachedJwks[] {
    const out: CachedJwks[] = [];
    for (const [uri, s] of this.#slots) if (s.jwks && s.uat !== undefined) out.push({ uri, jwks: s.jwks, uat: s.uat });
    return out;
  }

  /** A key resolver for `uri`: jose's remote set over this cache, falling back to the last-known keys while the URI fails. */
  keys(uri: string, options: Omit<RemoteJWKSetOptions, typeof jwksCache>): JWTVerifyGetKey {
    let slot = this.#slots.get(uri);
    if (!slot) this.#slots.set(uri, (slot = {}));
    const s = slot;
    const remote = createRemoteJWKSet(new URL(uri), { ...options, [jwksCache]: s as JWKSCacheInput });
    let seen = s.uat;
    let failedAt = Number.NEGATIVE_INFINITY;
    let stale: { uat: number | undefined; keys: ReturnType<typeof createLocalJWKSet> } | undefined;
    const lastKnown = () => {
      if (stale === undefined || stale.uat !== s.uat) stale = { uat: s.uat, keys: createLocalJWKSet(s.jwks as JSONWebKeySet) };
      return stale.keys;
    };
    const changed = () => {
      if (s.uat === seen) return;
      seen = s.uat;
      this.#onChange?.();
    };
    return async (header, token) => {
      if (s.jwks && !remote.fresh && Date.now() - failedAt < RETRY_AFTER_FAILURE_MS) return lastKnown()(header, token);
      try {
        const key = await remote(header, token);
        changed();
        return key;
      } catch (err) {
        changed();
        // Fresh keys: the token is at fault (unknown kid), not the fetch.
        if (remote.fresh || !s.jwks) throw err;
        failedAt = Date.now();
        return lastKnown()(header, token);
      }
    };
  }
}
