import { it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import type { EventHub } from '@gatehouse/events';
import { LeaseService, MemoryWindowStore } from '@gatehouse/traffic-manager';
import { FakeClock } from '@gatehouse/testing';
import { Pending } from './counter.ts';
import { LeaseRateCounter } from './lease-counter.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const limit = { count: 40, windowMs: 60_000 };

/** A hub whose requests a Traffic Manager answers on the next tick, or fail while `down`. */
function hub(clock: FakeClock) {
  const tm = new LeaseService({ store: new MemoryWindowStore({ now: () => clock.now() }), now: () => clock.now() });
  const state = { down: false, requests: [] as { windowStart: number; used: number; want: number }[] };
  const h = {
    async request(_subject: string, payload: unknown) {
      state.requests.push(payload as (typeof state.requests)[number]);
      await tick();
      if (state.down) throw Object.assign(new Error('no responders'), { code: 'EVENTS_ERR_NO_RESPONDERS' });
      return tm.lease(payload);
    },
  } as unknown as EventHub;
  return { h, state };
}

const run = (c: LeaseRateCounter, clock: FakeClock, n: number) => Array.from({ length: n }, () => c.hit('k', limit, clock.now()).allowed).filter(Boolean).length;

/** A call as the throttling policy makes it: wait while the answer is pending. */
async function call(c: LeaseRateCounter, clock: FakeClock, key = 'k') {
  let d = c.hit(key, limit, clock.now());
  let waits = 0;
  while (d === Pending) {
    waits += 1;
    await c.settled(key);
    d = c.hit(key, limit, clock.now());
  }
  return { allowed: d.allowed, waits };
}

it('strict: a key\'s first call waits for its first lease (no 429 under the limit), then spends it', async () => {
  const clock = new FakeClock(T0 + 5_000);
  const { h, state } = hub(clock);
  const c = new LeaseRateCounter({ hub: h, gatewayId: 'gw', liveGateways: () => 1 });
  assert.equal(c.hit('k', limit, clock.now()), Pending);
  // 40 calls one after another, as clients would send them: every one admitted, only the first
  // waited (the rest found quota leased ahead, at half of each slice).
  const calls = [];
  for (let i = 0; i < 40; i++) {
    calls.push(await call(c, clock));
    await tick(); // the next request comes in later, as over a network
  }
  assert.deepEqual([calls.filter((r) => r.allowed).length, calls.filter((r) => r.waits > 0).length], [40, 1]);
  const asked = state.requests.length;
  assert.deepEqual(await call(c, clock), { allowed: false, waits: 0 }, 'the 41st: the Traffic Manager said it has nothing left');
  assert.equal(state.requests.length, asked, 'refused without asking');
  assert.deepEqual(state.requests.slice(0, 3).map((r) => [r.used, r.want]), [[0, 10], [5, 10], [14, 10]]);
});

it('strict: calls that find the quota spent while a lease is on its way wait for it together', async () => {
  const clock = new FakeClock(T0);
  const { h } = hub(clock);
  const c = new LeaseRateCounter({ hub: h, gatewayId: 'gw', liveGateways: () => 1 });
  // 40 concurrent calls on a new key: they wait for leases (10, 7, 5, ...) and all get in.
  const results = await Promise.all(Array.from({ length: 40 }, () => call(c, clock)));
  assert.equal(results.filter((r) => r.allowed).length, 40);
  assert.equal((await call(c, clock)).allowed, false);
});

it('leases a key\'s next window ahead, so its first call there does not wait', async () => {
  const clock = new FakeClock(T0 + 58_000);
  const { h, state } = hub(clock);
  const c = new LeaseRateCounter({ hub: h, gatewayId: 'gw', liveGateways: () => 1 });
  assert.equal((await call(c, clock)).allowed, true);
  clock.set(T0 + 59_100); // within the last second (min(60 s / 5, 1 s)): the next window is leased
  assert.equal(c.hit('k', limit, clock.now()).allowed, true);
  await tick();
  await tick();
  assert.deepEqual(state.requests.at(-1)?.windowStart, T0 + 60_000);
  clock.set(T0 + 60_000);
  const d = c.hit('k', limit, clock.now());
  assert.deepEqual([d.allowed, d.resetAt], [true, T0 + 120_000]);
  assert.equal(state.requests.filter((r) => r.windowStart === T0 + 60_000).length, 1);
});

it('a throttle decision refuses the key until the window ends without asking, once what is held is spent', async () => {
  const clock = new FakeClock(T0 + 1_000);
  const { h, state } = hub(clock);
  const a = new LeaseRateCounter({ hub: h, gatewayId: 'a', liveGateways: () => 2 });
  const b = new LeaseRateCounter({ hub: h, gatewayId: 'b', liveGateways: () => 2 });
  assert.equal((await call(a, clock)).allowed, true); // a holds floor(40 / 8) = 5, spent 1
  const decision = { key: 'k', windowStart: T0, windowMs: 60_000, until: T0 + 60_000 };
  a.decide(decision);
  b.decide(decision);
  const asked = state.requests.length;
  assert.equal(run(a, clock, 10), 4, 'a spends what it holds, then refuses');
  assert.equal(b.refuses('k', clock.now()), true);
  assert.equal(b.hit('k', limit, clock.now()).allowed, false, 'b never asks');
  assert.equal(state.requests.length, asked);
  clock.set(T0 + 60_000);
  assert.equal(b.refuses('k', clock.now()), false, 'over at the window end');
});

it('not strict: admits a first-hit allowance of floor(limit / (k · live)) that the first lease accounts', async () => {
  const clock = new FakeClock(T0);
  const { h, state } = hub(clock);
  const c = new LeaseRateCounter({ hub: h, gatewayId: 'gw', liveGateways: () => 2, strict: false });
  assert.equal(run(c, clock, 10), 5); // floor(40 / 8), while the first lease (asked at the first hit) is in flight
  await tick();
  await tick();
  // That lease (5) is what the allowance spent: nothing held, the next one reports used = 5.
  assert.equal(run(c, clock, 10), 0);
  await tick();
  await tick();
  assert.equal(run(c, clock, 10), 5);
  assert.deepEqual(state.requests.map((r) => r.used), [0, 5, 8]);
});

it('counts bytes after the fact (bandwidth): an overdraw is reported and accounted', async () => {
  const clock = new FakeClock(T0);
  const { h, state } = hub(clock);
  const bytes = { count: 4000, windowMs: 60_000, bytes: true };
  const c = new LeaseRateCounter({ hub: h, gatewayId: 'gw', liveGateways: () => 1 });
  assert.equal(c.hit('b', bytes, clock.now(), 0), Pending);
  await c.settled('b');
  assert.equal(c.hit('b', bytes, clock.now(), 100).allowed, true); // holds 1000 bytes
  c.charge('b', bytes, clock.now(), 1500); // the response: 1600 spent of 1000 held
  assert.equal(c.hit('b', bytes, clock.now(), 0), Pending);
  await c.settled('b');
  assert.equal(state.requests.at(-1)?.used, 1600);
  assert.equal(c.hit('b', bytes, clock.now(), 0).allowed, true); // 4000 - 1600 = 2400 left: floor(2400 / 4) = 600 more
});

it('falls back to limit / live when the Traffic Manager fails, and recovers on the next answer', async () => {
  const clock = new FakeClock(T0);
  const { h, state } = hub(clock);
  const warned: string[] = [];
  const logger = { info() {}, debug() {}, error() {}, warn: (_o: object, m: string) => warned.push(m) } as never;
  const c = new LeaseRateCounter({ hub: h, gatewayId: 'gw', liveGateways: () => 4, probeIntervalMs: 1_000, logger });
  state.down = true;
  assert.deepEqual(await call(c, clock), { allowed: true, waits: 1 }, 'the waiting call is admitted on local limits');
  assert.equal(c.inFallback, true);
  assert.equal(run(c, clock, 20), 9); // floor(40 / 4) = 10, counted in this window
  assert.equal(warned.length, 1);
  state.down = false;
  clock.advance(60_000); // next window; the probe is due
  assert.equal(run(c, clock, 1), 1);
  await tick();
  await tick();
  assert.equal(c.inFallback, false);
});
