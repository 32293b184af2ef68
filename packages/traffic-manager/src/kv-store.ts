import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { WindowState } from './lease.ts';
import type { VersionedState, WindowStore } from './store.ts';

export interface KvWindowStoreOptions {
  readonly servers: readonly string[];
  /** The KV bucket every replica shares, `[A-Za-z0-9_-]+`. */
  readonly bucket: string;
  /** Bucket replicas (3 on a three-node NATS cluster, so the state survives losing a server). Default 1. */
  readonly replicas?: number;
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
  /**
   * Buckets by window length, each with its own TTL (JetStream `max_age`), so old windows expire
   * without a delete per key: windows up to `maxWindowMs` go to the first tier that fits. The
   * first tier is `bucket`, the others `bucket_<i>`. A `ttlMs` of 0 keeps entries until the key's
   * next window deletes them. Default: windows up to 1 h live 3 h, up to 1 day live 3 days, longer
   * ones (months, years) have no TTL.
   */
  readonly tiers?: readonly KvTier[];
}

export interface KvTier {
  readonly maxWindowMs: number;
  readonly ttlMs: number;
}

/**
 * A window's state must outlive its window by one more (a late report of the last window is
 * still accounted), so a tier's TTL is at least twice its longest window; three times leaves
 * room for clock skew between replicas.
 */
export const defaultKvTiers: readonly KvTier[] = Object.freeze([
  { maxWindowMs: 3_600_000, ttlMs: 3 * 3_600_000 },
  { maxWindowMs: 86_400_000, ttlMs: 3 * 86_400_000 },
  { maxWindowMs: Number.POSITIVE_INFINITY, ttlMs: 0 },
]);

/** KV keys are `[-/_=.A-Za-z0-9]+`: throttle keys (`sub|app|api`) are not, their base64url is. */
const kvKey = (id: string) => Buffer.from(id).toString('base64url');

function isConflict(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
}

/**
 * Window state in NATS JetStream KV, shared by every Traffic Manager replica: a write is a
 * compare-and-set on the key's revision (`create` / `update`), so a limit counts once however many
 * replicas serve it, and losing a replica loses nothing. The buckets keep one revision per key and
 * expire old windows by TTL (see {@link KvWindowStoreOptions.tiers}).
 *
 * @example
 * ```ts
 * const store = await KvWindowStore.open({ servers: ['nats://nats-1:4222'], bucket: 'gatehouse_throttle' });
 * createTrafficManager(config, { hub, logger, store });
 * ```
 */
export class KvWindowStore implements WindowStore {
  readonly #nc: NatsConnection;
  readonly #tiers: readonly { readonly tier: KvTier; readonly kv: KV }[];

  private constructor(nc: NatsConnection, tiers: readonly { tier: KvTier; kv: KV }[]) {
    this.#nc = nc;
    this.#tiers = tiers;
  }

  static async open(o: KvWindowStoreOptions): Promise<KvWindowStore> {
    const nc = await connect({ servers: [...o.servers], user: o.user, pass: o.pass, token: o.token, name: `traffic-manager-kv-${o.bucket}` });
    try {
      const kvm = new Kvm(nc);
      const tiers = await Promise.all(
        (o.tiers ?? defaultKvTiers).map(async (tier, i) => ({
          tier,
          kv: await kvm.create(i === 0 ? o.bucket : `${o.bucket}_${i}`, { history: 1, replicas: o.replicas ?? 1, ...(tier.ttlMs > 0 ? { ttl: tier.ttlMs } : {}) }),
        })),
      );
      return new KvWindowStore(nc, tiers);
    } catch (err) {
      await nc.close();
      throw err;
    }
  }

  #tier(windowMs: number): { readonly tier: KvTier; readonly kv: KV } {
    for (const t of this.#tiers) if (windowMs <= t.tier.maxWindowMs) return t;
    return this.#tiers[this.#tiers.length - 1]!;
  }

  async get(id: string, windowMs: number): Promise<VersionedState | undefined> {
    const e = await this.#tier(windowMs).kv.get(kvKey(id));
    return e && e.operation === 'PUT' ? { state: e.json<WindowState>(), revision: e.revision } : undefined;
  }

  async put(id: string, state: WindowState, revision: number, _ttlMs: number): Promise<number> {
    const { tier, kv } = this.#tier(state.windowMs);
    const data = JSON.stringify(state);
    let written: number;
    try {
      written = revision === 0 ? await kv.create(kvKey(id), data) : await kv.update(kvKey(id), data, revision);
    } catch (err) {
      if (isConflict(err)) return 0;
      throw err;
    }
    // In a bucket without a TTL, a key's new window deletes its last one.
    if (revision === 0 && tier.ttlMs === 0) {
      const previous = `${id.slice(0, id.lastIndexOf('@'))}@${state.windowStart - state.windowMs}`;
      void kv.delete(kvKey(previous)).catch(() => undefined);
    }
    return written;
  }

  /** Each tier's bucket and its TTL in ms (0: none), as the server reports them. */
  async buckets(): Promise<{ bucket: string; ttlMs: number }[]> {
    return Promise.all(this.#tiers.map(async ({ kv }) => {
      const s = await kv.status();
      return { bucket: s.bucket, ttlMs: s.ttl };
    }));
  }

  /** Deletes the buckets (tests, decommissioning). */
  async destroy(): Promise<void> {
    for (const { kv } of this.#tiers) await kv.destroy();
  }

  async close(): Promise<void> {
    await this.#nc.close();
  }
}
