import { it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '@gatehouse/testing';
import { LocalRateCounter } from './counter.ts';
import { toRuntimePolicy, windowMs } from './limits.ts';

it('admits exactly the limit per window and resets at the window boundary', () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 12, 0, 0));
  const c = new LocalRateCounter();
  const limit = { count: 3, windowMs: 60_000 };
  const table: [number, boolean, number][] = [
    // [advance ms, allowed, remaining]
    [0, true, 2],
    [10_000, true, 1],
    [10_000, true, 0],
    [10_000, false, 0],
    [29_999, false, 0],
    [1, true, 2], // 12:01:00.000: a new window
  ];
  for (const [i, [advance, allowed, remaining]] of table.entries()) {
    clock.advance(advance);
    const d = c.hit('k', limit, clock.now());
    assert.deepEqual([d.allowed, d.remaining], [allowed, remaining], `row ${i}`);
  }
  assert.equal(c.hit('k', limit, clock.now()).resetAt, Date.UTC(2026, 0, 1, 12, 2, 0));
});

it('keeps keys apart', () => {
  const c = new LocalRateCounter();
  const limit = { count: 1, windowMs: 1_000 };
  assert.equal(c.hit('a', limit, 5).allowed, true);
  assert.equal(c.hit('a', limit, 6).allowed, false);
  assert.equal(c.hit('b', limit, 6).allowed, true);
});

it('reads WSO2 policies: units, Unlimited, burst control, stop on quota', () => {
  assert.equal(windowMs('min', 1), 60_000);
  assert.equal(windowMs('hour', 2), 7_200_000);
  assert.equal(windowMs('fortnight', 1), undefined);
  assert.deepEqual(
    toRuntimePolicy({ kind: 'subscription', name: 'Gold', defaultLimit: { type: 'REQUESTCOUNTLIMIT', requestCount: { timeUnit: 'min', unitTime: 1, requestCount: 5000 } }, details: { rateLimitCount: 10, rateLimitTimeUnit: 'sec', stopOnQuotaReach: true } }),
    { kind: 'subscription', name: 'Gold', limit: { count: 5000, windowMs: 60_000 }, burst: { count: 10, windowMs: 1_000 }, stopOnQuotaReach: true },
  );
  assert.equal(toRuntimePolicy({ kind: 'subscription', name: 'Unlimited', defaultLimit: { type: 'REQUESTCOUNTLIMIT', requestCount: { timeUnit: 'min', unitTime: 1, requestCount: 2147483647 } } })?.limit, undefined);
  assert.equal(toRuntimePolicy({ kind: 'custom', name: 'x', defaultLimit: null }), undefined);
  assert.equal(toRuntimePolicy({ kind: 'application', name: 'Bronze', defaultLimit: null })?.limit, undefined);
});
