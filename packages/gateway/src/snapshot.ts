import type { LocalStore } from '@gatehouse/data';
import type { Logger } from '@gatehouse/runtime';
import type { DeployedArtifact } from './artifact.ts';
import type { SourceBlockingCondition } from './security/blocking.ts';
import type { RuntimeApplication, RuntimeKeyMapping, RuntimeSubscription } from './security/gateway-data.ts';
import type { CachedJwks } from './snapshot-jwks.ts';
import type { SourceKeyManager, SourcePolicy } from './sync.ts';

/**
 * The snapshot format this version writes and reads. Bump it whenever a section's shape changes:
 * a snapshot of any other format is ignored (and logged), never half-read.
 *
 * 1 (before): the API definitions only, `{ artifacts }` under `gateway-snapshot`.
 * 2: the whole runtime state, one entry per section under `gateway-state`.
 */
export const SNAPSHOT_FORMAT = 2;
const NAMESPACE = 'gateway-state';
const LEGACY_NAMESPACE = 'gateway-snapshot';
const META = 'meta';

/** Everything a gateway decides with, as it pulls it from `/internal/data/v1` and keeps it current from events. */
export interface GatewayState {
  readonly artifacts: readonly DeployedArtifact[];
  readonly subscriptions: readonly RuntimeSubscription[];
  readonly applications: readonly RuntimeApplication[];
  readonly keyMappings: readonly RuntimeKeyMapping[];
  /** Subscription, application, API and custom policies, as the control plane lists them. */
  readonly policies: readonly SourcePolicy[];
  readonly keyManagers: readonly SourceKeyManager[];
  /** Keys fetched from external key managers' JWKS URIs. */
  readonly jwks: readonly CachedJwks[];
  /** Revoked token ids, each until its token's expiry (epoch seconds). */
  readonly revoked: readonly { readonly jti: string; readonly exp: number }[];
  readonly blockingConditions: readonly SourceBlockingCondition[];
}

export type StateSection = keyof GatewayState;

export interface SnapshotMeta {
  readonly format: number;
  /** The gateway environments the artifacts are for. */
  readonly labels: readonly string[];
  /** Last write (epoch ms). */
  readonly savedAt: number;
  /** Last full pull from the control plane (epoch ms); events applied since are saved too. */
  readonly pulledAt: number;
}

type Check = (v: Record<string, unknown>) => boolean;
const str = (v: unknown): v is string => typeof v === 'string';
const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// What each element must at least have to be applied; anything else means a damaged snapshot.
const SECTIONS: Readonly<Record<StateSection, Check>> = {
  artifacts: (a) => str(a.apiId) && str(a.environment) && str(a.context) && str(a.version) && Array.isArray(a.operations) && obj(a.endpoints),
  subscriptions: (s) => str(s.applicationId) && str(s.apiId) && str(s.status) && str(s.tier),
  applications: (a) => str(a.id) && str(a.name) && str(a.owner) && str(a.tier),
  keyMappings: (m) => str(m.keyManager) && str(m.consumerKey) && str(m.applicationId) && (m.keyType === 'PRODUCTION' || m.keyType === 'SANDBOX'),
  policies: (p) => str(p.name) && str(p.kind) && (p.defaultLimit === null || obj(p.defaultLimit)) && (p.details === undefined || obj(p.details)),
  keyManagers: (k) => str(k.name) && str(k.type) && typeof k.enabled === 'boolean' && (k.issuer === null || str(k.issuer)) && (k.jwksUri === undefined || str(k.jwksUri)) && (k.jwks === undefined || (obj(k.jwks) && Array.isArray(k.jwks.keys))),
  jwks: (j) => str(j.uri) && obj(j.jwks) && Array.isArray(j.jwks.keys) && typeof j.uat === 'number',
  revoked: (r) => str(r.jti) && typeof r.exp === 'number',
  blockingConditions: (c) => str(c.id) && str(c.conditionType) && typeof c.conditionStatus === 'boolean',
};
export const STATE_SECTIONS = Object.keys(SECTIONS) as readonly StateSection[];

export interface SnapshotStoreOptions {
  readonly store: LocalStore;
  readonly labels: readonly string[];
  readonly logger: Logger;
  /** The current value of a section, read when it is written. */
  readonly read: (section: StateSection) => GatewayState[StateSection];
  /** How long changes are gathered before one write (default 1 s). */
  readonly flushMs?: number;
  readonly now?: () => number;
}

/**
 * The gateway's last-known-good state in the node's local store: written whole (one transaction)
 * after each full pull from the control plane, and, as events change it, the changed sections
 * only, gathered for `flushMs` into one transaction: never a write per event, never one on a
 * request's path. Read once at start, so a gateway restarted while the control plane is down
 * serves what it last had.
 */
export class SnapshotStore {
  readonly #o: SnapshotStoreOptions;
  readonly #now: () => number;
  readonly #dirty = new Set<StateSection>();
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #pulledAt = 0;
  #savedAt: number | undefined;
  #legacy = false;
  #closed = false;
  /** Whether the store holds every section (loaded, or saved whole): only then are single sections written. */
  #complete = false;

  constructor(options: SnapshotStoreOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** When the snapshot was last written (epoch ms), by this process or the one before. */
  get savedAt(): number | undefined {
    return this.#savedAt;
  }

  /**
   * The saved state, or undefined (logged) when there is none, it is of another format, for other
   * environments, or damaged: the gateway then waits for the control plane.
   */
  async load(): Promise<{ state: GatewayState; meta: SnapshotMeta } | undefined> {
    const { store, logger, labels } = this.#o;
    // Format 1 kept `{ artifacts }` under the labels; damaged or not, it is not read.
    const legacy = await store.get(LEGACY_NAMESPACE, labels.join(',')).then((v) => v !== undefined, () => true);
    if (legacy) {
      this.#legacy = true;
      logger.warn({ format: 1, expected: SNAPSHOT_FORMAT }, 'ignoring a local snapshot of an older format (API definitions only); it is replaced at the first pull from the control plane');
    }
    let rows: { key: string; value: unknown }[];
    try {
      rows = await store.list<unknown>(NAMESPACE);
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'the local snapshot is unreadable; waiting for the control plane');
      return undefined;
    }
    const entries = new Map(rows.map((r) => [r.key, r.value]));
    const meta = entries.get(META);
    if (meta === undefined) {
      if (!this.#legacy) logger.info({}, 'no local snapshot yet: waiting for the control plane');
      return undefined;
    }
    if (!obj(meta) || meta.format !== SNAPSHOT_FORMAT) {
      logger.warn({ format: obj(meta) ? meta.format : undefined, expected: SNAPSHOT_FORMAT }, 'ignoring a local snapshot of another format; waiting for the control plane');
      return undefined;
    }
    const saved = Array.isArray(meta.labels) ? meta.labels : [];
    if (saved.length !== labels.length || saved.some((l, i) => l !== labels[i])) {
      logger.warn({ saved, labels }, 'ignoring a local snapshot of other gateway environments; waiting for the control plane');
      return undefined;
    }
    const state: Record<string, unknown> = {};
    for (const section of STATE_SECTIONS) {
      const value = entries.get(section);
      const check = SECTIONS[section];
      if (!Array.isArray(value) || !value.every((v) => obj(v) && check(v))) {
        logger.warn({ section }, 'the local snapshot is damaged; ignoring it and waiting for the control plane');
        return undefined;
      }
      state[section] = value;
    }
    this.#complete = true;
    this.#pulledAt = typeof meta.pulledAt === 'number' ? meta.pulledAt : 0;
    this.#savedAt = typeof meta.savedAt === 'number' ? meta.savedAt : undefined;
    return { state: state as unknown as GatewayState, meta: { format: SNAPSHOT_FORMAT, labels: saved as string[], savedAt: this.#savedAt ?? 0, pulledAt: this.#pulledAt } };
  }

  /**
   * Sections changed by events: written together within `flushMs`. Ignored until a whole state
   * was loaded or saved: what events alone built is not a state to restart from.
   */
  markDirty(...sections: StateSection[]): void {
    if (this.#closed || !this.#complete) return;
    for (const s of sections) this.#dirty.add(s);
    this.#schedule();
  }

  /** The whole state, at once (after a full pull); pending changes are part of it. */
  saveAll(pulledAt: number): Promise<void> {
    this.#pulledAt = pulledAt;
    for (const s of STATE_SECTIONS) this.#dirty.add(s);
    return this.flush();
  }

  /** Writes the pending sections now. Never rejects: a failed write is logged and retried. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#writing = this.#writing.then(() => this.#write());
    return this.#writing;
  }

  /** Writes what is pending, then stops. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => void this.flush(), this.#o.flushMs ?? 1_000);
    this.#timer.unref();
  }

  async #write(): Promise<void> {
    if (this.#dirty.size === 0) return;
    const sections = [...this.#dirty];
    this.#dirty.clear();
    const savedAt = this.#now();
    const meta: SnapshotMeta = { format: SNAPSHOT_FORMAT, labels: [...this.#o.labels], savedAt, pulledAt: this.#pulledAt };
    try {
      await this.#o.store.putMany(NAMESPACE, [...sections.map((s) => [s, this.#o.read(s)] as const), [META, meta]]);
      this.#savedAt = savedAt;
      this.#complete = true;
      if (this.#legacy) {
        this.#legacy = false;
        await this.#o.store.delete(LEGACY_NAMESPACE, this.#o.labels.join(','));
      }
    } catch (err) {
      for (const s of sections) this.#dirty.add(s);
      this.#o.logger.warn({ err: (err as Error).message, sections }, 'could not save the local snapshot; retrying');
      this.#schedule();
    }
  }
}
