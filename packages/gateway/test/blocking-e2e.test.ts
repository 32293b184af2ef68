import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNode, type TestNode } from '@gatehouse/cli';
import { httpCall, startMockUpstream, type MockUpstream } from '@gatehouse/testing';

// Admin's deny policies through the whole platform: Admin API → admin_blocking_conditions and a
// throttleData event → the all-in-one gateway refuses the next calls; the internal data API
// serves the enabled conditions a gateway loads at start.
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${encodeURIComponent(u)}:${encodeURIComponent(p)}`).toString('base64')}`;
let node: TestNode;
let backend: MockUpstream;
let gateway: string;
let bearer: string;

async function json(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${node.baseUrl}${path}`, { method, headers: { authorization: bearer, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

async function until(status: number, ms = 2_000): Promise<{ status: number; elapsedMs: number; text: string }> {
  const t0 = Date.now();
  for (;;) {
    const res = await httpCall(`${gateway}/status/v1/ping`).catch(() => ({ status: 0, text: '' }));
    if (res.status === status || Date.now() - t0 > ms) return { status: res.status, elapsedMs: Date.now() - t0, text: res.text };
    await new Promise((r) => setTimeout(r, 20));
  }
}

before(async () => {
  backend = await startMockUpstream('status');
  node = await startTestNode(['--server.public_url', 'https://gatehouse.test'], { logLevel: 'error' });
  gateway = (node.urls.find((u) => u.startsWith('gateway http://')) ?? '').slice('gateway '.length);
  const client = (await (
    await fetch(`${node.baseUrl}/client-registration/v0.17/register`, {
      method: 'POST',
      headers: { authorization: basic('admin', node.adminPassword), 'content-type': 'application/json' },
      body: JSON.stringify({ clientName: 'blocking-e2e', owner: 'admin', grantType: 'password client_credentials', saasApp: true }),
    })
  ).json()) as { clientId: string; clientSecret: string };
  const tokenRes = await fetch(`${node.baseUrl}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: basic(client.clientId, client.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: 'admin', password: node.adminPassword, scope: 'apim:api_create apim:api_publish apim:api_view apim:api_manage apim:admin' }),
  });
  bearer = `Bearer ${((await tokenRes.json()) as { access_token: string }).access_token}`;
  const api = await json('POST', '/api/am/publisher/v4/apis', {
    name: 'Status',
    context: '/status',
    version: 'v1',
    endpointConfig: { endpoint_type: 'http', production_endpoints: { url: backend.url } },
    operations: [{ target: '/ping', verb: 'GET', authType: 'None', throttlingPolicy: 'Unlimited', scopes: [] }],
  });
  const rev = await json('POST', `/api/am/publisher/v4/apis/${api.id}/revisions`, { description: 'r1' });
  await json('POST', `/api/am/publisher/v4/apis/${api.id}/deploy-revision?revisionId=${rev.id}`, [{ name: 'Default', vhost: 'localhost' }]);
});
after(async () => {
  await node?.close();
  await backend?.close();
});

it('a deny policy added in Admin refuses the next calls (403, 900805) and the backend sees none; deleted, calls pass', async () => {
  assert.equal((await until(200, 3_000)).status, 200);
  const seen = backend.requests.length;
  const api = await json('POST', '/api/am/admin/v4/throttling/deny-policies', { conditionType: 'API', conditionValue: '/status/v1', conditionStatus: true });
  const refused = await until(403);
  assert.equal(refused.status, 403, refused.text);
  assert.equal((JSON.parse(refused.text) as { code: number }).code, 900805);
  assert.ok(refused.elapsedMs < 1_000, `refused after ${refused.elapsedMs} ms`);
  const ip = await json('POST', '/api/am/admin/v4/throttling/deny-policies', { conditionType: 'IPRANGE', conditionValue: { startingIp: '127.0.0.0', endingIp: '127.0.0.255', invert: false }, conditionStatus: true });
  const disabled = await json('POST', '/api/am/admin/v4/throttling/deny-policies', { conditionType: 'USER', conditionValue: 'nobody', conditionStatus: false });

  const listed = (await json('GET', '/internal/data/v1/block')) as { list: { id: string; conditionType: string; conditionValue: unknown; conditionStatus: boolean }[] };
  assert.deepEqual(
    listed.list.map((c) => [c.id, c.conditionType, c.conditionValue, c.conditionStatus]),
    [
      [api.conditionId ?? api.id, 'API', '/status/v1', true],
      [ip.conditionId ?? ip.id, 'IPRANGE', { startingIp: '127.0.0.0', endingIp: '127.0.0.255', invert: false }, true],
    ],
    'enabled conditions only',
  );
  assert.ok(disabled);

  await json('DELETE', `/api/am/admin/v4/throttling/deny-policy/${String(api.conditionId ?? api.id)}`);
  assert.equal((await until(200, 500)).status, 403, 'still refused: the address range blocks it');
  await json('DELETE', `/api/am/admin/v4/throttling/deny-policy/${String(ip.conditionId ?? ip.id)}`);
  assert.equal((await until(200)).status, 200);
  assert.equal(backend.requests.length, seen + 1, 'the backend saw none of the refused calls');
});

it('the internal data API wants the admin scope for /block too', async () => {
  assert.equal((await fetch(`${node.baseUrl}/internal/data/v1/block`)).status, 401);
});
