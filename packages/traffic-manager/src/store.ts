import type { KvWindowStore, KvWindowStoreOptions } from './kv-store.ts';
import type { WindowState } from './lease.ts';

export interface VersionedState {
  readonly state: WindowState;
  /** Opaque, increasing per write; compared by {@link WindowStore.put}. */
  readonly revision: number;
}

/**
 * Where the Traffic Manager keeps each key's window state. Writes are compare-and-set, so several
 * replicas sharing one store (NATS JetStream KV) count a key once: a replica that lost the race
 * reads again and re-applies its request.
 *
 * @example
 * ```ts
 * const current = await store.get(id, state.windowMs);
 * const revision = await store.put(id, next, current?.revision ?? 0, ttlMs); // 0: someone wrote first
 * ```
 */
export interface WindowStore {
  /** The state of `id` (`key@windowStart`); `windowMs` picks where windows of that length live. */
  get(id: string, windowMs: number): Promise<VersionedState | undefined>;
  /** Writes `state` if the stored revision is still `revision` (0: nothing stored yet): its new revision, or 0 on conflict. */
  put(id: string, state: WindowState, revision: number, ttlMs: number): Promise<number>;
  /** Rejects when the store cannot serve now (readiness); a store without one is always ready. */
  ping?(): Promise<void>;
  close(): Promise<void>;
}

/** {@link openKvWindowStore} found no NATS server answering: not a refusal, worth retrying. */
export class StoreUnreachableError extends Error {
  override readonly name = 'StoreUnreachableError';
}

/** One replica's windows, in memory: lost with the process, fine when a single Traffic Manager runs. */
export class MemoryWindowStore implements WindowStore {
  readonly #entries = new Map<string, { state: WindowState; revision: number; expiresAt: number }>();
  readonly #now: () => number;
  #writes = 0;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async get(id: string, _windowMs: number): Promise<VersionedState | undefined> {
    const e = this.#entries.get(id);
    return e && e.expiresAt > this.#now() ? e : undefined;
  }

  async put(id: string, state: WindowState, revision: number, ttlMs: number): Promise<number> {
    const now = this.#now();
    const e = this.#entries.get(id);
    const current = e && e.expiresAt > now ? e.revision : 0;
    if (current !== revision) return 0;
    // Revisions keep increasing across an expiry, as a KV bucket's sequence does.
    const next = ++this.#writes;
    this.#entries.set(id, { state, revision: next, expiresAt: now + ttlMs });
    if (next % 4096 === 0) for (const [k, v] of this.#entries) if (v.expiresAt <= now) this.#entries.delete(k);
    return next;
  }

  get size(): number {
    return this.#entries.size;
  }

  async close(): Promise<void> {
    this.#entries.clear();
  }
}

/** Window state shared by replicas in NATS JetStream KV; the NATS client is loaded on first use. */
export async function openKvWindowStore(options: KvWindowStoreOptions): Promise<KvWindowStore> {
  const { KvWindowStore } = await import('./kv-store.ts');
  return KvWindowStore.open(options);
}
