import { after, before, beforeEach, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNode, type TestNode } from '@gatehouse/cli';
import { Topics, type EventHub } from '@gatehouse/events';
import { httpCall, startMockUpstream, type MockUpstream } from '@gatehouse/testing';
import { createHttpControlPlane, type Gateway, type GatewaySync } from '../src/index.ts';
import { startSyncedGateway, type SyncedGateway } from './harness.ts';

// Regression: a gateway acknowledged a deployment only when it got it as an event, so one whose
// event was lost (NATS down, a control plane killed with its publish queue full) was served after
// the gateway's next pull but stayed CREATED in the Publisher. A gateway of its own in front of a
// real control plane (in-process hub): it acknowledges after each pull what it has not
// acknowledged yet, with its outcome, once; an acknowledgement it could not publish goes out later.
const PUB = '/api/am/publisher/v4';
const GATEWAY_ID = 'gw-acks';
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${encodeURIComponent(u)}:${encodeURIComponent(p)}`).toString('base64')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let node: TestNode;
let backend: MockUpstream;
let bearer: string;
let synced: SyncedGateway;
let gw: Gateway;
let sync: GatewaySync;
let closeSource: () => Promise<void>;
/** The acknowledgements this gateway published, as the control plane got them. */
const acks: { apiId: string; revisionId: string; status: string; error?: string }[] = [];
/** What the gateway's link to the event hub does: lose deploy events, drop, refuse acknowledgements. */
const link = { loseDeployEvents: false, connected: true, refuseAcks: false };
/** APIs whose artifact the gateway gets in a format it does not know. */
const broken = new Set<string>();

/** The control plane's hub as the gateway sees it through `link`. */
function gatewayHub(hub: EventHub): EventHub {
  return {
    publish(topic, type, payload, opts) {
      return link.refuseAcks && topic === Topics.DeploymentAck ? Promise.reject(new Error('nats: timeout')) : hub.publish(topic, type, payload, opts);
    },
    subscribe(topic, handler, opts) {
      return hub.subscribe<Parameters<typeof handler>[0]['payload']>(topic, (e) => (link.loseDeployEvents && e.type === 'DEPLOY_API_IN_GATEWAY' ? undefined : handler(e)), opts);
    },
    lastSeq: (topic) => hub.lastSeq(topic),
    oldestSeq: (topic) => hub.oldestSeq(topic),
    request: (subject, payload, opts) => hub.request(subject, payload, opts),
    respond: (subject, handler) => hub.respond(subject, handler),
    isConnected: () => link.connected && hub.isConnected(),
    ping: () => hub.ping(),
    close: async () => undefined,
  };
}

async function json<T = Record<string, unknown>>(method: string, path: string, auth: string, body?: unknown): Promise<T> {
  const res = await fetch(`${node.baseUrl}${path}`, { method, headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

async function createApi(name: string): Promise<string> {
  const api = await json<{ id: string }>('POST', `${PUB}/apis`, bearer, {
    name,
    context: `/${name.toLowerCase()}`,
    version: 'v1',
    endpointConfig: { endpoint_type: 'http', production_endpoints: { url: backend.url } },
    operations: [{ target: '/ping', verb: 'GET', authType: 'None', throttlingPolicy: 'Unlimited', scopes: [] }],
  });
  return api.id;
}

async function deploy(apiId: string): Promise<string> {
  const rev = await json<{ id: string }>('POST', `${PUB}/apis/${apiId}/revisions`, bearer, { description: 'next' });
  await json('POST', `${PUB}/apis/${apiId}/deploy-revision?revisionId=${rev.id}`, bearer, [{ name: 'Default', vhost: 'localhost' }]);
  return rev.id;
}

/** The Publisher's view of the API's deployment to Default. */
async function deployment(apiId: string): Promise<{ revision: string; status: string; deployed: number; failed: number }> {
  const { list } = await json<{ list: { revisionUuid: string; status: string; deployedGatewayCount: number; failedGatewayCount: number }[] }>('GET', `${PUB}/apis/${apiId}/deployments`, bearer);
  const d = list[0];
  assert.ok(d, 'deployed');
  return { revision: d.revisionUuid, status: d.status, deployed: d.deployedGatewayCount, failed: d.failedGatewayCount };
}

async function until<T>(what: string, probe: () => Promise<T> | T, ok: (v: T) => boolean, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(v)})`);
    await sleep(20);
  }
}

/** The event hub connection drops and comes back: the gateway pulls everything; resolves once it has (or failed to). */
async function reconnect(): Promise<void> {
  const before = sync.status();
  link.connected = false;
  await sleep(50);
  link.connected = true;
  await until('a pull', () => sync.status(), (s) => s.lastPullAt !== before.lastPullAt || (s.lastPullError !== null && s.lastPullError !== before.lastPullError));
}

const acksOf = (apiId: string) => acks.filter((a) => a.apiId === apiId).map((a) => `${a.revisionId} ${a.status}`);

before(async () => {
  backend = await startMockUpstream('orders');
  node = await startTestNode(['--profile', 'control-plane', '--server.public_url', 'https://gatehouse.test']);
  const client = await json<{ clientId: string; clientSecret: string }>('POST', '/client-registration/v0.17/register', basic('admin', node.adminPassword), { clientName: 'gw-acks', owner: 'admin', grantType: 'client_credentials password' });
  const tokenRes = await fetch(`${node.baseUrl}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: basic(client.clientId, client.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: 'admin', password: node.adminPassword, scope: 'apim:api_create apim:api_publish apim:api_view apim:api_manage' }),
  });
  bearer = `Bearer ${((await tokenRes.json()) as { access_token: string }).access_token}`;
  await node.hub.subscribe<{ apiId: string; revisionId: string; gatewayId: string; status: string; error?: string }>(Topics.DeploymentAck, (e) => {
    if (e.type === 'DEPLOY_ACK' && e.payload.gatewayId === GATEWAY_ID) acks.push(e.payload);
  });

  const http = createHttpControlPlane({ baseUrl: node.baseUrl, clientId: client.clientId, clientSecret: client.clientSecret, timeoutMs: 2_000 });
  closeSource = () => http.close();
  const source: typeof http = Object.assign(Object.create(http) as typeof http, {
    async runtimeArtifacts(label: string, apiId?: string) {
      return (await http.runtimeArtifacts(label, apiId)).map((a) => (broken.has(a.apiId) ? { ...a, schemaVersion: 99 } : a));
    },
  });
  synced = await startSyncedGateway({ source, hub: node.hub, link: gatewayHub, gatewayId: GATEWAY_ID, heartbeatMs: 100, hubCheckMs: 10, retryMaxMs: 200, start: false });
  gw = synced.t.gw;
  sync = synced.sync;
});

beforeEach(() => {
  Object.assign(link, { loseDeployEvents: false, connected: true, refuseAcks: false });
});

after(async () => {
  await synced?.stop();
  await closeSource?.();
  await node?.close();
  await backend?.close();
});

it('acknowledges at its first pull a deployment made before it started', async () => {
  const orders = await createApi('Orders');
  const r1 = await deploy(orders);
  assert.equal((await deployment(orders)).status, 'CREATED', 'no gateway has it yet');
  await sync.start();
  assert.deepEqual(await until('the acknowledgement', () => deployment(orders), (d) => d.status !== 'CREATED'), { revision: r1, status: 'DEPLOYED', deployed: 1, failed: 0 });
  assert.deepEqual(acksOf(orders), [`${r1} DEPLOYED`]);
});

it('a deployment whose event it missed: served and acknowledged after its next pull, and not again after the one after', async () => {
  const orders = await createApi('Lost');
  link.loseDeployEvents = true;
  const r1 = await deploy(orders);
  await sleep(200);
  assert.equal((await httpCall(`${gw.listeners.http}/lost/v1/ping`)).status, 404, 'the event was lost');
  assert.equal((await deployment(orders)).status, 'CREATED');

  await reconnect();
  assert.equal((await httpCall(`${gw.listeners.http}/lost/v1/ping`)).status, 200, 'served after the pull');
  assert.deepEqual(await until('the acknowledgement', () => deployment(orders), (d) => d.status !== 'CREATED'), { revision: r1, status: 'DEPLOYED', deployed: 1, failed: 0 });

  const r2 = await deploy(orders);
  await reconnect();
  assert.deepEqual(await until('the acknowledgement', () => deployment(orders), (d) => d.status !== 'CREATED'), { revision: r2, status: 'DEPLOYED', deployed: 1, failed: 0 });
  const before = acks.length;
  await reconnect();
  await sleep(300);
  assert.equal(acks.length, before, 'nothing new to acknowledge: nothing sent');
  assert.deepEqual(acksOf(orders), [`${r1} DEPLOYED`, `${r2} DEPLOYED`]);
});

it('an acknowledgement it could not publish goes out at a later heartbeat, once', async () => {
  const orders = await createApi('Refused');
  link.loseDeployEvents = true;
  link.refuseAcks = true;
  const r1 = await deploy(orders);
  await reconnect();
  assert.equal((await httpCall(`${gw.listeners.http}/refused/v1/ping`)).status, 200, 'served after the pull');
  await sleep(300);
  assert.equal((await deployment(orders)).status, 'CREATED', 'not acknowledged while the hub refuses');

  link.refuseAcks = false;
  assert.deepEqual(await until('the acknowledgement', () => deployment(orders), (d) => d.status !== 'CREATED'), { revision: r1, status: 'DEPLOYED', deployed: 1, failed: 0 });
  await sleep(300);
  assert.deepEqual(acksOf(orders), [`${r1} DEPLOYED`]);
});

it('a deployment it cannot apply: FAILED by event and after its pulls, never as deployed, until it can', async () => {
  const api = await createApi('Broken');
  broken.add(api);
  const r1 = await deploy(api);
  assert.deepEqual(await until('the acknowledgement', () => deployment(api), (d) => d.status !== 'CREATED'), { revision: r1, status: 'FAILED', deployed: 0, failed: 1 });
  assert.equal((await httpCall(`${gw.listeners.http}/broken/v1/ping`)).status, 404);
  assert.equal((await httpCall(`${gw.listeners.http}/orders/v1/ping`)).status, 200, 'the others still served');

  // Each pull fails on it (and is retried): the outcome is the same, so nothing is sent again.
  const before = acks.length;
  await reconnect();
  assert.match(String(sync.status().lastPullError), /schema version 99/);
  await sleep(500);
  assert.equal(acks.length, before);
  assert.equal((await httpCall(`${gw.listeners.http}/lost/v1/ping`)).status, 200, 'the others still served');

  broken.delete(api);
  assert.deepEqual(await until('the acknowledgement', () => deployment(api), (d) => d.status === 'DEPLOYED', 5_000), { revision: r1, status: 'DEPLOYED', deployed: 1, failed: 0 });
  assert.equal((await httpCall(`${gw.listeners.http}/broken/v1/ping`)).status, 200);
  assert.deepEqual(acksOf(api), [`${r1} FAILED`, `${r1} DEPLOYED`]);
});
