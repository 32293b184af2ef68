import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventsErrors, Topics, createInProcessHub, createQueuedHub } from '../src/index.ts';
import type { EventHub, HubEvent, Logger, PublishOptions, Topic } from '../src/index.ts';

/** An in-process hub that can be made to fail: `down` (disconnected) or `failing` (connected, publishes rejected). */
function flakyHub() {
  const inner = createInProcessHub();
  const state = { down: false, failing: false, attempts: [] as { type: string; msgId?: string }[] };
  const hub: EventHub = {
    ...inner,
    async publish<T>(topic: Topic, type: string, payload: T, opts?: PublishOptions): Promise<HubEvent<T>> {
      state.attempts.push({ type, msgId: opts?.msgId });
      if (state.down || state.failing) throw EventsErrors.create('EVENTS_ERR_PUBLISH_FAILED', { description: 'test: hub failing' });
      return inner.publish(topic, type, payload, opts);
    },
    isConnected: () => !state.down && inner.isConnected(),
  };
  return { hub, inner, state };
}

function recordingLogger() {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const logger: Logger = {
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
    debug: () => {},
  };
  return { logger, lines };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('queued hub (control-plane publishes never wait for the event hub)', () => {
  it('delivers at once through a healthy hub, in the same tick on the in-process transport', async () => {
    const { hub, inner } = flakyHub();
    const q = createQueuedHub(hub);
    const seen: string[] = [];
    await inner.subscribe(Topics.Notification, (e) => void seen.push(e.type));
    const e = await q.publish(Topics.Notification, 'API_UPDATE', { apiId: 'a' });
    assert.equal(e.seq, 0);
    await until(() => seen.length === 1);
    assert.deepEqual(seen, ['API_UPDATE']);
    await until(() => q.queue.stats().depth === 0);
    assert.equal(q.queue.stats().published, 1);
    await q.close();
  });

  it('a publish while the hub is down answers at once; the events go out in order once it is back', async () => {
    const { hub, inner, state } = flakyHub();
    const q = createQueuedHub(hub, { retryBaseMs: 10, retryMaxMs: 50 });
    const seen: string[] = [];
    await inner.subscribe(Topics.Notification, (e) => void seen.push(e.type));
    const revoked: string[] = [];
    await inner.subscribe<{ jti: string }>(Topics.TokenRevocation, (e) => void revoked.push(e.payload.jti));
    state.down = true;
    const t0 = performance.now();
    for (let i = 1; i <= 5; i++) await q.publish(Topics.Notification, `E${i}`, { i });
    await q.publish(Topics.TokenRevocation, 'token.revoked', { jti: 'j1' });
    const ms = performance.now() - t0;
    assert.ok(ms < 50, `6 publishes took ${ms} ms with the hub down`);
    await sleep(100);
    assert.deepEqual(seen, []);
    assert.equal(q.queue.stats().depth, 6);
    assert.ok(q.queue.stats().oldestAgeMs >= 90);
    state.down = false;
    await until(() => seen.length === 5 && revoked.length === 1, 2000);
    assert.deepEqual(seen, ['E1', 'E2', 'E3', 'E4', 'E5']);
    assert.deepEqual(revoked, ['j1']);
    assert.deepEqual(q.queue.stats(), { ...q.queue.stats(), depth: 0, published: 6, dropped: 0, oldestAgeMs: 0 });
    await q.close();
  });

  it('a rejected publish is retried with backoff and the same dedup id; the failures are counted and logged once', async () => {
    const { hub, inner, state } = flakyHub();
    const { logger, lines } = recordingLogger();
    const q = createQueuedHub(hub, { retryBaseMs: 5, retryMaxMs: 20, logger });
    const seen: string[] = [];
    await inner.subscribe(Topics.Notification, (e) => void seen.push(e.type));
    state.failing = true; // connected, but the store refuses (JetStream recovering, say)
    await q.publish(Topics.Notification, 'A', {});
    await q.publish(Topics.Notification, 'B', {});
    await until(() => state.attempts.length >= 4);
    const failures = q.queue.stats().failures;
    assert.ok(failures >= 3);
    assert.match(q.queue.stats().lastError ?? '', /hub failing/);
    // Only A is tried while it fails (B waits behind it: order per topic), always with one id.
    assert.ok(state.attempts.every((a) => a.type === 'A'));
    assert.equal(new Set(state.attempts.map((a) => a.msgId)).size, 1);
    state.failing = false;
    await until(() => seen.length === 2);
    assert.deepEqual(seen, ['A', 'B']);
    const warns = lines.filter((l) => l.level === 'warn');
    assert.ok(warns.length >= 1 && warns.length < failures, `${warns.length} warnings for ${failures} failures`);
    await q.close();
  });

  it('regression: a publish from a management call did not answer until NATS came back', async () => {
    // The hub's own publish can hang for its whole retry budget (15 s on NATS).
    const inner = createInProcessHub();
    let release!: () => void;
    const hung = new Promise<void>((r) => (release = r));
    const hub: EventHub = {
      ...inner,
      async publish(topic, type, payload, opts) {
        await hung;
        return inner.publish(topic, type, payload, opts);
      },
    };
    const q = createQueuedHub(hub);
    const t0 = performance.now();
    await q.publish(Topics.Notification, 'API_UPDATE', {});
    assert.ok(performance.now() - t0 < 20);
    assert.equal(q.queue.stats().depth, 1);
    release();
    await until(() => q.queue.stats().depth === 0);
    await q.close();
  });

  it('full: drops the oldest waiting event (never the one being published), logs an error and counts it', async () => {
    const { hub, inner, state } = flakyHub();
    const { logger, lines } = recordingLogger();
    const q = createQueuedHub(hub, { maxDepth: 3, retryBaseMs: 5, retryMaxMs: 10, logger });
    const seen: string[] = [];
    await inner.subscribe(Topics.Notification, (e) => void seen.push(e.type));
    state.failing = true;
    await q.publish(Topics.Notification, 'E1', {}); // in flight from here on
    await q.publish(Topics.Notification, 'E2', {});
    await q.publish(Topics.Notification, 'E3', {});
    await q.publish(Topics.Notification, 'E4', {});
    await q.publish(Topics.Notification, 'E5', {});
    assert.equal(q.queue.stats().depth, 3);
    assert.equal(q.queue.stats().dropped, 2);
    assert.equal(lines.filter((l) => l.level === 'error').length, 2);
    state.failing = false;
    await until(() => seen.length === 3);
    assert.deepEqual(seen, ['E1', 'E4', 'E5']);
    await q.close();
  });

  it('an event the hub keeps refusing is given up after maxAttempts, so the events behind it go out', async () => {
    const inner = createInProcessHub();
    const hub: EventHub = {
      ...inner,
      async publish(topic, type, payload, opts) {
        if (type === 'TOO_BIG') throw EventsErrors.create('EVENTS_ERR_PUBLISH_FAILED', { description: 'maximum payload exceeded' });
        return inner.publish(topic, type, payload, opts);
      },
    };
    const { logger, lines } = recordingLogger();
    const q = createQueuedHub(hub, { retryBaseMs: 1, retryMaxMs: 2, maxAttempts: 3, logger });
    const seen: string[] = [];
    await inner.subscribe(Topics.Notification, (e) => void seen.push(e.type));
    await q.publish(Topics.Notification, 'TOO_BIG', {});
    await q.publish(Topics.Notification, 'NEXT', {});
    await until(() => seen.length === 1);
    assert.deepEqual(seen, ['NEXT']);
    assert.equal(q.queue.stats().dropped, 1);
    assert.equal(q.queue.stats().failures, 3);
    assert.ok(lines.some((l) => l.level === 'error' && /gave up/.test(l.msg ?? '')));
    await q.close();
  });

  it('checks the event in the call: an unknown topic or a payload that is not JSON is refused at once', async () => {
    const q = createQueuedHub(createInProcessHub());
    await assert.rejects(q.publish('nope' as Topic, 'x', {}), (err) => EventsErrors.is(err, 'EVENTS_ERR_INVALID_TOPIC'));
    await assert.rejects(q.publish(Topics.Notification, 'x', { n: 1n }), (err) => EventsErrors.is(err, 'EVENTS_ERR_PUBLISH_FAILED'));
    assert.equal(q.queue.stats().depth, 0);
    await q.close();
  });

  it('queues a copy: the caller changing its object afterwards changes nothing', async () => {
    const { hub, inner, state } = flakyHub();
    const q = createQueuedHub(hub, { retryBaseMs: 5 });
    const seen: unknown[] = [];
    await inner.subscribe(Topics.Notification, (e) => void seen.push(e.payload));
    state.down = true;
    const payload = { apiId: 'a' };
    await q.publish(Topics.Notification, 'X', payload);
    payload.apiId = 'changed';
    state.down = false;
    await until(() => seen.length === 1);
    assert.deepEqual(seen, [{ apiId: 'a' }]);
    await q.close();
  });

  it('close waits for queued events to go out, and gives up on them after closeFlushMs with an error', async () => {
    const a = flakyHub();
    const seen: string[] = [];
    await a.inner.subscribe(Topics.Notification, (e) => void seen.push(e.type));
    const q1 = createQueuedHub(a.hub, { retryBaseMs: 5 });
    a.state.down = true;
    await q1.publish(Topics.Notification, 'late', {});
    setTimeout(() => (a.state.down = false), 50);
    await q1.close();
    assert.deepEqual(seen, ['late']);
    await assert.rejects(q1.publish(Topics.Notification, 'x', {}), (err) => EventsErrors.is(err, 'EVENTS_ERR_CLOSED'));

    const b = flakyHub();
    const { logger, lines } = recordingLogger();
    const q2 = createQueuedHub(b.hub, { closeFlushMs: 50, logger });
    b.state.down = true;
    await q2.publish(Topics.Notification, 'lost', {});
    const t0 = Date.now();
    await q2.close();
    assert.ok(Date.now() - t0 < 500);
    assert.ok(lines.some((l) => l.level === 'error' && /still queued/.test(l.msg ?? '')));
  });
});
