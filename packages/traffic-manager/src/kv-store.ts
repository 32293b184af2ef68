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
}

/** KV keys are `[-/_=.A-Za-z0-9]+`: throttle keys (`sub|app|api`) are not, their base64url is. */
const kvKey = (id: string) => Buffer.from(id).toString('base64url');

function isConflict(err: unknown): boolean {
  return err instanceof JetStreamApiError && (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
}

/**
 * Window state in NATS JetStream KV, shared by every Traffic Manager replica: a write is a
 * compare-and-set on the key's revision (`create` / `update`), so a limit counts once however many
 * replicas serve it, and losing a replica loses nothing. The bucket keeps one revision per key;
 * a window's key is deleted when the key's next window is created.
 *
 * @example
 * ```ts
 * const store = await KvWindowStore.open({ servers: ['nats://nats-1:4222'], bucket: 'gatehouse_throttle' });
 * createTrafficManager(config, { hub, logger, store });
 * ```
 */
export class KvWindowStore implements WindowStore {
  readonly #nc: NatsConnection;
  readonly #kv: KV;

  private constructor(nc: NatsConnection, kv: KV) {
    this.#nc = nc;
    this.#kv = kv;
  }

  static async open(o: KvWindowStoreOptions): Promise<KvWindowStore> {
    const nc = await connect({ servers: [...o.servers], user: o.user, pass: o.pass, token: o.token, name: `traffic-manager-kv-${o.bucket}` });
    try {
      const kv = await new Kvm(nc).create(o.bucket, { history: 1, replicas: o.replicas ?? 1 });
      return new KvWindowStore(nc, kv);
    } catch (err) {
      await nc.close();
      throw err;
    }
  }

  async get(id: string): Promise<VersionedState | undefined> {
    const e = await this.#kv.get(kvKey(id));
    return e && e.operation === 'PUT' ? { state: e.json<WindowState>(), revision: e.revision } : undefined;
  }

  async put(id: string, state: WindowState, revision: number, _ttlMs: number): Promise<boolean> {
    const data = JSON.stringify(state);
    try {
      if (revision === 0) await this.#kv.create(kvKey(id), data);
      else await this.#kv.update(kvKey(id), data, revision);
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
    if (revision === 0) {
      const previous = `${id.slice(0, id.lastIndexOf('@'))}@${state.windowStart - state.windowMs}`;
      void this.#kv.delete(kvKey(previous)).catch(() => undefined);
    }
    return true;
  }

  /** Deletes the bucket (tests, decommissioning). */
  async destroy(): Promise<void> {
    await this.#kv.destroy();
  }

  async close(): Promise<void> {
    await this.#nc.close();
  }
}
