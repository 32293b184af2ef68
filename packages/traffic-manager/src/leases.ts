import { setTimeout as sleep } from 'node:timers/promises';
import { applyLease } from './lease.ts';
import type { LeaseReply, LeaseRequest } from './protocol.ts';
import type { VersionedState, WindowStore } from './store.ts';

export interface LeaseServiceOptions {
  readonly store: WindowStore;
  readonly now?: () => number;
  /** `k` in `remaining / (k · liveGateways)`. Default 4. */
  readonly slicing?: number;
  /** A gateway counts as live this long after its last lease request. Default 30 s (three heartbeats). */
  readonly liveTtlMs?: number;
  /** Compare-and-set attempts before a request fails (the gateway then retries or falls back). Default 32. */
  readonly maxAttempts?: number;
  /** Called once per key and window, after the write that took its count to the limit. */
  readonly onLimitReached?: (req: LeaseRequest, now: number) => void;
}

export interface LeaseStats {
  requests: number;
  granted: number;
  empty: number;
  conflicts: number;
  /** Keys whose window count reached its limit here. */
  reached: number;
}

interface Batch {
  readonly waiting: { req: LeaseRequest; resolve(r: LeaseReply): void; reject(err: unknown): void }[];
  running: boolean;
}

function isLeaseRequest(r: unknown): r is LeaseRequest {
  if (typeof r !== 'object' || r === null) return false;
  const q = r as Record<string, unknown>;
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  return (
    typeof q.key === 'string' && q.key.length > 0 && typeof q.gatewayId === 'string' &&
    count(q.limit) && count(q.want) && count(q.used) && count(q.windowStart) &&
    (q.granted === undefined || count(q.granted)) && (q.session === undefined || (typeof q.session === 'string' && q.session.length <= 64)) &&
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
  readonly #batches = new Map<string, Batch>();
  /** What this replica last read or wrote of each key's window: its next write tries it first. */
  readonly #cache = new Map<string, VersionedState & { readonly until: number }>();
  #liveCount = 1;
  #liveCheckedAt = 0;
  readonly stats: LeaseStats = { requests: 0, granted: 0, empty: 0, conflicts: 0, reached: 0 };

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
    let batch = this.#batches.get(id);
    if (batch === undefined) {
      batch = { waiting: [], running: false };
      this.#batches.set(id, batch);
    }
    const reply = new Promise<LeaseReply>((resolve, reject) => batch.waiting.push({ req, resolve, reject }));
    if (!batch.running) void this.#drain(id, batch);
    return reply;
  }

  /**
   * One key's requests in this replica, one write at a time: the requests that arrive while a
   * write is on its way are applied together by the next one (one read, one compare-and-set for
   * all of them). So a replica never races itself, conflicts only come from other replicas, and a
   * hot key costs one store round trip per batch rather than per request.
   */
  async #drain(id: string, batch: Batch): Promise<void> {
    batch.running = true;
    try {
      while (batch.waiting.length > 0) {
        const items = batch.waiting.splice(0, 512);
        try {
          const replies = await this.#apply(id, items.map((w) => w.req));
          for (let i = 0; i < items.length; i++) items[i].resolve(replies[i]);
        } catch (err) {
          for (const w of items) w.reject(err);
        }
      }
    } finally {
      batch.running = false;
      if (this.#batches.get(id) === batch && batch.waiting.length === 0) this.#batches.delete(id);
    }
  }

  async #apply(id: string, reqs: readonly LeaseRequest[]): Promise<LeaseReply[]> {
    const attempts = this.#o.maxAttempts ?? 32;
    const windowMs = reqs[0].windowMs;
    const until = reqs[0].windowStart + 2 * windowMs;
    for (let i = 0; i < attempts; i++) {
      const now = this.#now();
      const arithmetic = { slicing: this.#o.slicing ?? 4, liveGateways: this.liveGateways(now) };
      // Kept one window past its end, so a late report of the last window is still accounted.
      const ttlMs = until - now;
      // First, the state as this replica left it: one round trip instead of two when no other
      // replica wrote since (a compare-and-set catches it if one did, and the retry reads).
      const cached = i === 0 ? this.#cache.get(id) : undefined;
      const current = cached ?? (await this.#o.store.get(id, windowMs));
      let state = current?.state;
      let reachedBy: LeaseRequest | undefined;
      const replies: LeaseReply[] = [];
      for (const req of reqs) {
        const r = applyLease(state, req, arithmetic, now);
        state = r.state;
        replies.push(r.reply);
        if (r.reached) reachedBy = req;
      }
      const written = state === current?.state || state === undefined ? -1 : await this.#o.store.put(id, state, current?.revision ?? 0, ttlMs);
      if (written !== 0) {
        if (written > 0 && state !== undefined) this.#remember(id, { state, revision: written, until }, now);
        for (const reply of replies) {
          if (reply.granted > 0) this.stats.granted += reply.granted;
          else this.stats.empty += 1;
        }
        if (reachedBy !== undefined) {
          // Exactly once per key and window across replicas: only the write that won the
          // compare-and-set from below the limit to it sees `reached`.
          this.stats.reached += 1;
          this.#o.onLimitReached?.(reachedBy, now);
        }
        return replies;
      }
      this.stats.conflicts += 1;
      this.#cache.delete(id);
      // Another replica wrote first: read again at once; if that loses too, back off a little, at
      // random, so two replicas on one hot key take turns instead of colliding again.
      if (cached === undefined) await sleep(Math.random() * Math.min(64, 2 ** i));
    }
    throw new Error(`lease on ${reqs[0].key}: ${attempts} write conflicts in a row`);
  }

  #remember(id: string, entry: VersionedState & { readonly until: number }, now: number): void {
    if (this.#cache.size >= 100_000 && !this.#cache.has(id)) {
      for (const [k, v] of this.#cache) if (v.until <= now) this.#cache.delete(k);
      if (this.#cache.size >= 100_000) this.#cache.clear();
    }
    this.#cache.set(id, entry);
  }
}
