import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNode, type TestNode } from '@gatehouse/cli';
import { SUPER_TENANT_ID } from '@gatehouse/core';
import { createRepositories } from '@gatehouse/data';

let node: TestNode;
let client: { clientId: string; clientSecret: string };
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${encodeURIComponent(u)}:${encodeURIComponent(p)}`).toString('base64')}`;

async function token(username: string, password: string, scope: string): Promise<string> {
  const res = await fetch(`${node.baseUrl}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: basic(client.clientId, client.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username, password, scope }),
  });
  const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
  if (!body.access_token) throw new Error(`no token for ${username}: ${JSON.stringify(body)}`);
  return body.access_token;
}

before(async () => {
  node = await startTestNode(['--profile', 'control-plane', '--server.public_url', 'https://gatehouse.test']);
  const res = await fetch(`${node.baseUrl}/client-registration/v0.17/register`, {
    method: 'POST',
    headers: { authorization: basic('admin', node.adminPassword), 'content-type': 'application/json' },
    body: JSON.stringify({ clientName: 'internal-data-tests', owner: 'admin', grantType: 'password client_credentials', saasApp: true }),
  });
  client = (await res.json()) as typeof client;
  assert.ok(node.databases);
  await createRepositories(node.databases).users.create(SUPER_TENANT_ID, { username: 'sam', password: 'sam-password-1', roles: ['Internal/subscriber'] });
});
after(() => node.close());

const paths = ['/subscriptions', '/subscription-policies', '/application-policies', '/api-policies', '/keymanagers', '/revokedjwt'];

it('refuses callers without a token, and tokens without the admin scope', async () => {
  const subscriber = await token('sam', 'sam-password-1', 'apim:admin apim:subscribe');
  for (const p of paths) {
    assert.equal((await fetch(`${node.baseUrl}/internal/data/v1${p}`)).status, 401, p);
    assert.equal((await fetch(`${node.baseUrl}/internal/data/v1${p}`, { headers: { authorization: `Bearer ${subscriber}` } })).status, 403, p);
  }
});

it('serves what a gateway decides with: policies, our key manager with its keys inline', async () => {
  const admin = await token('admin', node.adminPassword, 'apim:admin');
  const get = async <T>(p: string) => {
    const res = await fetch(`${node.baseUrl}/internal/data/v1${p}`, { headers: { authorization: `Bearer ${admin}` } });
    assert.equal(res.status, 200, p);
    return (await res.json()) as { count: number; list: T[] };
  };
  const subs = await get<{ name: string; defaultLimit: { requestCount: { requestCount: number } } }>('/subscription-policies');
  assert.equal(subs.list.find((p) => p.name === 'Gold')?.defaultLimit.requestCount.requestCount, 5000);
  const kms = await get<{ name: string; issuer: string; jwks?: { keys: { kid: string }[] } }>('/keymanagers');
  const resident = kms.list.find((k) => k.name === 'Resident Key Manager');
  assert.equal(resident?.issuer, 'https://gatehouse.test/oauth2/token');
  const jwks = (await (await fetch(`${node.baseUrl}/oauth2/jwks`)).json()) as { keys: { kid: string }[] };
  const accessKid = JSON.parse(Buffer.from(admin.split('.')[0], 'base64url').toString()).kid as string;
  assert.ok(resident?.jwks?.keys.some((k) => k.kid === accessKid), 'the key that signed our tokens is inline');
  assert.ok(jwks.keys.some((k) => k.kid === accessKid));
  assert.deepEqual((await get('/subscriptions')).list, []);
  assert.deepEqual((await get('/revokedjwt')).list, []);
});
