import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { loadConfig } from '@gatehouse/config';
import { createInProcessHub } from '@gatehouse/events';
import { createTrafficManager, LeaseSubject, type LeaseReply, type LeaseRequest, type TrafficManager } from '../src/index.ts';

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

it('answers lease requests on the hub and counts them in /metrics', async () => {
  const now = Date.now();
  const req: LeaseRequest = { key: 'api|x', limit: 40, windowMs: 3_600_000, windowStart: now - (now % 3_600_000), want: 100, gatewayId: 'gw-1', used: 0 };
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
