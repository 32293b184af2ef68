import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CoreErrors } from '@gatehouse/core';
import { Topics } from '../src/index.ts';
import type { EventHub, Gap, HubEvent, Logger, Subscription, Topic } from '../src/index.ts';

/** How a transport's test file makes hubs for the shared suite. */
export interface HubFactory {
  /**
   * A new hub on the transport under test. Hubs made without `retention` share one namespace
   * (sequences carry over between tests); with it, the hub gets a namespace of its own that keeps
   * only `retention` events per topic.
   */
  create(opts?: { logger?: Logger; source?: string; retention?: number }): Promise<EventHub>;
  /** Runs after the suite (drop streams, stop servers). */
  cleanup?(): Promise<void>;
}

const WAIT_MS = 10_000;

/** Records what a subscription receives; `until(n)` resolves once n events have arrived. */
export function collector<T = unknown>() {
  const events: HubEvent<T>[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  return {
    events,
    seqs: () => events.map((e) => e.seq),
    handler: (e: HubEvent<T>) => {
      events.push(e);
      for (const w of waiters.filter((x) => events.length >= x.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    },
    until(n: number, ms = WAIT_MS): Promise<void> {
      if (events.length >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`got ${events.length} of ${n} events within ${ms} ms: ${events.map((e) => e.seq).join(',')}`)), ms);
        waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
  };
}

export function captureLogger(): Logger & { errors: { obj: object; msg?: string }[]; warns: { obj: object; msg?: string }[] } {
  const errors: { obj: object; msg?: string }[] = [];
  const warns: { obj: object; msg?: string }[] = [];
  return {
    errors,
    warns,
    info() {},
    debug() {},
    warn: (obj, msg) => void warns.push({ obj, msg }),
    error: (obj, msg) => void errors.push({ obj, msg }),
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.equal((err as { code?: string }).code, code, `expected ${code}, got ${String(err)}`);
    return true;
  });
}

/**
 * The event hub contract. Each transport's test file calls this once; every transport must pass
 * it unchanged.
 */
export function eventHubSuite(transport: string, factory: HubFactory): void {
  describe(`event hub contract: ${transport}`, () => {
    const open: EventHub[] = [];
    const hub = async (opts?: Parameters<HubFactory['create']>[0]) => {
      const h = await factory.create(opts);
      open.push(h);
      return h;
    };
    after(async () => {
      await Promise.all(open.map((h) => h.close()));
      await factory.cleanup?.();
    });

    it('publish returns strictly increasing per-topic seqs and the stored event', async () => {
      const h = await hub({ source: 'node-a' });
      const base = await h.lastSeq(Topics.Notification);
      const kmBase = await h.lastSeq(Topics.KeyManager);
      const before = Date.now();
      const a = await h.publish(Topics.Notification, 'api.deployed', { apiId: 'a1' });
      const b = await h.publish(Topics.Notification, 'api.undeployed', { apiId: 'a1' }, { tenantId: 7 });
      const k = await h.publish(Topics.KeyManager, 'km.added', { name: 'km' });
      const c = await h.publish(Topics.Notification, 'api.deployed', { apiId: 'a2' });
      assert.deepEqual([a.seq, b.seq, c.seq], [base + 1, base + 2, base + 3]);
      assert.equal(k.seq, kmBase + 1);
      assert.equal(a.topic, Topics.Notification);
      assert.equal(a.type, 'api.deployed');
      assert.equal(a.source, 'node-a');
      assert.equal(a.tenantId, -1234);
      assert.equal(b.tenantId, 7);
      assert.deepEqual(a.payload, { apiId: 'a1' });
      assert.ok(a.time >= before && a.time <= Date.now());
    });

    it('subscribe delivers only new events by default, with every field', async () => {
      const h = await hub({ source: 'node-b' });
      await h.publish(Topics.CacheInvalidation, 'old', { n: 0 });
      const c = collector<{ n: number }>();
      const sub = await h.subscribe(Topics.CacheInvalidation, c.handler);
      const published = [];
      for (let n = 1; n <= 3; n++) published.push(await h.publish(Topics.CacheInvalidation, 'resource.changed', { n }, { tenantId: 3 }));
      await c.until(3);
      assert.deepEqual(c.events.map((e) => e.payload.n), [1, 2, 3]);
      assert.deepEqual(c.seqs(), published.map((e) => e.seq));
      const [first] = c.events;
      assert.deepEqual(
        { ...first },
        { topic: Topics.CacheInvalidation, type: 'resource.changed', seq: published[0].seq, time: published[0].time, source: 'node-b', tenantId: 3, payload: { n: 1 } },
      );
      assert.equal(sub.lastSeq, published[2].seq);
      await sub.unsubscribe();
    });

    it('fromSeq resume delivers exactly the missed events, in order, then new ones', async () => {
      const h = await hub();
      const topic = Topics.TokenRevocation;
      const first = collector<number>();
      const sub1 = await h.subscribe<number>(topic, first.handler);
      for (let i = 0; i < 3; i++) await h.publish(topic, 'token.revoked', i);
      await first.until(3);
      await sub1.unsubscribe();
      const seen = sub1.lastSeq;
      const missed = [];
      for (let i = 3; i < 8; i++) missed.push((await h.publish(topic, 'token.revoked', i)).seq);
      assert.deepEqual(missed, range(seen + 1, seen + 5));

      const gaps: Gap[] = [];
      const resumed = collector<number>();
      const sub2 = await h.subscribe<number>(topic, resumed.handler, { fromSeq: seen + 1, onGap: (g) => void gaps.push(g) });
      await resumed.until(5);
      const fresh = await h.publish(topic, 'token.revoked', 8);
      await resumed.until(6);
      assert.deepEqual(resumed.seqs(), [...missed, fresh.seq]);
      assert.deepEqual(resumed.events.map((e) => e.payload), [3, 4, 5, 6, 7, 8]);
      assert.deepEqual(gaps, []);
      assert.equal(first.events.length, 3, 'the unsubscribed handler got nothing more');
      await sub2.unsubscribe();
    });

    it('fromSeq older than retention resumes from the oldest kept event and reports the gap', async () => {
      const h = await hub({ retention: 5 });
      const topic = Topics.ThrottleData;
      for (let i = 1; i <= 12; i++) await h.publish(topic, 'decision', i);
      assert.equal(await h.lastSeq(topic), 12);
      assert.equal(await h.oldestSeq(topic), 8);
      const gaps: Gap[] = [];
      const c = collector<number>();
      const sub = await h.subscribe<number>(topic, c.handler, { fromSeq: 3, onGap: (g) => void gaps.push(g) });
      await c.until(5);
      assert.deepEqual(c.seqs(), [8, 9, 10, 11, 12]);
      assert.deepEqual(gaps, [{ topic, expected: 3, next: 8 }]);
      await sub.unsubscribe();
      // Untouched topics: nothing retained, nothing missed.
      assert.equal(await h.lastSeq(Topics.Analytics), 0);
      assert.equal(await h.oldestSeq(Topics.Analytics), 1);
    });

    it('two subscribers both get every event', async () => {
      const h = await hub();
      const a = collector();
      const b = collector();
      const subA = await h.subscribe(Topics.Gateway, a.handler);
      const subB = await h.subscribe(Topics.Gateway, b.handler);
      const seqs = [];
      for (let i = 0; i < 10; i++) seqs.push((await h.publish(Topics.Gateway, 'heartbeat', { i })).seq);
      await Promise.all([a.until(10), b.until(10)]);
      assert.deepEqual(a.seqs(), seqs);
      assert.deepEqual(b.seqs(), seqs);
      await subA.unsubscribe();
      await subB.unsubscribe();
    });

    it('subscribers on another hub of the same namespace see the events too', async () => {
      const publisher = await hub({ source: 'publisher' });
      const consumer = await hub({ source: 'gateway' });
      const c = collector();
      const sub = await consumer.subscribe(Topics.DeploymentAck, c.handler);
      const e = await publisher.publish(Topics.DeploymentAck, 'deployed', { revision: 'r1' });
      await c.until(1);
      assert.equal(c.events[0].seq, e.seq);
      assert.equal(c.events[0].source, 'publisher');
      await sub.unsubscribe();
    });

    it('a throwing handler is logged and does not stop delivery', async () => {
      const logger = captureLogger();
      const h = await hub({ logger });
      const c = collector<number>();
      const sub = await h.subscribe<number>(Topics.Notification, async (e) => {
        c.handler(e);
        if (e.payload % 2 === 0) throw new Error(`boom ${e.payload}`);
        if (e.payload === 3) await Promise.reject(new Error('async boom'));
      });
      for (let i = 0; i < 6; i++) await h.publish(Topics.Notification, 'x', i);
      await c.until(6);
      assert.deepEqual(c.events.map((e) => e.payload), [0, 1, 2, 3, 4, 5]);
      assert.equal(sub.lastSeq, c.events[5].seq);
      assert.equal(logger.errors.filter((l) => l.msg?.includes('handler failed')).length, 4);
      await sub.unsubscribe();
    });

    it('keeps order under 1,000 rapid publishes and awaits each handler before the next', async () => {
      const h = await hub();
      const topic = Topics.Analytics;
      const c = collector<number>();
      let inFlight = 0;
      let maxInFlight = 0;
      const sub = await h.subscribe<number>(topic, async (e) => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        if (e.seq % 100 === 0) await new Promise((r) => setImmediate(r));
        inFlight -= 1;
        c.handler(e);
      });
      const published = await Promise.all(Array.from({ length: 1000 }, (_, i) => h.publish(topic, 'request', i)));
      const seqs = published.map((e) => e.seq).sort((x, y) => x - y);
      assert.deepEqual(seqs, range(seqs[0], seqs[0] + 999), 'publish seqs are unique and contiguous');
      await c.until(1000, 20_000);
      assert.deepEqual(c.seqs(), seqs, 'delivered in seq order, each once');
      const bySeq = new Map(published.map((e) => [e.seq, e.payload]));
      assert.ok(c.events.every((e) => bySeq.get(e.seq) === e.payload));
      assert.equal(maxInFlight, 1);
      await sub.unsubscribe();
    });

    it('lastSeq is the highest stored seq; oldestSeq is at most lastSeq + 1', async () => {
      const h = await hub();
      const topic = Topics.DeploymentAck;
      const base = await h.lastSeq(topic);
      const e1 = await h.publish(topic, 'ack', {});
      assert.equal(await h.lastSeq(topic), e1.seq);
      const e2 = await h.publish(topic, 'ack', {});
      assert.equal(await h.lastSeq(topic), base + 2);
      assert.equal(e2.seq, base + 2);
      const oldest = await h.oldestSeq(topic);
      assert.ok(oldest >= 1 && oldest <= e1.seq);
    });

    it('payloads travel as JSON on every transport', async () => {
      const h = await hub();
      const c = collector<Record<string, unknown>>();
      const sub = await h.subscribe<Record<string, unknown>>(Topics.KeyManager, c.handler);
      const payload: Record<string, unknown> = { at: new Date(0), dropped: undefined, list: [1, 'two'] };
      await h.publish(Topics.KeyManager, 'km.updated', payload);
      payload.list = 'mutated after publish';
      await h.publish(Topics.KeyManager, 'km.removed', undefined);
      await c.until(2);
      assert.deepEqual(c.events[0].payload, { at: '1970-01-01T00:00:00.000Z', list: [1, 'two'] });
      assert.equal(c.events[1].payload ?? null, null);
      await rejectsWith(h.publish(Topics.KeyManager, 'bad', { n: 1n }), 'EVENTS_ERR_PUBLISH_FAILED');
      await sub.unsubscribe();
    });

    it('rejects unknown topics and invalid subjects with EVENTS_ERR_INVALID_TOPIC', async () => {
      const h = await hub();
      await rejectsWith(h.publish('nope' as Topic, 'x', {}), 'EVENTS_ERR_INVALID_TOPIC');
      await rejectsWith(h.subscribe('nope' as Topic, () => {}), 'EVENTS_ERR_INVALID_TOPIC');
      await rejectsWith(h.lastSeq('nope' as Topic), 'EVENTS_ERR_INVALID_TOPIC');
      await rejectsWith(h.request('quota.*', {}), 'EVENTS_ERR_INVALID_TOPIC');
      await rejectsWith(h.respond('has space', () => 1), 'EVENTS_ERR_INVALID_TOPIC');
    });

    it('request/reply returns the responder result and carries its errors', async () => {
      const h = await hub();
      const r = await h.respond<{ key: string; want: number }, { granted: number }>('quota.lease', (req) => ({ granted: Math.min(req.want, 10) }));
      assert.deepEqual(await h.request('quota.lease', { key: 'k', want: 50 }), { granted: 10 });
      const f = await h.respond<string, never>('quota.fail', (req) => {
        if (req === 'known') throw CoreErrors.create('CORE_ERR_NOT_FOUND', { message: 'no such policy' });
        throw new Error('kaput');
      });
      await assert.rejects(h.request('quota.fail', 'known'), (err: Error & { code?: string }) => err.code === 'CORE_ERR_NOT_FOUND' && err.message === 'no such policy');
      await assert.rejects(h.request('quota.fail', 'other'), (err: Error & { code?: string; description?: string }) => err.code === 'EVENTS_ERR_RESPONDER_FAILED' && err.description === 'kaput');
      await r.unsubscribe();
      await f.unsubscribe();
      await rejectsWith(h.request('quota.lease', { key: 'k', want: 1 }), 'EVENTS_ERR_NO_RESPONDERS');
    });

    it('responders on one subject form a queue group: each request answered once, all used', async () => {
      const server1 = await hub({ source: 'tm-1' });
      const server2 = await hub({ source: 'tm-2' });
      const client = await hub({ source: 'gw' });
      const calls = { a: 0, b: 0 };
      const ra = await server1.respond<number, string>('quota.group', (n) => (calls.a++, `a${n}`));
      const rb = await server2.respond<number, string>('quota.group', async (n) => (calls.b++, `b${n}`));
      const N = 60;
      const replies = await Promise.all(range(1, N).map((n) => client.request<number, string>('quota.group', n)));
      assert.equal(calls.a + calls.b, N, 'each request handled exactly once');
      assert.ok(calls.a > 0 && calls.b > 0, `both responders used (${calls.a}/${calls.b})`);
      replies.forEach((r, i) => assert.match(r, new RegExp(`^[ab]${i + 1}$`)));
      await ra.unsubscribe();
      await rb.unsubscribe();
    });

    it('times out with EVENTS_ERR_TIMEOUT and fails with EVENTS_ERR_NO_RESPONDERS', async () => {
      const h = await hub();
      let release!: () => void;
      const slow = new Promise<void>((r) => (release = r));
      const r = await h.respond('quota.slow', async () => {
        await slow;
        return 'late';
      });
      const started = Date.now();
      await rejectsWith(h.request('quota.slow', {}, { timeoutMs: 150 }), 'EVENTS_ERR_TIMEOUT');
      assert.ok(Date.now() - started < 2000);
      release();
      await rejectsWith(h.request('quota.nobody', {}, { timeoutMs: 2000 }), 'EVENTS_ERR_NO_RESPONDERS');
      await r.unsubscribe();
    });

    it('ping and isConnected report a live hub', async () => {
      const h = await hub();
      assert.equal(h.isConnected(), true);
      await h.ping();
    });

    it('after close, every call rejects with EVENTS_ERR_CLOSED and subscriptions stop', async () => {
      const h = await factory.create();
      const c = collector();
      await h.subscribe(Topics.Notification, c.handler);
      await h.close();
      await h.close();
      assert.equal(h.isConnected(), false);
      await rejectsWith(h.publish(Topics.Notification, 'x', {}), 'EVENTS_ERR_CLOSED');
      await rejectsWith(h.subscribe(Topics.Notification, () => {}), 'EVENTS_ERR_CLOSED');
      await rejectsWith(h.lastSeq(Topics.Notification), 'EVENTS_ERR_CLOSED');
      await rejectsWith(h.request('quota.lease', {}), 'EVENTS_ERR_CLOSED');
      await rejectsWith(h.respond('quota.lease', () => 1), 'EVENTS_ERR_CLOSED');
      await rejectsWith(h.ping(), 'EVENTS_ERR_CLOSED');
      const other = await hub();
      const d = collector();
      const sub: Subscription = await other.subscribe(Topics.Notification, d.handler);
      await other.publish(Topics.Notification, 'after-close', {});
      await d.until(1);
      assert.equal(c.events.length, 0, 'the closed hub delivered nothing');
      await sub.unsubscribe();
    });
  });
}
