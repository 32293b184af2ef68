import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { Databases } from '@gatehouse/data';
import { createInProcessBus, createInProcessHub, createNatsHub, Topics } from '@gatehouse/events';
import type { EventHub } from '@gatehouse/events';
import { FakeClock, freePort, skipUnless, tempDir } from '@gatehouse/testing';
import { createUsageConsumer, foldEvents } from '../src/usage/consumer.ts';
import type { UsageConsumer } from '../src/usage/consumer.ts';
import { usageRange } from '../src/usage/query.ts';
import { usageStore } from '../src/usage/store.ts';
import { freshDatabases } from './helpers.ts';

const pgSkip = await skipUnless('postgres');
const NATS_SERVER = '/usr/sbin/nats-server';
const natsSkip = existsSync(NATS_SERVER) ? false : await skipUnless('nats').then((skip) => skip || `${NATS_SERVER} is not installed (this test runs its own server)`);
const T = -1234;
const OTHER_TENANT = 7;
const API = '11111111-1111-4111-8111-111111111111';
const OTHER_API = '22222222-2222-4222-8222-222222222222';
const START = Date.UTC(2026, 10, 26, 10, 0, 0);
const quiet = { info() {}, warn() {}, error() {} };

/** A call event as the gateway's analytics policy builds it. */
function call(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    time: START + 5_000, gatewayId: 'gw-1', apiId: API, apiName: 'Pets', apiVersion: '1', apiContext: '/pets', operation: 'GET /pets',
    applicationId: 'app-1', applicationName: 'Shop', applicationOwner: 'alice', user: 'alice', keyType: 'PRODUCTION',
    status: 200, latencyMs: 10, responseBytes: 100, overQuota: false, ...over,
  };
}

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const reachable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => (socket.destroy(), resolve(false)));
  });

/** A NATS JetStream server for one test (nothing left on a shared server). */
async function privateNats(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = await tempDir('gh-usage-nats-');
  const port = await freePort();
  const child = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir.path, 'nats')], { stdio: 'ignore' });
  await waitFor(() => reachable(port), 'nats-server');
  return {
    url: `nats://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) await new Promise<void>((resolve) => (child.once('exit', () => resolve()), child.kill('SIGTERM')));
      await dir.remove();
    },
  };
}

const seen = (...cs: UsageConsumer[]) => cs.reduce((sum, c) => sum + c.stats.batches + c.stats.duplicates + c.stats.failed, 0);

describe('usage figures: folding call events', () => {
  it('adds events up per API, minute, operation and application, classifying the statuses', () => {
    const { rows, counted, skipped } = foldEvents(T, [
      call(),
      call({ status: 404, latencyMs: 30, responseBytes: null }),
      call({ status: 429, latencyMs: 1 }),
      call({ status: 503, latencyMs: 70.6, time: START + 65_000 }),
      call({ applicationId: null, applicationName: null, status: 401 }),
    ], 0);
    assert.equal(counted, 5);
    assert.equal(skipped, 0);
    const first = rows.find((r) => r.minute_start === START && r.application_id === 'app-1')!;
    assert.deepEqual({ ...first }, {
      tenant_id: T, api_id: API, minute_start: START, operation: 'GET /pets', application_id: 'app-1', application_name: 'Shop',
      calls: 3, errors_4xx: 1, errors_5xx: 0, throttled: 1, latency_sum_ms: 41, latency_max_ms: 30, response_bytes: 200,
    });
    const next = rows.find((r) => r.minute_start === START + 60_000)!;
    assert.deepEqual([next.calls, next.errors_5xx, next.latency_max_ms], [1, 1, 71]);
    const anonymous = rows.find((r) => r.application_id === '')!;
    assert.deepEqual([anonymous.calls, anonymous.errors_4xx, anonymous.application_name], [1, 1, null]);
  });

  it('skips and counts events with a missing or malformed field, or older than the retention, without throwing', () => {
    const bad = [
      null, 'text', 42, {}, call({ apiId: undefined }), call({ apiId: 'x'.repeat(37) }), call({ time: 'now' }), call({ status: 99 }), call({ status: 200.5 }),
      call({ latencyMs: -1 }), call({ latencyMs: Number.NaN }), call({ operation: 7 }), call({ applicationId: { id: 1 } }), call({ time: START - 1 }),
    ];
    const { rows, counted, skipped } = foldEvents(T, [...bad, call()], START);
    assert.equal(skipped, bad.length);
    assert.equal(counted, 1);
    assert.equal(rows.length, 1);
  });
});

describe('usage query parameters', () => {
  const now = START;
  const details = (q: Record<string, string>) => {
    try {
      usageRange(q, now);
    } catch (err) {
      return (err as { code: string; details: { field: string }[] }).details.map((d) => d.field);
    }
    return [];
  };

  it('defaults to the last 24 hours by the hour, and picks the interval by the range', () => {
    assert.deepEqual(usageRange({}, now), { from: now - 86_400_000, to: now, interval: 'hour' });
    assert.equal(usageRange({ from: new Date(now - 3_600_000).toISOString() }, now).interval, 'minute');
    assert.equal(usageRange({ from: '2026-10-01' }, now).interval, 'day');
    assert.equal(usageRange({ from: String(now - 60_000), to: String(now), interval: 'minute' }, now).from, now - 60_000);
  });

  it('refuses bad dates, a reversed range, an unknown interval and too many buckets, naming the field', () => {
    assert.deepEqual(details({ from: 'yesterday' }), ['querystring.from']);
    assert.deepEqual(details({ to: '2026-13-01' }), ['querystring.to']);
    assert.deepEqual(details({ from: new Date(now).toISOString(), to: new Date(now - 1).toISOString() }), ['querystring.from']);
    assert.deepEqual(details({ interval: 'week' }), ['querystring.interval']);
    assert.deepEqual(details({ from: 'x', interval: 'week' }), ['querystring.from', 'querystring.interval']);
    assert.deepEqual(details({ from: new Date(now - 2 * 86_400_000).toISOString(), interval: 'minute' }), ['querystring.interval'], 'two days of minutes is over 1440 buckets');
    assert.throws(() => usageRange({ interval: 'week' }, now), (err: Error & { code?: string; status?: number }) => err.code === 'CORE_ERR_VALIDATION' && err.status === 400);
  });
});

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`usage consumer (${dialect})`, { skip: dialect === 'postgres' ? pgSkip : false }, () => {
    let dbs: Databases;
    let close: () => Promise<void>;
    before(async () => {
      ({ dbs, close } = await freshDatabases(dialect));
    });
    after(() => close());

    const report = (tenantId: number, apiId: string, interval: 'minute' | 'hour' = 'minute') => usageStore.report(dbs.apim, tenantId, apiId, { from: START, to: START + 3 * 60_000, interval });

    it('two replicas fed the same batches count each batch once; bad events are skipped and counted; tenants stay apart', async () => {
      const bus = createInProcessBus();
      const clock = new FakeClock(START + 10_000);
      const gateway = createInProcessHub({ bus, source: 'gw-1', clock });
      const hubs: EventHub[] = [createInProcessHub({ bus, source: 'cp-1' }), createInProcessHub({ bus, source: 'cp-2' })];
      const [a, b] = hubs.map((hub) => createUsageConsumer({ databases: dbs, hub, clock, logger: quiet }, { retentionDays: 30 }));
      await a!.start();
      await b!.start();
      try {
        await gateway.publish(Topics.Analytics, 'API_CALLS', { events: [call(), call({ status: 500, latencyMs: 90 }), call({ status: 429 })] });
        await gateway.publish(Topics.Analytics, 'API_CALLS', { events: [call({ applicationId: 'app-2', applicationName: 'Kiosk', time: START + 61_000 }), { apiId: API }, call({ status: 'ok' })] });
        await gateway.publish(Topics.Analytics, 'API_CALLS', { events: [call({ apiId: OTHER_API })] }, { tenantId: OTHER_TENANT });
        await gateway.publish(Topics.Analytics, 'API_CALLS', { events: 'not an array' });
        await gateway.publish(Topics.Analytics, 'SOMETHING_ELSE', { events: [call()] });
        await waitFor(() => a!.stats.batches + a!.stats.duplicates === 4 && b!.stats.batches + b!.stats.duplicates === 4, 'both replicas to see the 4 batches');
        assert.equal(a!.stats.batches + b!.stats.batches, 4, 'each batch folded in by one replica');
        assert.equal(a!.stats.duplicates + b!.stats.duplicates, 4, 'and skipped by the other');
        assert.equal(a!.stats.events + b!.stats.events, 5);
        assert.equal(a!.stats.skipped + b!.stats.skipped, 3, 'two bad events and a batch without an events array');

        const r = await report(T, API);
        assert.deepEqual(r.totals, { calls: 4, errors: 1, clientErrors: 0, serverErrors: 1, throttled: 1, avgLatencyMs: 30, maxLatencyMs: 90, responseBytes: 400 });
        assert.deepEqual(r.buckets.map((x) => [x.start - START, x.calls]), [[0, 3], [60_000, 1], [120_000, 0]]);
        assert.deepEqual(r.topApplications, [{ applicationId: 'app-1', applicationName: 'Shop', calls: 3, errors: 1 }, { applicationId: 'app-2', applicationName: 'Kiosk', calls: 1, errors: 0 }]);
        assert.deepEqual(r.topOperations, [{ operation: 'GET /pets', calls: 4, errors: 1, avgLatencyMs: 30 }]);
        assert.equal((await report(T, API, 'hour')).buckets.length, 1);
        assert.equal((await report(OTHER_TENANT, API)).totals.calls, 0, 'another tenant sees nothing of this API');
        assert.equal((await report(T, OTHER_API)).totals.calls, 0, 'nor this tenant of the other tenant\'s');
        assert.equal((await report(OTHER_TENANT, OTHER_API)).totals.calls, 1);
      } finally {
        await a!.stop();
        await b!.stop();
      }

      // A replica restarted resumes after the last batch any replica recorded; one kept running
      // meanwhile counts what was published while the other was down.
      const c = createUsageConsumer({ databases: dbs, hub: hubs[1]!, clock, logger: quiet }, { retentionDays: 30 });
      await c.start();
      await gateway.publish(Topics.Analytics, 'API_CALLS', { events: [call({ time: START + 125_000 })] });
      const restarted = createUsageConsumer({ databases: dbs, hub: hubs[0]!, clock, logger: quiet }, { retentionDays: 30 });
      await waitFor(() => seen(c) === 1, 'the running replica to fold the new batch in');
      await restarted.start();
      await gateway.publish(Topics.Analytics, 'API_CALLS', { events: [call({ time: START + 126_000 })] });
      await waitFor(() => seen(c, restarted) === 3, 'both to see the last batch');
      assert.equal(restarted.stats.duplicates + restarted.stats.batches, 1, 'the restarted replica read only the batch after the last one recorded');
      assert.equal((await report(T, API)).totals.calls, 6);
      await c.stop();
      await restarted.stop();
      for (const h of [gateway, ...hubs]) await h.close();
    });

    it('on NATS JetStream: two replicas, each with its own connection, count each batch once', { skip: natsSkip }, async () => {
      const nats = await privateNats();
      const hubs: EventHub[] = [];
      const consumers: UsageConsumer[] = [];
      try {
        const clock = new FakeClock(START + 15_000);
        const open = async (source: string) => {
          const hub = await createNatsHub({ servers: [nats.url], source, prefix: 'gh_usage', clock });
          hubs.push(hub);
          return hub;
        };
        const gateway = await open('gw-1');
        for (const name of ['cp-1', 'cp-2']) {
          const consumer = createUsageConsumer({ databases: dbs, hub: await open(name), clock, logger: quiet }, { retentionDays: 30 });
          await consumer.start();
          consumers.push(consumer);
        }
        const before = (await report(T, OTHER_API)).totals.calls;
        for (let i = 0; i < 5; i++) await gateway.publish(Topics.Analytics, 'API_CALLS', { events: [call({ apiId: OTHER_API, time: START + 140_000 + i }), call({ apiId: OTHER_API, status: 'bad' })] });
        await waitFor(() => consumers.every((c) => c.stats.batches + c.stats.duplicates === 5), 'both replicas to see the 5 batches');
        assert.equal(consumers[0]!.stats.batches + consumers[1]!.stats.batches, 5);
        assert.equal(consumers[0]!.stats.skipped + consumers[1]!.stats.skipped, 5, 'one bad event a batch, counted once');
        assert.equal((await report(T, OTHER_API)).totals.calls, before + 5);
      } finally {
        for (const c of consumers) await c.stop();
        for (const h of hubs) await h.close();
        await nats.stop();
      }
    });

    it('after an in-process hub restarts its sequence, batches with reused sequence numbers still count once each', async () => {
      const before = (await report(T, API)).totals.calls;
      // A new process: a new bus numbering from 1, later in time.
      const bus = createInProcessBus();
      const clock = new FakeClock(START + 20_000);
      const gateway = createInProcessHub({ bus, source: 'gw-1', clock });
      const hub = createInProcessHub({ bus, source: 'cp-1' });
      const consumer = createUsageConsumer({ databases: dbs, hub, clock, logger: quiet }, { retentionDays: 30 });
      await consumer.start();
      await gateway.publish(Topics.Analytics, 'API_CALLS', { events: [call({ time: START + 130_000 })] });
      await waitFor(() => seen(consumer) === 1, 'the batch');
      assert.equal(consumer.stats.batches, 1, 'seq 1 again, but published at another time: a new batch');
      assert.equal((await report(T, API)).totals.calls, before + 1);
      await consumer.stop();
      // Restarted on the same bus: reads from its last batch on, so it counts nothing twice.
      const again = createUsageConsumer({ databases: dbs, hub, clock, logger: quiet }, { retentionDays: 30 });
      await again.start();
      await gateway.publish(Topics.Analytics, 'API_CALLS', { events: [call({ time: START + 131_000 })] });
      await waitFor(() => seen(again) === 1, 'the next batch');
      assert.equal(again.stats.batches, 1);
      assert.equal((await report(T, API)).totals.calls, before + 2);
      await again.stop();
      await gateway.close();
      await hub.close();
    });

    it('a batch recorded already is not added again, and retention deletes old minutes and batch records', async () => {
      const rows = foldEvents(T, [call({ apiId: OTHER_API, time: START - 40 * 86_400_000 })], 0).rows;
      const batch = { tenantId: T, seq: 999, publishedAt: START - 40 * 86_400_000, source: 'gw-old' };
      assert.equal(await usageStore.foldBatch(dbs.apim, batch, rows, { events: 1, skipped: 0 }, START), true);
      assert.equal(await usageStore.foldBatch(dbs.apim, batch, rows, { events: 1, skipped: 0 }, START), false, 'the same batch again writes nothing');
      const old = () => usageStore.report(dbs.apim, T, OTHER_API, { from: START - 41 * 86_400_000, to: START, interval: 'day' });
      assert.equal((await old()).totals.calls, 1);
      const recent = (await report(T, API)).totals.calls;
      assert.equal(await usageStore.deleteBefore(dbs.apim, START - 30 * 86_400_000), 1);
      assert.equal((await old()).totals.calls, 0);
      assert.equal((await report(T, API)).totals.calls, recent, 'recent minutes stay');
      // The consumer's own timer does the same at start.
      await usageStore.foldBatch(dbs.apim, { ...batch, seq: 1000 }, rows, { events: 1, skipped: 0 }, START);
      const hub = createInProcessHub({});
      const consumer = createUsageConsumer({ databases: dbs, hub, clock: new FakeClock(START), logger: quiet }, { retentionDays: 30 });
      await consumer.start();
      await waitFor(async () => (await old()).totals.calls === 0, 'the sweep at start');
      await consumer.stop();
      await hub.close();
    });

    it('keeps a batch in order and retries it while the database fails, then gives it up counted', async () => {
      const failing = { apim: { transaction: () => ({ execute: () => Promise.reject(new Error('database down')) }), selectFrom: dbs.apim.selectFrom.bind(dbs.apim), deleteFrom: dbs.apim.deleteFrom.bind(dbs.apim) } } as unknown as Databases;
      const hub = createInProcessHub({});
      const consumer = createUsageConsumer({ databases: failing, hub, clock: new FakeClock(START + 10_000), logger: quiet }, { retentionDays: 30, attempts: 3, retryDelayMs: 5 });
      await consumer.start();
      await hub.publish(Topics.Analytics, 'API_CALLS', { events: [call()] });
      await waitFor(() => consumer.stats.failed === 1, 'the batch to be given up');
      assert.equal(consumer.stats.batches, 0);
      await consumer.stop();
      await hub.close();
    });
  });
}
