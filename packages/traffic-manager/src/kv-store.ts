import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { readFile } from 'node:fs/promises';
import { connect, credsAuthenticator, errors, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import type { WindowState } from './lease.ts';
import { StoreUnreachableError, type VersionedState, type WindowStore } from './store.ts';

export interface KvWindowStoreOptions {
  readonly servers: readonly string[];
  /** The KV bucket every replica shares, `[A-Za-z0-9_-]+`. */
  readonly bucket: string;
  /** Bucket replicas (3 on a three-node NATS cluster, so the state survives losing a server). Default 1. */
  readonly replicas?: number;
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
  /** NATS credentials file (JWT + NKey seed), as `event_hub.creds_file`. */
  readonly credsFile?: string;
  /** Wait between reconnect attempts after an outage (retried forever, with as much jitter). Default 250 ms. */
  readonly reconnectTimeWaitMs?: number;
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
  readonly #o: KvWindowStoreOptions;
  #tiers: readonly { readonly tier: KvTier; readonly kv: KV }[];
  #connected = true;
  #reopening: Promise<void> | undefined;
  #reopenedAt = 0;

  private constructor(nc: NatsConnection, o: KvWindowStoreOptions, tiers: readonly { tier: KvTier; kv: KV }[]) {
    this.#nc = nc;
    this.#o = o;
    this.#tiers = tiers;
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') this.#connected = false;
        else if (s.type === 'reconnect') this.#connected = true;
      }
    })().catch(() => {});
  }

  /**
   * Connects and opens (or creates) the buckets. Rejects with {@link StoreUnreachableError} when no
   * server answers (the caller may retry later), with the server's error when it refuses (credentials,
   * no JetStream, a bucket of another configuration). Once open, a lost connection is retried
   * forever, as the event hub's is: operations fail meanwhile and work again after the reconnect.
   */
  static async open(o: KvWindowStoreOptions): Promise<KvWindowStore> {
    const wait = o.reconnectTimeWaitMs ?? 250;
    const options: ConnectionOptions = {
      servers: [...o.servers],
      user: o.user,
      pass: o.pass,
      token: o.token,
      name: `traffic-manager-kv-${o.bucket}`,
      timeout: 5_000,
      // The client's default gives up after 10 attempts (about 20 s): a longer NATS outage would
      // leave the store closed for good.
      maxReconnectAttempts: -1,
      reconnectTimeWait: wait,
      reconnectJitter: wait,
    };
    if (o.credsFile) options.authenticator = credsAuthenticator(await readFile(o.credsFile));
    let nc: NatsConnection;
    try {
      nc = await connect(options);
    } catch (err) {
      if (err instanceof errors.ConnectionError || err instanceof errors.TimeoutError) throw new StoreUnreachableError(`NATS is unreachable at ${o.servers.join(', ')}: ${(err as Error).message}`, { cause: err });
      throw err;
    }
    try {
      return new KvWindowStore(nc, o, await KvWindowStore.#buckets(nc, o));
    } catch (err) {
      await nc.close();
      throw err;
    }
  }

  /** Opens each tier's bucket, creating it when missing (the same configuration: a no-op on the server). */
  static #buckets(nc: NatsConnection, o: KvWindowStoreOptions): Promise<{ tier: KvTier; kv: KV }[]> {
    const kvm = new Kvm(nc);
    return Promise.all(
      (o.tiers ?? defaultKvTiers).map(async (tier, i) => ({
        tier,
        kv: await kvm.create(i === 0 ? o.bucket : `${o.bucket}_${i}`, { history: 1, replicas: o.replicas ?? 1, ...(tier.ttlMs > 0 ? { ttl: tier.ttlMs } : {}) }),
      })),
    );
  }

  /**
   * A read or write failed while connected. When NATS came back without its JetStream store (a
   * server without persistence), the buckets are gone and every call times out: create them again
   * (empty: those counts are lost), at most every 2 s, and let the next call use them.
   */
  #failed(err: unknown): never {
    if (this.#connected && !this.#nc.isClosed() && !this.#reopening && Date.now() - this.#reopenedAt > 2_000) {
      this.#reopenedAt = Date.now();
      this.#reopening = KvWindowStore.#buckets(this.#nc, this.#o).then(
        (tiers) => {
          this.#tiers = tiers;
        },
        () => undefined,
      ).finally(() => {
        this.#reopening = undefined;
      });
    }
    throw err;
  }

  #tier(windowMs: number): { readonly tier: KvTier; readonly kv: KV } {
    for (const t of this.#tiers) if (windowMs <= t.tier.maxWindowMs) return t;
    return this.#tiers[this.#tiers.length - 1]!;
  }

  async get(id: string, windowMs: number): Promise<VersionedState | undefined> {
    const e = await this.#tier(windowMs).kv.get(kvKey(id)).catch((err: unknown) => this.#failed(err));
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
      this.#failed(err);
    }
    // In a bucket without a TTL, a key's new window deletes its last one.
    if (revision === 0 && tier.ttlMs === 0) {
      const previous = `${id.slice(0, id.lastIndexOf('@'))}@${state.windowStart - state.windowMs}`;
      void kv.delete(kvKey(previous)).catch(() => undefined);
    }
    return written;
  }

  /** Rejects while the connection is down (it reconnects on its own). */
  async ping(): Promise<void> {
    if (this.#nc.isClosed()) throw new Error('the JetStream KV connection is closed');
    if (!this.#connected) throw new Error('disconnected from NATS; reconnecting');
    await this.#nc.rtt();
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
