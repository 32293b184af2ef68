import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { loadConfig } from '@gatehouse/config';
import { createEventHub, createInProcessHub, createNatsHub, Topics, type HubEvent } from '@gatehouse/events';
import { freePorts, tempDir } from '@gatehouse/testing';
import { NATS_SERVER_BIN, PrivateNats } from '@gatehouse/testing/cluster';
import { createTrafficManager, LeaseSubject, ThrottleDecisionType, type LeaseReply, type LeaseRequest, type ThrottleDecision, type TrafficManager } from '../src/index.ts';

const silent = { info() {}, warn() {}, error() {}, debug() {}, fatal() {}, trace() {}, child: () => silent } as never;
const hub = createInProcessHub();
const metrics = new Registry();
let tm: TrafficManager;

before(async () => {
  tm = createTrafficManager(loadConfig({ argv: ['--traffic_manager.health_port', '0'], env: {} }), { hub, logger: silent, metrics });
  await tm.start();
});
after(async () => {
  await tm.stop();
  await hub.close();
});

const hourStart = () => {
  const now = Date.now();
  return now - (now % 3_600_000);
};

it('answers lease requests on the hub and counts them in /metrics', async () => {
  const req: LeaseRequest = { key: 'api|x', limit: 40, windowMs: 3_600_000, windowStart: hourStart(), want: 100, gatewayId: 'gw-1', used: 0 };
  assert.deepEqual(await hub.request<LeaseRequest, LeaseReply>(LeaseSubject, req), { granted: 10, windowStart: req.windowStart, remaining: 30 });
  await assert.rejects(hub.request(LeaseSubject, { key: 'api|x' }), { code: 'EVENTS_ERR_RESPONDER_FAILED' });
  const url = tm.urls()[0]!.split(' ').at(-1)!;
  assert.equal((await fetch(url)).status, 200);
  const text = await (await fetch(url.replace('/health/ready', '/metrics'))).text();
  assert.match(text, /gatehouse_tm_lease_requests_total\{result="granted"\} 1/);
  assert.match(text, /gatehouse_tm_lease_requests_total\{result="error"\} 1/);
  assert.match(text, /gatehouse_tm_lease_granted_total 10/);
  assert.match(text, /gatehouse_tm_live_gateways 1/);
});

it('broadcasts one throttle decision on throttleData when a key\'s window is spent', async () => {
  const seen: HubEvent<ThrottleDecision>[] = [];
  const sub = await hub.subscribe<ThrottleDecision>(Topics.ThrottleData, (e) => {
    if (e.type === ThrottleDecisionType) seen.push(e);
  });
  try {
    const windowStart = hourStart();
    const req = (gatewayId: string): LeaseRequest => ({ key: 'sub|app|api', limit: 7, windowMs: 3_600_000, windowStart, want: 100, gatewayId, used: 0 });
    let granted = 0;
    for (let i = 0; i < 12; i++) granted += (await hub.request<LeaseRequest, LeaseReply>(LeaseSubject, req(`gw-${i % 2}`))).granted;
    assert.equal(granted, 7);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(seen.length, 1, 'once, however many ask after');
    assert.deepEqual({ ...seen[0]!.payload, reachedAt: 0 }, { key: 'sub|app|api', windowStart, windowMs: 3_600_000, until: windowStart + 3_600_000, reachedAt: 0 });
    const url = tm.urls()[0]!.split(' ').at(-1)!.replace('/health/ready', '/metrics');
    assert.match(await (await fetch(url)).text(), /gatehouse_tm_decisions_total\{result="published"\} 1/);
  } finally {
    await sub.unsubscribe();
  }
});

it('refuses a JetStream KV store on the in-process event hub: a config problem', async () => {
  const config = loadConfig({ argv: ['--traffic_manager.health_port', '0', '--traffic_manager.store', 'nats-kv'], env: {} });
  const other = createTrafficManager(config, { hub, logger: silent });
  await assert.rejects(other.start(), /needs event_hub.type = "nats"/);
});

describe('a JetStream KV traffic manager and a NATS outage', { skip: existsSync(NATS_SERVER_BIN) ? false : 'nats-server is not installed' }, () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let nats: PrivateNats;
  const closers: (() => Promise<unknown>)[] = [];
  before(async () => {
    dir = await tempDir('gatehouse-tm-kv-');
    const [port] = await freePorts(1);
    nats = new PrivateNats({ dir: join(dir.path, 'nats'), port: port!, logFile: join(dir.path, 'nats.log') });
  });
  after(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    await nats.close();
    await dir.remove();
  });

  it('starts before NATS, unready and saying why, then serves leases; survives NATS going away and coming back, counts kept', async () => {
    const lines: { level: string; msg: string }[] = [];
    const logger = {
      ...Object.fromEntries(['info', 'warn', 'error', 'debug', 'fatal', 'trace'].map((level) => [level, (_o: unknown, msg: string) => lines.push({ level, msg })])),
      child: () => logger,
    } as never;
    const flags = ['--event-hub', nats.url, '--event_hub.user', nats.platform.user, '--event_hub.password', nats.platform.password];
    const config = loadConfig({ argv: ['--traffic_manager.health_port', '0', '--traffic_manager.store', 'nats-kv', ...flags], env: {} });
    const tmHub = await createEventHub(config.event_hub, { source: 'tm', waitOnFirstConnect: true });
    closers.push(() => tmHub.close());
    const kvTm = createTrafficManager(config, { hub: tmHub, logger });
    await kvTm.start();
    closers.push(() => kvTm.stop());
    const base = kvTm.urls()[0]!.split(' ').at(-1)!.replace('/health/ready', '');
    const checks = async () => ((await (await fetch(`${base}/health`)).json()) as { checks: { name: string; status: string; error?: string }[] }).checks;

    assert.equal((await fetch(`${base}/health/ready`)).status, 503);
    const store = (await checks()).find((c) => c.name === 'window-store');
    assert.equal(store?.status, 'DOWN');
    assert.match(store?.error ?? '', /JetStream KV bucket gatehouse_throttle not open: NATS is unreachable/);
    assert.ok(lines.some((l) => l.level === 'warn' && /NATS is unreachable: not ready and serving no lease/.test(l.msg)), 'says why in its log');

    await nats.start();
    const gw = await createNatsHub({ servers: [nats.url], user: nats.platform.user, pass: nats.platform.password, source: 'gw', reconnectTimeWaitMs: 50, waitOnFirstConnect: true });
    closers.push(() => gw.close());
    const windowStart = hourStart();
    const req: LeaseRequest = { key: 'api|outage', limit: 40, windowMs: 3_600_000, windowStart, want: 100, gatewayId: 'gw-1', used: 0 };
    const lease = async () => {
      for (const started = Date.now(); ; await sleep(100)) {
        try {
          return await gw.request<LeaseRequest, LeaseReply>(LeaseSubject, req, { timeoutMs: 5_000 });
        } catch (err) {
          if (Date.now() - started > 20_000) throw err;
        }
      }
    };
    const first = await lease();
    assert.deepEqual(first, { granted: 10, windowStart, remaining: 30 });
    assert.equal((await fetch(`${base}/health/ready`)).status, 200);
    assert.ok(lines.some((l) => /JetStream KV store open/.test(l.msg)));

    // Longer than 10 reconnect attempts (the NATS client's default budget, after which the store's
    // connection used to close for good).
    await nats.stop();
    await sleep(6_000);
    assert.equal((await fetch(`${base}/health/ready`)).status, 503);
    assert.equal((await checks()).find((c) => c.name === 'window-store')?.status, 'DOWN');
    await nats.start();
    const second = await lease();
    assert.ok(second.granted > 0);
    // At most what was left (a retried request whose reply was lost also took its slice); a count
    // lost with the outage would start again from the limit (40).
    assert.ok(second.granted + second.remaining <= first.remaining, `the count survived in the bucket: ${JSON.stringify(second)}`);
    for (const started = Date.now(); (await fetch(`${base}/health/ready`)).status !== 200; await sleep(100)) {
      assert.ok(Date.now() - started < 10_000, 'ready again');
    }
  });
});
