import { after, before, beforeEach, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair } from 'jose';
import { Registry } from 'prom-client';
import type { EventHub } from '@gatehouse/events';
import { httpCall, startMockUpstream, type MockUpstream } from '@gatehouse/testing';
import type { Gateway, RuntimeApi } from '../src/index.ts';
import { createTestIssuer, now, rawRequest, startTestGateway, type TestGateway, type TestIssuer } from './harness.ts';

// The key manager here is the test itself: it signs tokens the way an issuer the gateway trusts
// does, so every malformed variant can be made. The real Key Manager's tokens are exercised by
// the end-to-end tests.
let km: TestIssuer;
let gateway: TestGateway;
let gw: Gateway;
let hub: EventHub;
let backend: MockUpstream;
let sandbox: MockUpstream;
let base: string;
const metrics = new Registry();

const api: RuntimeApi = {
  id: 'api-1',
  name: 'Orders',
  context: '/orders',
  version: 'v1',
  isDefaultVersion: false,
  hosts: [],
  status: 'PUBLISHED',
  operations: [
    { verb: 'GET', target: '/orders', authType: 'Application & Application User', scopes: [] },
    { verb: 'POST', target: '/orders', authType: 'Application & Application User', scopes: ['orders:write'] },
    { verb: 'GET', target: '/status', authType: 'None', scopes: [] },
  ],
  endpoints: { production: { type: 'http', urls: [''] } },
};

const token = (claims?: Record<string, unknown>, header?: Record<string, unknown>) => km.sign(claims, header);

const call = (path: string, auth?: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
  httpCall(`${base}${path}`, { ...init, headers: { ...(auth ? { authorization: auth } : {}), ...init.headers } });

before(async () => {
  km = await createTestIssuer();
  [backend, sandbox] = await Promise.all([startMockUpstream('prod'), startMockUpstream('sandbox')]);
  gateway = await startTestGateway({ metrics });
  ({ gw, base, hub } = gateway);
  gw.setIssuers([km.keyManager]);
  gw.deploy([{ ...api, endpoints: { production: { type: 'http', urls: [backend.url] }, sandbox: { type: 'http', urls: [sandbox.url] } } }]);
});
after(() => gateway.close(backend, sandbox));
beforeEach(() => {
  backend.requests.length = 0;
  sandbox.requests.length = 0;
  gw.data.setSubscriptions([{ applicationId: 'app-1', apiId: 'api-1', status: 'UNBLOCKED', tier: 'Gold' }]);
});

it('lets a valid token of a subscribed application through, without forwarding the token', async () => {
  const res = await call('/orders/v1/orders', `Bearer ${await token()}`);
  assert.equal(res.status, 200);
  assert.equal(backend.requests.length, 1);
  assert.equal(backend.requests[0].headers.authorization, undefined);
});

it('checks the signature once per token and revocations on every call', async () => {
  const t = await token();
  assert.equal((await call('/orders/v1/orders', `Bearer ${t}`)).status, 200);
  assert.equal((await call('/orders/v1/orders', `Bearer ${t}`)).status, 200);
  const { jti } = JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString()) as { jti: string };
  gw.data.revoke(jti, now() + 600);
  const revoked = await call('/orders/v1/orders', `Bearer ${t}`);
  assert.equal(revoked.status, 401);
  assert.equal(revoked.json<{ code: number }>().code, 900901);
  assert.equal(backend.requests.length, 2);
});

it('answers 401 (900902) with a challenge when credentials are missing', async () => {
  const res = await call('/orders/v1/orders');
  assert.equal(res.status, 401);
  assert.equal(res.json<{ code: number }>().code, 900902);
  assert.match(String(res.headers['www-authenticate']), /^Bearer realm="gatehouse"/);
  const inQuery = await call(`/orders/v1/orders?access_token=${await token()}`);
  assert.equal(inQuery.status, 401, 'a token in the query string is ignored');
  assert.equal(backend.requests.length, 0);
});

it('refuses forged and malformed tokens with 401 (900901), and the backend sees none', async () => {
  const good = await token();
  const [h, p] = good.split('.');
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  const { createHmac } = await import('node:crypto');
  const hs = (secret: string) => {
    const head = b64({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' });
    const body = b64(payload);
    return `${head}.${body}.${createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url')}`;
  };
  const other = await generateKeyPair('ES256');
  const forged = [
    `${b64({ alg: 'none', typ: 'at+jwt' })}.${p}.`,
    `${b64({ alg: 'NONE', typ: 'at+jwt' })}.${p}.`,
    hs(JSON.stringify(km.jwk)), // HMAC keyed with the public key (alg confusion)
    hs('secret'),
    `${h}.${b64({ ...payload, sub: 'mallory' })}.${good.split('.')[2]}`, // payload tampered
    await km.signPayload(payload, { typ: 'at+jwt' }, other.privateKey), // wrong key, right kid
    await token({}, { kid: '../../../../dev/null' }),
    await token({ iss: 'https://evil.test/oauth2/token' }),
    await token({ iss: `${km.issuer}/` }),
    await token({ exp: now() - 120 }),
    await token({ exp: undefined }),
    await token({ nbf: now() + 600 }),
    await token({ jti: undefined }),
    await token({}, { typ: 'JWT' }), // an ID token is not an access token
    'not.a.jwt',
    'x'.repeat(5000),
  ];
  for (const [i, t] of forged.entries()) {
    const res = await call('/orders/v1/orders', `Bearer ${t}`);
    assert.equal(res.status, 401, `forged token #${i}`);
    assert.equal(res.json<{ code: number }>().code, 900901, `forged token #${i}`);
  }
  for (const header of ['bearer x', 'Bearer', 'Bearer  two-spaces', 'Basic YTpi', `Token ${good}`]) {
    assert.equal((await call('/orders/v1/orders', header)).status, 401, header);
  }
  assert.equal(backend.requests.length, 0);
});

it('refuses two Authorization headers rather than picking one', async () => {
  const t = await token();
  const res = await rawRequest(Number(new URL(base).port), `GET /orders/v1/orders HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${t}\r\nAuthorization: Bearer ${t}\r\nConnection: close\r\n\r\n`);
  assert.match(res, /^HTTP\/1\.1 401 /);
  assert.equal(backend.requests.length, 0);
});

it('403 (900908) when the application is not subscribed, 900907 when the subscription is blocked', async () => {
  const notSubscribed = await call('/orders/v1/orders', `Bearer ${await token({ application: { id: 'app-2', name: 'Other', owner: 'bob', tier: 'Unlimited' } })}`);
  assert.equal(notSubscribed.status, 403);
  assert.equal(notSubscribed.json<{ code: number }>().code, 900908);
  gw.data.setSubscriptions([{ applicationId: 'app-1', apiId: 'api-1', status: 'BLOCKED', tier: 'Gold' }]);
  const blocked = await call('/orders/v1/orders', `Bearer ${await token()}`);
  assert.equal(blocked.status, 403);
  assert.equal(blocked.json<{ code: number }>().code, 900907);
  gw.data.setSubscriptions([{ applicationId: 'app-1', apiId: 'api-1', status: 'PROD_ONLY_BLOCKED', tier: 'Gold' }]);
  assert.equal((await call('/orders/v1/orders', `Bearer ${await token()}`)).status, 403);
  assert.equal((await call('/orders/v1/orders', `Bearer ${await token({ keytype: 'SANDBOX' })}`)).status, 200, 'sandbox keys still work');
  gw.data.setSubscriptions([{ applicationId: 'app-1', apiId: 'api-1', status: 'ON_HOLD', tier: 'Gold' }]);
  assert.equal((await call('/orders/v1/orders', `Bearer ${await token()}`)).status, 403);
  gw.data.setSubscriptions([]);
  assert.equal((await call('/orders/v1/orders', `Bearer ${await token()}`)).status, 403, 'unsubscribed: refused on the next call');
  assert.equal(backend.requests.length, 0);
});

it('403 (900910) when the token lacks the operation scope, which another operation does not need', async () => {
  const t = await token({ scope: 'orders:read' });
  const post = await call('/orders/v1/orders', `Bearer ${t}`, { method: 'POST', body: '{}' });
  assert.equal(post.status, 403);
  assert.equal(post.json<{ code: number }>().code, 900910);
  assert.match(String(post.headers['www-authenticate']), /insufficient_scope/);
  assert.equal((await call('/orders/v1/orders', `Bearer ${t}`)).status, 200);
  assert.equal((await call('/orders/v1/orders', `Bearer ${await token({ scope: 'orders:read orders:write' })}`, { method: 'POST', body: '{}' })).status, 200);
});

it('sends sandbox keys to the sandbox endpoint', async () => {
  const res = await call('/orders/v1/orders', `Bearer ${await token({ keytype: 'SANDBOX' })}`);
  assert.equal(res.status, 200);
  assert.equal(sandbox.requests.length, 1);
  assert.equal(backend.requests.length, 0);
});

it('needs no token on an operation without security', async () => {
  assert.equal((await call('/orders/v1/status')).status, 200);
});

it('publishes one analytics event per call on the analytics topic, off the request path', async () => {
  const seen: { time: number; status: number; applicationId: string | null; user: string | null; apiName: string; keyType: string; responseBytes: number | null }[] = [];
  // Only this test's calls: earlier tests' events may still be waiting in the collector.
  const since = Date.now();
  const sub = await hub.subscribe<{ events: typeof seen }>('analytics', (e) => {
    seen.push(...e.payload.events.filter((x) => x.time >= since));
  });
  try {
    const answered = await call('/orders/v1/orders', `Bearer ${await token()}`);
    const refused = await call('/orders/v1/orders');
    assert.deepEqual([answered.status, refused.status], [200, 401]);
    const deadline = Date.now() + 3_000;
    while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const ok = seen.find((e) => e.status === 200);
    const denied = seen.find((e) => e.status === 401);
    assert.deepEqual(ok && { app: ok.applicationId, user: ok.user, api: ok.apiName, keyType: ok.keyType }, { app: 'app-1', user: 'alice', api: 'Orders', keyType: 'PRODUCTION' });
    assert.ok(denied, 'denied calls are counted too');
    assert.equal(denied.applicationId, null);
    // The bytes of each body sent: the backend's answer and the gateway's own fault.
    assert.deepEqual([ok?.responseBytes, denied.responseBytes], [Buffer.byteLength(answered.text), Buffer.byteLength(refused.text)]);
    assert.ok(denied.responseBytes! > 0);
    assert.equal(gw.analytics().dropped, 0);
  } finally {
    await sub.unsubscribe();
  }
});

it('counts calls per API and status class in Prometheus metrics', async () => {
  await call('/orders/v1/orders', `Bearer ${await token()}`);
  const text = (await httpCall(`${base}/metrics`)).text;
  assert.match(text, /gatehouse_gateway_requests_total\{api="Orders:v1",status_class="2xx"\} [1-9]/);
  assert.match(text, /gatehouse_gateway_requests_total\{api="Orders:v1",status_class="4xx"\} [1-9]/);
  assert.match(text, /gatehouse_gateway_request_duration_seconds_count\{api="Orders:v1"\} [1-9]/);
});

it('throttles by subscription tier with WSO2 headers and codes, and counts applications apart', async () => {
  gw.data.setPolicies([
    { kind: 'subscription', name: 'Gold', limit: { count: 3, windowMs: 60_000 }, stopOnQuotaReach: true },
    { kind: 'application', name: 'Unlimited', limit: undefined, stopOnQuotaReach: true },
  ]);
  gw.data.setSubscriptions([
    { applicationId: 'app-t', apiId: 'api-1', status: 'UNBLOCKED', tier: 'Gold' },
    { applicationId: 'app-u', apiId: 'api-1', status: 'UNBLOCKED', tier: 'Gold' },
  ]);
  const t = await token({ application: { id: 'app-t', name: 'T', owner: 'alice', tier: 'Unlimited' } });
  const statuses: number[] = [];
  let last;
  for (let i = 0; i < 5; i++) {
    last = await call('/orders/v1/orders', `Bearer ${t}`);
    statuses.push(last.status);
  }
  assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  assert.equal(last?.json<{ code: number }>().code, 900804);
  assert.ok(Number(last?.headers['retry-after']) >= 1);
  assert.equal(last?.headers['x-ratelimit-limit'], '3');
  assert.equal(last?.headers['x-ratelimit-remaining'], '0');
  const other = await call('/orders/v1/orders', `Bearer ${await token({ application: { id: 'app-u', name: 'U', owner: 'bob', tier: 'Unlimited' } })}`);
  assert.equal(other.status, 200, 'another application has its own quota');
  assert.equal(other.headers['x-ratelimit-remaining'], '2');
  assert.equal(backend.requests.length, 4);
  gw.data.setPolicies([]);
});

it('marks calls let through past the quota (stopOnQuotaReach false) as over quota in their analytics events', async () => {
  gw.data.setPolicies([{ kind: 'subscription', name: 'Free', limit: { count: 1, windowMs: 60_000 }, stopOnQuotaReach: false }]);
  gw.data.setSubscriptions([{ applicationId: 'app-q', apiId: 'api-1', status: 'UNBLOCKED', tier: 'Free' }]);
  const seen: { status: number; applicationId: string | null; overQuota: boolean }[] = [];
  const sub = await hub.subscribe<{ events: typeof seen }>('analytics', (e) => {
    seen.push(...e.payload.events.filter((x) => x.applicationId === 'app-q'));
  });
  try {
    const t = await token({ application: { id: 'app-q', name: 'Q', owner: 'alice', tier: 'Unlimited' } });
    const first = await call('/orders/v1/orders', `Bearer ${t}`);
    const second = await call('/orders/v1/orders', `Bearer ${t}`);
    assert.deepEqual([first.status, second.status], [200, 200], 'the call past the quota goes through');
    assert.equal(second.headers['x-ratelimit-remaining'], '0');
    const deadline = Date.now() + 3_000;
    while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      seen.map((e) => [e.status, e.overQuota]),
      [
        [200, false],
        [200, true],
      ],
    );
  } finally {
    await sub.unsubscribe();
    gw.data.setPolicies([]);
  }
});

it('burst control refuses with 900807 before the subscription quota runs out', async () => {
  gw.data.setPolicies([{ kind: 'subscription', name: 'Gold', limit: { count: 1000, windowMs: 60_000 }, burst: { count: 2, windowMs: 60_000 }, stopOnQuotaReach: true }]);
  gw.data.setSubscriptions([{ applicationId: 'app-b', apiId: 'api-1', status: 'UNBLOCKED', tier: 'Gold' }]);
  const t = await token({ application: { id: 'app-b', name: 'B', owner: 'alice', tier: 'Unlimited' } });
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) statuses.push((await call('/orders/v1/orders', `Bearer ${t}`)).status);
  assert.deepEqual(statuses, [200, 200, 429]);
  const res = await call('/orders/v1/orders', `Bearer ${t}`);
  assert.equal(res.json<{ code: number }>().code, 900807);
  gw.data.setPolicies([]);
});
