import type { Limit } from './limits.ts';

export interface Decision {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** Epoch ms when the window resets. */
  readonly resetAt: number;
}

/**
 * What `hit` answers when it cannot decide yet: the key holds no quota and a lease for it is on
 * its way. The caller awaits `settled(key)` and asks again; nothing is counted meanwhile.
 */
export const Pending: Decision = Object.freeze({ allowed: false, limit: 0, remaining: 0, resetAt: 0 });

/**
 * Counts calls (or bytes) per key in fixed windows aligned to the epoch (WSO2's time windows).
 * `LocalRateCounter` counts in this gateway's memory alone; `LeaseRateCounter` spends quota the
 * Traffic Manager leased, so a limit counts once across the cluster.
 *
 * @example
 * ```ts
 * const limit = { count: 100, windowMs: 60_000 };
 * while (counter.ready?.('api|42', limit, Date.now()) === false) await counter.settled('api|42');
 * const d = counter.hit('api|42', limit, Date.now()); // never Pending right after ready()
 * ```
 */
export interface RateCounter {
  /** Counts `cost` (default 1) against `key` if at least one unit is left; may answer {@link Pending}. */
  hit(key: string, limit: Limit, now: number, cost?: number): Decision;
  /**
   * Whether `hit` would answer at once (not {@link Pending}); if not, asks for what it needs. Absent:
   * always. A caller with several keys checks them all first, so a wait never re-counts a key.
   */
  ready?(key: string, limit: Limit, now: number): boolean;
  /** Resolves once `key`'s pending lease is answered or failed (at once when none is pending). */
  settled(key: string): Promise<void>;
  /** Counts `cost` more against `key` after the fact (a response's bytes); never refuses. */
  charge(key: string, limit: Limit, now: number, cost: number): void;
  /**
   * Counts on this gateway alone, against its share of the limit (`limit / live gateways`, at
   * least 1): for limits checked every second, where a round trip per window would cost more
   * than the limit is worth (burst control, backend TPS), as WSO2 counts them per node.
   */
  local(key: string, limit: Limit, now: number): Decision;
}

interface Window {
  start: number;
  count: number;
}

/** This gateway's own count of each key per window, in memory. */
export class LocalRateCounter implements RateCounter {
  readonly #windows = new Map<string, Window>();
  readonly #maxKeys: number;
  readonly #live: () => number;
  readonly #shares = new Map<number, Map<number, Limit>>();
  static readonly #settled = Promise.resolve();

  constructor(options: { maxKeys?: number; liveGateways?: () => number } = {}) {
    this.#maxKeys = options.maxKeys ?? 1_000_000;
    this.#live = options.liveGateways ?? (() => 1);
  }

  #window(key: string, limit: Limit, now: number): Window {
    const start = now - (now % limit.windowMs);
    let w = this.#windows.get(key);
    if (w === undefined || w.start !== start) {
      if (w === undefined && this.#windows.size >= this.#maxKeys) this.#evictExpired(now);
      w = { start, count: 0 };
      this.#windows.set(key, w);
    }
    return w;
  }

  hit(key: string, limit: Limit, now: number, cost = 1): Decision {
    const w = this.#window(key, limit, now);
    const resetAt = w.start + limit.windowMs;
    if (w.count >= limit.count) return { allowed: false, limit: limit.count, remaining: 0, resetAt };
    w.count += cost;
    return { allowed: true, limit: limit.count, remaining: Math.max(0, limit.count - w.count), resetAt };
  }

  settled(_key: string): Promise<void> {
    return LocalRateCounter.#settled;
  }

  charge(key: string, limit: Limit, now: number, cost: number): void {
    this.#window(key, limit, now).count += cost;
  }

  local(key: string, limit: Limit, now: number): Decision {
    const live = Math.max(1, this.#live());
    return this.hit(key, live === 1 ? limit : this.#share(limit, live), now);
  }

  /** `limit / live`, one object per (count, window, live) so a call allocates nothing. */
  #share(limit: Limit, live: number): Limit {
    let byWindow = this.#shares.get(limit.count);
    if (byWindow === undefined) this.#shares.set(limit.count, (byWindow = new Map()));
    const id = limit.windowMs * 1024 + live;
    let share = byWindow.get(id);
    if (share === undefined) {
      share = { count: Math.max(1, Math.floor(limit.count / live)), windowMs: limit.windowMs };
      if (byWindow.size > 64) byWindow.clear();
      byWindow.set(id, share);
    }
    return share;
  }

  #evictExpired(now: number): void {
    for (const [k, w] of this.#windows) if (w.start + 86_400_000 < now) this.#windows.delete(k);
  }

  get size(): number {
    return this.#windows.size;
  }
}
