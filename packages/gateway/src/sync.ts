import { Agent, request } from 'undici';
import { Topics, type EventHub, type HubEvent, type Subscription } from '@gatehouse/events';
import type { LocalStore } from '@gatehouse/data';
import type { Logger } from '@gatehouse/runtime';
import { toRuntimeApis, type DeployedArtifact } from './artifact.ts';
import type { Gateway } from './gateway.ts';
import type { SourceBlockingCondition } from './security/blocking.ts';
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
}

/**
 * The internal data API over HTTP(S), authenticated with the gateway's own OAuth client
 * (client_credentials against the Key Manager), the token reused until shortly before it expires.
 */
export function createHttpControlPlane(options: { baseUrl: string; clientId: string; clientSecret: string; ca?: string; timeoutMs?: number }): ControlPlaneSource & { close(): Promise<void> } {
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
      const lists = await Promise.all(['subscription-policies', 'application-policies', 'api-policies'].map((p) => get<{ list: SourcePolicy[] }>(`/internal/data/v1/${p}`)));
      return lists.flatMap((l) => l.list);
    },
    keyManagers: async () => (await get<{ list: SourceKeyManager[] }>('/internal/data/v1/keymanagers')).list,
    revokedTokens: async () => (await get<{ list: { jti: string; expiryTime: number }[] }>('/internal/data/v1/revokedjwt')).list,
    blockingConditions: async () => (await get<{ list: SourceBlockingCondition[] }>('/internal/data/v1/block')).list,
    close: () => dispatcher.close(),
  };
}

interface NotificationPayload {
  apiId?: string;
  revisionId?: string | null;
  environments?: string[];
}

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
}

const SNAPSHOT = 'gateway-snapshot';

/**
 * Keeps a gateway's routes in line with the control plane: serve the last-known-good snapshot
 * from the local store at once, pull every artifact for the gateway's environments (retrying with
 * backoff while the control plane is unreachable), then follow deploy/undeploy events, pulling
 * the one API an event names. Each change is saved to the local store and acknowledged on the
 * event hub, so the Publisher can show which gateways really have a deployment.
 */
export class GatewaySync {
  readonly #o: GatewaySyncOptions;
  /** environment → apiId → artifact */
  readonly #artifacts = new Map<string, Map<string, DeployedArtifact>>();
  readonly #subscriptions: Subscription[] = [];
  #heartbeat: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;
  #synced = false;

  constructor(options: GatewaySyncOptions) {
    this.#o = options;
  }

  /** True once a full pull from the control plane succeeded (not just the local snapshot). */
  get synced(): boolean {
    return this.#synced;
  }

  async start(): Promise<void> {
    const snapshot = await this.#o.localStore.get<{ artifacts: DeployedArtifact[] }>(SNAPSHOT, this.#o.labels.join(','));
    if (snapshot) {
      this.#replaceAll(snapshot.artifacts);
      this.#o.logger.info({ apis: this.#o.gateway.apis().length }, 'serving the local snapshot until the control plane answers');
    }
    const hub = this.#o.hub;
    this.#subscriptions.push(
      await hub.subscribe<NotificationPayload>(Topics.Notification, (e) => this.#onNotification(e)),
      await hub.subscribe<{ jti?: string; expiresAt?: number }>(Topics.TokenRevocation, (e) => {
        if (e.payload.jti) this.#o.gateway.data.revoke(e.payload.jti, Math.ceil((e.payload.expiresAt ?? Date.now() + 86_400_000) / 1000));
      }),
      await hub.subscribe(Topics.KeyManager, () => this.#refreshData('key managers')),
      await hub.subscribe<Partial<SourceBlockingCondition>>(Topics.ThrottleData, (e) => this.#onThrottleData(e)),
    );
    this.#heartbeat = setInterval(() => void this.#beat(), this.#o.heartbeatMs ?? 10_000);
    this.#heartbeat.unref();
    await this.#beat();
    await this.#pullAll(1_000);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#retry);
    await Promise.allSettled(this.#subscriptions.splice(0).map((s) => s.unsubscribe()));
  }

  async #pullAll(backoffMs: number): Promise<void> {
    try {
      const all: DeployedArtifact[] = [];
      for (const label of this.#o.labels) all.push(...(await this.#o.source.runtimeArtifacts(label)));
      await this.#pullData();
      this.#replaceAll(all);
      await this.#save();
      this.#synced = true;
      this.#o.logger.info({ apis: this.#o.gateway.apis().length }, 'runtime artifacts loaded from the control plane');
    } catch (err) {
      if (this.#stopped) return;
      const next = Math.min(backoffMs * 2, this.#o.retryMaxMs ?? 30_000);
      this.#o.logger.warn({ err: (err as Error).message, retryInMs: backoffMs }, 'control plane unreachable: serving what this gateway has');
      this.#retry = setTimeout(() => void this.#pullAll(next), backoffMs);
      this.#retry.unref();
    }
  }

  /** Subscriptions, policies, key managers and revocations: what the policy chain decides with. */
  async #pullData(): Promise<void> {
    const { source, gateway } = this.#o;
    const [subs, policies, kms, revoked, blocking] = await Promise.all([source.subscriptions(), source.policies(), source.keyManagers(), source.revokedTokens(), source.blockingConditions()]);
    gateway.data.setSubscriptions(subs.map((s) => ({ applicationId: s.appId, apiId: s.apiId, status: s.subscriptionState, tier: s.policyId })));
    gateway.data.setPolicies(policies.map((p) => toRuntimePolicy(p)).filter((p) => p !== undefined));
    this.#setIssuers(kms);
    for (const r of revoked) gateway.data.revoke(r.jti, Math.ceil(r.expiryTime / 1000));
    gateway.data.setBlockingConditions(blocking);
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
        return;
      case 'BLOCKING_CONDITION_DELETE':
        data.removeBlockingCondition(p.id);
        return;
    }
  }

  #setIssuers(kms: readonly SourceKeyManager[]): void {
    this.#o.gateway.setIssuers(
      kms
        .filter((k) => k.enabled && k.issuer && (k.jwks || k.jwksUri))
        .map((k) => ({ name: k.name, issuer: k.issuer as string, jwks: k.jwks as TrustedIssuer['jwks'], jwksUri: k.jwksUri, consumerKeyClaim: k.consumerKeyClaim, scopesClaim: k.scopesClaim })),
    );
  }

  #replaceAll(artifacts: readonly DeployedArtifact[]): void {
    this.#artifacts.clear();
    for (const a of artifacts) this.#put(a);
    this.#apply();
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

  async #save(): Promise<void> {
    await this.#o.localStore.put(SNAPSHOT, this.#o.labels.join(','), { artifacts: this.#all() });
  }

  async #refreshData(what: string): Promise<void> {
    try {
      await this.#pullData();
    } catch (err) {
      this.#o.logger.warn({ err: (err as Error).message, what }, 'could not refresh gateway data; keeping what it has');
    }
  }

  async #onNotification(e: HubEvent<NotificationPayload>): Promise<void> {
    const data = this.#o.gateway.data;
    const p = e.payload as NotificationPayload & { applicationId?: string; status?: string; tier?: string };
    switch (e.type) {
      case 'SUBSCRIPTIONS_CREATE':
      case 'SUBSCRIPTIONS_UPDATE':
        if (p.applicationId && p.apiId && p.status && p.tier) data.putSubscription({ applicationId: p.applicationId, apiId: p.apiId, status: p.status, tier: p.tier });
        return;
      case 'SUBSCRIPTIONS_DELETE':
        if (p.applicationId && p.apiId) data.removeSubscription(p.applicationId, p.apiId);
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
      try {
        if (e.type === 'REMOVE_API_FROM_GATEWAY') {
          this.#artifacts.get(env)?.delete(apiId);
        } else {
          const [artifact] = await this.#o.source.runtimeArtifacts(env, apiId);
          if (artifact) this.#put(artifact);
          else this.#artifacts.get(env)?.delete(apiId);
        }
        this.#apply();
        await this.#save();
      } catch (err) {
        status = 'FAILED';
        error = (err as Error).message;
        this.#o.logger.error({ err: error, apiId, env }, 'could not apply a deployment');
      }
      await this.#o.hub
        .publish(Topics.DeploymentAck, e.type === 'REMOVE_API_FROM_GATEWAY' ? 'UNDEPLOY_ACK' : 'DEPLOY_ACK', { apiId, revisionId: revisionId ?? null, environment: env, gatewayId: this.#o.gatewayId, status, error }, { tenantId: e.tenantId })
        .catch((err: unknown) => this.#o.logger.warn({ err }, 'deployment acknowledgement not published'));
    }
  }

  async #beat(): Promise<void> {
    await this.#o.hub
      .publish(Topics.Gateway, 'GATEWAY_HEARTBEAT', { gatewayId: this.#o.gatewayId, labels: this.#o.labels, apis: this.#o.gateway.apis().length, synced: this.#synced })
      .catch((err: unknown) => this.#o.logger.debug({ err }, 'heartbeat not published'));
  }
}
