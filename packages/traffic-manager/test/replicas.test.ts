import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { loadConfig } from '@gatehouse/config';
import { createNatsHub, Topics, type EventHub } from '@gatehouse/events';
import { natsUrl, skipUnless, uniqueName } from '@gatehouse/testing';
import { createTrafficManager, LeaseSubject, openKvWindowStore, ThrottleDecisionType, type LeaseReply, type LeaseRequest } from '../src/index.ts';

const silent = { info() {}, warn() {}, error() {}, debug() {}, fatal() {}, trace() {}, child: () => silent } as never;
const skip = await skipUnless('nats');

describe('Traffic Manager replicas on NATS JetStream KV', { skip }, () => {
  const prefix = uniqueName('ghtmrep');
  const bucket = uniqueName('ghtm_rep');
  after(async () => {
    const nc = await connect({ servers: [natsUrl()] });
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names()) if (name.startsWith(`${prefix.toUpperCase()}_`) || name.startsWith(`KV_${bucket}`)) await jsm.streams.delete(name).catch(() => false);
    await nc.close();
  });

  it('count a limit once across two replicas (both serving, from config), with one decision', async () => {
    const hubs: EventHub[] = [];
    const hub = async () => {
      const h = await createNatsHub({ servers: [natsUrl()], prefix });
      hubs.push(h);
      return h;
    };
    const config = loadConfig({ argv: ['--traffic_manager.health_port', '0', '--traffic_manager.store', 'nats-kv', '--traffic_manager.kv_bucket', bucket, '--event-hub', natsUrl()], env: {} });
    const tms = [createTrafficManager(config, { hub: await hub(), logger: silent }), createTrafficManager(config, { hub: await hub(), logger: silent })];
    const gw = await hub();
    const decisions: unknown[] = [];
    const sub = await gw.subscribe(Topics.ThrottleData, (e) => {
      if (e.type === ThrottleDecisionType) decisions.push(e.payload);
    });
    try {
      await Promise.all(tms.map((t) => t.start()));
      const now = Date.now();
      const windowStart = now - (now % 3_600_000);
      const L = 500;
      // Four gateways asking at once, 400 requests: the queue group spreads them over both replicas.
      const replies = await Promise.all(
        Array.from({ length: 400 }, (_, i) =>
          gw.request<LeaseRequest, LeaseReply>(LeaseSubject, { key: 'api|replicas', limit: L, windowMs: 3_600_000, windowStart, want: 40, gatewayId: `gw-${i % 4}`, used: 0 }, { timeoutMs: 10_000 }),
        ),
      );
      const granted = replies.reduce((n, r) => n + r.granted, 0);
      const served = tms.map((t) => t.leases.stats.requests);
      const conflicts = tms.reduce((n, t) => n + t.leases.stats.conflicts, 0);
      process.stderr.write(`# 2 TM replicas on KV: ${granted} granted of L=${L}; requests served ${served.join('+')}, ${conflicts} CAS conflicts retried\n`);
      assert.equal(granted, L);
      assert.ok(served.every((n) => n > 0), `both replicas served (${served})`);
      await sleep(200);
      assert.equal(decisions.length, 1);
    } finally {
      await sub.unsubscribe();
      await Promise.all(tms.map((t) => t.stop()));
      await Promise.all(hubs.map((h) => h.close()));
    }
  });

  it('keeps windows in buckets with a TTL, so old windows expire', async () => {
    const name = uniqueName('ghtm_ttl');
    const store = await openKvWindowStore({ servers: [natsUrl()], bucket: name, tiers: [{ maxWindowMs: 1_000, ttlMs: 1_500 }, { maxWindowMs: Number.POSITIVE_INFINITY, ttlMs: 0 }] });
    try {
      assert.deepEqual(await store.buckets(), [{ bucket: name, ttlMs: 1_500 }, { bucket: `${name}_1`, ttlMs: 0 }]);
      const state = { limit: 5, windowStart: 0, windowMs: 1_000, granted: 1, gateways: {} };
      assert.ok((await store.put('k@0', state, 0, 2_000)) > 0);
      assert.equal((await store.get('k@0', 1_000))?.state.granted, 1);
      // JetStream removes messages past max_age on its own timer; generous bound for a busy machine.
      const t0 = Date.now();
      while ((await store.get('k@0', 1_000)) !== undefined && Date.now() - t0 < 10_000) await sleep(250);
      assert.equal(await store.get('k@0', 1_000), undefined, 'expired');
      const defaults = await openKvWindowStore({ servers: [natsUrl()], bucket: `${name}_d` });
      try {
        assert.deepEqual((await defaults.buckets()).map((b) => b.ttlMs), [3 * 3_600_000, 3 * 86_400_000, 0]);
      } finally {
        await defaults.destroy().finally(() => defaults.close());
      }
    } finally {
      await store.destroy().finally(() => store.close());
    }
  });

  it('creates its buckets again when NATS lost them (a server without its JetStream store), instead of failing every call', async () => {
    const name = uniqueName('ghtm_lost');
    const store = await openKvWindowStore({ servers: [natsUrl()], bucket: name, tiers: [{ maxWindowMs: Number.POSITIVE_INFINITY, ttlMs: 0 }] });
    const nc = await connect({ servers: [natsUrl()] });
    try {
      const state = { limit: 5, windowStart: 0, windowMs: 1_000, granted: 1, gateways: {} };
      assert.ok((await store.put('k@0', state, 0, 2_000)) > 0);
      await (await jetstreamManager(nc)).streams.delete(`KV_${name}`);
      await assert.rejects(store.get('k@0', 1_000), 'the bucket is gone');
      await sleep(200);
      const t0 = Date.now();
      let after: unknown = 'failing';
      while (after === 'failing' && Date.now() - t0 < 15_000) after = await store.get('k@0', 1_000).catch(() => 'failing');
      assert.equal(after, undefined, 'an empty bucket again');
      assert.ok((await store.put('k@0', state, 0, 2_000)) > 0);
    } finally {
      await nc.close();
      await store.destroy().finally(() => store.close());
    }
  });
});
