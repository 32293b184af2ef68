import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { api, clientBasicAuth, managementClient } from '@gatehouse/testing';
import type { LocalCluster } from '@gatehouse/testing/cluster';

// The business flow's steps (packages/cli/test/business-flow.test.ts, one process) against a
// cluster, every call through nginx: WSO2's tooling (DCR + password grant), the Publisher, the
// Developer Portal and the Key Manager on the control-plane port, API calls on the gateway port.

export const PUB = '/api/am/publisher/v4';
export const DP = '/api/am/devportal/v3';
export const PETSTORE = new URL('../../packages/publisher/test/fixtures/petstore.yaml', import.meta.url).pathname;

const PROVIDER_SCOPES = 'apim:api_view apim:api_create apim:api_publish apim:api_manage apim:admin apim:subscription_view';
const CONSUMER_SCOPES = 'apim:subscribe apim:app_manage apim:sub_manage';

export interface Provider {
  readonly token: string;
  readonly tooling: ReturnType<typeof managementClient>;
}

/** The admin as an API provider, with a management token (WSO2's tooling flow). */
export async function provider(cluster: LocalCluster): Promise<Provider> {
  const tooling = managementClient(cluster.urls.controlPlaneHttp, cluster.adminPassword, { clientName: 'cluster-tests' });
  return { tooling, token: await tooling.token('admin', cluster.adminPassword, PROVIDER_SCOPES) };
}

/** Imports the repository's petstore OpenAPI file with `backend` as its production endpoint. */
export async function importPetstore(cluster: LocalCluster, p: Provider, backend: string, context = '/petstore'): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([await readFile(PETSTORE)], { type: 'application/yaml' }), 'petstore.yaml');
  form.append('additionalProperties', JSON.stringify({
    name: 'PetStore',
    version: '1.0.0',
    context,
    policies: ['Gold', 'Unlimited'],
    endpointConfig: { endpoint_type: 'http', production_endpoints: { url: backend } },
  }));
  const created = await api(cluster.urls.controlPlaneHttp, p.token).json<{ id: string }>('POST', `${PUB}/apis/import-openapi`, form, 201);
  return created.id;
}

/** An API of two resources without scopes: `GET /items` and `POST /orders`. */
export async function createApi(cluster: LocalCluster, p: Provider, name: string, context: string, backend: string): Promise<string> {
  const created = await api(cluster.urls.controlPlaneHttp, p.token).json<{ id: string }>('POST', `${PUB}/apis`, {
    name,
    context,
    version: '1.0.0',
    policies: ['Gold', 'Unlimited'],
    endpointConfig: { endpoint_type: 'http', production_endpoints: { url: backend } },
    operations: [
      { target: '/items', verb: 'GET', authType: 'Application & Application User', throttlingPolicy: 'Unlimited', scopes: [] },
      { target: '/orders', verb: 'POST', authType: 'Application & Application User', throttlingPolicy: 'Unlimited', scopes: [] },
    ],
  }, 201);
  return created.id;
}

/** Cuts a revision, deploys it to the Default environment, and publishes the API (when `publish`). */
export async function deploy(cluster: LocalCluster, p: Provider, apiId: string, publish = true): Promise<string> {
  const pub = api(cluster.urls.controlPlaneHttp, p.token);
  const revision = await pub.json<{ id: string }>('POST', `${PUB}/apis/${apiId}/revisions`, { description: 'cluster test' }, 201);
  await pub.json('POST', `${PUB}/apis/${apiId}/deploy-revision?revisionId=${revision.id}`, [{ name: 'Default', vhost: 'localhost', displayOnDevportal: true }], 200);
  if (publish) await pub.json('POST', `${PUB}/apis/change-lifecycle?apiId=${apiId}&action=Publish`, undefined, 200);
  return revision.id;
}

export interface Consumer {
  readonly token: string;
  readonly applicationId: string;
  readonly keys: { readonly consumerKey: string; readonly consumerSecret: string };
  readonly subscriptions: Record<string, string>;
}

/**
 * A consumer signs up, creates an application, subscribes to `apiIds` (on `tier`: Gold is 5,000
 * requests a minute, less than a load test sends), and generates production keys.
 */
export async function consumer(cluster: LocalCluster, p: Provider, username: string, apiIds: readonly string[], tier = 'Gold'): Promise<Consumer> {
  const cp = cluster.urls.controlPlaneHttp;
  const password = `${username}-password-1`;
  await api(cp).json('POST', '/api/identity/user/v1.0/me', { user: { username, realm: 'PRIMARY', password, claims: [] }, properties: [] }, 201);
  const token = await p.tooling.token(username, password, CONSUMER_SCOPES);
  const dp = api(cp, token);
  const app = await dp.json<{ applicationId: string }>('POST', `${DP}/applications`, { name: `${username}-app`, throttlingPolicy: 'Unlimited', tokenType: 'JWT' }, 201);
  const subscriptions: Record<string, string> = {};
  for (const apiId of apiIds) {
    const sub = await dp.json<{ subscriptionId: string }>('POST', `${DP}/subscriptions`, { applicationId: app.applicationId, apiId, throttlingPolicy: tier }, 201);
    subscriptions[apiId] = sub.subscriptionId;
  }
  const keys = await dp.json<{ consumerKey: string; consumerSecret: string }>('POST', `${DP}/applications/${app.applicationId}/generate-keys`, { keyType: 'PRODUCTION', grantTypesToBeSupported: ['client_credentials'] }, 200);
  return { token, applicationId: app.applicationId, keys, subscriptions };
}

/** A client_credentials access token of the consumer's application. */
export async function appToken(cluster: LocalCluster, c: Consumer): Promise<string> {
  const res = await fetch(`${cluster.urls.controlPlaneHttp}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: clientBasicAuth(c.keys.consumerKey, c.keys.consumerSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return (JSON.parse(text) as { access_token: string }).access_token;
}

/** Revokes an access token at the Key Manager (RFC 7009). */
export async function revoke(cluster: LocalCluster, c: Consumer, token: string): Promise<void> {
  const res = await fetch(`${cluster.urls.controlPlaneHttp}/oauth2/revoke`, {
    method: 'POST',
    headers: { authorization: clientBasicAuth(c.keys.consumerKey, c.keys.consumerSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  });
  assert.equal(res.status, 200, await res.text());
}

/** One call to `base + path` with the token (none when empty); the status and the body (status 0: no answer within 5 s). */
export async function call(base: string, path: string, token: string, init: RequestInit = {}): Promise<{ status: number; body: string }> {
  try {
    const headers = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string> | undefined) };
    const res = await fetch(`${base}${path}`, { ...init, headers, signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    return { status: 0, body: String(err) };
  }
}

/** Polls until `pred` holds for the answer; the last answer and how long it took. */
export async function callUntil(base: string, path: string, token: string, pred: (status: number) => boolean, timeoutMs = 10_000): Promise<{ status: number; body: string; elapsedMs: number }> {
  const t0 = Date.now();
  for (;;) {
    const r = await call(base, path, token);
    if (pred(r.status) || Date.now() - t0 > timeoutMs) return { ...r, elapsedMs: Date.now() - t0 };
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Calls every gateway directly (bypassing nginx) until each answers as `pred` wants; the slowest's time. */
export async function everyGatewayUntil(cluster: LocalCluster, path: string, token: string, pred: (status: number) => boolean, timeoutMs = 10_000): Promise<{ statuses: number[]; elapsedMs: number }> {
  const results = await Promise.all(cluster.gateways.filter((g) => g.running).map((g) => callUntil(g.directUrl, path, token, pred, timeoutMs)));
  return { statuses: results.map((r) => r.status), elapsedMs: Math.max(0, ...results.map((r) => r.elapsedMs)) };
}

export interface ShopSubscriber {
  readonly provider: Provider;
  readonly consumer: Consumer;
  /** An application token every running gateway already accepts on `SHOP_ITEMS`. */
  readonly token: string;
}

export const SHOP_ITEMS = '/shop/1.0.0/items';
export const SHOP_ORDERS = '/shop/1.0.0/orders';

/** The Shop API (`createApi`) on `backend`, deployed and published, and `username` subscribed to it on Unlimited with a token. */
export async function shopSubscriber(cluster: LocalCluster, backend: string, username: string): Promise<ShopSubscriber> {
  const p = await provider(cluster);
  const apiId = await createApi(cluster, p, 'Shop', '/shop', backend);
  await deploy(cluster, p, apiId);
  const c = await consumer(cluster, p, username, [apiId], 'Unlimited');
  const token = await appToken(cluster, c);
  const ready = await everyGatewayUntil(cluster, SHOP_ITEMS, token, (s) => s === 200);
  assert.deepEqual(ready.statuses, cluster.gateways.map(() => 200), 'every gateway serves the Shop API');
  return { provider: p, consumer: c, token };
}
