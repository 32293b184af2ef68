import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pino } from 'pino';
import { startTestNode, type TestNode } from '@gatehouse/cli';
import { loadConfig } from '@gatehouse/config';
import { openLocalStore, type LocalStore } from '@gatehouse/data';
import { createInProcessHub, type EventHub } from '@gatehouse/events';
import { loadOrCreateTls } from '@gatehouse/runtime';
import { httpCall, startMockUpstream, tempDir, type MockUpstream } from '@gatehouse/testing';
import { createGateway, createHttpControlPlane, GatewaySync, type Gateway } from '../src/index.ts';

// A gateway of its own (as in the gateway profile) in front of a real control plane: it keeps
// serving when the control plane goes down, and a restart while it is still down serves the
// snapshot from the gateway's local store.
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${encodeURIComponent(u)}:${encodeURIComponent(p)}`).toString('base64')}`;
const logger = pino({ level: 'silent' });
let node: TestNode | undefined;
let backend: MockUpstream;
let dir: Awaited<ReturnType<typeof tempDir>>;
let client: { clientId: string; clientSecret: string };
let controlPlane: string;

async function json(method: string, path: string, auth: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${controlPlane}${path}`, { method, headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

async function startGateway(hub: EventHub, store: LocalStore): Promise<{ gw: Gateway; sync: GatewaySync; stop(): Promise<void> }> {
  const config = loadConfig({ argv: ['--gateway.http_port', '0', '--gateway.https_port', '0', '--data-dir', dir.path], env: {} });
  const gw = createGateway(config, { logger, hub, tls: await loadOrCreateTls({ certFile: '', keyFile: '', dataDir: dir.path }) });
  await gw.start();
  const source = createHttpControlPlane({ baseUrl: controlPlane, clientId: client.clientId, clientSecret: client.clientSecret, timeoutMs: 1_000 });
  const sync = new GatewaySync({ gateway: gw, source, hub, localStore: store, labels: ['Default'], gatewayId: 'gw-standalone', logger, retryMaxMs: 500 });
  await sync.start();
  return { gw, sync, stop: async () => { await sync.stop(); await gw.stop(); await source.close(); } };
}

before(async () => {
  dir = await tempDir();
  backend = await startMockUpstream('orders');
  node = await startTestNode(['--profile', 'control-plane', '--server.public_url', 'https://gatehouse.test']);
  controlPlane = node.baseUrl;
  client = (await json('POST', '/client-registration/v0.17/register', basic('admin', node.adminPassword), { clientName: 'gw-standalone', owner: 'admin', grantType: 'client_credentials password' })) as typeof client;
  const tokenRes = await fetch(`${controlPlane}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: basic(client.clientId, client.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: 'admin', password: node.adminPassword, scope: 'apim:api_create apim:api_publish apim:api_view apim:api_manage' }),
  });
  const bearer = `Bearer ${((await tokenRes.json()) as { access_token: string }).access_token}`;
  const api = await json('POST', '/api/am/publisher/v4/apis', bearer, {
    name: 'Status',
    context: '/status',
    version: 'v1',
    endpointConfig: { endpoint_type: 'http', production_endpoints: { url: backend.url } },
    operations: [{ target: '/ping', verb: 'GET', authType: 'None', throttlingPolicy: 'Unlimited', scopes: [] }],
  });
  const rev = await json('POST', `/api/am/publisher/v4/apis/${api.id}/revisions`, bearer, { description: 'r1' });
  await json('POST', `/api/am/publisher/v4/apis/${api.id}/deploy-revision?revisionId=${rev.id}`, bearer, [{ name: 'Default', vhost: 'localhost' }]);
});
after(async () => {
  await node?.close();
  await backend.close();
  await dir.remove();
});

async function until(url: string, status: number, ms = 3_000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const res = await httpCall(url).catch(() => ({ status: 0 }));
    if (res.status === status || Date.now() - t0 > ms) return res.status;
    await new Promise((r) => setTimeout(r, 25));
  }
}

it('keeps serving with the control plane down, and restarts from its local snapshot', async () => {
  const store = await openLocalStore({ path: join(dir.path, 'gw-local.db') });
  const first = await startGateway((node as TestNode).hub, store);
  assert.equal(first.sync.synced, true, 'pulled from the control plane');
  assert.equal(await until(`${first.gw.listeners.http}/status/v1/ping`, 200), 200);

  await (node as TestNode).close(); // the control plane (and its event hub) goes away
  node = undefined;
  assert.equal(await until(`${first.gw.listeners.http}/status/v1/ping`, 200), 200, 'still serving');
  await first.stop();

  // Restarted while the control plane is still down: the snapshot, at once.
  const second = await startGateway(createInProcessHub(), store);
  try {
    assert.equal(second.sync.synced, false, 'the control plane is unreachable');
    assert.equal(second.gw.apis().length, 1);
    const res = await httpCall(`${second.gw.listeners.http}/status/v1/ping`);
    assert.equal(res.status, 200);
    assert.equal(backend.requests.at(-1)?.url, '/ping');
  } finally {
    await second.stop();
    await store.close();
  }
});
