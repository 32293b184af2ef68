import { after, before, beforeEach, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { EventHub } from '@gatehouse/events';
import { httpCall, startMockUpstream, type MockUpstream } from '@gatehouse/testing';
import type { Gateway, RuntimeApi } from '../src/index.ts';
import { createTestIssuer, startTestGateway, type TestGateway, type TestIssuer } from './harness.ts';

// Admin's deny policies at the gateway: each condition type refuses the next call with 403
// (900805), removing it lets calls through again, and the backend never sees a refused call.
let km: TestIssuer;
let gateway: TestGateway;
let gw: Gateway;
let hub: EventHub;
let backend: MockUpstream;
let dir: TestGateway['dir'];
let base: string;

const api: RuntimeApi = {
  id: 'api-1',
  name: 'Orders',
  context: '/orders',
  version: 'v1',
  isDefaultVersion: true,
  hosts: [],
  status: 'PUBLISHED',
  operations: [
    { verb: 'GET', target: '/orders', authType: 'Application & Application User', scopes: [] },
    { verb: 'GET', target: '/status', authType: 'None', scopes: [] },
  ],
  endpoints: {},
};

const token = (claims?: Record<string, unknown>) => km.sign(claims);

const call = (path: string, headers: Record<string, string> = {}) => httpCall(`${base}${path}`, { headers });
const condition = (id: string, conditionType: string, conditionValue: unknown, conditionStatus = true) => ({ id, conditionType, conditionValue, conditionStatus });

async function expectBlocked(path: string, headers: Record<string, string> = {}, what = path): Promise<void> {
  const res = await call(path, headers);
  assert.equal(res.status, 403, `${what}: ${res.text}`);
  assert.deepEqual(res.json(), { code: 900805, message: 'Message blocked', description: 'You have been blocked from accessing the resource' });
}

before(async () => {
  km = await createTestIssuer();
  backend = await startMockUpstream('orders');
  gateway = await startTestGateway();
  ({ gw, base, hub, dir } = gateway);
  gw.setIssuers([km.keyManager]);
  gw.deploy([{ ...api, endpoints: { production: { type: 'http', urls: [backend.url] } } }]);
});
after(() => gateway.close(backend));
beforeEach(() => {
  backend.requests.length = 0;
  gw.data.setSubscriptions([{ applicationId: 'app-1', apiId: 'api-1', status: 'UNBLOCKED', tier: 'Unlimited' }]);
  gw.data.setBlockingConditions([]);
});

it('blocks an API by context on the next call, secured or not, and lets it through once removed', async () => {
  const auth = { authorization: `Bearer ${await token()}` };
  assert.equal((await call('/orders/v1/orders', auth)).status, 200);
  gw.data.putBlockingCondition(condition('c1', 'API', '/orders/v1'));
  await expectBlocked('/orders/v1/orders', auth);
  await expectBlocked('/orders/v1/status');
  await expectBlocked('/orders/status', {}, 'the default version, unversioned');
  gw.data.removeBlockingCondition('c1');
  assert.equal((await call('/orders/v1/orders', auth)).status, 200);
  gw.data.putBlockingCondition(condition('c2', 'API', '/orders'));
  await expectBlocked('/orders/v1/status', {}, 'the context as published');
  gw.data.putBlockingCondition(condition('c2', 'API', '/orders', false));
  assert.equal((await call('/orders/v1/status')).status, 200, 'a disabled condition blocks nothing');
  gw.data.putBlockingCondition(condition('c3', 'API', '/other/v1'));
  assert.equal((await call('/orders/v1/status')).status, 200, 'another API');
  assert.equal(backend.requests.length, 4);
});

it('blocks the calling application (owner:name or id) and the user, not the others', async () => {
  const alice = { authorization: `Bearer ${await token()}` };
  const bob = { authorization: `Bearer ${await token({ sub: 'bob', application: { id: 'app-2', name: 'Other', owner: 'bob', tier: 'Unlimited' } })}` };
  gw.data.setSubscriptions([
    { applicationId: 'app-1', apiId: 'api-1', status: 'UNBLOCKED', tier: 'Unlimited' },
    { applicationId: 'app-2', apiId: 'api-1', status: 'UNBLOCKED', tier: 'Unlimited' },
  ]);
  gw.data.putBlockingCondition(condition('a', 'APPLICATION', 'alice:Shop'));
  await expectBlocked('/orders/v1/orders', alice);
  assert.equal((await call('/orders/v1/orders', bob)).status, 200);
  gw.data.setBlockingConditions([condition('b', 'APPLICATION', 'app-2')]);
  assert.equal((await call('/orders/v1/orders', alice)).status, 200);
  await expectBlocked('/orders/v1/orders', bob);
  gw.data.setBlockingConditions([condition('u', 'USER', 'bob')]);
  await expectBlocked('/orders/v1/orders', bob);
  assert.equal((await call('/orders/v1/orders', alice)).status, 200);
  const superTenant = { authorization: `Bearer ${await token({ sub: 'bob@carbon.super', application: { id: 'app-2', name: 'Other', owner: 'bob', tier: 'Unlimited' } })}` };
  await expectBlocked('/orders/v1/orders', superTenant, 'the user with the super tenant domain');
  assert.equal((await call('/orders/v1/status')).status, 200, 'an unsecured call has no user to block');
  gw.data.removeBlockingCondition('u');
  assert.equal((await call('/orders/v1/orders', bob)).status, 200);
  assert.equal(backend.requests.length, 5);
});

it('blocks the client address: fixed, CIDR, range and inverted, not trusting X-Forwarded-For', async () => {
  // The test talks to the gateway from 127.0.0.1 (or ::ffff:127.0.0.1 on a dual-stack socket).
  for (const [id, type, value] of [
    ['ip', 'IP', { fixedIp: '127.0.0.1', invert: false }],
    ['cidr', 'IP', { fixedIp: '127.0.0.0/8', invert: false }],
    ['range', 'IPRANGE', { startingIp: '127.0.0.0', endingIp: '127.0.0.255', invert: false }],
    ['inverted', 'IPRANGE', { startingIp: '10.0.0.0', endingIp: '10.255.255.255', invert: true }],
    ['mapped', 'IP', { fixedIp: '::ffff:127.0.0.1', invert: false }],
  ] as const) {
    gw.data.setBlockingConditions([condition(id, type, value)]);
    await expectBlocked('/orders/v1/status', { 'x-forwarded-for': '203.0.113.9' }, id);
  }
  for (const [id, type, value] of [
    ['other', 'IP', { fixedIp: '127.0.0.2', invert: false }],
    ['inverted-mine', 'IP', { fixedIp: '127.0.0.1', invert: true }],
    ['range-below', 'IPRANGE', { startingIp: '126.0.0.0', endingIp: '127.0.0.0', invert: false }],
    ['v6', 'IPRANGE', { startingIp: '2001:db8::', endingIp: '2001:db8::ffff', invert: false }],
    ['forwarded', 'IP', { fixedIp: '203.0.113.9', invert: false }],
  ] as const) {
    gw.data.setBlockingConditions([condition(id, type, value)]);
    const res = await call('/orders/v1/status', { 'x-forwarded-for': '203.0.113.9' });
    assert.equal(res.status, 200, `${id}: ${res.text}`);
  }
  assert.equal(backend.requests.length, 5);
});

it('follows Admin events on the throttleData topic through GatewaySync', async () => {
  // The event handling alone: a sync over a source that serves nothing, then the three events.
  const { GatewaySync } = await import('../src/index.ts');
  const { openLocalStore } = await import('@gatehouse/data');
  const store = await openLocalStore({ path: `${dir.path}/sync.db` });
  const source = {
    runtimeArtifacts: async () => [],
    subscriptions: async () => [{ appId: 'app-1', apiId: 'api-1', policyId: 'Unlimited', subscriptionState: 'UNBLOCKED' }],
    policies: async () => [],
    keyManagers: async () => [{ name: 'Resident Key Manager', type: 'default', enabled: true, issuer: km.issuer, consumerKeyClaim: 'azp', scopesClaim: 'scope', jwks: { keys: [km.jwk as Record<string, unknown>] } }],
    revokedTokens: async () => [],
    blockingConditions: async () => [condition('at-start', 'IP', { fixedIp: '198.51.100.7', invert: false })],
  };
  const sync = new GatewaySync({ gateway: gw, source, hub, localStore: store, labels: ['Other'], gatewayId: 'gw-test', logger: pino({ level: 'silent' }), heartbeatMs: 60_000 });
  try {
    await sync.start();
    assert.deepEqual([...gw.data.blocking.ipRanges].length, 1, 'loaded at start');
    gw.deploy([{ ...api, endpoints: { production: { type: 'http', urls: [backend.url] } } }]); // the sync deployed its (empty) set
    const waitFor = async (status: number) => {
      const t0 = Date.now();
      for (;;) {
        const res = await call('/orders/v1/status');
        if (res.status === status || Date.now() - t0 > 2_000) return res.status;
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await hub.publish('throttleData', 'BLOCKING_CONDITION_ADD', { id: 'e1', tenantId: -1234, conditionType: 'API', conditionValue: '/orders/v1', conditionStatus: true });
    assert.equal(await waitFor(403), 403);
    await hub.publish('throttleData', 'BLOCKING_CONDITION_UPDATE', { id: 'e1', tenantId: -1234, conditionType: 'API', conditionValue: '/orders/v1', conditionStatus: false });
    assert.equal(await waitFor(200), 200);
    await hub.publish('throttleData', 'BLOCKING_CONDITION_UPDATE', { id: 'e1', tenantId: -1234, conditionType: 'API', conditionValue: '/orders/v1', conditionStatus: true });
    assert.equal(await waitFor(403), 403);
    await hub.publish('throttleData', 'BLOCKING_CONDITION_DELETE', { id: 'e1', tenantId: -1234, conditionType: 'API', conditionValue: '/orders/v1', conditionStatus: true });
    assert.equal(await waitFor(200), 200);
  } finally {
    await sync.stop();
    await store.close();
  }
});
