import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { loadConfig } from '@gatehouse/config';
import { openLocalStore, type LocalStore } from '@gatehouse/data';
import { loadOrCreateTls } from '@gatehouse/runtime';
import { clientBasicAuth, dcrRequest, httpCall, startMockUpstream, tempDir, type ApiCaller, type MockUpstream } from '@gatehouse/testing';
import { Agent } from 'undici';
import { createCredentialAuthority, createGateway, createHttpControlPlane, GatewaySync, type CredentialAuthority, type Gateway } from '../src/index.ts';
import { appWithKeys, publishApi, startPlatform, untilStatus, type AppKeys, type Platform } from './auth-platform.ts';

// Opaque access tokens (applications with tokenType OAUTH) through a gateway of its own, as in
// the gateway profile: it introspects them (RFC 7662) at a real control plane with its internal
// client, once per token, and the backend never sees them.
const logger = pino({ level: 'silent' });
let p: Platform;
let dir: Awaited<ReturnType<typeof tempDir>>;
let backend: MockUpstream;
let sandbox: MockUpstream;
let dp: ApiCaller;
let apiId: string;
const stops: (() => Promise<void>)[] = [];
let introspections = 0;

async function register(clientName: string): Promise<{ clientId: string; clientSecret: string }> {
  const res = await dcrRequest(p.node.baseUrl, 'admin', p.node.adminPassword, { clientName, owner: 'admin', grantType: 'client_credentials' });
  assert.equal(res.status, 200);
  return (await res.json()) as { clientId: string; clientSecret: string };
}

/** A standalone gateway on the platform's hub and internal data API, with the given client. */
async function standaloneGateway(name: string, client: { clientId: string; clientSecret: string }, store: LocalStore): Promise<{ gw: Gateway; base: string }> {
  const config = loadConfig({ argv: ['--gateway.http_port', '0', '--gateway.https_port', '0', '--data-dir', dir.path], env: {} });
  const gw = createGateway(config, { logger, hub: p.node.hub, tls: await loadOrCreateTls({ certFile: '', keyFile: '', dataDir: dir.path }) });
  await gw.start();
  const source = createHttpControlPlane({ baseUrl: p.node.baseUrl, clientId: client.clientId, clientSecret: client.clientSecret, timeoutMs: 2_000 });
  const real = source.credentials;
  // The real Key Manager, counted: how many introspections reach it.
  const credentials: CredentialAuthority = {
    introspect: (token) => {
      introspections++;
      return real.introspect(token);
    },
    authenticateUser: (u, pw, ip) => real.authenticateUser(u, pw, ip),
  };
  const sync = new GatewaySync({ gateway: gw, source: { ...source, credentials }, hub: p.node.hub, localStore: store, labels: ['Default'], gatewayId: name, logger });
  await sync.start();
  stops.push(async () => {
    await sync.stop();
    await gw.stop();
    await source.close();
  });
  return { gw, base: gw.listeners.http as string };
}

let gw: { gw: Gateway; base: string };
let ordinary: { gw: Gateway; base: string };
let shop: AppKeys;

before(async () => {
  dir = await tempDir();
  [backend, sandbox] = await Promise.all([startMockUpstream('orders'), startMockUpstream('orders-sandbox')]);
  p = await startPlatform(['--profile', 'control-plane']);
  const store = await openLocalStore({ path: `${dir.path}/gw.db` });
  const store2 = await openLocalStore({ path: `${dir.path}/gw2.db` });
  stops.push(() => store.close(), () => store2.close());
  // A gateway's operator registers its client as admin under the reserved internal name.
  gw = await standaloneGateway('gw-opaque', await register('gatehouse-internal-gw-opaque'), store);
  ordinary = await standaloneGateway('gw-ordinary', await register('gw-ordinary'), store2);
  apiId = await publishApi(
    p,
    {
      name: 'Orders',
      context: '/orders',
      version: 'v1',
      policies: ['Unlimited'],
      endpointConfig: { endpoint_type: 'http', production_endpoints: { url: backend.url }, sandbox_endpoints: { url: sandbox.url } },
      operations: [{ target: '/orders', verb: 'GET', authType: 'Application & Application User', throttlingPolicy: 'Unlimited', scopes: [] }],
    },
    gw.base,
    '/orders/v1/orders',
  );
  await untilStatus(`${ordinary.base}/orders/v1/orders`, {}, 401);
  await p.createUser('olive', 'olive-password-1', ['Internal/subscriber']);
  dp = await p.consumer('olive', 'olive-password-1');
  shop = await appWithKeys(dp, 'OpaqueShop', { tokenType: 'OAUTH', apiId });
});
after(async () => {
  for (const stop of stops.reverse()) await stop();
  await p?.close();
  await Promise.all([backend?.close(), sandbox?.close()]);
  await dir?.remove();
});

const call = (base: string, token: string) => httpCall(`${base}/orders/v1/orders`, { headers: { authorization: `Bearer ${token}` } });

it('lets an opaque token of a subscribed application through, introspected once, without forwarding it', async () => {
  assert.equal(shop.token.includes('.'), false, 'an OAUTH application gets opaque tokens');
  backend.requests.length = 0;
  const before = introspections;
  for (let i = 0; i < 5; i++) {
    const res = await call(gw.base, shop.token);
    assert.equal(res.status, 200, res.text);
  }
  assert.equal(introspections - before, 1, 'the Key Manager is asked once per token');
  assert.equal(backend.requests.length, 5);
  for (const r of backend.requests) assert.equal(r.headers.authorization, undefined, 'the token never reaches the backend');
});

it('takes the key type from introspection: sandbox keys go to the sandbox endpoint', async () => {
  const sb = await appWithKeys(dp, 'OpaqueSandbox', { tokenType: 'OAUTH', apiId, keyType: 'SANDBOX' });
  backend.requests.length = 0;
  sandbox.requests.length = 0;
  const res = await call(gw.base, sb.token);
  assert.equal(res.status, 200, res.text);
  assert.equal(sandbox.requests.length, 1);
  assert.equal(backend.requests.length, 0);
});

it('refuses unknown opaque tokens (401, 900901) and unsubscribed applications (403, 900908); the backend sees nothing', async () => {
  backend.requests.length = 0;
  const unknown = await call(gw.base, 'bm90LWEtcmVhbC10b2tlbi1hdC1hbGwtMDEyMzQ1Njc4OQ');
  assert.equal(unknown.status, 401);
  assert.equal(unknown.json<{ code: number }>().code, 900901);
  assert.match(String(unknown.headers['www-authenticate']), /^Bearer realm="gatehouse", error="invalid_token"/);
  const other = await appWithKeys(dp, 'NotSubscribed', { tokenType: 'OAUTH' });
  const forbidden = await call(gw.base, other.token);
  assert.equal(forbidden.status, 403);
  assert.equal(forbidden.json<{ code: number }>().code, 900908);
  assert.equal(backend.requests.length, 0);
});

it('refuses a revoked opaque token on the next calls, though its introspection is cached', async () => {
  const app = await appWithKeys(dp, 'Revoked', { tokenType: 'OAUTH', apiId });
  assert.equal((await call(gw.base, app.token)).status, 200);
  const res = await fetch(`${p.node.baseUrl}/oauth2/revoke`, {
    method: 'POST',
    headers: { authorization: clientBasicAuth(app.consumerKey, app.consumerSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: app.token }),
  });
  assert.equal(res.status, 200);
  backend.requests.length = 0;
  assert.equal(await untilStatus(`${gw.base}/orders/v1/orders`, { authorization: `Bearer ${app.token}` }, 401), 401);
  assert.equal(backend.requests.length, 0);
});

it('a gateway whose client is not internal cannot introspect others\' tokens: 401, backend untouched', async () => {
  backend.requests.length = 0;
  const res = await call(ordinary.base, shop.token);
  assert.equal(res.status, 401);
  assert.equal(res.json<{ code: number }>().code, 900901);
  assert.equal(backend.requests.length, 0);
});

it('answers 503 (900900) with Retry-After when the Key Manager cannot be reached, and forwards nothing', async () => {
  const dispatcher = new Agent({ connect: { timeout: 500 } });
  ordinary.gw.setCredentialAuthority(createCredentialAuthority({ baseUrl: 'http://127.0.0.1:1', clientId: 'x', clientSecret: 'y', dispatcher }));
  try {
    backend.requests.length = 0;
    const res = await call(ordinary.base, shop.token);
    assert.equal(res.status, 503);
    assert.equal(res.json<{ code: number }>().code, 900900);
    assert.equal(res.headers['retry-after'], '5');
    assert.equal(backend.requests.length, 0);
  } finally {
    await dispatcher.close();
  }
});
