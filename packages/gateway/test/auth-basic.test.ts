import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { httpCall, startMockUpstream, userBasicAuth, type MockUpstream } from '@gatehouse/testing';
import { appWithKeys, publishApi, startPlatform, type Platform } from './auth-platform.ts';

// WSO2's `basic_auth` security scheme through the all-in-one gateway: the gateway has no user
// store, so its internal client asks the Key Manager; the backend never sees the password.
let p: Platform;
let backend: MockUpstream;

before(async () => {
  backend = await startMockUpstream('orders');
  p = await startPlatform();
  await p.createUser('carol', 'carol-password-1', ['Internal/creator']);
  await p.createUser('dave', 'dave-password-1', ['Internal/subscriber']);
  const endpointConfig = { endpoint_type: 'http', production_endpoints: { url: backend.url } };
  const scopes = [{ scope: { name: 'orders:write', displayName: 'orders:write', description: 'place orders', bindings: ['Internal/creator'] }, shared: false }];
  const operations = [
    { target: '/orders', verb: 'GET', authType: 'Application & Application User', throttlingPolicy: 'Unlimited', scopes: [] },
    { target: '/orders', verb: 'POST', authType: 'Application & Application User', throttlingPolicy: 'Unlimited', scopes: ['orders:write'] },
    { target: '/status', verb: 'GET', authType: 'None', throttlingPolicy: 'Unlimited', scopes: [] },
  ];
  await publishApi(p, { name: 'BasicOrders', context: '/basic', version: 'v1', policies: ['Unlimited'], securityScheme: ['basic_auth'], scopes, endpointConfig, operations }, p.gateway, '/basic/v1/orders');
  await publishApi(p, { name: 'EitherOrders', context: '/either', version: 'v1', policies: ['Unlimited'], securityScheme: ['oauth2', 'basic_auth'], scopes, endpointConfig, operations }, p.gateway, '/either/v1/orders');
});
after(async () => {
  await p?.close();
  await backend?.close();
});

const call = (path: string, authorization?: string, method = 'GET') =>
  httpCall(`${p.gateway}${path}`, { method, headers: authorization === undefined ? {} : { authorization }, ...(method === 'POST' ? { body: '{}' } : {}) });

it('answers 401 (900902) with a Basic challenge when credentials are missing, and the backend sees nothing', async () => {
  backend.requests.length = 0;
  const res = await call('/basic/v1/orders');
  assert.equal(res.status, 401);
  assert.equal(res.json<{ code: number }>().code, 900902);
  assert.equal(res.headers['www-authenticate'], 'Basic realm="gatehouse", charset="UTF-8"');
  assert.equal(backend.requests.length, 0);
});

it('answers 401 (900901) to a wrong password, an unknown user, malformed credentials and a bearer token', async () => {
  backend.requests.length = 0;
  for (const auth of [userBasicAuth('carol', 'wrong-password'), userBasicAuth('nobody', 'carol-password-1'), 'Basic !!!', `Basic ${Buffer.from('no-colon').toString('base64')}`, 'Bearer abc.def.ghi']) {
    const res = await call('/basic/v1/orders', auth);
    assert.equal(res.status, 401, auth);
    assert.equal(res.json<{ code: number }>().code, 900901, auth);
    assert.match(String(res.headers['www-authenticate']), /^Basic realm="gatehouse"/, auth);
  }
  assert.equal(backend.requests.length, 0);
});

it('lets a user with the right password through, without forwarding the Authorization header', async () => {
  backend.requests.length = 0;
  for (const auth of [userBasicAuth('carol', 'carol-password-1'), userBasicAuth('carol', 'carol-password-1'), `basic ${Buffer.from('dave:dave-password-1').toString('base64')}`]) {
    const res = await call('/basic/v1/orders', auth);
    assert.equal(res.status, 200, res.text);
  }
  assert.equal(backend.requests.length, 3);
  for (const r of backend.requests) {
    assert.equal(r.headers.authorization, undefined);
    assert.ok(!r.rawHeaders.some((h) => h.includes('carol-password-1') || h.includes(Buffer.from('carol:carol-password-1').toString('base64'))), 'no trace of the credentials');
  }
});

it('checks an operation\'s scope against the roles bound to it: 403 (900910) for a user without one', async () => {
  backend.requests.length = 0;
  const denied = await call('/basic/v1/orders', userBasicAuth('dave', 'dave-password-1'), 'POST');
  assert.equal(denied.status, 403);
  assert.equal(denied.json<{ code: number }>().code, 900910);
  assert.equal(backend.requests.length, 0);
  const allowed = await call('/basic/v1/orders', userBasicAuth('carol', 'carol-password-1'), 'POST');
  assert.equal(allowed.status, 200, allowed.text);
  assert.equal(backend.requests.length, 1);
  assert.equal(backend.requests[0].headers.authorization, undefined);
});

it('an API with oauth2 and basic_auth challenges for both, and takes either', async () => {
  const missing = await call('/either/v1/orders');
  assert.equal(missing.status, 401);
  assert.deepEqual(missing.headers['www-authenticate'], 'Bearer realm="gatehouse", Basic realm="gatehouse", charset="UTF-8"');
  backend.requests.length = 0;
  assert.equal((await call('/either/v1/orders', userBasicAuth('carol', 'carol-password-1'))).status, 200);
  await p.createUser('erin', 'erin-password-1', ['Internal/subscriber']);
  const dp = await p.consumer('erin', 'erin-password-1');
  const apis = await dp.json<{ list: { id: string; name: string }[] }>('GET', '/api/am/devportal/v3/apis', undefined, 200);
  const app = await appWithKeys(dp, 'EitherApp', { apiId: apis.list.find((a) => a.name === 'EitherOrders')?.id });
  assert.equal((await call('/either/v1/orders', `Bearer ${app.token}`)).status, 200);
  assert.equal(backend.requests.length, 2);
  for (const r of backend.requests) assert.equal(r.headers.authorization, undefined);
});

it('needs nothing on an operation without security', async () => {
  backend.requests.length = 0;
  assert.equal((await call('/basic/v1/status')).status, 200);
  assert.equal(backend.requests.length, 1);
});
