import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, natsUrl, skipUnless, uniqueName } from '@gatehouse/testing';
import type { KvWindowStore } from './kv-store.ts';
import { LeaseService } from './leases.ts';
import { MemoryWindowStore, openKvWindowStore, type WindowStore } from './store.ts';
import type { LeaseRequest } from './protocol.ts';

const W = 60_000;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);


const req = (gatewayId: string, want: number, used: number, windowStart = T0, limit = 100): LeaseRequest => ({ key: 'k', limit, windowMs: W, windowStart, want, gatewayId, used });

/** The same table for every store: the arithmetic must not depend on where the state lives. */
function leaseSuite(name: string, newStore: (clock: FakeClock) => Promise<WindowStore>, opts: { skip?: string | false } = {}): void {
  describe(`lease arithmetic, ${name} store`, opts, () => {
    const service = async (clock: FakeClock) => new LeaseService({ store: await newStore(clock), now: () => clock.now(), slicing: 4 });

    it('leases slices that shrink as the window fills, never past the limit', async () => {
      const clock = new FakeClock(T0 + 1_000);
      const tm = await service(clock);
      // limit 100, k = 4: one live gateway gets floor(remaining / 4) at most
      const table: [string, number, number, number, number][] = [
        // [gateway, want, used, granted, remaining]
        ['a', 50, 0, 25, 75], // floor(100 / 4)
        ['a', 50, 25, 18, 57], // floor(75 / 4)
        ['b', 50, 0, 7, 50], // b is live too: floor(57 / 8)
        ['a', 3, 43, 3, 47], // want caps the slice
        ['b', 50, 7, 5, 42],
      ];
      for (const [i, [gw, want, used, granted, remaining]] of table.entries()) {
        assert.deepEqual(await tm.lease(req(gw, want, used)), { granted, windowStart: T0, remaining }, `row ${i}`);
      }
      // drain it: slices go down to 1, then 0 once all 100 are leased
      let total = 100 - 42;
      for (let i = 0; i < 200; i++) total += (await tm.lease(req(i % 2 ? 'a' : 'b', 50, 0))).granted;
      assert.equal(total, 100);
      assert.deepEqual(await tm.lease(req('a', 50, 0)), { granted: 0, windowStart: T0, remaining: 0 });
    });

    it('grants one at a time at the end of a window, and never below 1 while some is left', async () => {
      const clock = new FakeClock(T0);
      const tm = await service(clock);
      assert.equal((await tm.lease(req('a', 1000, 0, T0, 3))).granted, 1); // floor(3 / 4) = 0, raised to 1
      assert.equal((await tm.lease(req('a', 1000, 0, T0, 3))).granted, 1);
      assert.deepEqual(await tm.lease(req('a', 1000, 0, T0, 3)), { granted: 1, windowStart: T0, remaining: 0 });
      assert.equal((await tm.lease(req('a', 1000, 0, T0, 3))).granted, 0);
    });

    it('starts over in every window and refuses windows that are over', async () => {
      const clock = new FakeClock(T0 + 59_999);
      const tm = await service(clock);
      assert.equal((await tm.lease(req('a', 100, 0, T0))).granted, 25);
      clock.advance(1); // 12:01:00.000
      assert.deepEqual(await tm.lease(req('a', 100, 0, T0)), { granted: 0, windowStart: T0, remaining: 0 });
      assert.deepEqual(await tm.lease(req('a', 100, 0, T0 + W)), { granted: 25, windowStart: T0 + W, remaining: 75 });
    });

    it('counts what a gateway admitted unleased (first-hit allowance, fallback), even past the limit', async () => {
      const clock = new FakeClock(T0);
      const tm = await service(clock);
      const table: [string, number, number, number, number][] = [
        // [gateway, want, used, granted, remaining]
        ['a', 10, 6, 10, 84], // a admitted 6 before its first lease: 100 - 6 = 94, floor(94/4) = 23, want 10
        ['a', 0, 16, 0, 84], // a reports it spent its 16: nothing more to count
        ['b', 100, 90, 0, 0], // b admitted 90 on local limits: 10 + 6 + 90 > 100, nothing left
        ['a', 100, 16, 0, 0],
      ];
      for (const [i, [gw, want, used, granted, remaining]] of table.entries()) {
        assert.deepEqual(await tm.lease(req(gw, want, used)), { granted, windowStart: T0, remaining }, `row ${i}`);
      }
    });

    it('sends a grant whose reply was lost again, once, and only to the run it was granted to', async () => {
      const tm = await service(new FakeClock(T0));
      const ask = (granted: number, used: number, session = 's1') => tm.lease({ ...req('a', 10, used), granted, session });
      assert.equal((await ask(0, 0)).granted, 10); // reply lost: the gateway still thinks it has 0
      assert.deepEqual(await ask(0, 0), { granted: 10 + 10, windowStart: T0, remaining: 80 }, 'the lost 10 again, plus a new slice');
      assert.equal((await ask(20, 15)).granted, 10, 'nothing lost any more');
      // A restarted gateway (new run) that reports less is not sent its previous run's grants.
      assert.deepEqual(await ask(0, 0, 's2'), { granted: 10, windowStart: T0, remaining: 60 });
      // A gateway that overdrew (bytes) past what it received gets only the difference.
      // (b is the second live gateway: slices of floor(remaining / 8))
      assert.deepEqual(await tm.lease({ ...req('b', 10, 0), granted: 0, session: 'b' }), { granted: 7, windowStart: T0, remaining: 53 });
      assert.deepEqual(await tm.lease({ ...req('b', 10, 4), granted: 0, session: 'b' }), { granted: 3 + 6, windowStart: T0, remaining: 47 });
    });

    it('rejects malformed requests', async () => {
      const tm = await service(new FakeClock(T0));
      await assert.rejects(tm.lease({ ...req('a', 1, 0), windowStart: T0 + 1 }), RangeError);
      await assert.rejects(tm.lease({ ...req('a', 1, 0), limit: -1 }), RangeError);
      await assert.rejects(tm.lease(null), RangeError);
    });

    it('re-applies a request that lost a compare-and-set race, so a key counts once', async () => {
      const clock = new FakeClock(T0);
      const store = await newStore(clock);
      // two replicas on one store, asked at the same time
      const a = new LeaseService({ store, now: () => clock.now() });
      const b = new LeaseService({ store, now: () => clock.now() });
      const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).lease(req(`gw${i % 4}`, 10, 0))));
      assert.equal(replies.reduce((n, r) => n + r.granted, 0), 100);
      assert.ok(a.stats.conflicts + b.stats.conflicts > 0);
    });
  });
}

leaseSuite('memory', async (clock) => new MemoryWindowStore({ now: () => clock.now() }));

const skip = await skipUnless('nats');
const buckets: KvWindowStore[] = [];
leaseSuite(
  'NATS JetStream KV',
  async () => {
    const store = await openKvWindowStore({ servers: [natsUrl()], bucket: uniqueName('ghtm_kv') });
    buckets.push(store);
    return store;
  },
  { skip },
);
after(async () => {
  for (const b of buckets) await b.destroy().finally(() => b.close());
});
