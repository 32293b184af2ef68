import type { Limit } from './limits.ts';

export interface Decision {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** Epoch ms when the window resets. */
  readonly resetAt: number;
}

/**
 * Counts calls per key in fixed windows aligned to the epoch (WSO2's time windows), in memory.
 * This is the gateway's local enforcement; cluster-wide accuracy comes from the Traffic
 * Manager's quota leases (same interface, other implementation).
 */
export interface RateCounter {
  hit(key: string, limit: Limit, now: number): Decision;
}

interface Window {
  start: number;
  count: number;
}

export class LocalRateCounter implements RateCounter {
  readonly #windows = new Map<string, Window>();
  readonly #maxKeys: number;

  constructor(options: { maxKeys?: number } = {}) {
    this.#maxKeys = options.maxKeys ?? 1_000_000;
  }

  hit(key: string, limit: Limit, now: number): Decision {
    const start = now - (now % limit.windowMs);
    let w = this.#windows.get(key);
    if (w === undefined || w.start !== start) {
      if (w === undefined && this.#windows.size >= this.#maxKeys) this.#evictExpired(now);
      w = { start, count: 0 };
      this.#windows.set(key, w);
    }
    const resetAt = start + limit.windowMs;
    if (w.count >= limit.count) return { allowed: false, limit: limit.count, remaining: 0, resetAt };
    w.count += 1;
    return { allowed: true, limit: limit.count, remaining: limit.count - w.count, resetAt };
  }

  #evictExpired(now: number): void {
    for (const [k, w] of this.#windows) if (w.start + 86_400_000 < now) this.#windows.delete(k);
  }

  get size(): number {
    return this.#windows.size;
  }
}
