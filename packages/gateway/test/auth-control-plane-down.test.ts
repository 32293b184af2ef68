import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { loadConfig } from '@gatehouse/config';
import { openLocalStore } from '@gatehouse/data';
import { loadOrCreateTls } from '@gatehouse/runtime';
import { dcrRequest, httpCall, startMockUpstream, tempDir, userBasicAuth, type ApiCaller, type MockUpstream } from '@gatehouse/testing';
import { createGateway, createHttpControlPlane, GatewaySync, type Gateway } from '../src/index.ts';
import { appWithKeys, publishApi, startPlatform, type AppKeys, type Platform } from './auth-platform.ts';

// A standalone gateway whose control plane (our Key Manager) becomes unreachable, through a TCP
// proxy that can pass, hang (accept and never answer) or refuse: opaque tokens and basic-auth
// passwords it has not checked yet get a 503 (900900) within the credential-check timeout, never
// a 500 nor a hang; what it checked before keeps working until it expires, and JWTs are verified
// offline as ever.
const TIMEOUT_MS = 800;

interface Proxy {
  readonly url: string;
  mode: 'pass' | 'hang' | 'refuse';
  close(): Promise<void>;
}

async function startProxy(target: string): Promise<Proxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (proxy.mode === 'refuse') return void client.destroy();
    if (proxy.mode === 'hang') return void client.resume();
    const upstream = connect(Number(port), hostname);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  let mode: Proxy['mode'] = 'pass';
  const proxy: Proxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get mode() {
      return mode;
    },
    // A change applies to new connections, and to the kept-alive ones: they are cut.
    set mode(m) {
      for (const s of sockets) s.destroy();
      mode = m;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
  return proxy;
}

let p: Platform;
let dir: Awaited<ReturnType<typeof tempDir>>;
let backend: MockUpstream;
let proxy: Proxy;
let dp: ApiCaller;
let base: string;
let jwtApp: AppKeys;
let opaqueApp: AppKeys;
const stops: (() => Promise<void>)[] = [];

before(async () => {
  dir = await tempDir();
  backend = await startMockUpstream('orders');
  p = await startPlatform(['--profile', 'control-plane']);
  proxy = await startProxy(p.node.baseUrl);
  const res = await dcrRequest(p.node.baseUrl, 'admin', p.node.adminPassword, { clientName: 'gatehouse-internal-gw-cp-down', owner: 'admin', grantType: 'client_credentials' });
  const client = (await res.json()) as { clientId: string; clientSecret: string };
  const logger = pino({ level: 'silent' });
  const config = loadConfig({ argv: ['--gateway.http_port', '0', '--gateway.https_port', '0', '--data-dir', dir.path], env: {} });
  const gw: Gateway = createGateway(config, { logger, hub: p.node.hub, tls: await loadOrCreateTls({ certFile: '', keyFile: '', dataDir: dir.path }) });
  await gw.start();
  const store = await openLocalStore({ path: `${dir.path}/gw.db` });
  const source = createHttpControlPlane({ baseUrl: proxy.url, clientId: client.clientId, clientSecret: client.clientSecret, timeoutMs: TIMEOUT_MS });
  const sync = new GatewaySync({ gateway: gw, source, hub: p.node.hub, localStore: store, labels: ['Default'], gatewayId: 'gw-cp-down', logger });
  await sync.start();
  stops.push(async () => {
    await sync.stop();
    await gw.stop();
    await source.close();
    await store.close();
  });
  base = gw.listeners.http as string;
  const apiId = await publishApi(
    p,
    {
      name: 'Counter',
      context: '/counter',
      version: 'v1',
      policies: ['Unlimited'],
      securityScheme: ['oauth2', 'basic_auth'],
      endpointConfig: { endpoint_type: 'http', production_endpoints: { url: backend.url } },
      operations: [{ target: '/orders', verb: 'GET', authType: 'Application & Application User', throttlingPolicy: 'Unlimited', scopes: [] }],
    },
    base,
    '/counter/v1/orders',
  );
  await p.createUser('cora', 'cora-password-1', ['Internal/subscriber']);
  await p.createUser('dan', 'dan-password-1', ['Internal/subscriber']);
  dp = await p.consumer('cora', 'cora-password-1');
  jwtApp = await appWithKeys(dp, 'JwtCounter', { apiId });
  opaqueApp = await appWithKeys(dp, 'OpaqueCounter', { tokenType: 'OAUTH', apiId });
});
after(async () => {
  for (const stop of stops.reverse()) await stop();
  await proxy?.close();
  await p?.close();
  await backend?.close();
  await dir?.remove();
});

const call = (authorization: string) => httpCall(`${base}/counter/v1/orders`, { headers: { authorization } });

/** A token of the app's keys (client_credentials at the Key Manager itself, not through the proxy). */
async function newToken(app: AppKeys): Promise<string> {
  const res = await fetch(`${p.node.baseUrl}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${app.consumerKey}:${app.consumerSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

it('answers 503 within the timeout for credentials it has not checked, while JWTs and checked credentials keep working', async () => {
  // Checked while the control plane is up: cached.
  assert.equal((await call(`Bearer ${opaqueApp.token}`)).status, 200);
  assert.equal((await call(userBasicAuth('cora', 'cora-password-1'))).status, 200);
  for (const mode of ['hang', 'refuse'] as const) {
    const [jwt, opaque] = await Promise.all([newToken(jwtApp), newToken(opaqueApp)]);
    assert.equal(opaque.includes('.'), false);
    proxy.mode = mode;
    backend.requests.length = 0;
    const started = Date.now();
    // Concurrent callers with the same new credentials share one check, and all get the 503.
    const [opaqueRes, basicRes] = await Promise.all([
      Promise.all(Array.from({ length: 5 }, () => call(`Bearer ${opaque}`))),
      Promise.all(Array.from({ length: 5 }, () => call(userBasicAuth('dan', 'dan-password-1')))),
    ]);
    const ms = Date.now() - started;
    for (const res of [...opaqueRes, ...basicRes]) {
      assert.equal(res.status, 503, `${mode}: ${res.text}`);
      assert.equal(res.json<{ code: number }>().code, 900900);
      assert.equal(res.headers['retry-after'], '5');
    }
    assert.ok(ms < TIMEOUT_MS + 1_000, `${mode}: answered in ${ms} ms`);
    assert.equal(backend.requests.length, 0);
    // Offline: a JWT never seen before, and the credentials checked before the outage.
    assert.equal((await call(`Bearer ${jwt}`)).status, 200, `${mode}: a new JWT`);
    assert.equal((await call(`Bearer ${opaqueApp.token}`)).status, 200, `${mode}: a cached opaque token`);
    assert.equal((await call(userBasicAuth('cora', 'cora-password-1'))).status, 200, `${mode}: cached basic credentials`);
    assert.equal(backend.requests.length, 3);
    proxy.mode = 'pass';
    assert.equal((await call(`Bearer ${opaque}`)).status, 200, `${mode}: the same opaque token once the control plane is back`);
  }
  assert.equal((await call(userBasicAuth('dan', 'dan-password-1'))).status, 200, 'and the same basic credentials');
});
