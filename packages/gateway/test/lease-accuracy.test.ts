import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createInProcessBus, createInProcessHub, createNatsHub, type EventHub } from '@gatehouse/events';
import { natsUrl, skipUnless, uniqueName } from '@gatehouse/testing';
import { openKvWindowStore } from '@gatehouse/traffic-manager';
import { describeRefusal, dropStreams, gateways, hammer, reset, total, trafficManager, windowBoundary, type Counted } from './lease-harness.ts';

const W = 2_000;
const L = 1_000;
const limit = { count: L, windowMs: W };
const SIZES = [1, 2, 4];
/** The bound on the time from a window's limit being reached to every gateway refusing. */
const REFUSE_WITHIN_MS = 50;

/** N = 1, 2, 4 gateways, each case its own key, all in one window against one Traffic Manager. */
async function accuracy(hubFor: () => Promise<EventHub>, report: string): Promise<void> {
  const tmHub = await hubFor();
  const tm = trafficManager(tmHub);
  await tm.start();
  const hubs: EventHub[] = [];
  try {
    const cases: { n: number; gws: Counted[] }[] = [];
    for (const n of SIZES) {
      const own = await Promise.all(Array.from({ length: n }, hubFor));
      hubs.push(...own);
      cases.push({ n, gws: gateways(own) });
    }
    const start = await windowBoundary(W);
    await Promise.all(cases.map(({ n, gws }) => hammer(gws, `${report}-${n}`, limit, start + W - 20)));
    // Timed at the hits, in this process: the time the Traffic Manager's answer (a lease reply
    // saying the window is spent) takes to reach each gateway that ran dry, plus up to a
    // millisecond between its bursts.
    const refusal = cases.map(({ gws }) => gws[0]!.tally.timeToRefuse(start + W));
    const figures = cases.map(({ n, gws }, i) => `N=${n}: ${total(gws)} (${gws.map((g) => g.admitted).join('+')}), ${describeRefusal(refusal[i])}`);
    process.stderr.write(`# lease accuracy, ${report}, L=${L} per ${W} ms: ${figures.join('; ')}\n`);
    for (const [i, { n, gws }] of cases.entries()) {
      const admitted = total(gws);
      assert.ok(admitted <= L && admitted >= L * 0.99, `N=${n}: admitted ${admitted}, expected within [${L * 0.99}, ${L}]`);
      assert.ok(gws.every((g) => !g.counter.inFallback));
      assert.equal(refusal[i]?.gateways, n, `N=${n}: every gateway refuses after the limit`);
      assert.ok(refusal[i]!.ms < REFUSE_WITHIN_MS, `N=${n}: ${refusal[i]!.ms.toFixed(1)} ms from the limit to every gateway refusing`);
    }
  } finally {
    await tm.stop();
    await Promise.all([...hubs, tmHub].map((h) => h.close()));
  }
}

describe('lease accuracy, in-process hub', () => {
  it('admits within [L - 1%, L] cluster-wide with 1, 2 and 4 gateways (strict)', async () => {
    const bus = createInProcessBus();
    await accuracy(async () => createInProcessHub({ bus }), 'in-process');
  });

  it('falls back to limit / N without a Traffic Manager, says so once, and recovers when it returns', async () => {
    const bus = createInProcessBus();
    const hubs = [createInProcessHub({ bus }), createInProcessHub({ bus })];
    const gws = gateways(hubs, { probeIntervalMs: 50 });
    const tm = trafficManager(createInProcessHub({ bus }));
    try {
      const start = await windowBoundary(W);
      // No Traffic Manager: each gateway admits L / 2 on its own.
      await hammer(gws, 'fb', limit, start + 600);
      assert.deepEqual(gws.map((g) => [g.admitted, g.counter.inFallback, g.warnings.length]), [[L / 2, true, 1], [L / 2, true, 1]]);
      assert.match(await gws[0]!.metrics.metrics(), /gatehouse_throttle_lease_fallback 1/);
      // It returns mid-window: the gateways report what they admitted, so nothing more is.
      await tm.start();
      await hammer(gws, 'fb', limit, start + W - 20);
      assert.deepEqual(gws.map((g) => [g.counter.inFallback, g.warnings.length]), [[false, 1], [false, 1]]);
      assert.equal(total(gws), L);
      assert.match(await gws[1]!.metrics.metrics(), /gatehouse_throttle_lease_fallback 0/);
      // Next window: leases again, exact.
      reset(gws);
      await hammer(gws, 'fb', limit, start + W + 800);
      assert.equal(total(gws), L);
      // Stopped mid-window: local limits count what each gateway already admitted in the window.
      reset(gws);
      await tm.stop();
      await hammer(gws, 'fb', limit, start + 2 * W + 600);
      assert.ok(gws.every((g) => g.counter.inFallback && g.admitted === L / 2 && g.warnings.length === 2));
    } finally {
      await tm.stop();
      await Promise.all(hubs.map((h) => h.close()));
    }
  });
});

const skip = await skipUnless('nats');
describe('lease accuracy, NATS', { skip }, () => {
  const prefix = uniqueName('ghtm');
  after(() => dropStreams(prefix));

  it('admits within [L - 1%, L] cluster-wide with 1, 2 and 4 gateways (strict)', async () => {
    await accuracy(() => createNatsHub({ servers: [natsUrl()], prefix }), 'nats');
  });

  it('two Traffic Managers on one KV bucket count a limit once; losing one mid-window stays within L + 5%, exact after', async () => {
    const hub = () => createNatsHub({ servers: [natsUrl()], prefix });
    const bucket = uniqueName('ghtm_acc');
    const stores = [await openKvWindowStore({ servers: [natsUrl()], bucket }), await openKvWindowStore({ servers: [natsUrl()], bucket })];
    const tmHubs = [await hub(), await hub()];
    const tms = tmHubs.map((h, i) => trafficManager(h, stores[i]));
    const hubs = await Promise.all(Array.from({ length: 4 }, hub));
    const gws = gateways(hubs, { probeIntervalMs: 100 });
    try {
      await Promise.all(tms.map((t) => t.start()));
      const start = await windowBoundary(W);
      await hammer(gws, 'kill', limit, start + 60, 1); // about 4 calls a millisecond: not yet at the limit
      const before = total(gws);
      await tmHubs[0]!.close(); // the replica's connection dies with leases in flight
      await hammer(gws, 'kill', limit, start + W - 20, 1);
      const killed = total(gws);
      const killedRefusal = gws[0]!.tally.timeToRefuse(start + W);
      reset(gws);
      await hammer(gws, 'kill', limit, start + W + 1_000, 1);
      const after = total(gws);
      const afterRefusal = gws[0]!.tally.timeToRefuse(start + 2 * W);
      process.stderr.write(
        `# lease accuracy, nats, 2 TMs on KV, N=4, L=${L}: ${before} admitted before one TM died, ${killed} in that window (${gws.reduce((n, g) => n + g.warnings.length, 0)} gateway fallbacks; ${describeRefusal(killedRefusal)}), ${after} in the next (${describeRefusal(afterRefusal)})\n`,
      );
      assert.ok(before < L && killed <= L * 1.05, `window with a TM lost: ${killed}`);
      assert.ok(after <= L && after >= L * 0.99, `next window: ${after}`);
      assert.equal(afterRefusal?.gateways, 4, 'next window: every gateway refuses after the limit');
      assert.ok(afterRefusal.ms < REFUSE_WITHIN_MS, `next window: ${afterRefusal.ms.toFixed(1)} ms from the limit to every gateway refusing`);
      assert.ok(gws.every((g) => !g.counter.inFallback));
    } finally {
      await Promise.all(tms.map((t) => t.stop()));
      await Promise.all([...hubs, ...tmHubs].map((h) => h.close()));
      const admin = await openKvWindowStore({ servers: [natsUrl()], bucket });
      await admin.destroy().finally(() => admin.close());
    }
  });
});
