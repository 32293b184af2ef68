import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { startNode, type RunningNode } from '@gatehouse/cli';
import { loadConfig } from '@gatehouse/config';
import { Topics } from '@gatehouse/events';
import { api, clientBasicAuth, freePorts, httpCall, managementClient, servicesRequired, spawnNode, startMockUpstream, tempDir, type ApiCaller, type MockUpstream, type Spawned } from '@gatehouse/testing';

// Issue #6, with real processes: a control plane (in this process, restartable on its own data
// directory and ports), a `gatehouse start --profile gateway` process, and a NATS JetStream server
// of the test's own (so it can be stopped without disturbing other suites).
//
// The gateway serves with the control plane down, and restarted while it is still down serves the
// same answers from its local snapshot: a subscribed token 200, an unsubscribed application 403, a
// revoked token 401, a blocked application and a blocked address 403, an API key 200. The control
// plane comes back and a change is picked up. A snapshot of an older format is ignored (logged)
// and the gateway waits, unready, for the control plane. NATS down: the gateway stays ready, and a
// gateway started while NATS is down serves, then connects when NATS starts. A deployment whose
// event was lost (NATS down, the control plane stopped with it queued) is acknowledged by the gateway
// once its pull serves it.

const NATS_BIN = ['/usr/sbin/nats-server', '/usr/local/bin/nats-server', '/usr/bin/nats-server'].find((p) => existsSync(p));
const skip = NATS_BIN ? false : 'nats-server is not installed (skipped)';
if (!NATS_BIN) {
  if (servicesRequired()) throw new Error('nats-server is not installed and GATEHOUSE_TEST_REQUIRE_SERVICES=1');
  process.stderr.write('# NOTE: skipping the gateway snapshot process tests: nats-server is not installed\n');
}
const bin = new URL('../../cli/src/bin.ts', import.meta.url).pathname;
const ADMIN_PASSWORD = 'admin-test-password-0123456789';
const PUB = '/api/am/publisher/v4';
const DP = '/api/am/devportal/v3';

function childEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GATEHOUSE_') || k.startsWith('GATEHOUSE_TEST_')) env[k] = v;
  return env;
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(v)})`);
    await sleep(50);
  }
}

describe('gateway snapshot: a standalone gateway process, the control plane down', { skip }, () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let backend: MockUpstream;
  let ports: number[];
  let nats: ChildProcess | undefined;
  let cp: RunningNode | undefined;
  let gw: Spawned | undefined;
  let gwBase: string;
  let gwClient: { clientId: string; clientSecret: string };
  let dp: ApiCaller;
  let pub: ApiCaller;
  let apiId: string;
  const tokens: Record<'subscribed' | 'unsubscribed' | 'revoked' | 'blocked', string> = { subscribed: '', unsubscribed: '', revoked: '', blocked: '' };
  let unsubscribedApp: string;
  let apiKey: string;
  let shopKeys: { consumerKey: string; consumerSecret: string };

  const natsPort = () => ports[4] as number;
  async function startNats(): Promise<void> {
    nats = spawn(NATS_BIN as string, ['-a', '127.0.0.1', '-p', String(natsPort()), '-js', '-sd', join(dir.path, 'nats')], { stdio: 'ignore' });
    await until('nats-server', () => accepts(natsPort()), Boolean);
  }
  async function stopNats(): Promise<void> {
    const proc = nats;
    nats = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }
  const hubFlags = () => ['--event-hub', `nats://127.0.0.1:${natsPort()}`, '--event_hub.stream_prefix', 'snaptest'];

  async function startControlPlane(): Promise<void> {
    const cpDir = join(dir.path, 'cp');
    const config = loadConfig({
      argv: ['--profile', 'control-plane', '--data-dir', cpDir, '--server.https_port', String(ports[0]), '--server.http_port', String(ports[1]),
        '--server.public_url', 'https://gatehouse.test', '--admin.password', ADMIN_PASSWORD, '--log.level', 'silent', ...hubFlags()],
      env: {},
      cwd: cpDir,
    });
    cp = await startNode(config, { cwd: cpDir, releaseMemory: false });
  }
  async function stopControlPlane(): Promise<void> {
    await cp?.stop();
    cp = undefined;
  }
  const cpUrl = () => `http://127.0.0.1:${ports[1]}`;

  async function startGateway(): Promise<Spawned> {
    const proc = spawnNode(
      [bin, 'start', '--profile', 'gateway', '--node.id', 'gw-snapshot', '--data-dir', join(dir.path, 'gw'), '--log.level', 'info',
        '--gateway.http_port', String(ports[2]), '--gateway.https_port', String(ports[3]), '--gateway.throttling', 'local', '--gateway.trust_forwarded_for', 'true',
        '--control-plane', cpUrl(), '--control_plane.client_id', gwClient.clientId, '--control_plane.client_secret', gwClient.clientSecret, ...hubFlags()],
      { env: childEnv() },
    );
    await proc.waitFor('Gatehouse is running', 30_000);
    gw = proc;
    return proc;
  }
  async function stopGateway(): Promise<void> {
    const proc = gw;
    gw = undefined;
    proc?.kill('SIGTERM');
    assert.equal(await proc?.exited, 0, 'a clean drain');
  }

  const call = async (headers: Record<string, string>) => (await httpCall(`${gwBase}/orders/v1/items`, { headers })).status;
  const bearer = (token: string, extra: Record<string, string> = {}) => call({ authorization: `Bearer ${token}`, ...extra });
  const health = async () => (await httpCall(`${gwBase}/health`)).json<{ status: string; checks: { name: string; status: string; critical?: boolean }[]; details: { sync: Record<string, unknown> } }>();
  const ready = async () => (await httpCall(`${gwBase}/health/ready`)).status;

  /** What a consumer gets, all in one list: subscribed, unsubscribed, revoked, blocked app, blocked IP, API key. */
  const answers = async () => [
    await bearer(tokens.subscribed),
    await bearer(tokens.unsubscribed),
    await bearer(tokens.revoked),
    await bearer(tokens.blocked),
    await bearer(tokens.subscribed, { 'x-forwarded-for': '203.0.113.9' }),
    await call({ apikey: apiKey }),
  ];
  const EXPECTED = [200, 403, 401, 403, 403, 200];

  before(async () => {
    dir = await tempDir();
    ports = await freePorts(5);
    gwBase = `http://127.0.0.1:${ports[2]}`;
    await mkdir(join(dir.path, 'nats'), { recursive: true });
    backend = await startMockUpstream('orders');
    await startNats();
    await startControlPlane();
    const mgmt = managementClient(cpUrl(), ADMIN_PASSWORD, { clientName: 'snapshot-tests' });
    const admin = api(cpUrl(), await mgmt.token('admin', ADMIN_PASSWORD, 'apim:api_view apim:api_create apim:api_publish apim:api_manage apim:admin apim:tier_view'));
    pub = admin;
    dp = api(cpUrl(), await mgmt.token('admin', ADMIN_PASSWORD, 'apim:subscribe apim:app_manage apim:sub_manage'));
    gwClient = await managementClient(cpUrl(), ADMIN_PASSWORD, { clientName: 'gatehouse-internal-snapshot-gw' }).register({ grantType: 'client_credentials' });

    const created = await admin.json<{ id: string }>('POST', `${PUB}/apis`, {
      name: 'Orders', context: '/orders', version: 'v1', policies: ['Unlimited'], securityScheme: ['oauth2', 'api_key'],
      endpointConfig: { endpoint_type: 'http', production_endpoints: { url: backend.url } },
      operations: [{ target: '/items', verb: 'GET', authType: 'Application & Application User', throttlingPolicy: 'Unlimited', scopes: [] }],
    }, 201);
    apiId = created.id;
    const rev = await admin.json<{ id: string }>('POST', `${PUB}/apis/${apiId}/revisions`, { description: 'r1' }, 201);
    await admin.json('POST', `${PUB}/apis/${apiId}/deploy-revision?revisionId=${rev.id}`, [{ name: 'Default', vhost: 'localhost' }], 200);
    await admin.json('POST', `${PUB}/apis/change-lifecycle?apiId=${apiId}&action=Publish`, undefined, 200);

    const app = async (name: string, subscribe: boolean) => {
      const a = await dp.json<{ applicationId: string }>('POST', `${DP}/applications`, { name, throttlingPolicy: 'Unlimited', tokenType: 'JWT' }, 201);
      if (subscribe) await dp.json('POST', `${DP}/subscriptions`, { applicationId: a.applicationId, apiId, throttlingPolicy: 'Unlimited' }, 201);
      const keys = await dp.json<{ consumerKey: string; consumerSecret: string; token: { accessToken: string } }>(
        'POST', `${DP}/applications/${a.applicationId}/generate-keys`, { keyType: 'PRODUCTION', grantTypesToBeSupported: ['client_credentials'] }, 200);
      return { id: a.applicationId, ...keys, token: keys.token.accessToken };
    };
    const shop = await app('Shop', true);
    const other = await app('Other', false);
    const revoking = await app('Revoking', true);
    const blocked = await app('Blocked', true);
    shopKeys = { consumerKey: shop.consumerKey, consumerSecret: shop.consumerSecret };
    tokens.subscribed = shop.token;
    tokens.unsubscribed = other.token;
    tokens.revoked = revoking.token;
    tokens.blocked = blocked.token;
    unsubscribedApp = other.id;
    apiKey = (await dp.json<{ apikey: string }>('POST', `${DP}/applications/${shop.id}/api-keys/PRODUCTION/generate`, { validityPeriod: 3600 }, 200)).apikey;

    // Changes the gateway learns by events once it runs: a revocation and two deny policies.
    await startGateway();
    await until('the gateway to serve', () => bearer(tokens.subscribed), (s) => s === 200, 15_000);
    const revoke = await fetch(`${cpUrl()}/oauth2/revoke`, {
      method: 'POST',
      headers: { authorization: clientBasicAuth(revoking.consumerKey, revoking.consumerSecret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: revoking.token }),
    });
    assert.equal(revoke.status, 200);
    await admin.json('POST', '/api/am/admin/v4/throttling/deny-policies', { conditionType: 'APPLICATION', conditionValue: 'admin:Blocked', conditionStatus: true }, 201);
    await admin.json('POST', '/api/am/admin/v4/throttling/deny-policies', { conditionType: 'IP', conditionValue: { fixedIp: '203.0.113.9', invert: false }, conditionStatus: true }, 201);
  });

  after(async () => {
    gw?.kill('SIGKILL');
    await gw?.exited;
    await stopControlPlane().catch(() => undefined);
    await stopNats().catch(() => undefined);
    await backend?.close();
    await dir?.remove();
  });

  it('serves with the control plane up, then down, then restarted while it is down', async () => {
    const changedAt = Date.now();
    assert.deepEqual(await until('the events to apply', answers, (a) => a.join() === EXPECTED.join()), EXPECTED);
    // The event changes reach the snapshot within its batching delay.
    await until('the snapshot write', health, (h) => Date.parse(String(h.details.sync.snapshotSavedAt)) > changedAt, 5_000);

    await stopControlPlane();
    const seen = backend.requests.length;
    assert.deepEqual(await answers(), EXPECTED, 'the control plane down: the same answers');
    assert.equal(backend.requests.length, seen + 2, 'the backend saw the two admitted calls');

    await stopGateway();
    const restarted = await startGateway();
    assert.match(restarted.stdout() + restarted.stderr(), /serving the local snapshot until the control plane answers/);
    assert.equal(await ready(), 200, 'ready on its snapshot');
    assert.deepEqual(await answers(), EXPECTED, 'restarted with the control plane still down: the same answers');
    assert.equal(backend.requests.length, seen + 4);
    const h = await health();
    assert.equal(h.details.sync.source, 'snapshot');
    assert.equal(h.details.sync.synced, false);
  });

  it('picks up a change made on the control plane when it is back', async () => {
    await startControlPlane();
    await dp.json('POST', `${DP}/subscriptions`, { applicationId: unsubscribedApp, apiId, throttlingPolicy: 'Unlimited' }, 201);
    assert.equal(await until('the new subscription', () => bearer(tokens.unsubscribed), (s) => s === 200, 10_000), 200);
    // The pull retries with backoff (1 s, doubling): the state is the control plane's again.
    await until('the pull', health, (h) => h.details.sync.source === 'control-plane', 35_000);
    assert.deepEqual(await answers(), [200, 200, 401, 403, 403, 200]);
  });

  it('ignores a snapshot of an older format, logs it, and is not ready until the control plane answers', async () => {
    await stopGateway();
    await stopControlPlane();
    // What the previous version wrote (API definitions only), and no state of this version's.
    const db = new DatabaseSync(join(dir.path, 'gw', 'local.db'));
    db.exec("delete from local_entries where namespace = 'gateway-state'");
    db.prepare("insert into local_entries (namespace, key, value, updated_at) values ('gateway-snapshot', 'Default', ?, 0)").run(JSON.stringify({ artifacts: [] }));
    db.close();

    const proc = await startGateway();
    assert.match(proc.stdout() + proc.stderr(), /ignoring a local snapshot of an older format/);
    assert.equal(await ready(), 503, 'no state yet');
    const h = await health();
    assert.equal(h.checks.find((c) => c.name === 'runtime-state')?.status, 'DOWN');
    assert.equal(await bearer(tokens.subscribed), 404, 'no API yet');

    await startControlPlane();
    await until('ready', ready, (s) => s === 200, 35_000);
    assert.deepEqual(await answers(), [200, 200, 401, 403, 403, 200]);
  });

  it('stays ready while NATS is down, and says so in /health and /metrics', async () => {
    await stopNats();
    const h = await until('the gateway to notice', health, (x) => x.details.sync.eventHubConnected === false, 10_000);
    assert.equal(h.status, 'UP');
    const hub = h.checks.find((c) => c.name === 'event-hub');
    assert.equal(hub?.status, 'DOWN');
    assert.equal(hub?.critical, false);
    assert.equal(await ready(), 200, 'still in the load balancer');
    assert.match((await httpCall(`${gwBase}/metrics`)).text, /^gatehouse_gateway_event_hub_connected\{[^}]*\} 0$/m);
    assert.equal(await bearer(tokens.subscribed), 200, 'still serving');

    await startNats();
    await until('the reconnection', async () => (await httpCall(`${gwBase}/metrics`)).text, (t) => /^gatehouse_gateway_event_hub_connected\{[^}]*\} 1$/m.test(t), 20_000);
    assert.equal(await ready(), 200);
  });

  it('starts while NATS is down (the control plane up): serves, ready, the hub reported down; then NATS starts and a revocation applies', async () => {
    await stopGateway();
    await stopNats();
    const clientToken = async () => {
      const res = await fetch(`${cpUrl()}/oauth2/token`, {
        method: 'POST',
        headers: { authorization: clientBasicAuth(shopKeys.consumerKey, shopKeys.consumerSecret), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      });
      assert.equal(res.status, 200);
      return ((await res.json()) as { access_token: string }).access_token;
    };
    const token = await clientToken();

    const proc = await startGateway();
    assert.match(proc.stdout(), /NATS is unreachable: starting without the event hub/);
    await until('the pull', health, (h) => h.details.sync.source === 'control-plane', 15_000);
    assert.equal(await bearer(token), 200, 'serves an API pulled from the control plane');
    assert.equal(await ready(), 200, 'ready without NATS');
    const h = await health();
    assert.equal(h.details.sync.eventHubConnected, false);
    const hub = h.checks.find((c) => c.name === 'event-hub');
    assert.equal(hub?.status, 'DOWN');
    assert.equal(hub?.critical, false);
    assert.match((await httpCall(`${gwBase}/metrics`)).text, /^gatehouse_gateway_event_hub_connected\{[^}]*\} 0$/m);

    await startNats();
    await until('the first connection', async () => (await httpCall(`${gwBase}/metrics`)).text, (t) => /^gatehouse_gateway_event_hub_connected\{[^}]*\} 1$/m.test(t), 20_000);
    await until('the control plane to reconnect', async () => cp?.hub.isConnected() ?? false, Boolean, 20_000);
    assert.equal(await ready(), 200);
    const revoke = await fetch(`${cpUrl()}/oauth2/revoke`, {
      method: 'POST',
      headers: { authorization: clientBasicAuth(shopKeys.consumerKey, shopKeys.consumerSecret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    });
    assert.equal(revoke.status, 200);
    assert.equal(await until('the revocation event', () => bearer(token), (st) => st === 401, 1_000), 401, 'applied within a second');
    assert.equal(await bearer(tokens.subscribed), 200, 'other tokens still served');
  });

  it('acknowledges a deployment whose event was lost once its pull serves it (regression: it stayed CREATED)', async () => {
    const lost = await pub.json<{ id: string }>('POST', `${PUB}/apis`, {
      name: 'Lost', context: '/lost', version: 'v1', policies: ['Unlimited'],
      endpointConfig: { endpoint_type: 'http', production_endpoints: { url: backend.url } },
      operations: [{ target: '/items', verb: 'GET', authType: 'None', throttlingPolicy: 'Unlimited', scopes: [] }],
    }, 201);
    const rev = await pub.json<{ id: string }>('POST', `${PUB}/apis/${lost.id}/revisions`, { description: 'r1' }, 201);
    await stopNats();
    await pub.json('POST', `${PUB}/apis/${lost.id}/deploy-revision?revisionId=${rev.id}`, [{ name: 'Default', vhost: 'localhost' }], 200);
    // Stopped with the deploy event still queued: it waits 3 s for NATS, then loses it.
    await stopControlPlane();
    await startNats();
    await startControlPlane();

    // The gateway, reconnected, pulls (retrying until the control plane answers), then acknowledges.
    assert.equal(await until('the pull', async () => (await httpCall(`${gwBase}/lost/v1/items`)).status, (s) => s === 200, 35_000), 200);
    const deployments = () => pub.json<{ list: { revisionUuid: string; status: string; deployedGatewayCount: number }[] }>('GET', `${PUB}/apis/${lost.id}/deployments`, undefined, 200);
    const { list } = await until('the acknowledgement', deployments, (d) => d.list[0]?.status !== 'CREATED', 10_000);
    assert.deepEqual(list.map((d) => [d.revisionUuid, d.status, d.deployedGatewayCount]), [[rev.id, 'DEPLOYED', 1]]);

    // Once: the acknowledgements stored on the stream.
    const seen: string[] = [];
    const hub = (cp as RunningNode).hub;
    const sub = await hub.subscribe<{ apiId?: string; gatewayId?: string; status?: string }>(Topics.DeploymentAck, (e) => {
      if (e.payload.apiId === lost.id) seen.push(`${e.type} ${e.payload.gatewayId} ${e.payload.status}`);
    }, { fromSeq: 1 });
    const last = await hub.lastSeq(Topics.DeploymentAck);
    await until('the stored acknowledgements', async () => sub.lastSeq, (n) => n >= last);
    await sub.unsubscribe();
    assert.deepEqual(seen, ['DEPLOY_ACK gw-snapshot DEPLOYED']);
  });
});
