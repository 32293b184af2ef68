import { randomUUID } from 'node:crypto';
import { decodeJson, encodeJson } from './codec.ts';
import { EventsErrors } from './errors.ts';
import type { EventHub, HubEvent, Logger, PublishOptions, Topic } from './types.ts';
import { assertTopic, noopLogger } from './validate.ts';
import { SUPER_TENANT_ID } from '@gatehouse/core';

// Why an in-memory queue and not a transactional outbox table: every control-plane event is a
// notification about a change already committed to the apim database, and every consumer can
// rebuild from that database through the internal data API (gateways pull everything at start,
// when their hub connection comes back, and on a sequence gap). What a crash of this process loses
// is at most the events queued while the hub was unreachable from it; an outbox would close that
// window but put a write on every management call's transaction and a relay with leader election
// in every replica, for a window that only opens when the hub and this process fail together.
// The queue is bounded, so an outage that outlasts it costs memory no more than `maxDepth` events.

const DEFAULT_MAX_DEPTH = 10_000;
const DEFAULT_RETRY_BASE_MS = 200;
const DEFAULT_RETRY_MAX_MS = 5_000;
const DEFAULT_CLOSE_FLUSH_MS = 3_000;
const DEFAULT_MAX_ATTEMPTS = 20;
// While the hub says it is disconnected nothing is tried: the queue looks again this often, so an
// event goes out within about this long of the connection coming back.
const RECONNECT_POLL_MS = 50;

export interface PublishQueueOptions {
  /** Events held across every topic; past it the oldest queued one is dropped (logged, counted). Default 10,000. */
  maxDepth?: number;
  /** First wait after a failed publish, doubled per failure up to `retryMaxMs`. Default 200 ms. */
  retryBaseMs?: number;
  /** Default 5000 ms. */
  retryMaxMs?: number;
  /**
   * Failed attempts (made while the hub said it was connected) after which an event is given up
   * (logged, counted as dropped), so one the hub always refuses (too large, say) cannot hold its
   * topic forever. Default 20: minutes, as a NATS publish attempt itself retries for 15 s.
   */
  maxAttempts?: number;
  /** How long `close()` waits for queued events to go out before it gives up on them. Default 3000 ms. */
  closeFlushMs?: number;
  logger?: Logger;
}

/** What `/health` (details) and `/metrics` show about the queue. */
export interface PublishQueueStats {
  /** Events waiting, the one being published included. */
  depth: number;
  /** Events stored by the hub since start. */
  published: number;
  /** Failed publish attempts since start (each retried). */
  failures: number;
  /** Events given up: the queue was full, or the hub refused one `maxAttempts` times. */
  dropped: number;
  /** Age of the oldest waiting event, ms (0 when empty). */
  oldestAgeMs: number;
  lastError?: string;
  /** Epoch ms of `lastError`. */
  lastErrorAt?: number;
}

/**
 * An event hub whose `publish` never waits for the hub: it checks the event, queues it and resolves
 * at once with `seq: 0` (not yet stored). Everything else is the wrapped hub's.
 */
export interface QueuedEventHub extends EventHub {
  readonly queue: {
    stats(): PublishQueueStats;
    /** Resolves true once every event queued so far is stored, false after `timeoutMs`. */
    flush(timeoutMs: number): Promise<boolean>;
  };
}

interface Pending {
  readonly type: string;
  readonly payload: unknown;
  readonly tenantId: number;
  /** One id for every attempt, so a publish stored but not acknowledged is stored once (NATS dedup window). */
  readonly msgId: string;
  readonly queuedAt: number;
}

interface Lane {
  readonly items: Pending[];
  /** true while `items[0]` is being published. */
  busy: boolean;
}

/**
 * Wraps a hub so that management calls never block on it: the change is in the database already,
 * so the call answers at once and its event goes out asynchronously, in order per topic, retried
 * with backoff until the hub stores it. Use for the control plane's publishers; a gateway's or a
 * traffic manager's own publishes keep the plain hub.
 *
 * @example
 * ```ts
 * const hub = createQueuedHub(await createEventHub(config.event_hub, { source, logger }), { logger });
 * await hub.publish(Topics.Notification, 'API_UPDATE', { apiId }); // resolves at once, NATS up or not
 * health.addDetails('event-publish-queue', () => hub.queue.stats());
 * ```
 */
export function createQueuedHub(hub: EventHub, opts: PublishQueueOptions = {}): QueuedEventHub {
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 1) throw new RangeError(`maxDepth must be a positive integer, got ${maxDepth}`);
  const retryBase = opts.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
  const retryMax = opts.retryMaxMs ?? DEFAULT_RETRY_MAX_MS;
  const closeFlushMs = opts.closeFlushMs ?? DEFAULT_CLOSE_FLUSH_MS;
  const maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const logger = opts.logger ?? noopLogger;

  const lanes = new Map<Topic, Lane>();
  const idleWaiters = new Set<() => void>();
  let depth = 0;
  let published = 0;
  let failures = 0;
  let dropped = 0;
  let lastError: string | undefined;
  let lastErrorAt: number | undefined;
  let closing = false;
  let closed = false;
  const wakers = new Set<() => void>();

  const settleIdle = (): void => {
    if (depth !== 0) return;
    for (const resolve of idleWaiters) resolve();
    idleWaiters.clear();
  };

  /** Waits `ms`, or less when the hub reconnects or the queue closes. */
  const pause = (ms: number, wasConnected: boolean): Promise<void> =>
    new Promise((resolve) => {
      const until = Date.now() + ms;
      const done = (): void => {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      };
      const tick = (): void => {
        if (closed || Date.now() >= until || (!wasConnected && hub.isConnected())) return done();
        timer = setTimeout(tick, Math.min(RECONNECT_POLL_MS, until - Date.now()));
        timer.unref();
      };
      let timer = setTimeout(tick, Math.min(RECONNECT_POLL_MS, ms));
      timer.unref();
      wakers.add(done);
    });

  const pump = async (topic: Topic, lane: Lane): Promise<void> => {
    lane.busy = true;
    let attempt = 0;
    while (lane.items.length > 0 && !closed) {
      if (!hub.isConnected()) {
        // Nothing to gain from a publish that can only time out; try once it is back.
        await pause(retryMax, false);
        continue;
      }
      const item = lane.items[0];
      try {
        await hub.publish(topic, item.type, item.payload, { tenantId: item.tenantId, msgId: item.msgId });
        lane.items.shift();
        depth -= 1;
        published += 1;
        attempt = 0;
      } catch (err) {
        if (closed || EventsErrors.is(err, 'EVENTS_ERR_CLOSED')) break;
        attempt += 1;
        failures += 1;
        lastError = err instanceof Error ? `${err.message}${(err as { description?: string }).description ? `: ${(err as { description?: string }).description}` : ''}` : String(err);
        lastErrorAt = Date.now();
        // One line per event on its first failure, then every tenth retry: an outage is not a log flood.
        if (attempt >= maxAttempts) {
          lane.items.shift();
          depth -= 1;
          dropped += 1;
          attempt = 0;
          logger.error({ err, topic, type: item.type, attempts: maxAttempts }, 'event hub: gave up publishing an event the hub keeps refusing (consumers resync from the internal data API)');
          continue;
        }
        if (attempt === 1 || attempt % 10 === 0) {
          logger.warn({ err, topic, type: item.type, attempt, depth }, 'event hub: publish failed; the event stays queued and is retried');
        }
        await pause(Math.min(retryBase * 2 ** (attempt - 1), retryMax), hub.isConnected());
      }
    }
    lane.busy = false;
    settleIdle();
  };

  /** Drops the oldest event no publish is working on, across every topic. */
  const dropOldest = (): void => {
    let victim: { topic: Topic; lane: Lane; index: number; item: Pending } | undefined;
    for (const [topic, lane] of lanes) {
      const index = lane.busy ? 1 : 0;
      const item = lane.items[index];
      if (item && (!victim || item.queuedAt < victim.item.queuedAt)) victim = { topic, lane, index, item };
    }
    if (!victim) return;
    victim.lane.items.splice(victim.index, 1);
    depth -= 1;
    dropped += 1;
    logger.error(
      { topic: victim.topic, type: victim.item.type, queuedAt: victim.item.queuedAt, maxDepth, dropped },
      'event hub: publish queue full; dropped its oldest event (consumers resync from the internal data API)',
    );
  };

  const flush = (timeoutMs: number): Promise<boolean> => {
    if (depth === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        idleWaiters.delete(done);
        resolve(false);
      }, timeoutMs);
      idleWaiters.add(done);
    });
  };

  return {
    subscribe: (topic, handler, subOpts) => hub.subscribe(topic, handler, subOpts),
    lastSeq: (topic) => hub.lastSeq(topic),
    oldestSeq: (topic) => hub.oldestSeq(topic),
    request: (subject, payload, reqOpts) => hub.request(subject, payload, reqOpts),
    respond: (subject, handler) => hub.respond(subject, handler),
    isConnected: () => hub.isConnected(),
    ping: () => hub.ping(),

    async publish<T>(topic: Topic, type: string, payload: T, publishOpts: PublishOptions = {}): Promise<HubEvent<T>> {
      if (closing) throw EventsErrors.create('EVENTS_ERR_CLOSED');
      assertTopic(topic);
      // A copy, checked now: the caller may reuse its object, and a bad payload fails its own call.
      const copy = decodeJson(encodeJson(payload, 'publish'));
      const tenantId = publishOpts.tenantId ?? SUPER_TENANT_ID;
      const queuedAt = Date.now();
      if (depth >= maxDepth) dropOldest();
      let lane = lanes.get(topic);
      if (!lane) {
        lane = { items: [], busy: false };
        lanes.set(topic, lane);
      }
      lane.items.push({ type, payload: copy, tenantId, msgId: publishOpts.msgId ?? randomUUID(), queuedAt });
      depth += 1;
      // Started synchronously: on the in-process hub the event is delivered before this resolves.
      if (!lane.busy) void pump(topic, lane);
      return { topic, type, seq: 0, time: queuedAt, source: '', tenantId, payload };
    },

    queue: {
      stats(): PublishQueueStats {
        let oldest = Infinity;
        for (const lane of lanes.values()) if (lane.items[0]) oldest = Math.min(oldest, lane.items[0].queuedAt);
        return {
          depth,
          published,
          failures,
          dropped,
          oldestAgeMs: oldest === Infinity ? 0 : Date.now() - oldest,
          ...(lastError === undefined ? {} : { lastError, lastErrorAt }),
        };
      },
      flush,
    },

    async close(): Promise<void> {
      if (closing) return;
      closing = true;
      if (depth > 0 && !(await flush(closeFlushMs))) {
        logger.error({ depth, waitedMs: closeFlushMs }, 'event hub: closing with events still queued; they are lost (consumers resync from the internal data API)');
      }
      closed = true;
      for (const done of [...wakers]) done();
      await hub.close();
    },
  };
}
