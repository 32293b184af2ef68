import { SUPER_TENANT_ID, systemClock } from '@gatehouse/core';
import { decodeJson, decodeReply, encodeJson, encodeReply } from '../../codec.ts';
import { Delivery } from '../../delivery.ts';
import { EventsErrors } from '../../errors.ts';
import { Topics, allTopics } from '../../types.ts';
import type {
  EventHub,
  HubEvent,
  InProcessBus,
  InProcessHubOptions,
  PublishOptions,
  RequestOptions,
  SubscribeOptions,
  Subscription,
  Topic,
} from '../../types.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS, assertSubject, assertTopic, normalizeFromSeq, noopLogger } from '../../validate.ts';

const DEFAULT_RETENTION = 10_000;
/**
 * Analytics events are batches of up to 500 calls each, several a second under load: 10,000 of
 * them would keep millions of call records alive in an all-in-one process, and each batch kept
 * is one more promoted to the old generation. Their one reader in the same process (the
 * Publisher's usage consumer) subscribes at start, so a short ring is enough.
 */
const ANALYTICS_RETENTION = 16;

/** The last `capacity` events of a topic, for `fromSeq` resume. */
class Ring {
  readonly #items: HubEvent[];
  #start = 0;
  #count = 0;

  constructor(capacity: number) {
    this.#items = new Array<HubEvent>(capacity);
  }

  push(e: HubEvent): void {
    const capacity = this.#items.length;
    if (this.#count < capacity) {
      this.#items[(this.#start + this.#count) % capacity] = e;
      this.#count += 1;
    } else {
      this.#items[this.#start] = e;
      this.#start = (this.#start + 1) % capacity;
    }
  }

  /** Retained events with `seq >= fromSeq`, oldest first (seqs are contiguous). */
  from(fromSeq: number, lastSeq: number): HubEvent[] {
    const oldest = lastSeq - this.#count + 1;
    const skip = Math.max(0, fromSeq - oldest);
    const out: HubEvent[] = [];
    for (let i = skip; i < this.#count; i++) out.push(this.#items[(this.#start + i) % this.#items.length]);
    return out;
  }

  get count(): number {
    return this.#count;
  }
}

class LocalSubscription<T> implements Subscription {
  readonly #delivery: Delivery<T>;
  readonly #detach: () => void;
  #queue: HubEvent<T>[] = [];
  #head = 0;
  #draining = false;
  #active = true;

  constructor(delivery: Delivery<T>, detach: () => void) {
    this.#delivery = delivery;
    this.#detach = detach;
  }

  get lastSeq(): number {
    return this.#delivery.lastSeq;
  }

  push(e: HubEvent<T>): void {
    if (!this.#active) return;
    this.#queue.push(e);
    if (!this.#draining) {
      this.#draining = true;
      queueMicrotask(() => void this.#drain());
    }
  }

  async #drain(): Promise<void> {
    while (this.#active && this.#head < this.#queue.length) {
      const e = this.#queue[this.#head];
      this.#head += 1;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      await this.#delivery.deliver(e);
    }
    this.#draining = false;
  }

  unsubscribe(): Promise<void> {
    if (this.#active) {
      this.#active = false;
      this.#queue = [];
      this.#head = 0;
      this.#detach();
    }
    return Promise.resolve();
  }
}

interface Responder {
  readonly handler: (req: unknown) => unknown;
}

interface TopicState {
  seq: number;
  ring: Ring;
  subs: Set<LocalSubscription<unknown>>;
}

/**
 * What in-process hubs share: per-topic sequences, retained events, subscribers and responders.
 * In all-in-one mode each component gets its own hub (own source, own `close()`) on one bus, as
 * each distributed process gets its own NATS connection.
 */
interface BusState extends InProcessBus {
  readonly topics: Map<Topic, TopicState>;
  readonly responders: Map<string, { list: Responder[]; next: number }>;
}

/**
 * A bus for several in-process hubs.
 *
 * @example
 * ```ts
 * const bus = createInProcessBus();
 * const publisherHub = createInProcessHub({ bus, source: 'publisher' });
 * const gatewayHub = createInProcessHub({ bus, source: 'gateway' });
 * ```
 */
export function createInProcessBus(opts: { retention?: number } = {}): InProcessBus {
  const retention = opts.retention ?? DEFAULT_RETENTION;
  if (!Number.isInteger(retention) || retention < 1) throw new RangeError(`retention must be a positive integer, got ${retention}`);
  const topics = new Map<Topic, TopicState>();
  for (const topic of allTopics) topics.set(topic, { seq: 0, ring: new Ring(topic === Topics.Analytics ? Math.min(retention, ANALYTICS_RETENTION) : retention), subs: new Set() });
  const bus: BusState = { retention, topics, responders: new Map() };
  return bus;
}

/**
 * The all-in-one transport: per-topic sequences and a ring buffer of the last `retention` events,
 * asynchronous in-order delivery, round-robin request/reply. Nothing survives the process, which
 * is fine in all-in-one mode because every consumer restarts with it.
 *
 * A `fromSeq` older than the ring resumes from the oldest retained event and reports the gap
 * (`onGap`, `oldestSeq`); the consumer then resyncs from the internal data API. Each subscriber has
 * its own queue, so a slow one never loses events it has not seen to the ring wrapping around.
 * Without `bus`, the hub gets a private bus with `retention`.
 */
export function createInProcessHub(opts: InProcessHubOptions = {}): EventHub {
  const source = opts.source ?? 'in-process';
  const logger = opts.logger ?? noopLogger;
  const clock = opts.clock ?? systemClock;
  const { topics, responders } = (opts.bus ?? createInProcessBus({ retention: opts.retention })) as BusState;

  const ownSubs = new Set<LocalSubscription<unknown>>();
  const ownResponders = new Set<{ unsubscribe(): Promise<void> }>();
  const pending = new Set<(err: Error) => void>();
  let closed = false;

  const assertOpen = (): void => {
    if (closed) throw EventsErrors.create('EVENTS_ERR_CLOSED');
  };

  const state = (topic: Topic): TopicState => {
    assertTopic(topic);
    return topics.get(topic)!;
  };

  return {
    async publish<T>(topic: Topic, type: string, payload: T, publishOpts: PublishOptions = {}): Promise<HubEvent<T>> {
      assertOpen();
      const t = state(topic);
      // Analytics batches (hundreds of events, every call's) are handed over as they are: the
      // collector builds them from strings and numbers alone and never touches a batch again, and
      // the JSON round trip that proves other payloads would survive NATS cost the gateway ~4 µs a
      // call (stringify and parse of every event) in an all-in-one process.
      const delivered = topic === Topics.Analytics ? payload : decodeJson(encodeJson(payload, 'publish'));
      t.seq += 1;
      const event: HubEvent = {
        topic,
        type,
        seq: t.seq,
        time: clock.now(),
        source,
        tenantId: publishOpts.tenantId ?? SUPER_TENANT_ID,
        payload: delivered,
      };
      t.ring.push(event);
      for (const sub of t.subs) sub.push(event);
      return { ...event, payload };
    },

    async subscribe<T>(topic: Topic, handler: (e: HubEvent<T>) => void | Promise<void>, subOpts: SubscribeOptions = {}): Promise<Subscription> {
      assertOpen();
      const t = state(topic);
      const start = subOpts.fromSeq === undefined ? t.seq + 1 : normalizeFromSeq(subOpts.fromSeq);
      const delivery = new Delivery<T>(topic, start, handler, subOpts.onGap, logger);
      const sub: LocalSubscription<unknown> = new LocalSubscription<T>(delivery, () => {
        t.subs.delete(sub);
        ownSubs.delete(sub);
      }) as LocalSubscription<unknown>;
      for (const e of t.ring.from(start, t.seq)) sub.push(e);
      t.subs.add(sub);
      ownSubs.add(sub);
      return sub;
    },

    async lastSeq(topic: Topic): Promise<number> {
      assertOpen();
      return state(topic).seq;
    },

    async oldestSeq(topic: Topic): Promise<number> {
      assertOpen();
      const t = state(topic);
      return t.seq - t.ring.count + 1;
    },

    request<Req, Res>(subject: string, payload: Req, reqOpts: RequestOptions = {}): Promise<Res> {
      try {
        assertOpen();
        assertSubject(subject);
      } catch (err) {
        return Promise.reject(err);
      }
      const entry = responders.get(subject);
      if (!entry || entry.list.length === 0) {
        return Promise.reject(EventsErrors.create('EVENTS_ERR_NO_RESPONDERS', { description: `no responder on ${subject}` }));
      }
      let text: string;
      try {
        text = encodeJson(payload, 'request');
      } catch (err) {
        return Promise.reject(err);
      }
      const responder = entry.list[entry.next % entry.list.length];
      entry.next = (entry.next + 1) % entry.list.length;
      const timeoutMs = reqOpts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;

      return new Promise<Res>((resolve, reject) => {
        const fail = (err: Error): void => {
          clearTimeout(timer);
          pending.delete(fail);
          reject(err);
        };
        const timer = setTimeout(() => fail(EventsErrors.create('EVENTS_ERR_TIMEOUT', { description: `no reply on ${subject} within ${timeoutMs} ms` })), timeoutMs);
        pending.add(fail);
        queueMicrotask(async () => {
          let reply: string;
          try {
            reply = encodeReply({ result: await responder.handler(decodeJson(text)) });
          } catch (error) {
            reply = encodeReply({ error });
          }
          if (!pending.has(fail)) return; // timed out or closed meanwhile
          clearTimeout(timer);
          pending.delete(fail);
          try {
            resolve(decodeReply<Res>(reply));
          } catch (err) {
            reject(err);
          }
        });
      });
    },

    async respond<Req, Res>(subject: string, handler: (req: Req) => Res | Promise<Res>): Promise<Subscription> {
      assertOpen();
      assertSubject(subject);
      let entry = responders.get(subject);
      if (!entry) {
        entry = { list: [], next: 0 };
        responders.set(subject, entry);
      }
      const responder: Responder = { handler: handler as (req: unknown) => unknown };
      entry.list.push(responder);
      const list = entry.list;
      const sub = {
        lastSeq: 0,
        async unsubscribe() {
          ownResponders.delete(sub);
          const i = list.indexOf(responder);
          if (i !== -1) list.splice(i, 1);
        },
      };
      ownResponders.add(sub);
      return sub;
    },

    isConnected(): boolean {
      return !closed;
    },

    async ping(): Promise<void> {
      assertOpen();
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const sub of [...ownSubs]) await sub.unsubscribe();
      for (const r of [...ownResponders]) await r.unsubscribe();
      for (const fail of [...pending]) fail(EventsErrors.create('EVENTS_ERR_CLOSED'));
    },
  };
}
