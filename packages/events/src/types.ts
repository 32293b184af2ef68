import type { Clock } from '@gatehouse/core';

/**
 * The hub's topics. The first five mirror WSO2 API Manager's JMS topics; the last three carry
 * gateway registration and heartbeats, deployment acknowledgements and analytics.
 *
 * @example
 * ```ts
 * await hub.publish(Topics.TokenRevocation, 'token.revoked', { jti, expiresAt });
 * ```
 */
export const Topics = {
  /** API deployed/undeployed, application, subscription, key mapping and policy changes. */
  Notification: 'notification',
  /** Key manager added, updated or removed. */
  KeyManager: 'keyManager',
  /** Revoked tokens (by jti or consumer key). */
  TokenRevocation: 'tokenRevocation',
  /** Throttle decisions and blocking conditions, from the Traffic Manager. */
  ThrottleData: 'throttleData',
  /** Cache entries (resources, keys, scopes) to drop. */
  CacheInvalidation: 'cacheInvalidation',
  /** Gateway registration and heartbeats. */
  Gateway: 'gateway',
  /** Gateways acknowledging a revision deployment. */
  DeploymentAck: 'deploymentAck',
  /** Analytics events from gateways. */
  Analytics: 'analytics',
} as const;

export type Topic = (typeof Topics)[keyof typeof Topics];

/** Every topic, in declaration order. */
export const allTopics: readonly Topic[] = Object.freeze(Object.values(Topics));

/** Minimal structured logger, pino-compatible (`logger.info({ topic }, 'message')`). */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** One event as delivered to subscribers. Payloads travel as JSON on every transport. */
export interface HubEvent<T = unknown> {
  topic: Topic;
  /** What happened, e.g. `api.deployed`, `token.revoked`. */
  type: string;
  /** Per-topic sequence: starts at 1, strictly increasing, assigned by the hub when stored. */
  seq: number;
  /** When it was published, epoch milliseconds. */
  time: number;
  /** The publishing node's id. */
  source: string;
  tenantId: number;
  /** Read-only: on the in-process transport every subscriber of an event shares one object. */
  payload: T;
}

export interface PublishOptions {
  /** Defaults to WSO2's super tenant (-1234). */
  tenantId?: number;
  /**
   * Deduplication id (NATS `Nats-Msg-Id`): publishes with one id within two minutes are stored
   * once, so a caller retrying an unacknowledged publish passes the same id. Default: a new one.
   */
  msgId?: string;
}

/** A gap: events `[expected, next)` were dropped by retention before this subscriber saw them. */
export interface Gap {
  topic: Topic;
  /** The first sequence the subscriber should have received. */
  expected: number;
  /** The sequence actually delivered next. */
  next: number;
}

export interface SubscribeOptions {
  /**
   * Deliver every retained event with `seq >= fromSeq` (to resume, pass the last seen seq + 1),
   * then new ones. Default: only events published after `subscribe` was called.
   */
  fromSeq?: number;
  /**
   * Called (and awaited) before the first event after a gap, i.e. when events the subscriber asked
   * for are no longer retained. The consumer then resyncs from the internal data API.
   */
  onGap?: (gap: Gap) => void | Promise<void>;
}

export interface Subscription {
  /** Stops delivery; an event whose handler is running finishes. Idempotent. */
  unsubscribe(): Promise<void>;
  /** The seq of the last event handed to the handler (0 until one is); inside a handler, its own event's seq. */
  readonly lastSeq: number;
}

export interface RequestOptions {
  /** Default 5000 ms. */
  timeoutMs?: number;
}

/**
 * The event hub: durable, ordered, per-topic event streams plus non-durable request/reply.
 * Created by {@link createInProcessHub} (all-in-one) or {@link createNatsHub} (distributed); both
 * pass the same test suite.
 *
 * @example
 * ```ts
 * const hub = await createEventHub(config.event_hub, { source: nodeId, logger });
 * const sub = await hub.subscribe<{ jti: string }>(Topics.TokenRevocation, async (e) => {
 *   revoked.add(e.payload.jti);
 *   await store.saveCursor('tokenRevocation', e.seq);
 * }, { fromSeq: (await store.cursor('tokenRevocation')) + 1, onGap: () => resyncFromDataApi() });
 * const e = await hub.publish(Topics.TokenRevocation, 'token.revoked', { jti: 'abc' });
 * // e.seq is the event's per-topic sequence
 *
 * await hub.respond<QuotaRequest, QuotaLease>('quota.lease', (req) => leases.grant(req));
 * const lease = await hub.request<QuotaRequest, QuotaLease>('quota.lease', { key, want: 100 }, { timeoutMs: 200 });
 * ```
 */
export interface EventHub {
  /** Durable publish: resolves once stored (JetStream ack), with the event's sequence. */
  publish<T>(topic: Topic, type: string, payload: T, opts?: PublishOptions): Promise<HubEvent<T>>;
  /**
   * Deliver events of a topic in order. The handler is awaited before the next event is delivered
   * (per subscription). A throwing handler is logged and does not stop the subscription.
   */
  subscribe<T>(topic: Topic, handler: (e: HubEvent<T>) => void | Promise<void>, opts?: SubscribeOptions): Promise<Subscription>;
  /** Highest sequence stored for a topic (0 if none). */
  lastSeq(topic: Topic): Promise<number>;
  /**
   * Lowest sequence still retained for a topic; `lastSeq + 1` when none is. A consumer that last
   * saw `n` has missed events when `oldestSeq > n + 1` and must resync from the internal data API.
   */
  oldestSeq(topic: Topic): Promise<number>;
  /**
   * Request/reply (non-durable), e.g. a gateway asking the traffic manager for quota. Rejects with
   * EVENTS_ERR_TIMEOUT / EVENTS_ERR_NO_RESPONDERS; with the responder's own code when it threw a
   * registered Gatehouse error, else EVENTS_ERR_RESPONDER_FAILED.
   */
  request<Req, Res>(subject: string, payload: Req, opts?: RequestOptions): Promise<Res>;
  /** Serve requests on a subject; several responders on one subject form a queue group (each request answered once). */
  respond<Req, Res>(subject: string, handler: (req: Req) => Res | Promise<Res>): Promise<Subscription>;
  /** true when connected (in-process: always, until closed). */
  isConnected(): boolean;
  /** Throws EVENTS_ERR_UNAVAILABLE when not connected (used by /health/ready), EVENTS_ERR_CLOSED once closed. */
  ping(): Promise<void>;
  /** Stops every subscription and responder, then rejects further calls with EVENTS_ERR_CLOSED. Idempotent. */
  close(): Promise<void>;
}

/** What in-process hubs share (see `createInProcessBus`); opaque. */
export interface InProcessBus {
  /** Events kept per topic for `fromSeq` resume. */
  readonly retention: number;
}

export interface InProcessHubOptions {
  /** Node id stamped on published events. Default `in-process`. */
  source?: string;
  /** The bus to join; default a private one with `retention`. */
  bus?: InProcessBus;
  /** Events kept per topic for `fromSeq` resume, for a private bus. Default 10000. */
  retention?: number;
  logger?: Logger;
  clock?: Clock;
}

export interface NatsHubOptions {
  servers: readonly string[];
  /** Node id stamped on published events; also the connection name unless `name` is set. */
  source?: string;
  user?: string;
  pass?: string;
  token?: string;
  /** A NATS `.creds` file (JWT + nkey seed). */
  credsFile?: string;
  /** Subject and stream prefix, `[A-Za-z0-9_-]+`. Default `gatehouse`. */
  prefix?: string;
  /** Events older than this are dropped from the streams. Default 7 days. */
  streamMaxAgeMs?: number;
  /** Events kept per topic. Default 1,000,000. */
  streamMaxMsgs?: number;
  /** JetStream replicas per stream (3 on a three-node cluster). Default 1. */
  streamReplicas?: number;
  /** Connection name shown by the server. */
  name?: string;
  /** First connect and per-request timeout for JetStream API calls. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** How long `publish` keeps retrying (same Nats-Msg-Id) before EVENTS_ERR_PUBLISH_FAILED. Default 15000 ms. */
  publishTimeoutMs?: number;
  /** Base wait between reconnect attempts (plus up to the same again as jitter). Default 250 ms. */
  reconnectTimeWaitMs?: number;
  /**
   * Start disconnected when no server answers the first connection (refused, or no answer within
   * `connectTimeoutMs`), and connect in the background, retrying forever. Until then `isConnected()`
   * is false, `ping`, `request`, `lastSeq` and `oldestSeq` reject with EVENTS_ERR_UNAVAILABLE,
   * `publish` waits up to `publishTimeoutMs`, and `subscribe` and `respond` resolve at once: the
   * consumers and responders are set up, before `isConnected()` turns true, once connected (a
   * subscription without `fromSeq` then starts after the stream's last event). A refusal (bad
   * credentials, bad URL, unreadable creds file) still rejects. Default false.
   *
   * @example
   * ```ts
   * const hub = await createNatsHub({ servers: ['nats://nats-1:4222'], source: 'gw-1', waitOnFirstConnect: true });
   * await hub.subscribe(Topics.TokenRevocation, onRevoked); // bound once NATS answers
   * ```
   */
  waitOnFirstConnect?: boolean;
  logger?: Logger;
  clock?: Clock;
}
