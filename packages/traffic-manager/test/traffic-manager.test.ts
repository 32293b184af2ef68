import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { loadConfig } from '@gatehouse/config';
import { createInProcessHub, Topics, type HubEvent } from '@gatehouse/events';
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

it('refuses to start on a JetStream KV store without NATS', async () => {
  const config = loadConfig({ argv: ['--traffic_manager.health_port', '0', '--traffic_manager.store', 'nats-kv'], env: {} });
  const other = createTrafficManager(config, { hub, logger: silent });
  await assert.rejects(other.start(), /needs event_hub.type = "nats"/);
});
