import { it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import type { EventHub } from '@gatehouse/events';
import { LeaseService, MemoryWindowStore } from '@gatehouse/traffic-manager';
import { FakeClock } from '@gatehouse/testing';
import { LeaseRateCounter } from './lease-counter.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const limit = { count: 40, windowMs: 60_000 };

/** A hub whose requests a Traffic Manager answers on the next tick, or fail while `down`. */
function hub(clock: FakeClock) {
  const tm = new LeaseService({ store: new MemoryWindowStore({ now: () => clock.now() }), now: () => clock.now() });
  const state = { down: false, requests: [] as unknown[] };
  const h = {
    async request(_subject: string, payload: unknown) {
      state.requests.push(payload);
      await tick();
      if (state.down) throw Object.assign(new Error('no responders'), { code: 'EVENTS_ERR_NO_RESPONDERS' });
      return tm.lease(payload);
    },
  } as unknown as EventHub;
  return { h, state };
}

const run = (c: LeaseRateCounter, clock: FakeClock, n: number) => Array.from({ length: n }, () => c.hit('k', limit, clock.now()).allowed).filter(Boolean).length;

it('strict: refuses a key until its first lease arrives (Retry-After 1 s), then spends the lease', async () => {
  const clock = new FakeClock(T0 + 5_000);
  const { h, state } = hub(clock);
  const c = new LeaseRateCounter({ hub: h, gatewayId: 'gw', liveGateways: () => 1 });
  const first = c.hit('k', limit, clock.now());
  assert.deepEqual([first.allowed, first.resetAt - clock.now()], [false, 1_000]);
  await tick();
  await tick();
  // slice floor(40 / 4) = 10; asks for more at half of it, in the background
  assert.equal(run(c, clock, 10), 10);
  assert.deepEqual(state.requests.map((r) => (r as { used: number }).used), [0, 5]);
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
  assert.deepEqual(state.requests.map((r) => (r as { used: number }).used), [0, 5, 8]);
});

it('falls back to limit / live when the Traffic Manager fails, and recovers on the next answer', async () => {
  const clock = new FakeClock(T0);
  const { h, state } = hub(clock);
  const warned: string[] = [];
  const logger = { info() {}, debug() {}, error() {}, warn: (_o: object, m: string) => warned.push(m) } as never;
  const c = new LeaseRateCounter({ hub: h, gatewayId: 'gw', liveGateways: () => 4, probeIntervalMs: 1_000, logger });
  state.down = true;
  c.hit('k', limit, clock.now());
  await tick();
  await tick();
  assert.equal(c.inFallback, true);
  assert.equal(run(c, clock, 20), 10); // floor(40 / 4), counted in this window
  assert.equal(warned.length, 1);
  state.down = false;
  clock.advance(60_000); // next window; the probe is due
  assert.equal(run(c, clock, 1), 1);
  await tick();
  await tick();
  assert.equal(c.inFallback, false);
});
