import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '@gatehouse/testing';
import { Upstreams, defaultUpstreamOptions, type Endpoint } from '../src/upstream.ts';

// The circuit breaker's states on a fake clock (no request is sent: pools connect lazily).
const clock = new FakeClock(1_000_000);
const changes: string[] = [];
const upstreams = new Upstreams({
  ...defaultUpstreamOptions,
  breaker: { threshold: 3, cooldownMs: 1_000, maxCooldownMs: 3_000 },
  onBreakerChange: (e, state) => changes.push(`${e.url} ${state}`),
});
after(() => upstreams.close());

function failTimes(e: Endpoint, n: number): void {
  for (let i = 0; i < n; i++) e.failed(clock.now());
}

describe('an endpoint\'s breaker', () => {
  it('opens after `threshold` consecutive failures; a success in between starts the count again', () => {
    const [e] = upstreams.endpointSet({ type: 'http', urls: ['http://10.0.0.1:1/a'] }).endpoints;
    failTimes(e, 2);
    e.succeeded();
    failTimes(e, 2);
    assert.equal(e.state(clock.now()), 'closed');
    assert.equal(e.acquire(clock.now()), true);
    e.failed(clock.now());
    assert.equal(e.state(clock.now()), 'open');
    assert.equal(e.acquire(clock.now()), false);
    assert.equal(e.suspendedFor(clock.now()), 1_000);
    assert.deepEqual(changes.splice(0), ['http://10.0.0.1:1/a open']);
  });

  it('half-opens after the cooldown for exactly one probe; the probe\'s success closes it', () => {
    const [e] = upstreams.endpointSet({ type: 'http', urls: ['http://10.0.0.2:1/'] }).endpoints;
    failTimes(e, 3);
    clock.advance(999);
    assert.equal(e.acquire(clock.now()), false);
    clock.advance(1);
    assert.equal(e.acquire(clock.now()), true, 'the probe');
    assert.equal(e.acquire(clock.now()), false, 'no second call while the probe decides');
    assert.equal(e.state(clock.now()), 'half-open');
    e.succeeded();
    assert.equal(e.state(clock.now()), 'closed');
    assert.equal(e.acquire(clock.now()), true);
    assert.equal(e.acquire(clock.now()), true);
    assert.deepEqual(changes.splice(0), ['http://10.0.0.2:1/ open', 'http://10.0.0.2:1/ half-open', 'http://10.0.0.2:1/ closed']);
  });

  it('a failed probe opens it again for twice as long, up to the maximum; success resets the cooldown', () => {
    const [e] = upstreams.endpointSet({ type: 'http', urls: ['http://10.0.0.3:1/'] }).endpoints;
    failTimes(e, 3);
    for (const expected of [2_000, 3_000, 3_000]) {
      clock.advance(e.suspendedFor(clock.now()));
      assert.equal(e.acquire(clock.now()), true);
      e.failed(clock.now());
      assert.equal(e.suspendedFor(clock.now()), expected);
    }
    clock.advance(3_000);
    assert.equal(e.acquire(clock.now()), true);
    e.succeeded();
    failTimes(e, 3);
    assert.equal(e.suspendedFor(clock.now()), 1_000, 'back to the first cooldown');
  });

  it('a probe that ends without a verdict (the client left) frees the half-open slot', () => {
    const [e] = upstreams.endpointSet({ type: 'http', urls: ['http://10.0.0.4:1/'] }).endpoints;
    failTimes(e, 3);
    clock.advance(1_000);
    assert.equal(e.acquire(clock.now()), true);
    e.released();
    assert.equal(e.acquire(clock.now()), true, 'another call may probe');
  });

  it('failures of calls that left before it opened do not extend it', () => {
    const [e] = upstreams.endpointSet({ type: 'http', urls: ['http://10.0.0.5:1/'] }).endpoints;
    failTimes(e, 3);
    clock.advance(500);
    failTimes(e, 5);
    assert.equal(e.suspendedFor(clock.now()), 500);
  });

  it('is kept per URL, so a redeploy does not reset a failing backend', () => {
    const url = 'http://10.0.0.6:1/';
    const [e] = upstreams.endpointSet({ type: 'http', urls: [url] }).endpoints;
    failTimes(e, 3);
    const [again] = upstreams.endpointSet({ type: 'failover', urls: [url, 'http://10.0.0.7:1/'] }).endpoints;
    assert.equal(again, e);
    assert.equal(again.state(clock.now()), 'open');
  });
});

describe('picking endpoints', () => {
  it('load_balance goes round robin and skips open breakers', () => {
    const set = upstreams.endpointSet({ type: 'load_balance', urls: ['http://10.1.0.1:1/', 'http://10.1.0.2:1/', 'http://10.1.0.3:1/'] });
    const picks = () => Array.from({ length: 6 }, () => set.pick(0, clock.now())?.url.slice(7, 15));
    assert.deepEqual(picks().sort(), ['10.1.0.1', '10.1.0.1', '10.1.0.2', '10.1.0.2', '10.1.0.3', '10.1.0.3']);
    failTimes(set.endpoints[1], 3);
    assert.deepEqual(new Set(picks()), new Set(['10.1.0.1', '10.1.0.3']));
  });

  it('failover takes the first available in order, and a retry skips what it tried', () => {
    const set = upstreams.endpointSet({ type: 'failover', urls: ['http://10.2.0.1:1/', 'http://10.2.0.2:1/', 'http://10.2.0.3:1/'] });
    const first = set.pick(0, clock.now());
    assert.equal(first, set.endpoints[0]);
    const second = set.pick(set.mark(0, first as Endpoint), clock.now());
    assert.equal(second, set.endpoints[1]);
    failTimes(set.endpoints[0], 3);
    assert.equal(set.pick(0, clock.now()), set.endpoints[1]);
    const tried = set.mark(set.mark(0, set.endpoints[1]), set.endpoints[2]);
    assert.equal(set.pick(tried, clock.now()), undefined, 'nothing left: the first is open, the others tried');
  });

  it('says how long until some endpoint may be tried, 0 while one may', () => {
    const set = upstreams.endpointSet({ type: 'load_balance', urls: ['http://10.3.0.1:1/', 'http://10.3.0.2:1/'] });
    failTimes(set.endpoints[0], 3);
    assert.equal(set.suspendedFor(clock.now()), 0);
    clock.advance(400);
    failTimes(set.endpoints[1], 3);
    assert.equal(set.suspendedFor(clock.now()), 600);
    assert.equal(set.pick(0, clock.now()), undefined);
  });
});
