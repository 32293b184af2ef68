import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SUPER_TENANT_ID, systemClock } from '@gatehouse/core';
import { DiscardPolicy, JetStreamApiError, RetentionPolicy, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { ConsumerMessages, JetStreamClient, JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import { connect, credsAuthenticator, errors, nanos } from '@nats-io/transport-node';
import type { ConnectionOptions, Msg, NatsConnection } from '@nats-io/transport-node';
import { decodeJson, decodeReply, encodeJson, encodeReply } from '../../codec.ts';
import { Delivery } from '../../delivery.ts';
import { EventsErrors } from '../../errors.ts';
import { allTopics } from '../../types.ts';
import type {
  EventHub,
  HubEvent,
  Logger,
  NatsHubOptions,
  PublishOptions,
  RequestOptions,
  SubscribeOptions,
  Subscription,
  Topic,
} from '../../types.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS, assertSubject, assertTopic, normalizeFromSeq, noopLogger } from '../../validate.ts';

const DEFAULT_PREFIX = 'gatehouse';
const DEFAULT_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
const DEFAULT_MAX_MSGS = 1_000_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
// Short: a gateway resynchronises once it is back, and a revocation must reach it within a second.
const DEFAULT_RECONNECT_WAIT_MS = 250;
const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;
const DEFAULT_PUBLISH_TIMEOUT_MS = 15_000;
const RPC_QUEUE = 'gatehouse_rpc';
// JetStream's "stream name already in use with a different configuration".
const STREAM_NAME_IN_USE = 10058;
const SUBJECTS_OVERLAP = 10065;

/** What is stored per message; `seq` is the stream sequence, so it is not in the body. */
interface StoredEvent {
  topic: Topic;
  type: string;
  time: number;
  source: string;
  tenantId: number;
  payload: unknown;
}

/**
 * Stream layout: one JetStream stream per topic, `${PREFIX}_${TOPIC}` (upper case) on the single
 * subject `${prefix}.events.${topic}`. The stream sequence is then exactly the per-topic sequence
 * the interface promises, and an ordered consumer with `opt_start_seq` is exactly `fromSeq`.
 */
export function streamName(prefix: string, topic: Topic): string {
  return `${prefix}_${topic}`.toUpperCase();
}

export function eventSubject(prefix: string, topic: Topic): string {
  return `${prefix}.events.${topic}`;
}

/** Every stream name a hub with this prefix uses (for operators and test cleanup). */
export function streamNames(prefix = DEFAULT_PREFIX): string[] {
  return allTopics.map((t) => streamName(normalizePrefix(prefix), t));
}

function normalizePrefix(prefix: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(prefix)) throw new RangeError(`event hub prefix must match [A-Za-z0-9_-]+, got ${JSON.stringify(prefix)}`);
  // Lower-cased, so the subjects and the (upper-case) stream names of one prefix never disagree.
  return prefix.toLowerCase();
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  const { name, storage: _storage, ...update } = config;
  for (let attempt = 1; ; attempt++) {
    try {
      // Creating with an identical config is idempotent on the server.
      await jsm.streams.add(config);
      return;
    } catch (err) {
      if (!(err instanceof JetStreamApiError)) throw err;
      if (err.code === STREAM_NAME_IN_USE) {
        await jsm.streams.update(name, update);
        return;
      }
      // A concurrent starter's create of this very stream can still be in flight (seen on 2.9):
      // the subjects then overlap with a stream that is about to exist. Retry briefly.
      if (err.code !== SUBJECTS_OVERLAP || attempt >= 5) throw err;
      await delay(20 * attempt);
    }
  }
}

/** A server URL as it may be logged: `nats://user:pass@host` keeps its user, never its password or token. */
function redactServer(server: string): string {
  const at = server.lastIndexOf('@');
  if (at < 0) return server;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(server)?.[0] ?? '';
  const userinfo = server.slice(scheme.length, at);
  const colon = userinfo.indexOf(':');
  // `nats://token@host`: without a colon the user part is the token.
  return `${scheme}${colon < 0 ? '***' : `${userinfo.slice(0, colon)}:***`}${server.slice(at)}`;
}

function unavailable(err: unknown, description: string): Error {
  if (EventsErrors.is(err)) return err;
  return EventsErrors.create('EVENTS_ERR_UNAVAILABLE', { description, cause: err });
}

/**
 * A subscription or responder. It may be made before the first connection (`waitOnFirstConnect`):
 * it is then bound to its consumer or NATS subscription once the hub is connected.
 */
class NatsSubscription implements Subscription {
  readonly #onStop: () => void;
  #lastSeq: () => number = () => 0;
  #stop: (() => Promise<void>) | undefined;
  #active = true;

  constructor(onStop: () => void) {
    this.#onStop = onStop;
  }

  bind(lastSeq: () => number, stop: () => Promise<void>): void {
    this.#lastSeq = lastSeq;
    this.#stop = stop;
  }

  get lastSeq(): number {
    return this.#lastSeq();
  }

  get active(): boolean {
    return this.#active;
  }

  async unsubscribe(): Promise<void> {
    if (!this.#active) return;
    this.#active = false;
    this.#onStop();
    await this.#stop?.();
  }
}

/** A connection whose streams are set up. */
interface Session {
  nc: NatsConnection;
  jsm: JetStreamManager;
  js: JetStreamClient;
}

/** The first connection failed because no server answered (not a refusal, nor a bad option). */
function unreachable(err: unknown): boolean {
  return err instanceof errors.ConnectionError || err instanceof errors.TimeoutError;
}

function watchStatus(nc: NatsConnection, logger: Logger, setConnected: (up: boolean) => void): Promise<void> {
  return (async () => {
    for await (const s of nc.status()) {
      switch (s.type) {
        case 'disconnect':
          setConnected(false);
          logger.warn({ server: s.server }, 'event hub: disconnected from NATS');
          break;
        case 'reconnect':
          setConnected(true);
          logger.info({ server: s.server }, 'event hub: reconnected to NATS');
          break;
        case 'reconnecting':
          logger.debug({}, 'event hub: reconnecting to NATS');
          break;
        case 'error':
          logger.error({ err: s.error }, 'event hub: NATS error');
          break;
        case 'ldm':
          logger.warn({ server: s.server }, 'event hub: NATS server entering lame duck mode');
          break;
        case 'staleConnection':
          logger.warn({}, 'event hub: stale NATS connection');
          break;
        case 'slowConsumer':
          logger.warn({ pending: s.pending }, 'event hub: slow consumer');
          break;
        case 'close':
          setConnected(false);
          break;
        default:
          break;
      }
    }
  })();
}

/**
 * The distributed transport, over NATS JetStream. See {@link streamName} for the stream layout.
 * Subscriptions are ordered consumers: after a disconnect or a server restart the client recreates
 * the consumer from the last stream sequence it delivered, so a subscriber sees every event once,
 * in order. Publishes carry a random `Nats-Msg-Id`, so the retries inside `publish` are stored once.
 * Request/reply runs on core NATS subjects `${prefix}.rpc.${subject}`, responders in one queue group.
 *
 * Rejects with EVENTS_ERR_UNAVAILABLE when the first connection fails (wrong credentials, no
 * server within `connectTimeoutMs`); later outages are retried forever with backoff and jitter.
 * With `waitOnFirstConnect`, no server answering is not an error: the hub starts disconnected and
 * connects in the background (see {@link NatsHubOptions.waitOnFirstConnect}).
 */
export async function createNatsHub(opts: NatsHubOptions): Promise<EventHub> {
  const prefix = normalizePrefix(opts.prefix ?? DEFAULT_PREFIX);
  const source = opts.source ?? 'gatehouse';
  const logger = opts.logger ?? noopLogger;
  const clock = opts.clock ?? systemClock;
  const timeout = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const reconnectWait = opts.reconnectTimeWaitMs ?? DEFAULT_RECONNECT_WAIT_MS;
  const maxAgeMs = opts.streamMaxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const maxMsgs = opts.streamMaxMsgs ?? DEFAULT_MAX_MSGS;
  const publishTimeout = opts.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;

  const connectOpts: ConnectionOptions = {
    servers: [...opts.servers],
    name: opts.name ?? source,
    timeout,
    maxReconnectAttempts: -1,
    reconnectTimeWait: reconnectWait,
    reconnectJitter: reconnectWait,
    user: opts.user || undefined,
    pass: opts.pass || undefined,
    token: opts.token || undefined,
  };
  if (opts.credsFile) {
    try {
      connectOpts.authenticator = credsAuthenticator(await readFile(opts.credsFile));
    } catch (err) {
      throw unavailable(err, `cannot read the NATS creds file ${opts.credsFile}`);
    }
  }

  const servers = opts.servers.map(redactServer).join(', ');
  let session: Session | undefined;
  let connected = false;
  let closed = false;
  let statusDone: Promise<void> = Promise.resolve();
  let background: Promise<void> = Promise.resolve();
  // What was asked for before the first connection: bound, in order, once connected.
  const pending: ((s: Session) => Promise<void>)[] = [];
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  let wake: (() => void) | undefined;
  let sleepTimer: NodeJS.Timeout | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      sleepTimer = setTimeout(resolve, ms);
    });

  const setUp = async (nc: NatsConnection): Promise<Session> => {
    const jsm = await jetstreamManager(nc, { timeout });
    const js = jetstream(nc, { timeout });
    await Promise.all(
      allTopics.map((topic) =>
        ensureStream(jsm, {
          name: streamName(prefix, topic),
          subjects: [eventSubject(prefix, topic)],
          storage: StorageType.File,
          retention: RetentionPolicy.Limits,
          discard: DiscardPolicy.Old,
          max_age: nanos(maxAgeMs),
          max_msgs: maxMsgs,
          max_msgs_per_subject: maxMsgs,
          duplicate_window: nanos(Math.min(DUPLICATE_WINDOW_MS, maxAgeMs)),
          num_replicas: opts.streamReplicas ?? 1,
        }),
      ),
    );
    return { nc, jsm, js };
  };

  /** Connected and set up: bind what waited, then report connected. */
  const online = async (s: Session) => {
    let up = true;
    statusDone = watchStatus(s.nc, logger, (isUp) => {
      up = isUp;
      if (session === s) connected = isUp;
    });
    for (let bind = pending.shift(); bind; bind = pending.shift()) {
      for (let attempt = 1; !closed; attempt++) {
        try {
          await bind(s);
          break;
        } catch (err) {
          logger.error({ err, attempt }, 'event hub: could not set up a subscription made before the connection; retrying');
          await sleep(Math.max(reconnectWait, 250) * 4);
        }
      }
    }
    if (closed) {
      await s.nc.close().catch(() => {});
      return;
    }
    session = s;
    connected = up;
    markReady();
    logger.info({ server: s.nc.getServer(), prefix }, 'event hub: connected to NATS');
  };

  // Started disconnected: connect in the background, retrying forever (the reconnect policy of a
  // lost connection), until the hub is closed. A refusal (credentials) is logged each time it changes.
  const connectInBackground = async () => {
    let said = '';
    while (!closed) {
      await sleep(reconnectWait + Math.random() * reconnectWait);
      if (closed) return;
      let nc: NatsConnection | undefined;
      try {
        nc = await connect(connectOpts);
        if (closed) {
          await nc.close().catch(() => {});
          return;
        }
        await online(await setUp(nc));
        return;
      } catch (err) {
        await nc?.close().catch(() => {});
        const msg = (err as Error).message;
        if (unreachable(err)) logger.debug({ err: msg, servers }, 'event hub: NATS still unreachable');
        else if (msg !== said) logger.error({ err: msg, servers }, 'event hub: NATS refused the connection or the stream setup; retrying');
        said = msg;
      }
    }
  };

  let first: NatsConnection | undefined;
  try {
    first = await connect(connectOpts);
  } catch (err) {
    if (!opts.waitOnFirstConnect || !unreachable(err)) throw unavailable(err, `cannot connect to NATS at ${servers}: ${(err as Error).message}`);
    logger.debug({ err: (err as Error).message, servers }, 'event hub: NATS unreachable; connecting in the background');
  }
  if (first) {
    let s: Session;
    try {
      s = await setUp(first);
    } catch (err) {
      await first.close().catch(() => {});
      throw unavailable(err, `cannot set up the JetStream streams for prefix ${prefix}: ${(err as Error).message}`);
    }
    await online(s);
  } else {
    background = connectInBackground();
  }
  const subscriptions = new Set<NatsSubscription>();

  const assertOpen = (): void => {
    if (closed) throw EventsErrors.create('EVENTS_ERR_CLOSED');
  };

  /** The session, when connected. */
  const live = (): Session => {
    if (!connected || !session) throw EventsErrors.create('EVENTS_ERR_UNAVAILABLE', { description: 'not connected to NATS' });
    return session;
  };

  const streamInfo = async (topic: Topic, s = live()) => {
    try {
      return await s.jsm.streams.info(streamName(prefix, topic));
    } catch (err) {
      throw closed ? EventsErrors.create('EVENTS_ERR_CLOSED') : unavailable(err, `cannot read the ${topic} stream`);
    }
  };

  const consume = async <T>(
    s: Session,
    sub: NatsSubscription,
    topic: Topic,
    handler: (e: HubEvent<T>) => void | Promise<void>,
    subOpts: SubscribeOptions,
  ): Promise<void> => {
    // "Only new events" is pinned to the stream's last sequence now (for a subscription made
    // before the first connection: when it is bound), as the in-process hub does.
    const start = subOpts.fromSeq === undefined ? (await streamInfo(topic, s)).state.last_seq + 1 : normalizeFromSeq(subOpts.fromSeq);
    const stream = streamName(prefix, topic);
    let messages: ConsumerMessages;
    let consumer: Awaited<ReturnType<typeof s.js.consumers.get>>;
    try {
      consumer = await s.js.consumers.get(stream, { opt_start_seq: start });
      // Pull again after every message (threshold = max - 1): after a server restart the client
      // recreates the ordered consumer but keeps the old pull's pending count, so its first pull
      // asks for 1 message and, with the default threshold, no other pull follows until missed
      // heartbeats reset it (measured: one event, then nothing for over 40 s).
      messages = await consumer.consume({ max_messages: 256, threshold_messages: 255 });
    } catch (err) {
      throw closed ? EventsErrors.create('EVENTS_ERR_CLOSED') : unavailable(err, `cannot subscribe to ${topic}`);
    }
    const delivery = new Delivery<T>(topic, start, handler, subOpts.onGap, logger);
    sub.bind(
      () => delivery.lastSeq,
      async () => {
        messages.stop();
        // The ordered consumer is ephemeral (5 min inactivity); deleting it now is only tidiness.
        if (connected) await consumer.delete().catch(() => {});
      },
    );

    void (async () => {
      for await (const st of messages.status()) {
        if (st.type === 'reset' || st.type === 'ordered_consumer_recreated' || st.type === 'stream_not_found') {
          logger.debug({ topic, status: st }, 'event hub: consumer status');
        }
      }
    })().catch(() => {});

    void (async () => {
      for await (const m of messages) {
        if (!sub.active) break;
        let stored: StoredEvent;
        try {
          stored = m.json<StoredEvent>();
        } catch (err) {
          logger.error({ err, topic, seq: m.seq }, 'event hub: skipped an event that is not JSON');
          continue;
        }
        await delivery.deliver({
          topic,
          type: stored.type,
          seq: m.seq,
          time: stored.time,
          source: stored.source,
          tenantId: stored.tenantId,
          payload: stored.payload as T,
        });
      }
    })().catch((err: unknown) => {
      if (!closed && sub.active) logger.error({ err, topic }, 'event hub: subscription stopped');
    });
  };

  const serveRequests = async <Req, Res>(s: Session, sub: NatsSubscription, subject: string, handler: (req: Req) => Res | Promise<Res>): Promise<void> => {
    const serve = async (msg: Msg): Promise<void> => {
      let reply: string;
      try {
        reply = encodeReply({ result: await handler(decodeJson<Req>(msg.string())) });
      } catch (error) {
        logger.debug({ err: error, subject }, 'event hub: responder failed');
        reply = encodeReply({ error });
      }
      if (msg.reply) msg.respond(reply);
    };
    const natsSub = s.nc.subscribe(`${prefix}.rpc.${subject}`, {
      queue: RPC_QUEUE,
      callback: (err, msg) => {
        if (err) {
          logger.error({ err, subject }, 'event hub: responder subscription failed');
          return;
        }
        void serve(msg);
      },
    });
    try {
      // The server knows the responder once this round trip returns, so a request right after is
      // served. While disconnected, the client re-subscribes on reconnect anyway.
      if (connected) await s.nc.flush();
    } catch (err) {
      natsSub.unsubscribe();
      throw unavailable(err, `cannot serve ${subject}`);
    }
    sub.bind(
      () => 0,
      async () => {
        if (!natsSub.isClosed()) natsSub.unsubscribe();
      },
    );
  };

  /** Binds now when the hub has been connected, or once it is. */
  const attach = async (sub: NatsSubscription, bind: (s: Session) => Promise<void>): Promise<NatsSubscription> => {
    if (session) {
      await bind(session);
    } else {
      pending.push((s) => (sub.active ? bind(s) : Promise.resolve()));
    }
    subscriptions.add(sub);
    return sub;
  };

  return {
    async publish<T>(topic: Topic, type: string, payload: T, publishOpts: PublishOptions = {}): Promise<HubEvent<T>> {
      assertOpen();
      assertTopic(topic);
      const stored: StoredEvent = { topic, type, time: clock.now(), source, tenantId: publishOpts.tenantId ?? SUPER_TENANT_ID, payload };
      const body = encodeJson(stored, 'publish');
      const msgID = publishOpts.msgId ?? randomUUID();
      const deadline = Date.now() + publishTimeout;
      if (!session) {
        // Not connected yet: wait for the first connection as a publish waits out an outage.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([ready, new Promise<void>((resolve) => (timer = setTimeout(resolve, publishTimeout)))]);
        clearTimeout(timer);
        assertOpen();
        if (!session) throw EventsErrors.create('EVENTS_ERR_PUBLISH_FAILED', { description: `${topic}: not connected to NATS within ${publishTimeout} ms` });
      }
      const { js } = session;
      // Short first attempts: a request buffered across a server restart can be dropped while
      // JetStream recovers, and the same Nats-Msg-Id makes every retry safe.
      let attemptTimeout = Math.min(1000, timeout);
      for (let attempt = 1; ; attempt++) {
        try {
          const ack = await js.publish(eventSubject(prefix, topic), body, { msgID, timeout: attemptTimeout });
          return { ...stored, payload, seq: ack.seq };
        } catch (err) {
          if (closed || err instanceof errors.ClosedConnectionError) throw EventsErrors.create('EVENTS_ERR_CLOSED', { cause: err });
          const pause = Math.min(100 * 2 ** (attempt - 1), 1000);
          // A JetStream API error is the server's considered answer (e.g. payload too large): no retry.
          if (err instanceof JetStreamApiError || Date.now() + pause >= deadline) {
            throw EventsErrors.create('EVENTS_ERR_PUBLISH_FAILED', { description: `${topic}: ${(err as Error).message}`, cause: err });
          }
          logger.warn({ err, topic, attempt }, 'event hub: publish not acknowledged, retrying');
          await delay(pause);
          attemptTimeout = Math.min(attemptTimeout * 2, timeout, Math.max(deadline - Date.now(), 1));
        }
      }
    },

    async subscribe<T>(topic: Topic, handler: (e: HubEvent<T>) => void | Promise<void>, subOpts: SubscribeOptions = {}): Promise<Subscription> {
      assertOpen();
      assertTopic(topic);
      if (subOpts.fromSeq !== undefined) normalizeFromSeq(subOpts.fromSeq);
      // Connected once but not now: "only new events" cannot be pinned, as before.
      if (session && subOpts.fromSeq === undefined) live();
      const sub = new NatsSubscription(() => subscriptions.delete(sub));
      return attach(sub, (s) => consume(s, sub, topic, handler, subOpts));
    },

    async lastSeq(topic: Topic): Promise<number> {
      assertOpen();
      assertTopic(topic);
      return (await streamInfo(topic)).state.last_seq;
    },

    async oldestSeq(topic: Topic): Promise<number> {
      assertOpen();
      assertTopic(topic);
      const { state } = await streamInfo(topic);
      return state.messages === 0 ? state.last_seq + 1 : state.first_seq;
    },

    async request<Req, Res>(subject: string, payload: Req, reqOpts: RequestOptions = {}): Promise<Res> {
      assertOpen();
      assertSubject(subject);
      // Fail fast while disconnected: a caller like the gateway falls back to local limits.
      const { nc } = live();
      const timeoutMs = reqOpts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
      let reply: Msg;
      try {
        reply = await nc.request(`${prefix}.rpc.${subject}`, encodeJson(payload, 'request'), { timeout: timeoutMs });
      } catch (err) {
        if (EventsErrors.is(err)) throw err;
        if (err instanceof errors.RequestError && err.isNoResponders()) {
          throw EventsErrors.create('EVENTS_ERR_NO_RESPONDERS', { description: `no responder on ${subject}`, cause: err });
        }
        if (err instanceof errors.TimeoutError || (err instanceof Error && err.cause instanceof errors.TimeoutError)) {
          throw EventsErrors.create('EVENTS_ERR_TIMEOUT', { description: `no reply on ${subject} within ${timeoutMs} ms`, cause: err });
        }
        if (closed || err instanceof errors.ClosedConnectionError) throw EventsErrors.create('EVENTS_ERR_CLOSED', { cause: err });
        throw unavailable(err, `request on ${subject} failed`);
      }
      return decodeReply<Res>(reply.string());
    },

    async respond<Req, Res>(subject: string, handler: (req: Req) => Res | Promise<Res>): Promise<Subscription> {
      assertOpen();
      assertSubject(subject);
      const sub = new NatsSubscription(() => subscriptions.delete(sub));
      return attach(sub, (s) => serveRequests(s, sub, subject, handler));
    },

    isConnected(): boolean {
      return connected && !closed;
    },

    async ping(): Promise<void> {
      assertOpen();
      const { nc } = live();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          nc.rtt(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no PONG within ${timeout} ms`)), timeout);
          }),
        ]);
      } catch (err) {
        throw unavailable(err, `NATS ping failed: ${(err as Error).message}`);
      } finally {
        clearTimeout(timer);
      }
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      clearTimeout(sleepTimer);
      wake?.();
      markReady();
      await Promise.all([...subscriptions].map((s) => s.unsubscribe().catch(() => {})));
      const nc = session?.nc;
      if (nc) {
        try {
          if (connected) await nc.drain();
          else await nc.close();
        } catch {
          await nc.close().catch(() => {});
        }
      }
      connected = false;
      await Promise.all([statusDone.catch(() => {}), background.catch(() => {})]);
      logger.info({ prefix }, 'event hub: closed');
    },
  };
}
