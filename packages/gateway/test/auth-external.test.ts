import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { httpCall, startMockUpstream, type ApiCaller, type MockUpstream } from '@gatehouse/testing';
import { ADMIN, DP, publishApi, startPlatform, untilStatus, type Platform } from './auth-platform.ts';

// Tokens of an external key manager (an identity provider we do not own: a mock serving its keys
// as JWKS and a token endpoint), mapped to a Developer Portal application with map-keys: the
// gateway resolves the token's consumer key (`azp`) to the application through the key mapping it
// got from the internal data API and events, then the subscription check applies.

type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

interface Idp {
  readonly issuer: string;
  readonly url: string;
  /** Client credentials the IdP knows. */
  readonly clients: Record<string, string>;
  tokenRequests: number;
  sign(claims: Record<string, unknown>, key?: Key): Promise<string>;
  close(): Promise<void>;
}

async function startIdp(): Promise<Idp> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' };
  const clients: Record<string, string> = { 'partner-app': 'partner-secret', 'partner-sandbox': 'sandbox-secret', 'someone-else': 'their-secret' };
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/jwks') return send(200, { keys: [jwk] });
    if (req.method === 'POST' && req.url === '/token') {
      idp.tokenRequests++;
      const [id, secret] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString().split(':').map(decodeURIComponent);
      req.resume();
      if (!id || clients[id] !== secret) return send(401, { error: 'invalid_client' });
      return void idp.sign({ azp: id, sub: id }).then((t) => send(200, { access_token: t, token_type: 'Bearer', expires_in: 600 }));
    }
    send(404, {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${url}/oauth2/default`;
  const idp: Idp = {
    issuer,
    url,
    clients,
    tokenRequests: 0,
    sign(claims, key = privateKey) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: issuer, aud: 'api://gatehouse', sub: 'partner-user', azp: 'partner-app', scope: 'read', jti: crypto.randomUUID(), iat: now - 5, exp: now + 600, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: jwk.kid, typ: 'JWT' })
        .sign(key);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  return idp;
}

let p: Platform;
let idp: Idp;
let backend: MockUpstream;
let sandbox: MockUpstream;
let dp: ApiCaller;
let appId: string;
let apiId: string;

before(async () => {
  [backend, sandbox, idp] = await Promise.all([startMockUpstream('orders'), startMockUpstream('orders-sandbox'), startIdp()]);
  p = await startPlatform();
  await p.admin.json('POST', `${ADMIN}/key-managers`, {
    name: 'PartnerIdP',
    type: 'custom',
    issuer: idp.issuer,
    certificates: { type: 'JWKS', value: `${idp.url}/jwks` },
    tokenEndpoint: `${idp.url}/token`,
    consumerKeyClaim: 'azp',
    scopesClaim: 'scope',
    enableMapOAuthConsumerApps: true,
    enabled: true,
  }, 201);
  apiId = await publishApi(
    p,
    {
      name: 'Partners',
      context: '/partners',
      version: 'v1',
      policies: ['Unlimited'],
      endpointConfig: { endpoint_type: 'http', production_endpoints: { url: backend.url }, sandbox_endpoints: { url: sandbox.url } },
      operations: [{ target: '/orders', verb: 'GET', authType: 'Application & Application User', throttlingPolicy: 'Unlimited', scopes: [] }],
    },
    p.gateway,
    '/partners/v1/orders',
  );
  await p.createUser('pat', 'pat-password-1', ['Internal/subscriber']);
  dp = await p.consumer('pat', 'pat-password-1');
  appId = (await dp.json<{ applicationId: string }>('POST', `${DP}/applications`, { name: 'PartnerPortal', throttlingPolicy: 'Unlimited' }, 201)).applicationId;
  await dp.json('POST', `${DP}/subscriptions`, { applicationId: appId, apiId, throttlingPolicy: 'Unlimited' }, 201);
});
after(async () => {
  await p?.close();
  await Promise.all([backend?.close(), sandbox?.close(), idp?.close()]);
});

const url = () => `${p.gateway}/partners/v1/orders`;
const call = (token: string) => httpCall(url(), { headers: { authorization: `Bearer ${token}` } });

it('refuses an external token whose consumer key is mapped to no application (403, 900908)', async () => {
  const token = await idp.sign({});
  // Once the gateway trusts the issuer (the key manager event), the token is valid but counts for no application.
  assert.equal(await untilStatus(url(), { authorization: `Bearer ${token}` }, 403), 403);
  const res = await call(token);
  assert.equal(res.json<{ code: number }>().code, 900908);
  // An external issuer's `application` claim names nothing: only key mappings do.
  const claimed = await call(await idp.sign({ azp: 'someone-else', application: { id: appId, name: 'PartnerPortal', owner: 'pat', tier: 'Unlimited' } }));
  assert.equal(claimed.status, 403);
  assert.equal(backend.requests.length, 0);
});

it('map-keys needs the consumer secret: the external key manager refuses a wrong one', async () => {
  const asked = idp.tokenRequests;
  const res = await dp.call('POST', `${DP}/applications/${appId}/map-keys`, { consumerKey: 'partner-app', consumerSecret: 'not-the-secret', keyManager: 'PartnerIdP', keyType: 'PRODUCTION' });
  assert.equal(res.status, 401);
  assert.equal(((await res.json()) as { code: number }).code, 901433);
  assert.equal(idp.tokenRequests, asked + 1, 'checked at the key manager\'s token endpoint');
  assert.equal((await call(await idp.sign({}))).status, 403, 'still mapped to nothing');
});

it('after map-keys, the external token counts for the application: 200, and the backend sees no credentials', async () => {
  const mapped = await dp.json<{ keyMappingId: string; mode: string; consumerKey: string; keyManager: string }>(
    'POST',
    `${DP}/applications/${appId}/map-keys`,
    { consumerKey: 'partner-app', consumerSecret: 'partner-secret', keyManager: 'PartnerIdP', keyType: 'PRODUCTION' },
    200,
  );
  assert.equal(mapped.mode, 'MAPPED');
  const token = await idp.sign({});
  backend.requests.length = 0;
  assert.equal(await untilStatus(url(), { authorization: `Bearer ${token}` }, 200), 200);
  assert.ok(backend.requests.length >= 1);
  for (const r of backend.requests) assert.equal(r.headers.authorization, undefined);
  // The client_id claim is not what this key manager reads (consumerKeyClaim: azp).
  assert.equal((await call(await idp.sign({ azp: 'someone-else', client_id: 'partner-app' }))).status, 403);
  // Forged: the right kid, another key.
  const { privateKey } = await generateKeyPair('RS256');
  backend.requests.length = 0;
  const forged = await call(await idp.sign({}, privateKey));
  assert.equal(forged.status, 401);
  assert.equal(forged.json<{ code: number }>().code, 900901);
  assert.equal(backend.requests.length, 0);
});

it('a sandbox key mapping sends the external token to the sandbox endpoint', async () => {
  await dp.json('POST', `${DP}/applications/${appId}/map-keys`, { consumerKey: 'partner-sandbox', consumerSecret: 'sandbox-secret', keyManager: 'PartnerIdP', keyType: 'SANDBOX' }, 200);
  const token = await idp.sign({ azp: 'partner-sandbox' });
  sandbox.requests.length = 0;
  assert.equal(await untilStatus(url(), { authorization: `Bearer ${token}` }, 200), 200);
  assert.ok(sandbox.requests.length >= 1);
  for (const r of sandbox.requests) assert.equal(r.headers.authorization, undefined);
});

it('removing the mapping (clean-up) refuses the token again on the next calls', async () => {
  const keys = await dp.json<{ list: { keyMappingId: string; consumerKey: string }[] }>('GET', `${DP}/applications/${appId}/oauth-keys`, undefined, 200);
  const m = keys.list.find((k) => k.consumerKey === 'partner-app');
  assert.ok(m);
  await dp.json('POST', `${DP}/applications/${appId}/oauth-keys/${m.keyMappingId}/clean-up`, undefined, 200);
  backend.requests.length = 0;
  assert.equal(await untilStatus(url(), { authorization: `Bearer ${await idp.sign({})}` }, 403), 403);
  assert.equal(backend.requests.length, 0);
});
