import { isDeepStrictEqual } from 'node:util';
import { Agent, request } from 'undici';
import { Topics, type EventHub, type HubEvent, type Subscription } from '@gatehouse/events';
import type { LocalStore } from '@gatehouse/data';
import type { Logger } from '@gatehouse/runtime';
import { toRuntimeApis, type DeployedArtifact } from './artifact.ts';
import { SnapshotStore, type GatewayState, type StateSection } from './snapshot.ts';
import type { Gateway } from './gateway.ts';
import { applyApplicationEvent, loadApplications, type SourceApplication, type SourceKeyMapping } from './security/application-data.ts';
import type { SourceBlockingCondition } from './security/blocking.ts';
import { createCredentialAuthority, type CredentialAuthority } from './security/credential-authority.ts';
import type { TrustedIssuer } from './security/token-verifier.ts';
import { toRuntimePolicy } from './throttle/limits.ts';

/** Admin's throttling policy as the internal data API lists it. */
export interface SourcePolicy {
  name: string;
  kind: string;
  defaultLimit: { type: string; requestCount?: { timeUnit: string; unitTime: number; requestCount: number } } | null;
  details: Record<string, unknown>;
}

/** A key manager as the internal data API lists it: ours with its keys inline, others by JWKS URL. */
export interface SourceKeyManager {
  name: string;
  type: string;
  enabled: boolean;
  issuer: string | null;
  consumerKeyClaim: string;
  scopesClaim: string;
  jwks?: { keys: Record<string, unknown>[] };
  jwksUri?: string;
  /**
   * An external key manager's RFC 7662 endpoint, the gateway's client there (the secret only for
   * an internal client, and never kept in the local snapshot), and WSO2's REFERENCE token
   * patterns when it has some.
   */
  introspection?: { endpoint: string; clientId?: string; clientSecret?: string; tokenPatterns?: string[] };
}

/** Where a gateway pulls its state from: the control plane's internal data API. */
export interface ControlPlaneSource {
  runtimeArtifacts(gatewayLabel: string, apiId?: string): Promise<DeployedArtifact[]>;
  subscriptions(): Promise<{ appId: string; apiId: string; policyId: string; subscriptionState: string }[]>;
  policies(): Promise<SourcePolicy[]>;
  keyManagers(): Promise<SourceKeyManager[]>;
  revokedTokens(): Promise<{ jti: string; expiryTime: number }[]>;
  /** The enabled blocking (deny) conditions. */
  blockingConditions(): Promise<SourceBlockingCondition[]>;
  /** Applications and key mappings, to resolve tokens without application claims (absent: none are). */
  applications?(): Promise<SourceApplication[]>;
  keyMappings?(): Promise<SourceKeyMapping[]>;
  /** Where opaque tokens and basic-auth passwords are checked (absent: neither is accepted). */
  readonly credentials?: CredentialAuthority;
}

/**
 * The internal data API over HTTP(S), authenticated with the gateway's own OAuth client
 * (client_credentials against the Key Manager), the token reused until shortly before it expires.
 */
export function createHttpControlPlane(options: { baseUrl: string; clientId: string; clientSecret: string; ca?: string; timeoutMs?: number }): ControlPlaneSource & { readonly credentials: CredentialAuthority; close(): Promise<void> } {
  const dispatcher = new Agent({ connect: { ca: options.ca || undefined, timeout: options.timeoutMs ?? 5_000 }, headersTimeout: options.timeoutMs ?? 10_000, bodyTimeout: options.timeoutMs ?? 10_000 });
  let token: { value: string; until: number } | undefined;
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64')}`;

  async function accessToken(): Promise<string> {
    if (token && token.until > Date.now()) return token.value;
    const res = await request(`${options.baseUrl}/oauth2/token`, {
      method: 'POST',
      dispatcher,
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=apim:admin',
    });
    const body = (await res.body.json()) as { access_token?: string; expires_in?: number; error?: string };
    if (res.statusCode !== 200 || !body.access_token) throw new Error(`the control plane refused the gateway's credentials: ${body.error ?? res.statusCode}`);
    token = { value: body.access_token, until: Date.now() + Math.max(10, (body.expires_in ?? 300) - 60) * 1000 };
    return token.value;
  }

  async function get<T>(path: string): Promise<T> {
    const res = await request(`${options.baseUrl}${path}`, { dispatcher, headers: { authorization: `Bearer ${await accessToken()}` } });
    if (res.statusCode === 401) token = undefined;
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`GET ${path} answered ${res.statusCode}`);
    }
    return (await res.body.json()) as T;
  }

  return {
    async runtimeArtifacts(gatewayLabel, apiId) {
      const q = new URLSearchParams({ gatewayLabel });
      if (apiId) q.set('apiId', apiId);
      return (await get<{ list: DeployedArtifact[] }>(`/internal/data/v1/runtime-artifacts?${q}`)).list;
    },
    subscriptions: async () => (await get<{ list: Awaited<ReturnType<ControlPlaneSource['subscriptions']>> }>('/internal/data/v1/subscriptions')).list,
    async policies() {
      const lists = await Promise.all(['subscription-policies', 'application-policies', 'api-policies', 'global-policies'].map((p) => get<{ list: SourcePolicy[] }>(`/internal/data/v1/${p}`)));
      return lists.flatMap((l) => l.list);
    },
    keyManagers: async () => (await get<{ list: SourceKeyManager[] }>('/internal/data/v1/keymanagers')).list,
    revokedTokens: async () => (await get<{ list: { jti: string; expiryTime: number }[] }>('/internal/data/v1/revokedjwt')).list,
    blockingConditions: async () => (await get<{ list: SourceBlockingCondition[] }>('/internal/data/v1/block')).list,
    applications: async () => (await get<{ list: SourceApplication[] }>('/internal/data/v1/applications')).list,
    keyMappings: async () => (await get<{ list: SourceKeyMapping[] }>('/internal/data/v1/application-key-mappings')).list,
    // A credential check holds a caller's request: bounded whole, however the control plane stalls.
    credentials: createCredentialAuthority({ baseUrl: options.baseUrl, clientId: options.clientId, clientSecret: options.clientSecret, dispatcher, timeoutMs: Math.min(options.timeoutMs ?? 5_000, 5_000) }),
    close: () => dispatcher.close(),
  };
}

interface NotificationPayload {
  apiId?: string;
  revisionId?: string | null;
  environments?: string[];
}

/** What a gateway tells the Publisher about one deployment (internal-data records DEPLOY_ACK). */
interface DeploymentAck {
  readonly type: 'DEPLOY_ACK' | 'UNDEPLOY_ACK';
  readonly apiId: string;
  readonly revisionId: string | null;
  readonly environment: string;
  readonly status: 'DEPLOYED' | 'FAILED';
  readonly error?: string;
  readonly tenantId?: number;
}

const ackKey = (environment: string, apiId: string) => `${environment}\0${apiId}`;

export interface GatewaySyncOptions {
  readonly gateway: Gateway;
  readonly source: ControlPlaneSource;
  readonly hub: EventHub;
  readonly localStore: LocalStore;
  readonly labels: readonly string[];
  readonly gatewayId: string;
  readonly logger: Logger;
  readonly heartbeatMs?: number;
  readonly retryMaxMs?: number;
  /** How often the event hub's connection is looked at, to resynchronise when it comes back (default 100 ms). */
  readonly hubCheckMs?: number;
  /** How long event changes are gathered before the local snapshot is written (default 1 s). */
  readonly snapshotFlushMs?: number;
  /** `gateway.resync_interval_ms`: how often everything is pulled again, ±10% (default 5 min; 0: never). */
  readonly resyncIntervalMs?: number;
}

/** Where the state a gateway serves on came from: nowhere yet, its local snapshot, or the control plane. */
export type GatewayStateSource = 'none' | 'snapshot' | 'control-plane';

/**
 * Keeps a gateway's state in line with the control plane: serve the last-known-good snapshot
 * from the local store at once (APIs, subscriptions, applications, key mappings, policies, key
 * managers and their keys, revocations, blocking conditions), pull everything for the gateway's
 * environments (retrying with backoff while the control plane is unreachable) and replace it,
 * then follow events, pulling the one API a deploy event names, and pull everything again every
 * `resyncIntervalMs` in case an event was lost upstream. The state is saved whole after
 * each pull and section by section, batched, as events change it. Deployments are acknowledged
 * on the event hub, so the Publisher can show which gateways really have one: those an event
 * names, and after each pull those whose revision or outcome this gateway has not acknowledged
 * yet (an event can be lost); one that could not be published waits for the next pull or
 * heartbeat. The gateway is ready (`/health/ready`) once it has a state, pulled or loaded.
 */
export class GatewaySync {
  readonly #o: GatewaySyncOptions;
  /** environment → apiId → artifact */
  readonly #artifacts = new Map<string, Map<string, DeployedArtifact>>();
  readonly #subscriptions: Subscription[] = [];
  #heartbeat: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #hubWatch: NodeJS.Timeout | undefined;
  #resync: NodeJS.Timeout | undefined;
  /** Pulls in progress: a periodic one waits for the next period rather than run beside one. */
  #pulling = 0;
  /**
   * Per pull in progress, the events that came while it ran: its data may have been read before
   * their change, so they are applied again after it (a subscription blocked during a pull must
   * not come back unblocked until the next one).
   */
  readonly #during = new Set<(() => void | Promise<void>)[]>();
  #hubUp = true;
  #stopped = false;
  #synced = false;
  #source: GatewayStateSource = 'none';
  #pulledAt: number | undefined;
  #lastPullError: string | undefined;
  /** What the control plane listed last (kept as listed, for the snapshot). */
  #policies: readonly SourcePolicy[] = [];
  #keyManagers: readonly SourceKeyManager[] = [];
  readonly #snapshot: SnapshotStore;
  /** Acknowledgements not published yet, the latest per environment and API. */
  readonly #unacked = new Map<string, DeploymentAck>();
  /** Per environment and API, what the Publisher was last told (`revision status`): a pull acknowledges only what differs. */
  readonly #acked = new Map<string, string>();
  #acking = false;

  constructor(options: GatewaySyncOptions) {
    this.#o = options;
    this.#snapshot = new SnapshotStore({ store: options.localStore, labels: options.labels, logger: options.logger, flushMs: options.snapshotFlushMs, read: (s) => this.#read(s) });
  }

  /** Where the state served comes from. */
  get source(): GatewayStateSource {
    return this.#source;
  }

  /** What `/health` shows of the sync. */
  status(): Record<string, unknown> {
    const { gateway, hub } = this.#o;
    return {
      source: this.#source,
      synced: this.#synced,
      lastPullAt: this.#pulledAt === undefined ? null : new Date(this.#pulledAt).toISOString(),
      lastPullError: this.#lastPullError ?? null,
      snapshotSavedAt: this.#snapshot.savedAt === undefined ? null : new Date(this.#snapshot.savedAt).toISOString(),
      eventHubConnected: hub.isConnected(),
      apis: gateway.apis().length,
      ...gateway.data.counts,
    };
  }

  /** True once a full pull from the control plane succeeded (not just the local snapshot). */
  get synced(): boolean {
    return this.#synced;
  }

  async start(): Promise<void> {
    const { gateway } = this.#o;
    gateway.setCredentialAuthority(this.#o.source.credentials);
    gateway.health.add({
      name: 'runtime-state',
      check: async () => {
        if (this.#source === 'none') throw new Error('no runtime state yet: no usable local snapshot, and the control plane has not answered');
      },
    });
    gateway.health.addDetails('sync', () => this.status());
    gateway.jwks.onChange(() => this.#snapshot.markDirty('jwks'));
    await this.#restore();
    const hub = this.#o.hub;
    this.#subscriptions.push(
      await hub.subscribe<NotificationPayload>(Topics.Notification, this.#replayed((e) => this.#onNotification(e))),
      // Revocations only add: a pull never takes one back, so none is replayed.
      await hub.subscribe<{ jti?: string; expiresAt?: number }>(Topics.TokenRevocation, (e) => {
        if (!e.payload.jti) return;
        gateway.data.revoke(e.payload.jti, Math.ceil((e.payload.expiresAt ?? Date.now() + 86_400_000) / 1000));
        this.#snapshot.markDirty('revoked');
      }),
      await hub.subscribe(Topics.KeyManager, this.#replayed(() => this.#refreshData('key managers'))),
      await hub.subscribe<Partial<SourceBlockingCondition>>(Topics.ThrottleData, this.#replayed((e) => this.#onThrottleData(e))),
    );
    this.#heartbeat = setInterval(() => {
      void this.#beat();
      void this.#sendAcks();
    }, this.#o.heartbeatMs ?? 10_000);
    this.#heartbeat.unref();
    // Events published while this gateway was cut off from the event hub may never come (a
    // publisher gave up, or a stream was trimmed): when the hub comes back, pull everything again.
    this.#hubUp = hub.isConnected();
    this.#hubWatch = setInterval(() => this.#watchHub(), this.#o.hubCheckMs ?? 100);
    this.#hubWatch.unref();
    // Started without the hub, a heartbeat would wait for it (up to the publish timeout).
    if (this.#hubUp) await this.#beat();
    else void this.#beat();
    await this.#pullAll(1_000);
    this.#scheduleResync();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#heartbeat);
    clearInterval(this.#hubWatch);
    clearTimeout(this.#retry);
    clearTimeout(this.#resync);
    await Promise.allSettled(this.#subscriptions.splice(0).map((s) => s.unsubscribe()));
    this.#o.gateway.jwks.onChange(undefined);
    await this.#snapshot.close();
  }

  /** The local snapshot, applied whole or not at all. */
  async #restore(): Promise<void> {
    const loaded = await this.#snapshot.load();
    if (!loaded) return;
    try {
      this.#applyState(loaded.state);
    } catch (err) {
      this.#o.logger.warn({ err: (err as Error).message }, 'the local snapshot could not be applied; waiting for the control plane');
      this.#clearState();
      return;
    }
    this.#source = 'snapshot';
    const { savedAt, pulledAt } = loaded.meta;
    this.#o.logger.info(
      { apis: this.#o.gateway.apis().length, ...this.#o.gateway.data.counts, pulledAt: new Date(pulledAt).toISOString(), savedAt: new Date(savedAt).toISOString() },
      'serving the local snapshot until the control plane answers',
    );
  }

  #applyState(state: GatewayState): void {
    const { gateway } = this.#o;
    // Everything that can throw on a bad value first, before anything is replaced.
    const apis = toRuntimeApis(state.artifacts);
    const policies = state.policies.map((p) => toRuntimePolicy(p)).filter((p) => p !== undefined);
    gateway.jwks.seed(state.jwks);
    this.#setIssuers(state.keyManagers);
    gateway.data.setSubscriptions(state.subscriptions);
    gateway.data.setApplications(state.applications, state.keyMappings);
    this.#policies = state.policies;
    gateway.data.setPolicies(policies);
    // Revocations of tokens long expired would fail on `exp` anyway (as GatewayData.purgeRevoked).
    const cutoff = Math.floor(Date.now() / 1000) - 300;
    for (const r of state.revoked) if (r.exp >= cutoff) gateway.data.revoke(r.jti, r.exp);
    gateway.data.setBlockingConditions(state.blockingConditions);
    this.#artifacts.clear();
    for (const a of state.artifacts) this.#put(a);
    gateway.deploy(apis);
  }

  #clearState(): void {
    const { data } = this.#o.gateway;
    this.#setIssuers([]);
    data.setSubscriptions([]);
    data.setApplications([], []);
    data.setPolicies([]);
    data.setBlockingConditions([]);
    this.#policies = [];
    this.#artifacts.clear();
  }

  #read(section: StateSection): GatewayState[StateSection] {
    const { gateway } = this.#o;
    switch (section) {
      case 'artifacts':
        return this.#all();
      case 'policies':
        return this.#policies;
      case 'keyManagers':
        // An external key manager's client secret stays in memory: the snapshot is a file on the
        // gateway's disk. After a restart from it, that key manager's opaque tokens answer 503
        // until the control plane answers again.
        return this.#keyManagers.map((k) => (k.introspection?.clientSecret === undefined ? k : { ...k, introspection: { ...k.introspection, clientSecret: undefined } }));
      case 'jwks': {
        const uris = new Set(this.#keyManagers.map((k) => k.jwksUri));
        return gateway.jwks.entries().filter((e) => uris.has(e.uri));
      }
      default:
        return gateway.data.snapshot()[section];
    }
  }

  #watchHub(): void {
    const up = this.#o.hub.isConnected();
    if (up && !this.#hubUp && !this.#stopped) {
      this.#o.logger.info({}, 'event hub reconnected: pulling everything from the control plane');
      clearTimeout(this.#retry);
      void this.#pullAll(1_000);
    }
    this.#hubUp = up;
  }

  async #pullAll(backoffMs: number): Promise<void> {
    try {
      await this.#pull();
    } catch (err) {
      if (this.#stopped) return;
      const next = Math.min(backoffMs * 2, this.#o.retryMaxMs ?? 30_000);
      this.#o.logger.warn({ err: (err as Error).message, retryInMs: backoffMs }, 'control plane unreachable: serving what this gateway has');
      this.#retry = setTimeout(() => void this.#pullAll(next), backoffMs);
      this.#retry.unref();
    }
  }

  /**
   * Anti-entropy: an event lost before it reached the event hub (a control plane that crashed
   * with it queued) leaves no gap for a connected gateway to notice, so everything is pulled
   * again every period, jittered so a fleet of gateways does not pull at the same instant. A
   * failed one waits for the next period.
   */
  #scheduleResync(): void {
    const every = this.#o.resyncIntervalMs ?? 300_000;
    if (every <= 0 || this.#stopped) return;
    this.#resync = setTimeout(() => void this.#resyncNow(), every * (0.9 + Math.random() * 0.2));
    this.#resync.unref();
  }

  async #resyncNow(): Promise<void> {
    if (this.#pulling === 0) {
      try {
        await this.#pull();
      } catch (err) {
        if (this.#stopped) return;
        this.#o.logger.warn({ err: (err as Error).message }, 'periodic pull from the control plane failed: serving what this gateway has until the next one');
      }
    }
    this.#scheduleResync();
  }

  /** An event handler whose events are recorded for every pull in progress (see `#during`). */
  #replayed<T>(handle: (e: HubEvent<T>) => void | Promise<void>): (e: HubEvent<T>) => void | Promise<void> {
    return (e) => {
      for (const list of this.#during) list.push(() => handle(e));
      return handle(e);
    };
  }

  /** Pulls everything and serves it; a failure is kept for `/health` and thrown. */
  async #pull(): Promise<void> {
    this.#pulling++;
    const during: (() => void | Promise<void>)[] = [];
    this.#during.add(during);
    try {
      const all: DeployedArtifact[] = [];
      for (const label of this.#o.labels) all.push(...(await this.#o.source.runtimeArtifacts(label)));
      try {
        await this.#pullData();
        this.#replaceAll(all);
      } finally {
        // Whatever the pull got to serve (its data can be in use though a section or its APIs failed).
        await this.#replay(during);
      }
      const from = this.#source;
      this.#source = 'control-plane';
      this.#synced = true;
      this.#pulledAt = Date.now();
      this.#lastPullError = undefined;
      this.#o.logger.info({ apis: this.#o.gateway.apis().length, ...this.#o.gateway.data.counts, replaced: from }, 'runtime state loaded from the control plane');
      // Not awaited: with the event hub down, a publish waits for it.
      void this.#sendAcks();
      await this.#snapshot.saveAll(this.#pulledAt);
    } catch (err) {
      if (!this.#stopped) {
        void this.#sendAcks();
        this.#lastPullError = (err as Error).message;
      }
      throw err;
    } finally {
      this.#during.delete(during);
      this.#pulling--;
    }
  }

  /** Applies again, in the order they came, the events recorded during a pull; each is idempotent (it sets a state, or fetches the current one). */
  async #replay(during: (() => void | Promise<void>)[]): Promise<void> {
    this.#during.delete(during);
    for (const apply of during) {
      try {
        await apply();
      } catch (err) {
        this.#o.logger.warn({ err: (err as Error).message }, 'an event that came during the pull could not be applied again after it');
      }
    }
  }

  /** Subscriptions, policies, key managers, revocations, applications: what the policy chain decides with. */
  async #pullData(): Promise<void> {
    const { source, gateway } = this.#o;
    const [subs, policies, kms, revoked, blocking] = await Promise.all([source.subscriptions(), source.policies(), source.keyManagers(), source.revokedTokens(), source.blockingConditions()]);
    gateway.data.setSubscriptions(subs.map((s) => ({ applicationId: s.appId, apiId: s.apiId, status: s.subscriptionState, tier: s.policyId })));
    gateway.data.setPolicies(policies.map((p) => toRuntimePolicy(p)).filter((p) => p !== undefined));
    this.#policies = policies;
    this.#setIssuers(kms);
    for (const r of revoked) gateway.data.revoke(r.jti, Math.ceil(r.expiryTime / 1000));
    gateway.data.setBlockingConditions(blocking);
    if (source.applications && source.keyMappings) {
      const [apps, mappings] = await Promise.all([source.applications(), source.keyMappings()]);
      loadApplications(gateway.data, apps, mappings);
    }
  }

  /** Admin's deny-policy changes: applied at once, the next call decides with them. */
  #onThrottleData(e: HubEvent<Partial<SourceBlockingCondition>>): void {
    const p = e.payload;
    if (typeof p.id !== 'string') return;
    const data = this.#o.gateway.data;
    switch (e.type) {
      case 'BLOCKING_CONDITION_ADD':
      case 'BLOCKING_CONDITION_UPDATE':
        if (typeof p.conditionType === 'string') data.putBlockingCondition({ id: p.id, conditionType: p.conditionType, conditionValue: p.conditionValue, conditionStatus: p.conditionStatus === true });
        this.#snapshot.markDirty('blockingConditions');
        return;
      case 'BLOCKING_CONDITION_DELETE':
        data.removeBlockingCondition(p.id);
        this.#snapshot.markDirty('blockingConditions');
        return;
    }
  }

  #setIssuers(kms: readonly SourceKeyManager[]): void {
    this.#keyManagers = kms;
    this.#o.gateway.setIssuers(
      kms
        .filter((k) => k.enabled && k.issuer && (k.jwks || k.jwksUri))
        .map((k) => ({ name: k.name, issuer: k.issuer as string, jwks: k.jwks as TrustedIssuer['jwks'], jwksUri: k.jwksUri, consumerKeyClaim: k.consumerKeyClaim, scopesClaim: k.scopesClaim })),
    );
    this.#o.gateway.setIntrospection(
      kms
        .filter((k) => k.enabled && k.type !== 'default' && typeof k.introspection?.endpoint === 'string')
        .map((k) => {
          const i = k.introspection as NonNullable<SourceKeyManager['introspection']>;
          return { name: k.name, issuer: k.issuer ?? undefined, consumerKeyClaim: k.consumerKeyClaim, scopesClaim: k.scopesClaim, endpoint: i.endpoint, clientId: i.clientId, clientSecret: i.clientSecret, tokenPatterns: i.tokenPatterns };
        }),
    );
  }

  #replaceAll(artifacts: readonly DeployedArtifact[]): void {
    const served = this.#all();
    // What is served already (most periodic pulls): the route table is not rebuilt.
    if (served.length !== artifacts.length || !artifacts.every((a) => isDeepStrictEqual(this.#artifacts.get(a.environment)?.get(a.apiId), a))) {
      this.#fill(artifacts);
      try {
        this.#apply();
      } catch (err) {
        // The route table is unchanged: keep what it serves, and report the deployments it could not take.
        this.#fill(served);
        for (const a of artifacts) this.#ackPulled(a, this.#artifacts.get(a.environment)?.get(a.apiId)?.revisionId === a.revisionId ? undefined : (err as Error).message);
        throw err;
      }
    }
    for (const a of artifacts) this.#ackPulled(a);
    const live = new Set(artifacts.map((a) => ackKey(a.environment, a.apiId)));
    for (const key of this.#acked.keys()) if (!live.has(key)) this.#acked.delete(key);
  }

  #fill(artifacts: readonly DeployedArtifact[]): void {
    this.#artifacts.clear();
    for (const a of artifacts) this.#put(a);
  }

  #put(a: DeployedArtifact): void {
    let env = this.#artifacts.get(a.environment);
    if (!env) {
      env = new Map();
      this.#artifacts.set(a.environment, env);
    }
    env.set(a.apiId, a);
  }

  #all(): DeployedArtifact[] {
    return [...this.#artifacts.values()].flatMap((m) => [...m.values()]);
  }

  #apply(): void {
    this.#o.gateway.deploy(toRuntimeApis(this.#all()));
  }

  async #refreshData(what: string): Promise<void> {
    try {
      await this.#pullData();
      this.#snapshot.markDirty('subscriptions', 'applications', 'keyMappings', 'policies', 'keyManagers', 'jwks', 'revoked', 'blockingConditions');
    } catch (err) {
      this.#o.logger.warn({ err: (err as Error).message, what }, 'could not refresh gateway data; keeping what it has');
    }
  }

  async #onNotification(e: HubEvent<NotificationPayload>): Promise<void> {
    const data = this.#o.gateway.data;
    const p = e.payload as NotificationPayload & { applicationId?: string; status?: string; tier?: string };
    if (applyApplicationEvent(data, e.type, p as Record<string, unknown>)) {
      this.#snapshot.markDirty('applications', 'keyMappings');
      return;
    }
    switch (e.type) {
      case 'SUBSCRIPTIONS_CREATE':
      case 'SUBSCRIPTIONS_UPDATE':
        if (p.applicationId && p.apiId && p.status && p.tier) data.putSubscription({ applicationId: p.applicationId, apiId: p.apiId, status: p.status, tier: p.tier });
        this.#snapshot.markDirty('subscriptions');
        return;
      case 'SUBSCRIPTIONS_DELETE':
        if (p.applicationId && p.apiId) data.removeSubscription(p.applicationId, p.apiId);
        this.#snapshot.markDirty('subscriptions');
        return;
      case 'POLICY_CREATE':
      case 'POLICY_UPDATE':
      case 'POLICY_DELETE':
        return this.#refreshData('policies');
    }
    if (e.type !== 'DEPLOY_API_IN_GATEWAY' && e.type !== 'REMOVE_API_FROM_GATEWAY') return;
    const { apiId, revisionId, environments = [] } = e.payload;
    const mine = environments.filter((env) => this.#o.labels.includes(env));
    if (!apiId || mine.length === 0) return;
    for (const env of mine) {
      let status: 'DEPLOYED' | 'FAILED' = 'DEPLOYED';
      let error: string | undefined;
      const served = this.#artifacts.get(env)?.get(apiId);
      try {
        if (e.type === 'REMOVE_API_FROM_GATEWAY') {
          this.#artifacts.get(env)?.delete(apiId);
        } else {
          const [artifact] = await this.#o.source.runtimeArtifacts(env, apiId);
          if (artifact) this.#put(artifact);
          else this.#artifacts.get(env)?.delete(apiId);
        }
        this.#apply();
        this.#snapshot.markDirty('artifacts');
      } catch (err) {
        status = 'FAILED';
        error = (err as Error).message;
        this.#o.logger.error({ err: error, apiId, env }, 'could not apply a deployment');
        // Still what the route table serves, so a later pull tells a failed revision from a served one.
        if (served) this.#put(served);
        else this.#artifacts.get(env)?.delete(apiId);
      }
      this.#unacked.set(ackKey(env, apiId), { type: e.type === 'REMOVE_API_FROM_GATEWAY' ? 'UNDEPLOY_ACK' : 'DEPLOY_ACK', apiId, revisionId: revisionId ?? null, environment: env, status, error, tenantId: e.tenantId });
    }
    await this.#sendAcks();
  }

  /** Queues a pulled deployment's acknowledgement, unless the Publisher already has this outcome of it from this gateway. */
  #ackPulled(a: DeployedArtifact, error?: string): void {
    const status = error === undefined ? 'DEPLOYED' : 'FAILED';
    const key = ackKey(a.environment, a.apiId);
    if (this.#acked.get(key) === `${a.revisionId} ${status}`) return;
    this.#unacked.set(key, { type: 'DEPLOY_ACK', apiId: a.apiId, revisionId: a.revisionId, environment: a.environment, status, error });
  }

  /**
   * Publishes the waiting acknowledgements one at a time, until none is left or one fails (it
   * waits for the next pull or heartbeat). One run at a time; a run takes what is queued meanwhile.
   */
  async #sendAcks(): Promise<void> {
    if (this.#acking) return;
    this.#acking = true;
    try {
      for (let [next] = this.#unacked; next && !this.#stopped; [next] = this.#unacked) {
        const [key, ack] = next;
        try {
          await this.#o.hub.publish(
            Topics.DeploymentAck,
            ack.type,
            { apiId: ack.apiId, revisionId: ack.revisionId, environment: ack.environment, gatewayId: this.#o.gatewayId, status: ack.status, error: ack.error },
            { tenantId: ack.tenantId },
          );
        } catch (err) {
          if (!this.#stopped) this.#o.logger.warn({ err, waiting: this.#unacked.size }, 'deployment acknowledgement not published; retrying at the next pull or heartbeat');
          return;
        }
        // A newer outcome queued meanwhile stays queued.
        if (this.#unacked.get(key) === ack) this.#unacked.delete(key);
        if (ack.type === 'UNDEPLOY_ACK') this.#acked.delete(key);
        else this.#acked.set(key, `${ack.revisionId} ${ack.status}`);
      }
    } finally {
      this.#acking = false;
    }
  }

  async #beat(): Promise<void> {
    await this.#o.hub
      .publish(Topics.Gateway, 'GATEWAY_HEARTBEAT', { gatewayId: this.#o.gatewayId, labels: this.#o.labels, apis: this.#o.gateway.apis().length, synced: this.#synced })
      .catch((err: unknown) => this.#o.logger.debug({ err }, 'heartbeat not published'));
  }
}
