import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { httpCall, startMockUpstream, type MockUpstream } from '@gatehouse/testing';
import type { RuntimeApi } from '../src/index.ts';
import { checkBackendJwtOptions } from '../src/policies/backend-jwt.ts';
import { createTestIssuer, now, startTestGateway, type TestGateway, type TestIssuer } from './harness.ts';

// WSO2's backend JWT: the backend learns who calls from an assertion the gateway signs, never
// from the client's credentials.
const D = 'http://wso2.org/claims';

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
    { verb: 'GET', target: '/status', authType: 'None', scopes: [] },
  ],
  endpoints: { production: { type: 'http', urls: [''] } },
};

const assertionOf = (backend: MockUpstream, i: number): string | undefined => {
  const v = backend.requests[i].headers['x-jwt-assertion'];
  return Array.isArray(v) ? v.join(',') : v;
};

async function setup(options: Parameters<typeof startTestGateway>[0]): Promise<{ gateway: TestGateway; backend: MockUpstream; km: TestIssuer }> {
  const km = await createTestIssuer();
  const backend = await startMockUpstream('backend');
  const gateway = await startTestGateway(options);
  gateway.gw.setIssuers([km.keyManager]);
  gateway.gw.deploy([{ ...api, endpoints: { production: { type: 'http', urls: [backend.url] } } }]);
  gateway.gw.data.setSubscriptions([{ applicationId: 'app-1', apiId: 'api-1', status: 'UNBLOCKED', tier: 'Gold' }]);
  return { gateway, backend, km };
}

describe('backend JWT enabled', () => {
  let gateway: TestGateway;
  let backend: MockUpstream;
  let km: TestIssuer;
  let keys: JSONWebKeySet;
  before(async () => {
    ({ gateway, backend, km } = await setup({ gateway: { backendJwt: { enabled: true } } }));
    const res = await httpCall(`${gateway.base}/health/jwks`);
    assert.equal(res.status, 200);
    keys = res.json<JSONWebKeySet>();
  });
  after(() => gateway.close(backend));
  beforeEach(() => {
    backend.requests.length = 0;
  });

  it('sends the backend a verifiable assertion with WSO2 claims, and never the client credentials', async () => {
    const token = await km.sign();
    const res = await httpCall(`${gateway.base}/orders/v1/orders`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.equal(backend.requests.length, 1);
    assert.equal(backend.requests[0].headers.authorization, undefined);
    const jwt = assertionOf(backend, 0);
    assert.ok(jwt);
    assert.equal(keys.keys.length, 1);
    assert.equal(keys.keys[0].d, undefined); // public only
    const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(keys), { issuer: 'wso2.org/products/am', algorithms: ['ES256'] });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(protectedHeader.kid, keys.keys[0].kid);
    assert.deepEqual(
      {
        subscriber: payload[`${D}/subscriber`],
        applicationid: payload[`${D}/applicationid`],
        applicationname: payload[`${D}/applicationname`],
        applicationtier: payload[`${D}/applicationtier`],
        apicontext: payload[`${D}/apicontext`],
        version: payload[`${D}/version`],
        tier: payload[`${D}/tier`],
        keytype: payload[`${D}/keytype`],
        enduser: payload[`${D}/enduser`],
      },
      { subscriber: 'alice', applicationid: 'app-1', applicationname: 'Shop', applicationtier: 'Unlimited', apicontext: '/orders/v1', version: 'v1', tier: 'Gold', keytype: 'PRODUCTION', enduser: 'alice' },
    );
    // 900 s by default, but never past the client token (which expires in 10 minutes).
    assert.equal(payload.exp, decodeJwt(token).exp);
    assert.ok((payload.iat as number) >= now() - 5);
  });

  it('signs once per token: a second call sends the same assertion, another token gets its own', async () => {
    const t = await km.sign();
    const auth = { authorization: `Bearer ${t}` };
    assert.equal((await httpCall(`${gateway.base}/orders/v1/orders`, { headers: auth })).status, 200);
    assert.equal((await httpCall(`${gateway.base}/orders/v1/orders`, { headers: auth })).status, 200);
    assert.equal((await httpCall(`${gateway.base}/orders/v1/orders`, { headers: { authorization: `Bearer ${await km.sign()}` } })).status, 200);
    assert.equal(backend.requests.length, 3);
    assert.equal(assertionOf(backend, 0), assertionOf(backend, 1));
    assert.notEqual(assertionOf(backend, 0), assertionOf(backend, 2));
  });

  it('shares one signature between concurrent first calls of a token', async () => {
    const auth = { authorization: `Bearer ${await km.sign()}` };
    const results = await Promise.all([1, 2, 3].map(() => httpCall(`${gateway.base}/orders/v1/orders`, { headers: auth })));
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200]);
    assert.equal(new Set([0, 1, 2].map((i) => assertionOf(backend, i))).size, 1);
  });

  it('sends an unsecured operation no assertion, and drops one a client forged', async () => {
    const res = await httpCall(`${gateway.base}/orders/v1/status`, { headers: { 'x-jwt-assertion': 'forged' } });
    assert.equal(res.status, 200);
    assert.equal(backend.requests[0].headers['x-jwt-assertion'], undefined);
  });

  it('replaces an assertion a client sends with its own on a secured operation', async () => {
    const res = await httpCall(`${gateway.base}/orders/v1/orders`, { headers: { authorization: `Bearer ${await km.sign()}`, 'x-jwt-assertion': 'forged' } });
    assert.equal(res.status, 200);
    const jwt = assertionOf(backend, 0) ?? '';
    assert.notEqual(jwt, 'forged');
    assert.equal(decodeJwt(jwt)[`${D}/enduser`], 'alice');
  });
});

describe('backend JWT disabled (the default)', () => {
  let gateway: TestGateway;
  let backend: MockUpstream;
  let km: TestIssuer;
  before(async () => {
    ({ gateway, backend, km } = await setup({}));
  });
  after(() => gateway.close(backend));

  it('sends no assertion and serves no key', async () => {
    const res = await httpCall(`${gateway.base}/orders/v1/orders`, { headers: { authorization: `Bearer ${await km.sign()}` } });
    assert.equal(res.status, 200);
    assert.equal(backend.requests[0].headers['x-jwt-assertion'], undefined);
    assert.equal(backend.requests[0].headers.authorization, undefined);
    assert.equal((await httpCall(`${gateway.base}/health/jwks`)).status, 404);
  });
});

it('refuses invalid backendJwt options, listing every problem', () => {
  assert.throws(
    () => checkBackendJwtOptions({ enabled: true, header: 'bad header', ttlSeconds: 0 }),
    /header "bad header" is not a header name; ttlSeconds must be a positive integer, got 0/,
  );
});
