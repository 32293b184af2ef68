import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { startMockUpstream, type MockUpstream } from '@gatehouse/testing';
import { startTestNode, type TestNode } from '../src/index.ts';

// The whole business flow of an API manager, in one all-in-one process over real HTTP: a
// provider creates, deploys and publishes an API; a consumer signs up, subscribes, gets keys and
// a token, and calls the API through the gateway; unsubscribing and revoking are enforced at once.
const PUB = '/api/am/publisher/v4';
const DP = '/api/am/devportal/v3';
const ADMIN = '/api/am/admin/v4';
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${encodeURIComponent(u)}:${encodeURIComponent(p)}`).toString('base64')}`;

let node: TestNode;
let backend: MockUpstream;
let gateway: string;

before(async () => {
  backend = await startMockUpstream('petstore-backend');
  // A fixed public URL: the issuer every token names, and the one Admin's Resident Key Manager records.
  node = await startTestNode(['--server.public_url', 'https://gatehouse.test'], { logLevel: 'error' });
  gateway = (node.urls.find((u) => u.startsWith('gateway http://')) ?? '').slice('gateway '.length);
  assert.match(gateway, /^http:\/\/127\.0\.0\.1:\d+$/);
});
after(async () => {
  await node?.close();
  await backend?.close();
});

async function call(token: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${node.baseUrl}${path}`, {
    method,
    headers: { ...(token ? { authorization: token.startsWith('Basic ') ? token : `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function ok<T = Record<string, unknown>>(status: number, p: Promise<{ status: number; body: Record<string, unknown> }>): Promise<T> {
  const r = await p;
  assert.equal(r.status, status, JSON.stringify(r.body));
  return r.body as T;
}

async function passwordToken(client: { clientId: string; clientSecret: string }, username: string, password: string, scope: string): Promise<string> {
  const res = await fetch(`${node.baseUrl}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: basic(client.clientId, client.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username, password, scope }),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** Polls the gateway until `pred` holds for its answer (events arrive asynchronously), at most `ms`. */
async function gatewayUntil(path: string, token: string, pred: (status: number) => boolean, ms = 1_000): Promise<{ status: number; elapsedMs: number; body: string }> {
  const t0 = Date.now();
  for (;;) {
    const res = await fetch(`${gateway}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const body = await res.text();
    if (pred(res.status) || Date.now() - t0 > ms) return { status: res.status, elapsedMs: Date.now() - t0, body };
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('provider publishes, consumer subscribes and calls through the gateway; unsubscribe and revocation take effect within a second', async () => {
  // --- the provider (admin) gets a management token the way WSO2's tooling does
  const tooling = await ok<{ clientId: string; clientSecret: string }>(
    200,
    call(basic('admin', node.adminPassword), 'POST', '/client-registration/v0.17/register', { clientName: 'e2e-tooling', owner: 'admin', grantType: 'client_credentials password refresh_token', saasApp: true, callbackUrl: 'https://localhost' }),
  );
  const provider = await passwordToken(tooling, 'admin', node.adminPassword, 'apim:api_view apim:api_create apim:api_publish apim:api_manage apim:admin apim:subscription_view');

  // --- create, cut a revision, deploy to Default, publish
  const api = await ok<{ id: string }>(
    201,
    call(provider, 'POST', `${PUB}/apis`, {
      name: 'PetStore',
      context: '/petstore',
      version: '1.0.0',
      policies: ['Gold', 'Unlimited'],
      endpointConfig: { endpoint_type: 'http', production_endpoints: { url: `${backend.url}/v2` } },
      operations: [
        { target: '/pets', verb: 'GET', authType: 'Application & Application User', throttlingPolicy: 'Unlimited', scopes: [] },
        { target: '/pets/{petId}', verb: 'GET', authType: 'Application & Application User', throttlingPolicy: 'Unlimited', scopes: [] },
      ],
    }),
  );
  const revision = await ok<{ id: string }>(201, call(provider, 'POST', `${PUB}/apis/${api.id}/revisions`, { description: 'first' }));
  await ok(200, call(provider, 'POST', `${PUB}/apis/${api.id}/deploy-revision?revisionId=${revision.id}`, [{ name: 'Default', vhost: 'localhost', displayOnDevportal: true }]));
  await ok(200, call(provider, 'POST', `${PUB}/apis/change-lifecycle?apiId=${api.id}&action=Publish`));

  // --- a consumer signs up and gets a Developer Portal token
  await ok(201, call(undefined, 'POST', '/api/identity/user/v1.0/me', { user: { username: 'carol', realm: 'PRIMARY', password: 'carol-password-1', claims: [] }, properties: [] }));
  const consumer = await passwordToken(tooling, 'carol', 'carol-password-1', 'apim:subscribe apim:app_manage apim:sub_manage');
  const found = await ok<{ list: { id: string }[] }>(200, call(undefined, 'GET', `${DP}/apis?query=name:PetStore`));
  assert.deepEqual(found.list.map((a) => a.id), [api.id], 'the published API is in the catalogue');

  // --- application, subscription, production keys, an application token
  const app = await ok<{ applicationId: string }>(201, call(consumer, 'POST', `${DP}/applications`, { name: 'CarolsApp', throttlingPolicy: 'Unlimited', tokenType: 'JWT' }));
  const sub = await ok<{ subscriptionId: string }>(201, call(consumer, 'POST', `${DP}/subscriptions`, { applicationId: app.applicationId, apiId: api.id, throttlingPolicy: 'Gold' }));
  const keys = await ok<{ consumerKey: string; consumerSecret: string }>(
    200,
    call(consumer, 'POST', `${DP}/applications/${app.applicationId}/generate-keys`, { keyType: 'PRODUCTION', grantTypesToBeSupported: ['client_credentials'] }),
  );
  const tokenRes = await fetch(`${node.baseUrl}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: basic(keys.consumerKey, keys.consumerSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  assert.equal(tokenRes.status, 200);
  const appToken = ((await tokenRes.json()) as { access_token: string }).access_token;

  // --- the call through the gateway reaches the backend, without the client's token
  const first = await gatewayUntil('/petstore/1.0.0/pets/7', appToken, (s) => s === 200, 3_000);
  assert.equal(first.status, 200, first.body);
  assert.equal((JSON.parse(first.body) as { url: string }).url, '/v2/pets/7');
  assert.equal(backend.requests.at(-1)?.headers.authorization, undefined);

  // --- the deployment shows this gateway's acknowledgement
  const deployments = await ok<{ list?: { status?: string }[] } | { status?: string }[]>(200, call(provider, 'GET', `${PUB}/apis/${api.id}/deployments`));
  const list = Array.isArray(deployments) ? deployments : (deployments.list ?? []);
  assert.equal(list[0]?.status, 'DEPLOYED', JSON.stringify(deployments));

  // --- Admin sees the gateway alive
  const envs = await ok<{ list: { id: string; name: string }[] }>(200, call(provider, 'GET', `${ADMIN}/environments`));
  const def = envs.list.find((e) => e.name === 'Default');
  const gws = await ok<{ list: { gatewayId: string; status: string }[] }>(200, call(provider, 'GET', `${ADMIN}/environments/${def?.id}/gateways`));
  assert.ok(gws.list.some((g) => g.status === 'ACTIVE'), JSON.stringify(gws));

  // --- unsubscribe: refused within a second
  await ok(200, call(consumer, 'DELETE', `${DP}/subscriptions/${sub.subscriptionId}`));
  const refused = await gatewayUntil('/petstore/1.0.0/pets/7', appToken, (s) => s === 403);
  assert.equal(refused.status, 403, refused.body);
  assert.ok(refused.elapsedMs < 1_000, `refused after ${refused.elapsedMs} ms`);

  // --- subscribe again, then revoke the token at the Key Manager: refused within a second
  await ok(201, call(consumer, 'POST', `${DP}/subscriptions`, { applicationId: app.applicationId, apiId: api.id, throttlingPolicy: 'Gold' }));
  assert.equal((await gatewayUntil('/petstore/1.0.0/pets', appToken, (s) => s === 200)).status, 200);
  const revoke = await fetch(`${node.baseUrl}/oauth2/revoke`, {
    method: 'POST',
    headers: { authorization: basic(keys.consumerKey, keys.consumerSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: appToken }),
  });
  assert.equal(revoke.status, 200);
  const revoked = await gatewayUntil('/petstore/1.0.0/pets', appToken, (s) => s === 401);
  assert.equal(revoked.status, 401, revoked.body);
  assert.ok(revoked.elapsedMs < 1_000, `revoked after ${revoked.elapsedMs} ms`);

  // --- the provider cannot delete an API with subscriptions
  assert.equal((await call(provider, 'DELETE', `${PUB}/apis/${api.id}`)).status, 409);
});
