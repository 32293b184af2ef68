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

class NatsSubscription<T> implements Subscription {
  readonly #delivery: Delivery<T>;
  readonly #messages: ConsumerMessages;
  readonly #onStop: () => Promise<void>;
  #active = true;

  constructor(delivery: Delivery<T>, messages: ConsumerMessages, onStop: () => Promise<void>) {
    this.#delivery = delivery;
    this.#messages = messages;
    this.#onStop = onStop;
  }

  get lastSeq(): number {
    return this.#delivery.lastSeq;
  }

  get active(): boolean {
    return this.#active;
  }

  async unsubscribe(): Promise<void> {
    if (!this.#active) return;
    this.#active = false;
    this.#messages.stop();
    await this.#onStop();
  }
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

  let nc: NatsConnection;
  try {
    nc = await connect(connectOpts);
  } catch (err) {
    throw unavailable(err, `cannot connect to NATS at ${opts.servers.map(redactServer).join(', ')}: ${(err as Error).message}`);
  }
  let connected = true;
  let closed = false;
  const statusDone = watchStatus(nc, logger, (up) => {
    connected = up;
  });

  let jsm: JetStreamManager;
  let js: JetStreamClient;
  try {
    jsm = await jetstreamManager(nc, { timeout });
    js = jetstream(nc, { timeout });
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
  } catch (err) {
    await nc.close().catch(() => {});
    throw unavailable(err, `cannot set up the JetStream streams for prefix ${prefix}: ${(err as Error).message}`);
  }
  logger.info({ server: nc.getServer(), prefix }, 'event hub: connected to NATS');
  const subscriptions = new Set<{ unsubscribe(): Promise<void> }>();

  const assertOpen = (): void => {
    if (closed) throw EventsErrors.create('EVENTS_ERR_CLOSED');
  };

  const streamInfo = async (topic: Topic) => {
    assertOpen();
    assertTopic(topic);
    if (!connected) throw EventsErrors.create('EVENTS_ERR_UNAVAILABLE', { description: 'not connected to NATS' });
    try {
      return await jsm.streams.info(streamName(prefix, topic));
    } catch (err) {
      throw closed ? EventsErrors.create('EVENTS_ERR_CLOSED') : unavailable(err, `cannot read the ${topic} stream`);
    }
  };

  return {
    async publish<T>(topic: Topic, type: string, payload: T, publishOpts: PublishOptions = {}): Promise<HubEvent<T>> {
      assertOpen();
      assertTopic(topic);
      const stored: StoredEvent = { topic, type, time: clock.now(), source, tenantId: publishOpts.tenantId ?? SUPER_TENANT_ID, payload };
      const body = encodeJson(stored, 'publish');
      const msgID = publishOpts.msgId ?? randomUUID();
      const deadline = Date.now() + publishTimeout;
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
      // "Only new events" is pinned to the stream's last sequence now, as the in-process hub does.
      const start = subOpts.fromSeq === undefined ? (await streamInfo(topic)).state.last_seq + 1 : normalizeFromSeq(subOpts.fromSeq);
      const stream = streamName(prefix, topic);
      let messages: ConsumerMessages;
      let consumer: Awaited<ReturnType<typeof js.consumers.get>>;
      try {
        consumer = await js.consumers.get(stream, { opt_start_seq: start });
        // Pull again after every message (threshold = max - 1): after a server restart the client
        // recreates the ordered consumer but keeps the old pull's pending count, so its first pull
        // asks for 1 message and, with the default threshold, no other pull follows until missed
        // heartbeats reset it (measured: one event, then nothing for over 40 s).
        messages = await consumer.consume({ max_messages: 256, threshold_messages: 255 });
      } catch (err) {
        throw closed ? EventsErrors.create('EVENTS_ERR_CLOSED') : unavailable(err, `cannot subscribe to ${topic}`);
      }
      const delivery = new Delivery<T>(topic, start, handler, subOpts.onGap, logger);
      const sub = new NatsSubscription<T>(delivery, messages, async () => {
        subscriptions.delete(sub);
        // The ordered consumer is ephemeral (5 min inactivity); deleting it now is only tidiness.
        if (connected) await consumer.delete().catch(() => {});
      });
      subscriptions.add(sub);

      void (async () => {
        for await (const s of messages.status()) {
          if (s.type === 'reset' || s.type === 'ordered_consumer_recreated' || s.type === 'stream_not_found') {
            logger.debug({ topic, status: s }, 'event hub: consumer status');
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
      return sub;
    },

    async lastSeq(topic: Topic): Promise<number> {
      return (await streamInfo(topic)).state.last_seq;
    },

    async oldestSeq(topic: Topic): Promise<number> {
      const { state } = await streamInfo(topic);
      return state.messages === 0 ? state.last_seq + 1 : state.first_seq;
    },

    async request<Req, Res>(subject: string, payload: Req, reqOpts: RequestOptions = {}): Promise<Res> {
      assertOpen();
      assertSubject(subject);
      // Fail fast while disconnected: a caller like the gateway falls back to local limits.
      if (!connected) throw EventsErrors.create('EVENTS_ERR_UNAVAILABLE', { description: 'not connected to NATS' });
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
      const natsSub = nc.subscribe(`${prefix}.rpc.${subject}`, {
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
        if (connected) await nc.flush();
      } catch (err) {
        natsSub.unsubscribe();
        throw unavailable(err, `cannot serve ${subject}`);
      }
      const sub = {
        lastSeq: 0,
        async unsubscribe() {
          subscriptions.delete(sub);
          if (!natsSub.isClosed()) natsSub.unsubscribe();
        },
      };
      subscriptions.add(sub);
      return sub;
    },

    isConnected(): boolean {
      return connected && !closed;
    },

    async ping(): Promise<void> {
      assertOpen();
      if (!connected) throw EventsErrors.create('EVENTS_ERR_UNAVAILABLE', { description: 'not connected to NATS' });
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
      await Promise.all([...subscriptions].map((s) => s.unsubscribe().catch(() => {})));
      try {
        if (connected) await nc.drain();
        else await nc.close();
      } catch {
        await nc.close().catch(() => {});
      }
      connected = false;
      await statusDone.catch(() => {});
      logger.info({ prefix }, 'event hub: closed');
    },
  };
}
