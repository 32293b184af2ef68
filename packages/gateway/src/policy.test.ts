import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createInProcessHub } from '@gatehouse/events';
import { pino } from 'pino';
import { AnalyticsCollector } from './analytics.ts';
import { ChainCache, compileChain, RouteMemo, type Policy } from './policy.ts';
import { defaultPolicies } from './policies/index.ts';
import type { RuntimeApi, RuntimeOperation } from './runtime-api.ts';
import { GatewayData } from './security/gateway-data.ts';
import { TokenVerifier } from './security/token-verifier.ts';
import { LocalRateCounter } from './throttle/counter.ts';

const ops = (): RuntimeOperation[] => [
  { verb: 'GET', target: '/items', authType: 'None', scopes: [], throttlingPolicy: 'Unlimited' },
  { verb: 'POST', target: '/items', authType: 'Any', scopes: [], throttlingPolicy: 'Unlimited' },
  { verb: 'GET', target: '/items/{id}', authType: 'Any', scopes: ['items:read'], throttlingPolicy: 'Unlimited' },
];
const api = (i: number, over: Partial<RuntimeApi> = {}): RuntimeApi => ({
  id: `api-${i}`,
  name: `Api${i}`,
  context: `/api${i}`,
  version: 'v1',
  isDefaultVersion: false,
  hosts: [],
  status: 'PUBLISHED',
  operations: ops(),
  endpoints: {},
  ...over,
});

it('gives 1,000 APIs a handful of chains: routes with equal share keys share hooks', () => {
  const collector = new AnalyticsCollector(createInProcessHub(), pino({ level: 'silent' }));
  const policies = defaultPolicies({ verifier: new TokenVerifier(), data: new GatewayData(), collector, counter: new LocalRateCounter(), metrics: undefined, gatewayId: 'gw' });
  const cache = new ChainCache(policies);
  const chains = new Set();
  for (let i = 0; i < 1000; i++) {
    const a = api(i, i % 100 === 0 ? { securitySchemes: ['oauth2', 'api_key'] } : {});
    for (const op of a.operations) chains.add(cache.compile(a, op));
  }
  // None, secured without scopes, secured with a scope; then the same three for each API-key API
  // (whose key names its context): 3 + 10 x 2.
  assert.equal(chains.size, 23);
  assert.equal(cache.size, 23);
  void collector.close();
});

it('runs create once per share key, and per route without one', () => {
  const created: string[] = [];
  const shared: Policy = { name: 'shared', priority: 2, shareKey: (a) => a.status, create: (a, op) => (created.push(`shared ${a.id} ${op.verb}`), { access: () => undefined }) };
  const own: Policy = { name: 'own', priority: 1, create: (a, op) => (created.push(`own ${a.id} ${op.verb}`), undefined) };
  const cache = new ChainCache([shared, own]);
  const a = api(1);
  const b = api(2, { status: 'BLOCKED' });
  const chainsA = a.operations.map((op) => compileChain([shared, own], a, op, cache));
  const chainB = compileChain([shared, own], b, b.operations[0], cache);
  assert.equal(new Set(chainsA).size, 1);
  assert.notEqual(chainB, chainsA[0]);
  assert.deepEqual(created, ['shared api-1 GET', 'own api-1 GET', 'own api-1 POST', 'own api-1 GET', 'shared api-2 GET', 'own api-2 GET']);
  // Without a cache, every policy's create runs for the route.
  created.length = 0;
  compileChain([shared, own], a, a.operations[0]);
  assert.deepEqual(created, ['shared api-1 GET', 'own api-1 GET']);
});

it('RouteMemo builds once per route, also when two APIs share one operation object', () => {
  let built = 0;
  const memo = new RouteMemo((a, op) => (built++, `${a.id} ${op.verb} ${op.target}`));
  const list = ops();
  const a = api(1, { operations: list });
  const b = api(2, { operations: list });
  assert.equal(memo.get(a, list[1]), 'api-1 POST /items');
  assert.equal(memo.get(a, list[1]), 'api-1 POST /items');
  assert.equal(memo.get(b, list[1]), 'api-2 POST /items');
  assert.equal(memo.get(b, list[1]), 'api-2 POST /items');
  assert.equal(memo.get(a, list[1]), 'api-1 POST /items');
  assert.equal(built, 2);
});
