import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '@gatehouse/testing';
import { Topics, createEventHub, createInProcessBus, createInProcessHub } from '../src/index.ts';
import { eventHubSuite } from './hub-suite.ts';

// Hubs of one namespace share a bus, as NATS hubs of one prefix share a server.
const bus = createInProcessBus();
eventHubSuite('in-process', {
  async create(opts = {}) {
    const { source, logger, retention } = opts;
    return createInProcessHub(retention === undefined ? { bus, source, logger } : { retention, source, logger });
  },
});

describe('in-process hub specifics', () => {
  it('stamps events with the injected clock', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const hub = createInProcessHub({ clock });
    clock.advance(1500);
    const e = await hub.publish(Topics.Notification, 'x', {});
    assert.equal(e.time, Date.UTC(2026, 0, 1) + 1500);
    await hub.close();
  });

  it('a slow subscriber loses nothing when the ring wraps around', async () => {
    const hub = createInProcessHub({ retention: 3 });
    const seen: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const done = Promise.withResolvers<void>();
    await hub.subscribe(Topics.Notification, async (e) => {
      await gate;
      seen.push(e.seq);
      if (seen.length === 10) done.resolve();
    });
    for (let i = 0; i < 10; i++) await hub.publish(Topics.Notification, 'x', i);
    release();
    await done.promise;
    assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await hub.close();
  });

  it('regression: analytics batches were retained 10,000 deep (millions of call records in an all-in-one process); now 16', async () => {
    const hub = createInProcessHub();
    for (let i = 0; i < 200; i++) await hub.publish(Topics.Analytics, 'batch', { i });
    for (let i = 0; i < 200; i++) await hub.publish(Topics.Notification, 'x', { i });
    const resumed = async (topic: typeof Topics.Analytics | typeof Topics.Notification) => {
      const seqs: number[] = [];
      const sub = await hub.subscribe(topic, (e) => { seqs.push(e.seq); }, { fromSeq: 1 });
      await new Promise((r) => setImmediate(r));
      await sub.unsubscribe();
      return seqs;
    };
    const analytics = await resumed(Topics.Analytics);
    assert.equal(analytics.length, 16);
    assert.equal(analytics[0], 185);
    assert.equal((await resumed(Topics.Notification)).length, 200, 'other topics keep their retention');
    await hub.close();
  });

  it('hands analytics batches over without a JSON round trip; other topics still get their own copy', async () => {
    const hub = createInProcessHub();
    const got: unknown[] = [];
    await hub.subscribe(Topics.Analytics, (e) => { got.push(e.payload); });
    await hub.subscribe(Topics.Notification, (e) => { got.push(e.payload); });
    const batch = { events: [{ status: 200 }] };
    const note = { n: 1 };
    await hub.publish(Topics.Analytics, 'API_CALLS', batch);
    await hub.publish(Topics.Notification, 'x', note);
    await new Promise((r) => setImmediate(r));
    assert.equal(got[0], batch, 'the batch itself');
    assert.notEqual(got[1], note);
    assert.deepEqual(got[1], note);
    await assert.rejects(hub.publish(Topics.Notification, 'x', { n: 1n }), { code: 'EVENTS_ERR_PUBLISH_FAILED' });
    await hub.close();
  });

  it('rejects a pending request with EVENTS_ERR_CLOSED on close', async () => {
    const hub = createInProcessHub();
    await hub.respond('never', () => new Promise(() => {}));
    const pending = hub.request('never', {}, { timeoutMs: 10_000 });
    await hub.close();
    await assert.rejects(pending, { code: 'EVENTS_ERR_CLOSED' });
  });

  it('createEventHub builds the in-process transport from the event_hub config', async () => {
    const hub = await createEventHub(
      { type: 'in-process', servers: [], user: '', password: '', token: '', creds_file: '', stream_prefix: 'gatehouse' },
      { source: 'aio-1' },
    );
    const e = await hub.publish(Topics.Gateway, 'registered', {});
    assert.equal(e.source, 'aio-1');
    assert.equal(e.seq, 1);
    await hub.close();
  });
});
