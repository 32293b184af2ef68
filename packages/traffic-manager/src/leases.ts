import { applyLease } from './lease.ts';
import type { LeaseReply, LeaseRequest } from './protocol.ts';
import type { WindowStore } from './store.ts';

export interface LeaseServiceOptions {
  readonly store: WindowStore;
  readonly now?: () => number;
  /** `k` in `remaining / (k · liveGateways)`. Default 4. */
  readonly slicing?: number;
  /** A gateway counts as live this long after its last lease request. Default 30 s (three heartbeats). */
  readonly liveTtlMs?: number;
  /** Compare-and-set attempts before a request fails (the gateway then retries or falls back). Default 32. */
  readonly maxAttempts?: number;
}

export interface LeaseStats {
  requests: number;
  granted: number;
  empty: number;
  conflicts: number;
}

function isLeaseRequest(r: unknown): r is LeaseRequest {
  if (typeof r !== 'object' || r === null) return false;
  const q = r as Record<string, unknown>;
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  return (
    typeof q.key === 'string' && q.key.length > 0 && typeof q.gatewayId === 'string' &&
    count(q.limit) && count(q.want) && count(q.used) && count(q.windowStart) &&
    Number.isSafeInteger(q.windowMs) && (q.windowMs as number) > 0 && (q.windowStart as number) % (q.windowMs as number) === 0
  );
}

/**
 * The Traffic Manager's side of the lease protocol: reads a key's window, applies the request
 * (`applyLease`) and writes it back under compare-and-set.
 */
export class LeaseService {
  readonly #o: LeaseServiceOptions;
  readonly #now: () => number;
  readonly #live = new Map<string, number>();
  readonly #queues = new Map<string, Promise<void>>();
  #liveCount = 1;
  #liveCheckedAt = 0;
  readonly stats: LeaseStats = { requests: 0, granted: 0, empty: 0, conflicts: 0 };

  constructor(options: LeaseServiceOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Gateways that asked for quota within `liveTtlMs` (at least 1). */
  liveGateways(now = this.#now()): number {
    if (now - this.#liveCheckedAt >= 1000) {
      const ttl = this.#o.liveTtlMs ?? 30_000;
      for (const [id, seen] of this.#live) if (now - seen > ttl) this.#live.delete(id);
      this.#liveCount = Math.max(1, this.#live.size);
      this.#liveCheckedAt = now;
    }
    return this.#liveCount;
  }

  async lease(req: unknown): Promise<LeaseReply> {
    if (!isLeaseRequest(req)) throw new RangeError('malformed lease request');
    const now = this.#now();
    this.stats.requests += 1;
    if (!this.#live.has(req.gatewayId)) this.#liveCheckedAt = 0;
    this.#live.set(req.gatewayId, now);
    const id = `${req.key}@${req.windowStart}`;
    // One request per key at a time in this replica: its own requests never race each other, so
    // compare-and-set conflicts only come from other replicas.
    const run = (this.#queues.get(id) ?? Promise.resolve()).then(() => this.#apply(id, req));
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.#queues.set(id, tail);
    void tail.then(() => {
      if (this.#queues.get(id) === tail) this.#queues.delete(id);
    });
    return run;
  }

  async #apply(id: string, req: LeaseRequest): Promise<LeaseReply> {
    const now = this.#now();
    const arithmetic = { slicing: this.#o.slicing ?? 4, liveGateways: this.liveGateways(now) };
    // Kept one window past its end, so a late report of the last window is still accounted.
    const ttlMs = req.windowStart + 2 * req.windowMs - now;
    const attempts = this.#o.maxAttempts ?? 32;
    for (let i = 0; i < attempts; i++) {
      const current = await this.#o.store.get(id);
      const { state, reply } = applyLease(current?.state, req, arithmetic, now);
      if (state === current?.state || state === undefined || (await this.#o.store.put(id, state, current?.revision ?? 0, ttlMs))) {
        if (reply.granted > 0) this.stats.granted += reply.granted;
        else this.stats.empty += 1;
        return reply;
      }
      this.stats.conflicts += 1;
    }
    throw new Error(`lease on ${req.key}: ${attempts} write conflicts in a row`);
  }
}
