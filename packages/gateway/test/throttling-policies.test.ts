import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OutgoingHttpHeaders } from 'node:http';
import { setImmediate as tick } from 'node:timers/promises';
import { Registry } from 'prom-client';
import type { EventHub } from '@gatehouse/events';
import { FakeClock } from '@gatehouse/testing';
import { LeaseService, MemoryWindowStore } from '@gatehouse/traffic-manager';
import { createThrottlingPolicy } from '../src/policies/throttling.ts';
import type { RequestContext } from '../src/policy.ts';
import type { RuntimeApi, RuntimeOperation } from '../src/runtime-api.ts';
import { GatewayData } from '../src/security/gateway-data.ts';
import type { VerifiedToken } from '../src/security/token-verifier.ts';
import { LocalRateCounter, type RateCounter } from '../src/throttle/counter.ts';
import { LeaseRateCounter } from '../src/throttle/lease-counter.ts';
import { toRuntimePolicy, type SourceLimit } from '../src/throttle/limits.ts';

// Every policy kind of WSO2, one table each (redis-cell's style: time, request, expected answer),
// on a fake clock. Each table runs on the gateway's own counter and on the Traffic Manager's
// leases: the answers must not depend on where the count lives.

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const perMin = (n: number): SourceLimit => ({ type: 'REQUESTCOUNTLIMIT', requestCount: { timeUnit: 'min', unitTime: 1, requestCount: n } });

interface Call {
  /** ms to move the clock before the call */
  at?: number;
  ip?: string;
  headers?: Record<string, string>;
  query?: string;
  /** application id of the token; none: an unsecured call */
  app?: string;
  user?: string;
  claims?: Record<string, unknown>;
  keyType?: 'PRODUCTION' | 'SANDBOX';
  verb?: string;
  /** response body length charged after the call */
  responseBytes?: number;
}
/** [call, expected status, fault code or X-RateLimit-Remaining of an admitted call] */
type Row = [Call, number, number?];

const api = (over: Partial<RuntimeApi> = {}): RuntimeApi => ({
  id: 'api-1', name: 'Orders', context: '/orders', version: 'v1', isDefaultVersion: false, hosts: [], status: 'PUBLISHED', operations: [], endpoints: {}, ...over,
});
const op = (over: Partial<RuntimeOperation> = {}): RuntimeOperation => ({ verb: 'GET', target: '/items', authType: 'Any', scopes: [], ...over });

function token(c: Call): VerifiedToken | undefined {
  if (c.app === undefined) return undefined;
  return {
    jti: 'j', issuer: 'i', subject: c.user ?? 'alice', clientId: 'ck', scopes: [], exp: 0, keyType: c.keyType ?? 'PRODUCTION',
    application: { id: c.app, name: c.app === 'mobile' ? 'MobileShop' : 'WebShop', owner: 'alice', tier: 'AppTier' },
    claims: c.claims ?? {},
  };
}

function context(c: Call, a: RuntimeApi, o: RuntimeOperation): RequestContext {
  const headers: Record<string, string> = { ...c.headers };
  return {
    req: { headers, method: o.verb, socket: { remoteAddress: c.ip ?? '192.0.2.1' } },
    res: {},
    api: a,
    operation: o,
    basePath: '/orders/v1',
    resourcePath: '/items',
    query: c.query ?? '',
    params: {},
    startedAt: 0,
    keyType: c.keyType ?? 'PRODUCTION',
    dropHeaders: undefined,
    addHeaders: undefined,
    rateLimit: undefined,
    token: token(c),
    status: 0,
    reply: undefined,
  } as unknown as RequestContext;
}

const counters: [string, (clock: FakeClock) => RateCounter][] = [
  ['the gateway\'s own counter', () => new LocalRateCounter()],
  [
    'Traffic Manager leases',
    (clock) => {
      const tm = new LeaseService({ store: new MemoryWindowStore({ now: () => clock.now() }), now: () => clock.now() });
      const hub = { request: async (_s: string, p: unknown) => (await tick(), tm.lease(p)) } as unknown as EventHub;
      return new LeaseRateCounter({ hub, gatewayId: 'gw', liveGateways: () => 1 });
    },
  ],
];

/** Runs `rows` through the throttling policy of one route and checks each answer. */
async function table(name: string, setup: { policies: Parameters<typeof toRuntimePolicy>[0][]; api?: RuntimeApi; op?: RuntimeOperation; tiers?: Record<string, string> }, rows: Row[]) {
  for (const [counterName, make] of counters) {
    const clock = new FakeClock(T0);
    const data = new GatewayData();
    data.setPolicies(setup.policies.map((p) => toRuntimePolicy(p)).filter((p) => p !== undefined));
    data.setSubscriptions(Object.entries(setup.tiers ?? {}).map(([app, tier]) => ({ applicationId: app, apiId: 'api-1', status: 'UNBLOCKED', tier })));
    const metrics = new Registry();
    const policy = createThrottlingPolicy({ data, counter: make(clock), now: () => clock.now(), metrics });
    const a = setup.api ?? api();
    const hooksByVerb = new Map<string, NonNullable<ReturnType<typeof policy.create>>>();
    for (const [i, [call, status, third]] of rows.entries()) {
      clock.advance(call.at ?? 0);
      const o = setup.op ?? op({ verb: call.verb ?? 'GET' });
      let hooks = hooksByVerb.get(o.verb);
      if (!hooks) hooksByVerb.set(o.verb, (hooks = policy.create(a, o)!));
      const ctx = context(call, a, o);
      const reply = await hooks.access!(ctx);
      const headers: OutgoingHttpHeaders = reply ? { ...reply.headers } : { 'content-length': String(call.responseBytes ?? 0) };
      ctx.status = reply?.status ?? 200;
      ctx.reply = reply;
      hooks.responseHeaders?.(ctx, headers);
      const where = `${name}, ${counterName}, row ${i}`;
      assert.equal(reply?.status ?? 200, status, where);
      if (reply) {
        assert.equal(reply.code, third, `${where}: fault code`);
        assert.ok(Number(headers['retry-after']) >= 1, `${where}: Retry-After`);
      } else if (third !== undefined) {
        assert.equal(headers['x-ratelimit-remaining'], String(third), `${where}: X-RateLimit-Remaining`);
      }
    }
  }
}

describe('throttling policies, WSO2 kind by kind', () => {
  it('advanced, API level: conditional groups on IP, header, query parameter and JWT claim, else the default limit', async () => {
    const cond = (conditions: unknown[], n: number) => ({ conditions, limit: perMin(n) });
    await table(
      'advanced API',
      {
        api: api({ apiThrottlingPolicy: 'Adv' }),
        policies: [{
          kind: 'advanced', name: 'Adv', defaultLimit: perMin(3),
          details: {
            conditionalGroups: [
              cond([{ type: 'IPCONDITION', ipCondition: { ipConditionType: 'IPRANGE', startingIP: '10.0.0.0', endingIP: '10.0.0.255' } }], 1),
              cond([{ type: 'HEADERCONDITION', headerCondition: { headerName: 'X-Tier', headerValue: '^gold$' } }], 2),
              cond([{ type: 'QUERYPARAMETERCONDITION', queryParameterCondition: { parameterName: 'plan', parameterValue: 'free' } }, { type: 'IPCONDITION', invertCondition: true, ipCondition: { ipConditionType: 'IPSPECIFIC', specificIP: '198.51.100.7' } }], 1),
              cond([{ type: 'JWTCLAIMSCONDITION', jwtClaimsCondition: { claimUrl: 'http://wso2.org/claims/applicationname', attribute: '^Mobile' } }], 1),
            ],
          },
        }],
      },
      [
        [{ ip: '10.0.0.9' }, 200, 0], // IP group: 1 per minute
        [{ ip: '10.0.0.77' }, 429, 900800], // the group counts once for the whole range, as WSO2's
        [{ headers: { 'x-tier': 'gold' } }, 200, 1],
        [{ headers: { 'x-tier': 'gold' } }, 200, 0],
        [{ headers: { 'x-tier': 'gold' } }, 429, 900800],
        [{ headers: { 'x-tier': 'golden' } }, 200, 2], // no group: the default limit
        [{ query: '?plan=free' }, 200, 0], // query and not from 198.51.100.7
        [{ query: '?plan=free' }, 429, 900800],
        [{ query: '?plan=free', ip: '198.51.100.7' }, 200, 1], // the inverted IP condition fails: default
        [{ app: 'mobile' }, 200, 0], // claim applicationname = MobileShop
        [{ app: 'mobile' }, 429, 900800],
        [{ app: 'web' }, 200, 0], // default: 3rd and last
        [{ app: 'web' }, 429, 900800],
        [{ at: 60_000, app: 'web' }, 200, 2], // next minute
        [{ ip: '10.0.0.1' }, 200, 0],
      ],
    );
  });

  it('advanced, resource level: 900802; an API-level policy replaces it, as in WSO2', async () => {
    const policies = [{ kind: 'advanced', name: 'Res2', defaultLimit: perMin(2) }, { kind: 'advanced', name: 'Api1', defaultLimit: perMin(1) }];
    await table('resource', { policies, op: op({ throttlingPolicy: 'Res2' }) }, [
      [{}, 200, 1],
      [{}, 200, 0],
      [{}, 429, 900802],
      [{ at: 60_000 }, 200, 1],
    ]);
    await table('resource under API', { policies, api: api({ apiThrottlingPolicy: 'Api1' }), op: op({ throttlingPolicy: 'Res2' }) }, [
      [{}, 200, 0],
      [{}, 429, 900800],
    ]);
  });

  it('application: per application and user, 900803', async () => {
    await table('application', { policies: [{ kind: 'application', name: 'AppTier', defaultLimit: perMin(2) }] }, [
      [{ app: 'web' }, 200, 1],
      [{ app: 'web' }, 200, 0],
      [{ app: 'web' }, 429, 900803],
      [{ app: 'web', user: 'bob' }, 200, 1], // another user of the application
      [{ app: 'mobile' }, 200, 1],
      [{}, 200], // unsecured: no application
      [{ at: 60_000, app: 'web' }, 200, 1],
    ]);
  });

  it('subscription: request count (900804), burst control per second (900807), stopOnQuotaReach false lets calls through, marked', async () => {
    const gold = { kind: 'subscription', name: 'Gold', defaultLimit: perMin(4), details: { rateLimitCount: 2, rateLimitTimeUnit: 'sec', stopOnQuotaReach: true } };
    const free = { kind: 'subscription', name: 'Free', defaultLimit: perMin(1), details: { stopOnQuotaReach: false } };
    await table('subscription', { policies: [gold, free], tiers: { web: 'Gold', mobile: 'Free' } }, [
      [{ app: 'web' }, 200, 3],
      [{ app: 'web' }, 200, 2],
      [{ app: 'web' }, 429, 900807], // burst: 2 per second
      [{ at: 1_000, app: 'web' }, 200, 1],
      [{ app: 'web' }, 200, 0],
      [{ at: 1_000, app: 'web' }, 429, 900804], // the minute's quota
      [{ app: 'mobile' }, 200, 0],
      [{ app: 'mobile' }, 200, 0], // over quota, let through and marked Remaining 0
      [{ at: 58_000, app: 'web' }, 200, 3], // 12:01:00: a new minute
    ]);
  });

  it('subscription bandwidth: request and response bytes against dataAmount per unit', async () => {
    const bytes = { kind: 'subscription', name: 'Bytes', defaultLimit: { type: 'BANDWIDTHLIMIT', bandwidth: { timeUnit: 'min', unitTime: 1, dataAmount: 1, dataUnit: 'KB' } } };
    await table('bandwidth', { policies: [bytes], tiers: { web: 'Bytes' } }, [
      [{ app: 'web', headers: { 'content-length': '300' }, responseBytes: 300 }, 200], // 600 of 1024
      [{ app: 'web', responseBytes: 500 }, 200], // 1100: the last call overdraws
      [{ app: 'web' }, 429, 900804],
      [{ at: 60_000, app: 'web' }, 200],
    ]);
  });

  it('custom rules: a key template over user, API and client address, eligibility from the Siddhi query, 900806', async () => {
    const siddhi = (cond: string, n: number) =>
      `FROM RequestStream SELECT userId, ${cond} AS isEligible, str:concat(userId,'') as throttleKey INSERT INTO EligibilityStream; ` +
      `FROM EligibilityStream[isEligible==true]#throttler:timeBatch(1 min) SELECT throttleKey, (count(userId) >= ${n}) as isThrottled, expiryTimeStamp group by throttleKey INSERT ALL EVENTS into ResultStream;`;
    await table('custom', {
      policies: [
        { kind: 'custom', name: 'Alice', defaultLimit: null, details: { keyTemplate: '$userId', siddhiQuery: siddhi("( userId == 'alice@carbon.super' )", 2) } },
        { kind: 'custom', name: 'PerIp', defaultLimit: null, details: { keyTemplate: '$apiContext:$clientIp', siddhiQuery: siddhi('true', 3) } },
        { kind: 'custom', name: 'Broken', defaultLimit: null, details: { keyTemplate: '$userId', siddhiQuery: 'FROM X SELECT whatever' } },
      ],
    }, [
      [{ app: 'web' }, 200, 1], // alice: her rule (2) and the address's (3)
      [{ app: 'web' }, 200, 0],
      [{ app: 'web' }, 429, 900806],
      [{ app: 'web', user: 'bob' }, 200, 0], // bob is not eligible for Alice's rule; the address has 1 left ... now 0
      [{ app: 'web', user: 'bob' }, 429, 900806],
      [{ app: 'web', user: 'bob', ip: '192.0.2.2' }, 200, 2], // another address
      [{ at: 60_000, app: 'web' }, 200, 1],
    ]);
  });

  it('backend maximum TPS: per endpoint type, 503 with 900801, per second', async () => {
    await table('backend TPS', { policies: [], api: api({ maxTps: { production: 2, sandbox: 1 } }) }, [
      [{}, 200],
      [{ app: 'web' }, 200],
      [{}, 503, 900801],
      [{ app: 'web', keyType: 'SANDBOX' }, 200],
      [{ app: 'web', keyType: 'SANDBOX' }, 503, 900801],
      [{ at: 1_000 }, 200],
    ]);
  });
});

it('reads WSO2 policies: bandwidth units, conditional groups, custom rules it cannot follow are left out', () => {
  assert.deepEqual(toRuntimePolicy({ kind: 'subscription', name: 'B', defaultLimit: { type: 'BANDWIDTHLIMIT', bandwidth: { timeUnit: 'hour', unitTime: 2, dataAmount: 3, dataUnit: 'MB' } } })?.limit, { count: 3 * 1024 * 1024, windowMs: 7_200_000, bytes: true });
  const adv = toRuntimePolicy({ kind: 'advanced', name: 'A', defaultLimit: perMin(5), details: { conditionalGroups: [{ conditions: [{ type: 'HEADERCONDITION', headerCondition: { headerName: 'h', headerValue: 'v' } }], limit: perMin(1) }, { conditions: [{ type: 'IPCONDITION', ipCondition: { ipConditionType: 'IPSPECIFIC', specificIP: 'nope' } }], limit: perMin(1) }] } });
  assert.equal(adv?.groups?.length, 1, 'a group with a malformed condition is dropped');
  const rule = (q: string) => toRuntimePolicy({ kind: 'custom', name: 'c', defaultLimit: null, details: { keyTemplate: '$userId', siddhiQuery: q } })?.limit;
  assert.deepEqual(rule('FROM S#throttler:timeBatch(5 sec) SELECT (count(userId) > 9) as isThrottled'), { count: 10, windowMs: 5_000 });
  assert.equal(rule('FROM RequestStream SELECT (userId == messageID) AS isEligible INSERT INTO EligibilityStream; FROM E#throttler:timeBatch(1 min) SELECT (count(userId) >= 1)'), undefined);
  assert.equal(toRuntimePolicy({ kind: 'custom', name: 'c', defaultLimit: null, details: { keyTemplate: '$nope', siddhiQuery: 'timeBatch(1 min) count(x) >= 1' } }), undefined);
});
