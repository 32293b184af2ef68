import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { createNatsHub, Topics, type EventHub } from '@gatehouse/events';
import { natsUrl, skipUnless, uniqueName } from '@gatehouse/testing';
import { ThrottleDecisionType, type ThrottleDecision } from '@gatehouse/traffic-manager';
import type { LeaseRateCounter } from '../src/throttle/lease-counter.ts';
import { createRateCounter } from '../src/throttle/select.ts';
import { dropStreams, silent, trafficManager } from './lease-harness.ts';

const skip = await skipUnless('nats');

describe('throttle decisions on throttleData, NATS', { skip }, () => {
  const prefix = uniqueName('ghdec');
  after(() => dropStreams(prefix));

  it('every gateway refuses a spent key within 50 ms of the limit being reached, without asking', async () => {
    const hubs: EventHub[] = [];
    const hub = async () => {
      const h = await createNatsHub({ servers: [natsUrl()], prefix });
      hubs.push(h);
      return h;
    };
    const tm = trafficManager(await hub());
    const registries = Array.from({ length: 4 }, () => new Registry());
    const gws = await Promise.all(registries.map(async (metrics, i) => createRateCounter({ mode: 'lease', liveGateways: 4 }, { hub: await hub(), gatewayId: `gw-${i}`, logger: silent, metrics })));
    const reached = new Map<string, number>();
    const observer = await (await hub()).subscribe<ThrottleDecision>(Topics.ThrottleData, (e) => {
      if (e.type === ThrottleDecisionType) reached.set(e.payload.key, e.payload.reachedAt);
    });
    try {
      await tm.start();
      await Promise.all(gws.map((g) => g.start()));
      const [first, ...others] = gws.map((g) => g.counter as LeaseRateCounter);
      const limit = { count: 20, windowMs: 3_600_000 };
      const figures: number[] = [];
      for (let k = 0; k < 15; k++) {
        const key = `dec-${k}`;
        // One gateway spends the key's quota; the others never see a call for it.
        let admitted = 0;
        for (;;) {
          while (!first!.ready(key, limit, Date.now())) await first!.settled(key);
          if (!first!.hit(key, limit, Date.now()).allowed) break;
          admitted += 1;
        }
        assert.equal(admitted, 20);
        while (!others.every((g) => g.refuses(key, Date.now()))) await tick();
        const at = Date.now();
        while (!reached.has(key)) await tick();
        figures.push(at - reached.get(key)!);
      }
      figures.sort((a, b) => a - b);
      const median = figures[Math.floor(figures.length / 2)]!;
      process.stderr.write(`# throttle decision, limit reached → every gateway refusing (4 gateways, NATS): median ${median} ms, max ${figures.at(-1)} ms over ${figures.length} keys\n`);
      // The target is < 50 ms; the median is held to it, the slowest only to a generous bound
      // (a shared 2-core machine may stall a process for a while).
      assert.ok(median < 50, `median ${median} ms`);
      assert.ok(figures.at(-1)! < 1_000, `max ${figures.at(-1)} ms`);
      const gwMetrics = await registries[1]!.metrics();
      assert.match(gwMetrics, /gatehouse_throttle_decisions_total 15/);
      assert.doesNotMatch(gwMetrics, /gatehouse_throttle_leases_total\{/, 'the others never asked the Traffic Manager');
    } finally {
      await observer.unsubscribe();
      await Promise.all(gws.map((g) => g.stop()));
      await tm.stop();
      await Promise.all(hubs.map((h) => h.close()));
    }
  });
});
