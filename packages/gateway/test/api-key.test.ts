import { after, before, beforeEach, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair } from 'jose';
import { httpCall, startMockUpstream, type MockUpstream } from '@gatehouse/testing';
import type { Gateway, RuntimeApi } from '../src/index.ts';
import { createTestIssuer, now, startTestGateway, type TestGateway, type TestIssuer } from './harness.ts';

// WSO2's API keys: self-contained JWTs the Developer Portal signs with the Resident Key Manager's
// access-token key (`typ: JWT`, `tokenType: apiKey`). The test signs them as the Portal does, and
// every forged variant too.
let km: TestIssuer;
let gateway: TestGateway;
let gw: Gateway;
let backend: MockUpstream;
let sandbox: MockUpstream;
let base: string;

const op = (verb: string, target: string, scopes: string[] = []) => ({ verb, target, authType: 'Application & Application User', scopes });
const orders: RuntimeApi = {
  id: 'api-1',
  name: 'Orders',
  context: '/orders',
  version: 'v1',
  isDefaultVersion: false,
  hosts: [],
  status: 'PUBLISHED',
  operations: [op('GET', '/orders'), op('POST', '/orders', ['orders:write'])],
  endpoints: {},
  securitySchemes: ['oauth2', 'api_key', 'oauth_basic_auth_api_key_mandatory'],
};
const custom: RuntimeApi = { ...orders, id: 'api-2', name: 'Custom', context: '/custom', securitySchemes: ['api_key'], apiKeyHeader: 'X-API-Key' };
const oauthOnly: RuntimeApi = { ...orders, id: 'api-3', name: 'OAuthOnly', context: '/oauth', securitySchemes: ['oauth2'] };

const subscribed = (apis: RuntimeApi[]) => apis.map((a) => ({ name: a.name, context: `${a.context}/${a.version}`, version: a.version, publisher: 'admin', subscriptionTier: 'Unlimited', subscriberTenantDomain: 'carbon.super', uuid: a.id }));

async function apiKey(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, signWith = km.privateKey): Promise<string> {
  const body = {
    sub: 'alice',
    keytype: 'PRODUCTION',
    tokenType: 'apiKey',
    application: { id: 'app-1', uuid: 'app-1', name: 'Shop', owner: 'alice', tier: 'Unlimited' },
    subscribedAPIs: subscribed([orders, custom, oauthOnly]),
    iat: now() - 5,
    jti: crypto.randomUUID(),
    iss: km.issuer,
    ...claims,
  };
  return km.signPayload(body, { typ: 'JWT', ...header }, signWith);
}

const accessToken = () => km.sign({ aud: 'c', azp: 'c', client_id: undefined, scope: undefined });

const call = (path: string, headers: Record<string, string> = {}, method = 'GET') => httpCall(`${base}${path}`, { method, headers, body: method === 'POST' ? '{}' : undefined });
const code = (res: { json<T>(): T }) => res.json<{ code: number }>().code;

before(async () => {
  km = await createTestIssuer();
  [backend, sandbox] = await Promise.all([startMockUpstream('prod'), startMockUpstream('sandbox')]);
  gateway = await startTestGateway();
  ({ gw, base } = gateway);
  gw.setIssuers([km.keyManager, { name: 'Partner IdP', issuer: 'https://idp.partner.test', jwks: { keys: [{ ...km.jwk, kid: 'p1' }] } }]);
  const endpoints = { production: { type: 'http' as const, urls: [backend.url] }, sandbox: { type: 'http' as const, urls: [sandbox.url] } };
  gw.deploy([orders, custom, oauthOnly].map((a) => ({ ...a, endpoints })));
});
after(() => gateway.close(backend, sandbox));
beforeEach(() => {
  backend.requests.length = 0;
  sandbox.requests.length = 0;
  gw.data.setSubscriptions(['api-1', 'api-2', 'api-3'].map((apiId) => ({ applicationId: 'app-1', apiId, status: 'UNBLOCKED', tier: 'Unlimited' })));
});

it('lets a valid API key through on an api_key API, without forwarding it, in its own header name', async () => {
  const k = await apiKey();
  const res = await call('/orders/v1/orders', { apikey: k });
  assert.equal(res.status, 200, res.text);
  assert.equal(backend.requests.length, 1);
  assert.equal(backend.requests[0].headers.apikey, undefined, 'the key never reaches the backend');
  assert.equal((await call('/custom/v1/orders', { 'X-API-Key': k })).status, 200, 'the API names its header');
  assert.equal(backend.requests[1].headers['x-api-key'], undefined);
  assert.equal(code(await call('/custom/v1/orders', { apikey: k })), 900902, 'not in the default header on that API');
  assert.equal((await call('/orders/v1/orders', { apikey: await apiKey({ exp: now() + 600 }) })).status, 200, 'a key with an expiry');
});

it('an API without the api_key scheme takes no API key; a bearer token still works beside one', async () => {
  const missing = await call('/oauth/v1/orders', { apikey: await apiKey() });
  assert.equal(missing.status, 401);
  assert.equal(code(missing), 900902);
  assert.equal((await call('/orders/v1/orders', { authorization: `Bearer ${await accessToken()}` })).status, 200);
  const only = await call('/custom/v1/orders', { authorization: `Bearer ${await accessToken()}` });
  assert.equal(only.status, 401, 'an api_key-only API takes no bearer token');
  assert.equal(backend.requests.length, 1);
});

it('checks revocation (jti) on every call and the key type from the key', async () => {
  const k = await apiKey();
  assert.equal((await call('/orders/v1/orders', { apikey: k })).status, 200);
  const { jti } = JSON.parse(Buffer.from(k.split('.')[1], 'base64url').toString()) as { jti: string };
  gw.data.revoke(jti, now() + 86_400);
  const revoked = await call('/orders/v1/orders', { apikey: k });
  assert.equal(revoked.status, 401);
  assert.equal(code(revoked), 900901);
  assert.equal((await call('/orders/v1/orders', { apikey: await apiKey({ keytype: 'SANDBOX' }) })).status, 200);
  assert.equal(sandbox.requests.length, 1, 'a sandbox key goes to the sandbox endpoint');
  assert.equal(backend.requests.length, 1);
});

it('403 (900908) for an API not in the key, an unsubscribed application; 900907 for a blocked subscription; 900910 for a scoped operation', async () => {
  const other = await call('/orders/v1/orders', { apikey: await apiKey({ subscribedAPIs: subscribed([custom]) }) });
  assert.equal(other.status, 403);
  assert.equal(code(other), 900908);
  const byContext = await apiKey({ subscribedAPIs: [{ name: 'Orders', context: '/orders/v1', version: 'v1' }] });
  assert.equal((await call('/orders/v1/orders', { apikey: byContext })).status, 200, 'named by context and version');
  const k = await apiKey();
  gw.data.setSubscriptions([{ applicationId: 'app-1', apiId: 'api-1', status: 'BLOCKED', tier: 'Unlimited' }]);
  assert.equal(code(await call('/orders/v1/orders', { apikey: k })), 900907);
  gw.data.setSubscriptions([]);
  assert.equal(code(await call('/orders/v1/orders', { apikey: k })), 900908, 'unsubscribed since the key was issued');
  gw.data.setSubscriptions([{ applicationId: 'app-1', apiId: 'api-1', status: 'UNBLOCKED', tier: 'Unlimited' }]);
  const scoped = await call('/orders/v1/orders', { apikey: k }, 'POST');
  assert.equal(scoped.status, 403);
  assert.equal(code(scoped), 900910);
  assert.equal(backend.requests.length, 1);
});

it('enforces permittedIP and permittedReferer', async () => {
  const fromHere = await apiKey({ permittedIP: '10.0.0.1, 127.0.0.0/8' });
  assert.equal((await call('/orders/v1/orders', { apikey: fromHere })).status, 200);
  const elsewhere = await call('/orders/v1/orders', { apikey: await apiKey({ permittedIP: '10.0.0.1,2001:db8::/32' }), 'x-forwarded-for': '10.0.0.1' });
  assert.equal(elsewhere.status, 403, 'X-Forwarded-For is not trusted by default');
  assert.equal(code(elsewhere), 900908);
  const referer = await apiKey({ permittedReferer: 'https://shop.example.com/*, https://www.example.org/' });
  assert.equal((await call('/orders/v1/orders', { apikey: referer, referer: 'https://shop.example.com/cart?x=1' })).status, 200);
  assert.equal((await call('/orders/v1/orders', { apikey: referer, referer: 'https://www.example.org/' })).status, 200);
  for (const r of ['https://evil.test/?https://shop.example.com/', 'https://shop-example.com/', 'https://www.example.org/x']) {
    assert.equal((await call('/orders/v1/orders', { apikey: referer, referer: r })).status, 403, r);
  }
  assert.equal((await call('/orders/v1/orders', { apikey: referer })).status, 403, 'no referer');
  assert.equal(backend.requests.length, 3);
});

it('refuses forged keys with 401 (900901), and the backend sees none', async () => {
  const good = await apiKey();
  const [, p, sig] = good.split('.');
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  const { createHmac } = await import('node:crypto');
  const head = b64({ alg: 'HS256', typ: 'JWT', kid: 'k1' });
  const other = await generateKeyPair('ES256');
  const forged = [
    `${b64({ alg: 'none', typ: 'JWT' })}.${p}.`,
    `${head}.${p}.${createHmac('sha256', JSON.stringify(km.jwk)).update(`${head}.${p}`).digest('base64url')}`,
    `${good.split('.')[0]}.${b64({ ...payload, subscribedAPIs: subscribed([orders, custom]), sub: 'mallory' })}.${sig}`,
    await apiKey({}, {}, other.privateKey), // wrong key, right kid
    await apiKey({ exp: now() - 120 }),
    await apiKey({ nbf: now() + 600 }),
    await apiKey({ jti: undefined }),
    await apiKey({ tokenType: undefined }),
    await apiKey({ subscribedAPIs: undefined }),
    await apiKey({}, { typ: 'at+jwt' }), // an access token is not an API key
    await apiKey({ iss: 'https://idp.partner.test' }, { kid: 'p1' }), // only the Resident Key Manager issues API keys
    await apiKey({ iss: 'https://evil.test/oauth2/token' }),
    await accessToken(),
    'not.a.jwt',
  ];
  for (const [i, k] of forged.entries()) {
    const res = await call('/orders/v1/orders', { apikey: k });
    assert.equal(res.status, 401, `forged key #${i}: ${res.text}`);
    assert.equal(code(res), 900901, `forged key #${i}`);
  }
  const asBearer = await call('/orders/v1/orders', { authorization: `Bearer ${good}` });
  assert.equal(asBearer.status, 401, 'an API key is not a bearer token');
  assert.equal(backend.requests.length, 0);
});
