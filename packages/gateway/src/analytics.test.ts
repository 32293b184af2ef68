import { it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { createInProcessHub, Topics, type EventHub } from '@gatehouse/events';
import { pino } from 'pino';
import { AnalyticsCollector, type CallEvent } from './analytics.ts';

const event = (i: number): CallEvent => ({
  time: i,
  gatewayId: 'gw',
  apiId: 'api',
  apiName: 'Api',
  apiVersion: 'v1',
  apiContext: '/api',
  operation: 'GET /items',
  applicationId: null,
  applicationName: null,
  applicationOwner: null,
  user: null,
  keyType: 'PRODUCTION',
  status: 200,
  latencyMs: 1,
  responseBytes: 2,
  overQuota: false,
});

/** The batch sizes published on `analytics`, in order. */
async function published(hub: EventHub): Promise<number[]> {
  const sizes: number[] = [];
  await hub.subscribe<{ events: CallEvent[] }>(Topics.Analytics, (e) => {
    sizes.push(e.payload.events.length);
  });
  return sizes;
}

it('publishes a full batch at once, not at the next interval, and leaves a partial one for the interval', async () => {
  const hub = createInProcessHub();
  const sizes = await published(hub);
  const collector = new AnalyticsCollector(hub, pino({ level: 'silent' }), { intervalMs: 60_000, batchSize: 10 });
  for (let i = 0; i < 25; i++) collector.record(event(i));
  for (let i = 0; i < 5; i++) await tick();
  assert.deepEqual(sizes, [10, 10]);
  assert.deepEqual(collector.stats, { buffered: 5, published: 20, dropped: 0 });
  await collector.close();
  await tick();
  assert.deepEqual(sizes, [10, 10, 5]);
  assert.deepEqual(collector.stats, { buffered: 0, published: 25, dropped: 0 });
});

it('yields to the event loop between batches, so a large flush never holds requests up', async () => {
  const hub = createInProcessHub();
  const collector = new AnalyticsCollector(hub, pino({ level: 'silent' }), { intervalMs: 60_000, batchSize: 10 });
  let turns = 0;
  let flushing = true;
  const count = (): void => {
    turns += 1;
    if (flushing) setImmediate(count);
  };
  for (let i = 0; i < 100; i++) collector.record(event(i));
  setImmediate(count);
  await collector.flush();
  flushing = false;
  assert.equal(collector.stats.published, 100);
  // Ten batches, each on its own turn: the loop ran between them.
  assert.ok(turns >= 9, `the loop turned ${turns} times during the flush`);
  await collector.close();
});

it('keeps publishing after a flush that found nothing to publish (an idle second)', async () => {
  const hub = createInProcessHub();
  const sizes = await published(hub);
  const collector = new AnalyticsCollector(hub, pino({ level: 'silent' }), { intervalMs: 60_000, batchSize: 10 });
  await collector.flush(); // what the interval does on an idle gateway
  for (let i = 0; i < 10; i++) collector.record(event(i));
  for (let i = 0; i < 5; i++) await tick();
  assert.deepEqual(sizes, [10], 'the full batch after the idle flush went out');
  for (let i = 0; i < 3; i++) collector.record(event(i));
  await collector.flush();
  assert.deepEqual(sizes, [10, 3]);
  assert.deepEqual(collector.stats, { buffered: 0, published: 13, dropped: 0 });
  await collector.close();
});
