import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { openLocalStore, type LocalStore } from '@gatehouse/data';
import { Topics } from '@gatehouse/events';
import { httpCall, startMockUpstream, tempDir, type MockUpstream } from '@gatehouse/testing';
import type { ControlPlaneSource, DeployedArtifact, SourceKeyManager } from '../src/index.ts';
import { createTestIssuer, startSyncedGateway, type SyncedGateway, type TestGateway, type TestIssuer } from './harness.ts';

// GatewaySync and the local snapshot, in process, against a control plane of the test's own that
// can be taken down: the whole state (subscriptions, applications and key mappings, policies, key
// managers and an external one's fetched JWKS, revocations, blocking conditions, and what events
// changed since the last pull) survives a restart while the control plane is unreachable.

let dir: Awaited<ReturnType<typeof tempDir>>;
let backend: MockUpstream;
let km: TestIssuer;
let idp: { url: string; issuer: string; sign(claims?: Record<string, unknown>, kid?: string): Promise<string>; close(): Promise<void> };

const artifact = (): DeployedArtifact => ({
  schemaVersion: 1, apiId: 'api-1', revisionId: 'r1', name: 'Orders', context: '/orders', version: 'v1', isDefaultVersion: false, lifeCycleStatus: 'PUBLISHED',
  operations: [{ target: '/items', verb: 'GET', authType: 'Application & Application User', throttlingPolicy: 'Unlimited', scopes: [] }],
  endpoints: { type: 'http', production: { urls: [backend.url] }, sandbox: null }, cors: null, securitySchemes: ['oauth2'], environment: 'Default', vhost: 'localhost', checksum: 'c1',
});

/** The internal data API of a control plane that can be taken down. */
function controlPlane(): ControlPlaneSource & { down: boolean; subs: { appId: string; apiId: string; policyId: string; subscriptionState: string }[]; pulls: number } {
  const cp = {
    down: false,
    pulls: 0,
    subs: [
      { appId: 'app-1', apiId: 'api-1', policyId: 'Unlimited', subscriptionState: 'UNBLOCKED' },
      { appId: 'app-2', apiId: 'api-1', policyId: 'Unlimited', subscriptionState: 'UNBLOCKED' },
      { appId: 'app-5', apiId: 'api-1', policyId: 'Unlimited', subscriptionState: 'UNBLOCKED' },
    ],
    async runtimeArtifacts() {
      if (cp.down) throw new Error('connect ECONNREFUSED');
      cp.pulls++;
      return [artifact()];
    },
    subscriptions: async () => cp.subs,
    policies: async () => [],
    keyManagers: async (): Promise<SourceKeyManager[]> => [
      { ...km.keyManager, type: 'default', enabled: true, consumerKeyClaim: 'azp', scopesClaim: 'scope', jwks: km.keyManager.jwks as unknown as { keys: Record<string, unknown>[] } },
      { name: 'Partner IdP', type: 'okta', enabled: true, issuer: idp.issuer, consumerKeyClaim: 'azp', scopesClaim: 'scope', jwksUri: `${idp.url}/jwks` },
    ],
    revokedTokens: async () => [],
    blockingConditions: async () => [],
    applications: async () => [{ uuid: 'app-2', name: 'Partner', subName: 'bob', policy: 'Unlimited' }],
    keyMappings: async () => [{ applicationId: 'app-2', consumerKey: 'partner-app', keyType: 'PRODUCTION', keyManager: 'Partner IdP' }],
  };
  return cp;
}

async function startIdp(): Promise<typeof idp> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'ES256', use: 'sig' };
  const server: Server = createServer((req, res) => {
    res.writeHead(req.url === '/jwks' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(req.url === '/jwks' ? { keys: [jwk] } : {}));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${url}/oauth2/default`;
  return {
    url,
    issuer,
    sign(claims = {}, kid = 'idp-1') {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: issuer, aud: 'api://gatehouse', sub: 'partner-user', azp: 'partner-app', jti: crypto.randomUUID(), iat: now - 5, exp: now + 600, ...claims })
        .setProtectedHeader({ alg: 'ES256', kid })
        .sign(privateKey);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

interface Running extends SyncedGateway {
  call(token: string): Promise<number>;
}

/** The store is the test's: it outlives a gateway, as the local store does across a restart. */
async function startGateway(source: ControlPlaneSource, store: LocalStore): Promise<Running> {
  const g = await startSyncedGateway({ source, store, gatewayId: 'gw-snap', heartbeatMs: 60_000, retryMaxMs: 200, snapshotFlushMs: 20 });
  return { ...g, call: async (token) => (await httpCall(`${g.t.base}/orders/v1/items`, { headers: { authorization: `Bearer ${token}` } })).status };
}

async function until(check: () => Promise<boolean> | boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const app = (id: string, name = 'Shop') => ({ application: { id, name, owner: 'alice', tier: 'Unlimited' } });
const health = async (t: TestGateway) => (await httpCall(`${t.base}/health`)).json<{ status: string; checks: { name: string; status: string }[]; details: { sync: Record<string, unknown> } }>();

before(async () => {
  dir = await tempDir();
  backend = await startMockUpstream('orders');
  km = await createTestIssuer();
  idp = await startIdp();
});
after(async () => {
  await backend.close();
  await idp.close().catch(() => undefined);
  await dir.remove();
});

it('restarted while the control plane and the identity provider are down, serves the whole state it last had', async () => {
  const cp = controlPlane();
  const store = await openLocalStore({ path: join(dir.path, 'gw.db') });
  const subscribed = await km.sign(app('app-1'));
  const unsubscribed = await km.sign(app('app-3'));
  const revoked = await km.sign(app('app-1'));
  const blocked = await km.sign(app('app-5', 'Blocked'));
  const viaEvent = await km.sign(app('app-4'));
  const partner = await idp.sign();
  const first = await startGateway(cp, store);
  try {
    assert.equal(first.sync.source, 'control-plane');
    assert.equal(await first.call(subscribed), 200);
    assert.equal(await first.call(unsubscribed), 403);
    assert.equal(await first.call(partner), 200, 'an external key manager\'s token, mapped to app-2 (its JWKS fetched)');
    // Changes that come as events only, after the pull.
    const { jti } = JSON.parse(Buffer.from(revoked.split('.')[1] as string, 'base64url').toString()) as { jti: string };
    await first.t.hub.publish(Topics.TokenRevocation, 'token.revoked', { jti, expiresAt: Date.now() + 600_000 });
    await first.t.hub.publish(Topics.ThrottleData, 'BLOCKING_CONDITION_ADD', { id: 'b1', conditionType: 'APPLICATION', conditionValue: 'alice:Blocked', conditionStatus: true });
    await first.t.hub.publish(Topics.Notification, 'SUBSCRIPTIONS_CREATE', { applicationId: 'app-4', apiId: 'api-1', status: 'UNBLOCKED', tier: 'Unlimited' });
    await until(async () => (await first.call(revoked)) === 401 && (await first.call(blocked)) === 403 && (await first.call(viaEvent)) === 200, 'the events to apply');
    await new Promise((r) => setTimeout(r, 100)); // the batched snapshot write
  } finally {
    await first.stop();
  }

  cp.down = true;
  await idp.close();
  const second = await startGateway(cp, store);
  try {
    assert.equal(second.sync.source, 'snapshot');
    assert.ok(second.lines.some((l) => l.msg === 'serving the local snapshot until the control plane answers'));
    assert.equal((await httpCall(`${second.t.base}/health/ready`)).status, 200, 'ready on the snapshot');
    const h = await health(second.t);
    assert.equal(h.details.sync.source, 'snapshot');
    assert.equal(h.checks.find((c) => c.name === 'runtime-state')?.status, 'UP');

    assert.equal(await second.call(subscribed), 200);
    assert.equal(await second.call(unsubscribed), 403, 'not subscribed');
    assert.equal(await second.call(revoked), 401, 'revoked');
    assert.equal(await second.call(blocked), 403, 'blocked application');
    assert.equal(await second.call(viaEvent), 200, 'subscribed by an event after the last pull');
    assert.equal(await second.call(partner), 200, 'the identity provider\'s last-known keys, from the snapshot');
    assert.equal(await second.call(await idp.sign({}, 'idp-2')), 401, 'a key the last-known set lacks');
    assert.equal(await second.call(await km.sign(app('app-1'), { kid: 'k2' })), 401);

    // The control plane comes back with a change made meanwhile: the next retry replaces the state.
    cp.subs = [...cp.subs, { appId: 'app-3', apiId: 'api-1', policyId: 'Unlimited', subscriptionState: 'UNBLOCKED' }];
    cp.down = false;
    await until(() => second.sync.source === 'control-plane', 'the pull', 5_000);
    assert.equal(await second.call(unsubscribed), 200, 'the new subscription');
    assert.equal((await health(second.t)).details.sync.synced, true);
  } finally {
    await second.stop();
    await store.close();
  }
});

it('with a corrupt snapshot, starts, logs it, and is not ready until the control plane answers', async () => {
  const path = join(dir.path, 'corrupt.db');
  const store = await openLocalStore({ path });
  await store.putMany('gateway-state', [
    ['meta', { format: 2, labels: ['Default'], savedAt: 1, pulledAt: 1 }],
    ['subscriptions', 'garbage'],
  ]);
  const cp = controlPlane();
  cp.down = true;
  const gw = await startGateway(cp, store);
  try {
    assert.equal(gw.sync.source, 'none');
    assert.ok(gw.lines.some((l) => l.level === 40 && l.msg.includes('damaged')), JSON.stringify(gw.lines));
    const ready = await httpCall(`${gw.t.base}/health/ready`);
    assert.equal(ready.status, 503);
    assert.match(ready.text, /no runtime state yet/);
    assert.equal(await gw.call(await km.sign(app('app-1'))), 404, 'nothing deployed');
    cp.down = false;
    await until(async () => (await httpCall(`${gw.t.base}/health/ready`)).status === 200, 'ready', 5_000);
    assert.equal(await gw.call(await km.sign(app('app-1'))), 200);
    assert.ok(await openLocalStore({ path }).then(async (s) => (await s.get('gateway-state', 'subscriptions').finally(() => s.close())) !== 'garbage'), 'the snapshot is rewritten');
  } finally {
    await gw.stop();
    await store.close();
  }
});
