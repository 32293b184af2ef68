import { after, before, beforeEach, it } from 'node:test';
import assert from 'node:assert/strict';
import { httpCall, startMockUpstream, type MockUpstream } from '@gatehouse/testing';
import type { CredentialAuthority, RuntimeApi } from '../src/index.ts';
import { createTestIssuer, startTestGateway, type TestGateway, type TestIssuer } from './harness.ts';

// WSO2's per-operation "no security" (auth type None): whatever the API's security schemes, such
// an operation is served without credentials, and nothing is checked, not even credentials that
// are sent (they go to the backend as sent, as in WSO2, for backends that do their own checks).
let gateway: TestGateway;
let backend: MockUpstream;
let km: TestIssuer;
const asked = { introspect: 0, users: 0 };

const operations = [
  { verb: 'GET', target: '/orders', authType: 'Application & Application User', scopes: [] },
  { verb: 'GET', target: '/status', authType: 'None', scopes: [] },
];
const apiOf = (id: string, context: string, securitySchemes: string[], url: string): RuntimeApi => ({
  id,
  name: id,
  context,
  version: 'v1',
  isDefaultVersion: false,
  hosts: [],
  status: 'PUBLISHED',
  operations,
  endpoints: { production: { type: 'http', urls: [url] } },
  securitySchemes,
});

before(async () => {
  km = await createTestIssuer();
  backend = await startMockUpstream('orders');
  gateway = await startTestGateway();
  gateway.gw.setIssuers([km.keyManager]);
  // A Key Manager that counts: an operation without security must never ask it anything.
  const authority: CredentialAuthority = {
    introspect: async () => {
      asked.introspect++;
      return { active: false };
    },
    authenticateUser: async () => {
      asked.users++;
      return { authenticated: false };
    },
  };
  gateway.gw.setCredentialAuthority(authority);
  gateway.gw.deploy([
    apiOf('oauth', '/oauth', ['oauth2'], backend.url),
    apiOf('basic', '/basic', ['basic_auth'], backend.url),
    apiOf('keys', '/keys', ['api_key'], backend.url),
    apiOf('all', '/all', ['oauth2', 'basic_auth', 'api_key'], backend.url),
  ]);
});
after(() => gateway.close(backend));
beforeEach(() => {
  backend.requests.length = 0;
});

const call = (path: string, headers: Record<string, string> = {}) => httpCall(`${gateway.base}${path}`, { headers });

it('serves an operation without security with no credentials, whatever the API\'s schemes', async () => {
  for (const ctx of ['/oauth', '/basic', '/keys', '/all']) {
    const res = await call(`${ctx}/v1/status`);
    assert.equal(res.status, 200, ctx);
  }
  assert.equal(backend.requests.length, 4);
});

it('checks nothing there: credentials that are sent go to the backend as sent, and the Key Manager is not asked', async () => {
  const sent = ['Bearer not-a-valid-token', 'Basic Y2Fyb2w6d3Jvbmc=', `Bearer ${await km.sign({ exp: Math.floor(Date.now() / 1000) - 3600 })}`];
  for (const authorization of sent) assert.equal((await call('/all/v1/status', { authorization, apikey: 'not-a-key' })).status, 200, authorization);
  assert.deepEqual(backend.requests.map((r) => r.headers.authorization), sent);
  assert.deepEqual(asked, { introspect: 0, users: 0 });
});

it('while the secured operation of the same API refuses them, and the backend sees nothing', async () => {
  for (const [ctx, authorization] of [['/oauth', 'Bearer not-a-valid-token'], ['/basic', 'Basic Y2Fyb2w6d3Jvbmc='], ['/all', 'Bearer opaque-token']] as const) {
    const res = await call(`${ctx}/v1/orders`, { authorization });
    assert.equal(res.status, 401, ctx);
    assert.equal(res.json<{ code: number }>().code, 900901, ctx);
  }
  for (const ctx of ['/oauth', '/basic', '/keys', '/all']) assert.equal((await call(`${ctx}/v1/orders`)).json<{ code: number }>().code, 900902, ctx);
  assert.equal(backend.requests.length, 0);
  assert.deepEqual(asked, { introspect: 2, users: 1 }, 'the secured operations asked, once per credential');
});
