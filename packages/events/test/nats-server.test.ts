import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import { natsUrl, skipUnless, tempDir, uniqueName } from '@gatehouse/testing';
import { Topics, createEventHub, createNatsHub, createQueuedHub } from '../src/index.ts';
import type { EventHub } from '../src/index.ts';
import { streamName } from '../src/transports/nats/hub.ts';
import { captureLogger, collector } from './hub-suite.ts';
import { ThrowawayNats, dropStreams, freePort, waitUntil } from './nats-helpers.ts';

const skip = await skipUnless('nats');

describe('nats hub: server restart', { skip }, () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let server: ThrowawayNats;
  const hubs: EventHub[] = [];

  before(async () => {
    dir = await tempDir('gatehouse-nats-');
    server = new ThrowawayNats(await freePort(), dir.path);
    await server.start();
  });
  after(async () => {
    await Promise.all(hubs.map((h) => h.close()));
    await server.kill();
    await dir.remove();
  });

  it('an ordered subscriber resumes after a restart: every seq exactly once, in order', async () => {
    const logger = captureLogger();
    const opts = { servers: [server.url], prefix: 'restart', reconnectTimeWaitMs: 50, logger };
    const pub = await createNatsHub({ ...opts, source: 'publisher' });
    const subHub = await createNatsHub({ ...opts, source: 'gateway', publishTimeoutMs: 300 });
    hubs.push(pub, subHub);
    const c = collector<number>();
    await subHub.subscribe<number>(Topics.TokenRevocation, c.handler, { fromSeq: 1 });
    const N = 25;
    for (let i = 1; i <= N; i++) assert.equal((await pub.publish(Topics.TokenRevocation, 'token.revoked', i)).seq, i);
    await c.until(N);

    await server.kill();
    await waitUntil(() => !pub.isConnected() && !subHub.isConnected(), 'both hubs to see the disconnect');
    await assert.rejects(pub.ping(), { code: 'EVENTS_ERR_UNAVAILABLE' });
    await assert.rejects(pub.request('quota.lease', {}), { code: 'EVENTS_ERR_UNAVAILABLE' });
    // A publish during the outage waits (buffered, retried with the same Nats-Msg-Id) for the server.
    const duringOutage = pub.publish(Topics.TokenRevocation, 'token.revoked', N + 1);
    // ...up to publishTimeoutMs.
    await assert.rejects(subHub.publish(Topics.Analytics, 'lost', {}), { code: 'EVENTS_ERR_PUBLISH_FAILED' });

    await server.start();
    await waitUntil(() => pub.isConnected() && subHub.isConnected(), 'both hubs to reconnect');
    assert.equal((await duringOutage).seq, N + 1);
    for (let i = N + 2; i <= 2 * N; i++) await pub.publish(Topics.TokenRevocation, 'token.revoked', i);
    await c.until(2 * N, 15_000);
    await pub.ping();

    assert.deepEqual(c.seqs(), Array.from({ length: 2 * N }, (_, i) => i + 1));
    assert.deepEqual(c.events.map((e) => e.payload), Array.from({ length: 2 * N }, (_, i) => i + 1));
    assert.equal(await pub.lastSeq(Topics.TokenRevocation), 2 * N, 'the retried publish was stored once');
    assert.ok(logger.warns.some((l) => l.msg?.includes('disconnected')), 'the disconnect was logged');
  });

  it('regression: a subscriber got one event after a server restart, then nothing for over 40 s', async () => {
    const opts = { servers: [server.url], prefix: 'stall', reconnectTimeWaitMs: 50 };
    const pub = await createNatsHub({ ...opts, source: 'control-plane' });
    const subHub = await createNatsHub({ ...opts, source: 'gateway' });
    hubs.push(pub, subHub);
    const c = collector<number>();
    await subHub.subscribe<number>(Topics.Notification, c.handler, { fromSeq: 1 });
    await pub.publish(Topics.Notification, 'n', 1);
    await c.until(1);
    await server.kill();
    await waitUntil(() => !pub.isConnected() && !subHub.isConnected(), 'both hubs to see the disconnect');
    await server.start();
    await waitUntil(() => pub.isConnected() && subHub.isConnected(), 'both hubs to reconnect');
    const t0 = performance.now();
    for (let i = 2; i <= 6; i++) await pub.publish(Topics.Notification, 'n', i);
    await c.until(6, 3_000);
    assert.deepEqual(c.events.map((e) => e.payload), [1, 2, 3, 4, 5, 6]);
    assert.ok(performance.now() - t0 < 3_000);
  });

  it('queued hub: publishes answer at once while the server is down, and are stored once, in order, when it is back', async () => {
    const opts = { servers: [server.url], prefix: 'queued', reconnectTimeWaitMs: 50 };
    const inner = await createNatsHub({ ...opts, source: 'control-plane' });
    const pub = createQueuedHub(inner, { retryBaseMs: 20 });
    hubs.push(pub);
    await pub.publish(Topics.Notification, 'n', 1);
    assert.ok(await pub.queue.flush(5_000));

    await server.kill();
    await waitUntil(() => !inner.isConnected(), 'the publisher to see the disconnect');
    const t0 = performance.now();
    for (let i = 2; i <= 6; i++) await pub.publish(Topics.Notification, 'n', i);
    const ms = performance.now() - t0;
    assert.ok(ms < 50, `5 publishes with NATS down took ${ms} ms`);
    assert.equal(pub.queue.stats().depth, 5);

    await server.start();
    const back = performance.now();
    assert.ok(await pub.queue.flush(10_000), 'every queued event stored');
    const storedMs = performance.now() - back;
    // What a consumer reads from the stream: each event once, in publish order.
    const reader = await createNatsHub({ ...opts, source: 'gateway' });
    hubs.push(reader);
    const c = collector<number>();
    await reader.subscribe<number>(Topics.Notification, c.handler, { fromSeq: 1 });
    await c.until(6);
    assert.deepEqual(c.events.map((e) => e.payload), [1, 2, 3, 4, 5, 6]);
    assert.equal(await reader.lastSeq(Topics.Notification), 6, 'each stored once');
    assert.ok(storedMs < 5_000, `stored ${storedMs} ms after the server started`);
  });
});

describe('nats hub: waitOnFirstConnect', { skip }, () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let server: ThrowawayNats;
  const hubs: EventHub[] = [];

  before(async () => {
    dir = await tempDir('gatehouse-nats-late-');
    server = new ThrowawayNats(await freePort(), dir.path);
  });
  after(async () => {
    await Promise.all(hubs.map((h) => h.close()));
    await server.kill();
    await dir.remove();
  });

  it('a hub created while the server is down comes up when it starts; a subscription and a responder made before work', async () => {
    const logger = captureLogger();
    const opts = { servers: [server.url], prefix: 'late', reconnectTimeWaitMs: 50, connectTimeoutMs: 1000 };
    const started = Date.now();
    const hub = await createNatsHub({ ...opts, source: 'gateway', waitOnFirstConnect: true, logger });
    hubs.push(hub);
    assert.ok(Date.now() - started < 2000, 'created at once');
    assert.equal(hub.isConnected(), false);
    await assert.rejects(hub.ping(), { code: 'EVENTS_ERR_UNAVAILABLE' });
    await assert.rejects(hub.lastSeq(Topics.TokenRevocation), { code: 'EVENTS_ERR_UNAVAILABLE' });
    await assert.rejects(hub.request('quota.lease', {}), { code: 'EVENTS_ERR_UNAVAILABLE' });
    const c = collector<number>();
    const sub = await hub.subscribe<number>(Topics.TokenRevocation, c.handler);
    const gone = collector<number>();
    await (await hub.subscribe<number>(Topics.TokenRevocation, gone.handler)).unsubscribe();
    await hub.respond<{ n: number }, number>('echo', (req) => req.n + 1);
    assert.equal(sub.lastSeq, 0);

    await server.start();
    await waitUntil(() => hub.isConnected(), 'the hub to connect', 10_000);
    await hub.ping();
    const pub = await createNatsHub({ ...opts, source: 'control-plane' });
    hubs.push(pub);
    for (let i = 1; i <= 3; i++) await pub.publish(Topics.TokenRevocation, 'token.revoked', i);
    await c.until(3);
    assert.deepEqual(c.events.map((e) => e.payload), [1, 2, 3]);
    assert.equal(sub.lastSeq, 3);
    assert.equal(gone.events.length, 0, 'unsubscribed before the connection: nothing delivered');
    assert.equal(await pub.request<{ n: number }, number>('echo', { n: 41 }), 42);
    assert.deepEqual(logger.errors, []);
  });

  it('a publish made before the connection waits for it; close stops the background connection', async () => {
    const port = await freePort();
    const late = new ThrowawayNats(port, `${dir.path}/two`);
    const hub = await createNatsHub({ servers: [late.url], prefix: 'late2', reconnectTimeWaitMs: 50, publishTimeoutMs: 10_000, waitOnFirstConnect: true });
    try {
      const published = hub.publish(Topics.Notification, 'n', 1);
      await late.start();
      assert.equal((await published).seq, 1);
    } finally {
      await hub.close();
      await late.kill();
    }
    const never = await createNatsHub({ servers: [`nats://127.0.0.1:${await freePort()}`], reconnectTimeWaitMs: 50, publishTimeoutMs: 5_000, waitOnFirstConnect: true });
    const pending = never.publish(Topics.Notification, 'n', 1);
    await never.close();
    await assert.rejects(pending, { code: 'EVENTS_ERR_CLOSED' });
    await assert.rejects(never.subscribe(Topics.Notification, () => {}), { code: 'EVENTS_ERR_CLOSED' });
  });

  it('a refusal still rejects: wrong credentials are a config problem', async () => {
    const auth = new ThrowawayNats(await freePort(), `${dir.path}/three`, ['--user', 'a', '--pass', 'b']);
    await auth.start();
    try {
      await assert.rejects(createNatsHub({ servers: [auth.url], user: 'a', pass: 'wrong', connectTimeoutMs: 2000, waitOnFirstConnect: true }), { code: 'EVENTS_ERR_UNAVAILABLE' });
      await assert.rejects(createNatsHub({ servers: ['nats://bad host:x'], waitOnFirstConnect: true }), { code: 'EVENTS_ERR_UNAVAILABLE' });
      await assert.rejects(createNatsHub({ servers: [auth.url], credsFile: '/nonexistent/gw.creds', waitOnFirstConnect: true }), { code: 'EVENTS_ERR_UNAVAILABLE' });
    } finally {
      await auth.kill();
    }
  });
});

describe('nats hub: stream setup', { skip }, () => {
  const prefixes: string[] = [];
  const hubs: EventHub[] = [];
  after(async () => {
    await Promise.all(hubs.map((h) => h.close()));
    await dropStreams(prefixes);
  });

  it('several hubs creating the streams at once all succeed; a changed limit updates them', async () => {
    const prefix = uniqueName('ghev_conc');
    prefixes.push(prefix);
    const created = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => createNatsHub({ servers: [natsUrl()], prefix, source: `n${i}` })));
    for (const r of created) if (r.status === 'fulfilled') hubs.push(r.value);
    assert.deepEqual(created.map((r) => r.status), Array(6).fill('fulfilled'), String(created.map((r) => r.status === 'rejected' && r.reason.cause)));
    const seqs = await Promise.all(hubs.map((h) => h.publish(Topics.Gateway, 'registered', {}).then((e) => e.seq)));
    assert.deepEqual(seqs.sort(), [1, 2, 3, 4, 5, 6]);
    const changed = await createNatsHub({ servers: [natsUrl()], prefix, streamMaxAgeMs: 3600_000 });
    hubs.push(changed);
    assert.equal(await changed.lastSeq(Topics.Gateway), 6, 'the update kept the events');

    const nc = await connect({ servers: [natsUrl()] });
    const info = await (await jetstreamManager(nc)).streams.info(streamName(prefix, Topics.Gateway));
    await nc.close();
    assert.equal(info.config.max_age, nanos(3600_000));
    assert.deepEqual(info.config.subjects, [`${prefix}.events.gateway`]);
    assert.equal(info.config.storage, 'file');
  });

  it('createEventHub builds the NATS transport from the event_hub config', async () => {
    const prefix = uniqueName('ghev_cfg');
    prefixes.push(prefix);
    const hub = await createEventHub(
      { type: 'nats', servers: [natsUrl()], user: '', password: '', token: '', creds_file: '', stream_prefix: prefix },
      { source: 'gw-1' },
    );
    hubs.push(hub);
    const e = await hub.publish(Topics.Gateway, 'heartbeat', {});
    assert.deepEqual([e.seq, e.source], [1, 'gw-1']);
  });
});

describe('nats hub: connection failures', { skip }, () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let server: ThrowawayNats;
  const hubs: EventHub[] = [];

  before(async () => {
    dir = await tempDir('gatehouse-nats-auth-');
    server = new ThrowawayNats(await freePort(), dir.path, ['--user', 'a', '--pass', 'b']);
    await server.start();
  });
  after(async () => {
    await Promise.all(hubs.map((h) => h.close()));
    await server.kill();
    await dir.remove();
  });

  it('wrong credentials reject with EVENTS_ERR_UNAVAILABLE quickly', async () => {
    const started = Date.now();
    await assert.rejects(createNatsHub({ servers: [server.url], user: 'a', pass: 'wrong', connectTimeoutMs: 2000 }), { code: 'EVENTS_ERR_UNAVAILABLE' });
    await assert.rejects(createNatsHub({ servers: [server.url], connectTimeoutMs: 2000 }), { code: 'EVENTS_ERR_UNAVAILABLE' });
    assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
  });

  it('the right credentials connect', async () => {
    const hub = await createNatsHub({ servers: [server.url], user: 'a', pass: 'b', prefix: 'auth' });
    hubs.push(hub);
    await hub.ping();
    assert.equal((await hub.publish(Topics.Notification, 'x', {})).seq, 1);
  });

  it('no server reachable rejects with EVENTS_ERR_UNAVAILABLE quickly', async () => {
    const started = Date.now();
    await assert.rejects(createNatsHub({ servers: [`nats://127.0.0.1:${await freePort()}`], connectTimeoutMs: 1000 }), { code: 'EVENTS_ERR_UNAVAILABLE' });
    assert.ok(Date.now() - started < 3000);
  });
});

describe('nats hub: connect errors', () => {
  it('regression: the password of a server URL (nats://user:password@host) appeared in the connect error, which is logged', async () => {
    const err = await createNatsHub({ servers: [`nats://gw:s3cret-pw@127.0.0.1:${await freePort()}`, `tls://s3cret-token@127.0.0.1:${await freePort()}`, `gw:s3cret-bare@127.0.0.1:${await freePort()}`], connectTimeoutMs: 1000 }).then(
      () => assert.fail('connected to nothing'),
      (e: unknown) => e as Error & { description?: string },
    );
    const said = `${err.message} ${err.description ?? ''}`;
    assert.match(said, /nats:\/\/gw:\*\*\*@127\.0\.0\.1/);
    assert.doesNotMatch(said, /s3cret/);
  });
});
