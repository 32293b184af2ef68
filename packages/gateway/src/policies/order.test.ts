import { it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPolicies } from './index.ts';
import { GatewayData } from '../security/gateway-data.ts';
import { TokenVerifier } from '../security/token-verifier.ts';
import { AnalyticsCollector } from '../analytics.ts';
import { LocalRateCounter } from '../throttle/counter.ts';
import { createInProcessHub } from '@gatehouse/events';
import { pino } from 'pino';

const collector = new AnalyticsCollector(createInProcessHub(), pino({ level: 'silent' }));
import { sortPolicies, type Policy } from '../policy.ts';

it('runs the policies in the documented order (ARCHITECTURE.md), with unique priorities', () => {
  assert.deepEqual(
    defaultPolicies({ verifier: new TokenVerifier(), data: new GatewayData(), collector, counter: new LocalRateCounter(), metrics: undefined, gatewayId: 'gw' }).map((p) => p.name),
    ['cors', 'api-state', 'authentication', 'blocking', 'throttling', 'headers', 'backend-jwt', 'analytics'],
  );
});

it('refuses two policies with one priority', () => {
  const a: Policy = { name: 'a', priority: 10, create: () => undefined };
  const b: Policy = { name: 'b', priority: 10, create: () => undefined };
  assert.throws(() => sortPolicies([a, b]), /share priority 10/);
});
