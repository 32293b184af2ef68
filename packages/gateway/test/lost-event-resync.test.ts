import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNode, type TestNode } from '@gatehouse/cli';
import { loadConfig } from '@gatehouse/config';
import { Topics, type EventHub } from '@gatehouse/events';
import { httpCall, startMockUpstream, type MockUpstream } from '@gatehouse/testing';
import { createHttpControlPlane, type ControlPlaneSource, type DeployedArtifact, type SourceKeyManager } from '../src/index.ts';
import { createTestIssuer, startSyncedGateway, type SyncedGateway, type TestIssuer } from './harness.ts';

// Regression: an event the control plane lost before it reached the event hub (it crashed with
// its publish queue full during a NATS outage only it saw) left a gateway that never lost NATS on
// stale state until its restart or its next reconnect: a revoked token accepted, a new
// subscription refused, a deployment neither served nor acknowledged. It now pulls everything
// every `gateway.resync_interval_ms`, and a pull that finds the APIs served unchanged swaps no
// route table.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const resyncMs = (value: string) => loadConfig({ argv: ['--gateway.resync_interval_ms', value], env: {} }).gateway.resync_interval_ms;

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The hub as a gateway sees it: connected throughout, but the events `lose` names never arrive. */
function losingHub(hub: EventHub, lose: Set<string>): EventHub {
  return {
    publish: (topic, type, payload, opts) => hub.publish(topic, type, payload, opts),
    subscribe: (topic, handler, opts) => hub.subscribe<Parameters<typeof handler>[0]['payload']>(topic, (e) => (lose.has(e.type) ? undefined : handler(e)), opts),
    lastSeq: (topic) => hub.lastSeq(topic),
    oldestSeq: (topic) => hub.oldestSeq(topic),
    request: (subject, payload, opts) => hub.request(subject, payload, opts),
    respond: (subject, handler) => hub.respond(subject, handler),
    isConnected: () => hub.isConnected(),
    ping: () => hub.ping(),
    close: () => hub.close(),
  };
}

describe('in front of a real control plane', () => {
  const PUB = '/api/am/publisher/v4';
  const basic = (u: string, p: string) => `Basic ${Buffer.from(`${encodeURIComponent(u)}:${encodeURIComponent(p)}`).toString('base64')}`;
  const lost = new Set<string>();
  const acks: string[] = [];
  let node: TestNode;
  let backend: MockUpstream;
  let bearer: string;
  let synced: SyncedGateway;
  let closeSource: () => Promise<void>;

  async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${node.baseUrl}${path}`, { method, headers: { authorization: bearer, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  }

  before(async () => {
    backend = await startMockUpstream('orders');
    node = await startTestNode(['--profile', 'control-plane', '--server.public_url', 'https://gatehouse.test']);
    const fetchJson = async <T>(path: string, auth: string, body: string, type: string): Promise<T> => (await (await fetch(`${node.baseUrl}${path}`, { method: 'POST', headers: { authorization: auth, 'content-type': type }, body })).json()) as T;
    const client = await fetchJson<{ clientId: string; clientSecret: string }>('/client-registration/v0.17/register', basic('admin', node.adminPassword), JSON.stringify({ clientName: 'gw-resync', owner: 'admin', grantType: 'client_credentials password' }), 'application/json');
    const token = await fetchJson<{ access_token: string }>(
      '/oauth2/token',
      basic(client.clientId, client.clientSecret),
      new URLSearchParams({ grant_type: 'password', username: 'admin', password: node.adminPassword, scope: 'apim:api_create apim:api_publish apim:api_view apim:api_manage' }).toString(),
      'application/x-www-form-urlencoded',
    );
    bearer = `Bearer ${token.access_token}`;
    await node.hub.subscribe<{ revisionId: string; gatewayId: string; status: string }>(Topics.DeploymentAck, (e) => {
      if (e.payload.gatewayId === 'gw-resync') acks.push(`${e.payload.revisionId} ${e.payload.status}`);
    });

    const source = createHttpControlPlane({ baseUrl: node.baseUrl, clientId: client.clientId, clientSecret: client.clientSecret, timeoutMs: 2_000 });
    closeSource = () => source.close();
    synced = await startSyncedGateway({ source, hub: node.hub, link: (hub) => losingHub(hub, lost), gatewayId: 'gw-resync', heartbeatMs: 60_000, hubCheckMs: 10, resyncIntervalMs: resyncMs('300') });
  });

  after(async () => {
    await synced?.stop();
    await closeSource?.();
    await node?.close();
    await backend?.close();
  });

  it('a deployment and an undeployment whose events were lost: served, acknowledged and removed within the period, the hub connected throughout', async () => {
    const { sync, lines, t: { gw } } = synced;
    const api = await json<{ id: string }>('POST', `${PUB}/apis`, {
      name: 'Lost',
      context: '/lost',
      version: 'v1',
      endpointConfig: { endpoint_type: 'http', production_endpoints: { url: backend.url } },
      operations: [{ target: '/ping', verb: 'GET', authType: 'None', throttlingPolicy: 'Unlimited', scopes: [] }],
    });
    lost.add('DEPLOY_API_IN_GATEWAY').add('REMOVE_API_FROM_GATEWAY');
    const rev = await json<{ id: string }>('POST', `${PUB}/apis/${api.id}/revisions`, { description: 'first' });
    const deployedAt = Date.now();
    await json('POST', `${PUB}/apis/${api.id}/deploy-revision?revisionId=${rev.id}`, [{ name: 'Default', vhost: 'localhost' }]);
    await until('the deployment to be served', async () => (await httpCall(`${gw.listeners.http}/lost/v1/ping`)).status === 200, 3_000);
    assert.ok(Date.now() - deployedAt < 2_000, `served after ${Date.now() - deployedAt} ms: a pull every 300 ms, not at a restart or reconnect`);
    await until('the acknowledgement', () => acks.includes(`${rev.id} DEPLOYED`), 3_000);

    await json('POST', `${PUB}/apis/${api.id}/undeploy-revision?revisionId=${rev.id}`, [{ name: 'Default', vhost: 'localhost' }]);
    await until('the undeployment', async () => (await httpCall(`${gw.listeners.http}/lost/v1/ping`)).status === 404, 3_000);

    assert.equal(sync.status().eventHubConnected, true);
    assert.ok(!lines.some((l) => l.msg.includes('reconnected')), 'no reconnect pull');
  });
});

describe('against a control plane of the test\'s own', () => {
  let backend: MockUpstream;
  let km: TestIssuer;

  const artifact = (over: Partial<DeployedArtifact> = {}): DeployedArtifact => ({
    schemaVersion: 1, apiId: 'api-1', revisionId: 'r1', name: 'Orders', context: '/orders', version: 'v1', isDefaultVersion: false, lifeCycleStatus: 'PUBLISHED',
    operations: [{ target: '/items', verb: 'GET', authType: 'Application & Application User', throttlingPolicy: 'Unlimited', scopes: [] }],
    endpoints: { type: 'http', production: { urls: [backend.url] }, sandbox: null }, cors: null, securitySchemes: ['oauth2'], environment: 'Default', vhost: 'localhost', checksum: 'c1',
    ...over,
  });

  /**
   * The internal data API: a fresh copy of its lists at each call, as over HTTP. Counts pulls; the
   * one after `slowNext` takes 500 ms, and pulls that start meanwhile are counted in `beside`.
   */
  function controlPlane() {
    const cp = {
      down: false,
      pulls: 0,
      slowNext: false,
      slow: false,
      beside: 0,
      artifacts: [artifact()],
      subs: [{ appId: 'app-1', apiId: 'api-1', policyId: 'Unlimited', subscriptionState: 'UNBLOCKED' }],
      revoked: [] as { jti: string; expiryTime: number }[],
      async runtimeArtifacts() {
        cp.pulls++;
        if (cp.slow) cp.beside++;
        if (cp.slowNext) {
          cp.slowNext = false;
          cp.slow = true;
          await sleep(500);
          cp.slow = false;
        }
        if (cp.down) throw new Error('connect ECONNREFUSED');
        return structuredClone(cp.artifacts);
      },
      subscriptions: async () => structuredClone(cp.subs),
      policies: async () => [],
      keyManagers: async (): Promise<SourceKeyManager[]> => [{ ...km.keyManager, type: 'default', enabled: true, consumerKeyClaim: 'azp', scopesClaim: 'scope', jwks: structuredClone(km.keyManager.jwks) as unknown as { keys: Record<string, unknown>[] } }],
      revokedTokens: async () => structuredClone(cp.revoked),
      blockingConditions: async () => [],
    };
    return cp;
  }

  interface Running extends SyncedGateway {
    call(token: string): Promise<number>;
  }

  async function startGateway(source: ControlPlaneSource, resyncIntervalMs: number, options: { link?: (h: EventHub) => EventHub; onLog?: (msg: string) => void } = {}): Promise<Running> {
    const g = await startSyncedGateway({ ...options, source, gatewayId: 'gw-own', heartbeatMs: 60_000, hubCheckMs: 10, retryMaxMs: 200, snapshotFlushMs: 20, resyncIntervalMs });
    return { ...g, call: async (token) => (await httpCall(`${g.t.base}/orders/v1/items`, { headers: { authorization: `Bearer ${token}` } })).status };
  }

  const app = (id: string) => ({ application: { id, name: 'Shop', owner: 'alice', tier: 'Unlimited' } });
  const jtiOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { jti: string }).jti;

  before(async () => {
    backend = await startMockUpstream('orders');
    km = await createTestIssuer();
  });
  after(async () => {
    await backend.close();
  });

  it('a revocation and a subscription whose events were lost: applied within the period, and a pull that changed no API swapped no route table', async () => {
    const cp = controlPlane();
    const gw = await startGateway(cp, resyncMs('300'));
    try {
      const token = await km.sign(app('app-1'));
      const other = await km.sign(app('app-3'));
      assert.equal(await gw.call(token), 200);
      assert.equal(await gw.call(other), 403, 'not subscribed');
      const table = gw.t.gw.apis();

      const changedAt = Date.now();
      cp.revoked = [{ jti: jtiOf(token), expiryTime: Date.now() + 600_000 }];
      cp.subs = [...cp.subs, { appId: 'app-3', apiId: 'api-1', policyId: 'Unlimited', subscriptionState: 'UNBLOCKED' }];
      await until('the lost changes to be applied', async () => (await gw.call(token)) === 401 && (await gw.call(other)) === 200, 3_000);
      assert.ok(Date.now() - changedAt < 2_000, `applied after ${Date.now() - changedAt} ms`);

      const pulls = cp.pulls;
      await until('two more periodic pulls', () => cp.pulls >= pulls + 2, 3_000);
      assert.equal(gw.t.gw.apis(), table, 'the same route table: the APIs pulled are the ones served');
      assert.equal(gw.sync.status().lastPullError, null);

      cp.artifacts = [artifact({ revisionId: 'r2', lifeCycleStatus: 'BLOCKED' })];
      await until('the changed API to be swapped in', () => gw.t.gw.apis() !== table, 3_000);
      assert.equal(gw.t.gw.apis()[0]?.status, 'BLOCKED');
      assert.equal(gw.sync.status().eventHubConnected, true);
      assert.ok(!gw.lines.some((l) => l.msg.includes('reconnected')), 'no reconnect pull');
    } finally {
      await gw.stop();
    }
  });

  it('an event that comes while a pull runs is applied again after it: a subscription blocked meanwhile stays blocked', async () => {
    const cp = controlPlane();
    const gw = await startGateway(cp, 1_000);
    try {
      const token = await km.sign(app('app-1'));
      assert.equal(await gw.call(token), 200);
      // The next pull reads the subscriptions before the change, and answers only after its event.
      const read = cp.subscriptions;
      let reading = false;
      let slow = true;
      cp.subscriptions = async () => {
        const before = await read();
        if (slow) {
          slow = false;
          reading = true;
          await sleep(300);
          reading = false;
        }
        return before;
      };
      await until('a periodic pull reading the subscriptions', () => reading, 3_000);
      const pulledAt = gw.sync.status().lastPullAt;
      cp.subs = [{ appId: 'app-1', apiId: 'api-1', policyId: 'Unlimited', subscriptionState: 'BLOCKED' }];
      await gw.t.hub.publish(Topics.Notification, 'SUBSCRIPTIONS_UPDATE', { applicationId: 'app-1', apiId: 'api-1', status: 'BLOCKED', tier: 'Unlimited' });
      assert.equal(await gw.call(token), 403, 'blocked by its event at once');
      await until('the slow pull to be applied', () => gw.sync.status().lastPullAt !== pulledAt, 2_000);
      assert.equal(await gw.call(token), 403, 'still blocked after the pull that read the subscriptions before the change');
    } finally {
      await gw.stop();
    }
  });

  it('with gateway.resync_interval_ms = 0, pulls only at start (default: every 5 minutes)', async () => {
    assert.equal(loadConfig({ argv: [], env: {} }).gateway.resync_interval_ms, 300_000);
    const cp = controlPlane();
    const gw = await startGateway(cp, resyncMs('0'));
    try {
      assert.equal(cp.pulls, 1);
      await sleep(700);
      assert.equal(cp.pulls, 1);
    } finally {
      await gw.stop();
    }
  });

  it('a periodic pull never runs beside a reconnect\'s, a failed one waits for the next period, and none runs after stop', async () => {
    const cp = controlPlane();
    const link = { connected: true };
    const gw = await startGateway(cp, 100, {
      link: (hub) => ({ ...losingHub(hub, new Set()), isConnected: () => link.connected && hub.isConnected() }),
      // The reconnect's pull is the next one asked for: it takes 500 ms, five periods.
      onLog: (msg) => void (msg.startsWith('event hub reconnected') && (cp.slowNext = true)),
    });
    let stopped = false;
    try {
      link.connected = false;
      await sleep(50);
      link.connected = true;
      await until('the reconnect pull', () => cp.slow, 2_000);
      await until('the reconnect pull to end', () => !cp.slow, 2_000);
      assert.equal(cp.beside, 0, 'no periodic pull beside it');
      const afterReconnect = cp.pulls;
      await until('the periodic pulls to go on', () => cp.pulls >= afterReconnect + 2, 2_000);

      // Failed periodic pulls: logged, kept for /health, and no backoff retries of their own.
      cp.down = true;
      await until('a failed periodic pull', () => gw.lines.some((l) => l.level === 40 && l.msg.startsWith('periodic pull')), 2_000);
      const failedFrom = cp.pulls;
      await sleep(550);
      assert.match(String(gw.sync.status().lastPullError), /ECONNREFUSED/);
      assert.ok(cp.pulls - failedFrom <= 7, `${cp.pulls - failedFrom} pulls in 550 ms at one per 90-110 ms`);
      assert.ok(!gw.lines.some((l) => l.msg.startsWith('control plane unreachable')), 'no backoff retries');
      cp.down = false;
      await until('the next period to succeed', () => gw.sync.status().lastPullError === null, 2_000);

      await gw.stop();
      stopped = true;
      const last = cp.pulls;
      await sleep(400);
      assert.equal(cp.pulls, last, 'no pull after stop');
    } finally {
      if (!stopped) await gw.stop();
    }
  });
});
