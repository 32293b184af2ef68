import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dcrRequest } from '@gatehouse/testing';
import { ADMIN, CONSUMER_SCOPES, DP, SECRET, clientCredentials, startHarness } from './helpers.ts';
import type { Harness } from './helpers.ts';

const PW = 'consumer-password-1';

/** An external identity provider's token endpoint (we do not own it): client_credentials for known clients. */
async function startTokenEndpoint(clients: Record<string, string>): Promise<{ url: string; requests: number; close(): Promise<void> }> {
  const state = { url: '', requests: 0, close: () => new Promise<void>((r) => server.close(() => r())) };
  const server: Server = createServer((req, res) => {
    state.requests++;
    req.resume();
    const [id, secret] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString().split(':').map(decodeURIComponent);
    // A public client (Keycloak's): no secret is checked, and client_credentials is refused as unauthorized_client.
    if (id === 'public-spa') {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'unauthorized_client', error_description: 'Public client not allowed to retrieve service account' }));
      return;
    }
    const ok = id !== undefined && clients[id] === secret;
    // A client that authenticates but may not use client_credentials still proves it holds the secret.
    const body = ok ? (id === 'no-cc-client' ? { error: 'unauthorized_client' } : { access_token: 'x', token_type: 'Bearer' }) : { error: 'invalid_client' };
    res.writeHead(ok ? (id === 'no-cc-client' ? 400 : 200) : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  return state;
}

describe('developer portal: map-keys (WSO2 POST /applications/{applicationId}/map-keys)', () => {
  let h: Harness;
  let idp: Awaited<ReturnType<typeof startTokenEndpoint>>;
  let alice: string;
  let bob: string;
  let aliceApp: string;
  let bobApp: string;
  const mapKeys = (token: string, appId: string, body: Record<string, unknown>) => h.call(token, 'POST', `${DP}/applications/${appId}/map-keys`, body);
  const code = async (res: Response) => ((await res.json()) as { code: number }).code;

  before(async () => {
    idp = await startTokenEndpoint({ 'ext-alice': 'alice-secret', 'ext-bob': 'bob-secret', 'no-cc-client': 'no-cc-secret' });
    h = await startHarness(['--security.secret', SECRET]);
    const admin = await h.adminToken();
    const km = (name: string, extra: Record<string, unknown>) =>
      h.json(admin, 'POST', `${ADMIN}/key-managers`, { name, type: 'custom', issuer: `https://${name}.test`, tokenEndpoint: idp.url, enableMapOAuthConsumerApps: true, enabled: true, ...extra }, 201);
    await km('PartnerIdP', {});
    await km('NoMapping', { enableMapOAuthConsumerApps: false });
    await km('Unreachable', { tokenEndpoint: 'http://127.0.0.1:1/token' });
    for (const u of ['alice', 'bob']) assert.equal((await h.signUp(u, PW)).status, 201);
    alice = await h.token('alice', PW, CONSUMER_SCOPES);
    bob = await h.token('bob', PW, CONSUMER_SCOPES);
    aliceApp = (await h.json<{ applicationId: string }>(alice, 'POST', `${DP}/applications`, { name: 'AliceApp', throttlingPolicy: 'Unlimited' }, 201)).applicationId;
    bobApp = (await h.json<{ applicationId: string }>(bob, 'POST', `${DP}/applications`, { name: 'BobApp', throttlingPolicy: 'Unlimited' }, 201)).applicationId;
  });
  after(async () => {
    await h?.close();
    await idp?.close();
  });

  it('maps an external consumer key once its secret is proven at the key manager\'s token endpoint', async () => {
    const before = idp.requests;
    const wrong = await mapKeys(alice, aliceApp, { consumerKey: 'ext-alice', consumerSecret: 'guess', keyManager: 'PartnerIdP', keyType: 'PRODUCTION' });
    assert.equal(wrong.status, 401);
    assert.equal(await code(wrong), 901433);
    assert.equal(idp.requests, before + 1, 'checked at the token endpoint');
    const noSecret = await mapKeys(alice, aliceApp, { consumerKey: 'ext-alice', keyManager: 'PartnerIdP', keyType: 'PRODUCTION' });
    assert.equal(noSecret.status, 400);

    const res = await mapKeys(alice, aliceApp, { consumerKey: 'ext-alice', consumerSecret: 'alice-secret', keyManager: 'PartnerIdP', keyType: 'PRODUCTION' });
    assert.equal(res.status, 200);
    const key = (await res.json()) as { keyMappingId: string; consumerKey: string; consumerSecret?: string; keyManager: string; keyType: string; mode: string; keyState: string };
    assert.deepEqual({ consumerKey: key.consumerKey, keyManager: key.keyManager, keyType: key.keyType, mode: key.mode, keyState: key.keyState }, { consumerKey: 'ext-alice', keyManager: 'PartnerIdP', keyType: 'PRODUCTION', mode: 'MAPPED', keyState: 'APPROVED' });
    assert.equal(key.consumerSecret, undefined, 'the secret is never echoed');
    const event = await h.waitFor((e) => e.type === 'APPLICATION_REGISTRATION_CREATE' && e.payload.consumerKey === 'ext-alice');
    assert.deepEqual({ app: event.payload.applicationId, km: event.payload.keyManager, type: event.payload.keyType }, { app: aliceApp, km: 'PartnerIdP', type: 'PRODUCTION' });

    // Gateways pull it from the internal data API.
    const internal = await h.json<{ list: { applicationId: string; consumerKey: string; keyManager: string; keyType: string }[] }>(await h.adminToken(), 'GET', '/internal/data/v1/application-key-mappings?keymanager=PartnerIdP', undefined, 200);
    assert.deepEqual(internal.list, [{ applicationId: aliceApp, applicationUUID: aliceApp, consumerKey: 'ext-alice', keyManager: 'PartnerIdP', keyType: 'PRODUCTION' }]);
    const apps = await h.json<{ list: { uuid: string; name: string; subName: string; policy: string }[] }>(await h.adminToken(), 'GET', `/internal/data/v1/applications?appId=${aliceApp}`, undefined, 200);
    assert.deepEqual(apps.list.map((a) => [a.uuid, a.name, a.subName, a.policy]), [[aliceApp, 'AliceApp', 'alice', 'Unlimited']]);

    const listed = await h.json<{ list: { keyMappingId: string; mode: string; supportedGrantTypes: string[] }[] }>(alice, 'GET', `${DP}/applications/${aliceApp}/oauth-keys`, undefined, 200);
    assert.deepEqual(listed.list.map((k) => [k.keyMappingId, k.mode]), [[key.keyMappingId, 'MAPPED']]);
    // Its secret and token live at the external key manager, not here.
    for (const [method, path, body] of [
      ['POST', `oauth-keys/${key.keyMappingId}/regenerate-secret`, undefined],
      ['POST', `oauth-keys/${key.keyMappingId}/generate-token`, { consumerSecret: 'alice-secret' }],
      ['PUT', `oauth-keys/${key.keyMappingId}`, { supportedGrantTypes: ['client_credentials'] }],
    ] as const) {
      const r = await h.call(alice, method, `${DP}/applications/${aliceApp}/${path}`, body);
      assert.equal(r.status, 400, path);
      assert.equal(await code(r), 901432, path);
    }
  });

  it('accepts a client that authenticates but may not use client_credentials (unauthorized_client)', async () => {
    const res = await mapKeys(alice, aliceApp, { consumerKey: 'no-cc-client', consumerSecret: 'no-cc-secret', keyManager: 'PartnerIdP', keyType: 'SANDBOX' });
    assert.equal(res.status, 200);
  });

  it('refuses a public client the key manager answers unauthorized_client for whatever the secret (no secret was proven)', async () => {
    const before = idp.requests;
    const res = await mapKeys(bob, bobApp, { consumerKey: 'public-spa', consumerSecret: 'anything', keyManager: 'PartnerIdP', keyType: 'SANDBOX' });
    assert.equal(res.status, 401);
    assert.equal(await code(res), 901433);
    assert.equal(idp.requests, before + 2, 'the same request with a made-up secret was tried as a control');
    const listed = await h.json<{ list: unknown[] }>(bob, 'GET', `${DP}/applications/${bobApp}/oauth-keys`, undefined, 200);
    assert.equal(listed.list.length, 0);
  });

  it('maps a consumer key to one application only, and an application to one key per type and key manager', async () => {
    // Bob holds no secret of ext-alice; even with it, the key is taken.
    const taken = await mapKeys(bob, bobApp, { consumerKey: 'ext-alice', consumerSecret: 'alice-secret', keyManager: 'PartnerIdP', keyType: 'PRODUCTION' });
    assert.equal(taken.status, 409);
    const second = await mapKeys(alice, aliceApp, { consumerKey: 'ext-bob', consumerSecret: 'bob-secret', keyManager: 'PartnerIdP', keyType: 'PRODUCTION' });
    assert.equal(second.status, 409);
  });

  it('refuses key managers that do not allow mapping, unknown ones, unreachable ones, and other users\' applications', async () => {
    const body = { consumerKey: 'ext-bob', consumerSecret: 'bob-secret', keyType: 'PRODUCTION' };
    const noMap = await mapKeys(bob, bobApp, { ...body, keyManager: 'NoMapping' });
    assert.equal(noMap.status, 400);
    assert.equal(await code(noMap), 901432);
    assert.equal((await mapKeys(bob, bobApp, { ...body, keyManager: 'Nowhere' })).status, 400);
    const down = await mapKeys(bob, bobApp, { ...body, keyManager: 'Unreachable' });
    assert.equal(down.status, 502);
    assert.equal(await code(down), 901435);
    assert.equal((await mapKeys(bob, aliceApp, { ...body, keyManager: 'PartnerIdP' })).status, 404, 'another user\'s application is not found');
    const listed = await h.json<{ list: unknown[] }>(bob, 'GET', `${DP}/applications/${bobApp}/oauth-keys`, undefined, 200);
    assert.equal(listed.list.length, 0);
  });

  it('maps a client of our own Key Manager the user owns, with its secret; clean-up unmaps it and keeps the client', async () => {
    const reg = async (user: string, clientName: string) => {
      const res = await dcrRequest(h.node.baseUrl, user, PW, { clientName, grantType: 'client_credentials' });
      assert.equal(res.status, 200);
      return (await res.json()) as { clientId: string; clientSecret: string };
    };
    const mine = await reg('bob', 'bob-cli');
    const alices = await reg('alice', 'alice-cli');
    const generated = await h.json<{ consumerKey: string; consumerSecret: string }>(alice, 'POST', `${DP}/applications/${aliceApp}/generate-keys`, { keyType: 'PRODUCTION' }, 200);
    for (const [consumerKey, consumerSecret] of [
      [mine.clientId, 'wrong-secret'],
      [alices.clientId, alices.clientSecret], // not bob's
      [generated.consumerKey, generated.consumerSecret], // another application's keys
      ['no-such-client', 'x'],
    ]) {
      const res = await mapKeys(bob, bobApp, { consumerKey, consumerSecret, keyType: 'PRODUCTION' });
      assert.equal(res.status, 401, consumerKey);
    }
    const res = await mapKeys(bob, bobApp, { consumerKey: mine.clientId, consumerSecret: mine.clientSecret, keyManager: 'Resident Key Manager', keyType: 'PRODUCTION' });
    assert.equal(res.status, 200);
    const key = (await res.json()) as { keyMappingId: string; mode: string; supportedGrantTypes: string[] };
    assert.equal(key.mode, 'MAPPED');
    assert.deepEqual(key.supportedGrantTypes, ['client_credentials']);
    await h.json(bob, 'POST', `${DP}/applications/${bobApp}/oauth-keys/${key.keyMappingId}/clean-up`, undefined, 200);
    await h.waitFor((e) => e.type === 'REMOVE_APPLICATION_KEYMAPPING' && e.payload.consumerKey === mine.clientId);
    assert.equal((await clientCredentials(h.node.baseUrl, mine.clientId, mine.clientSecret)).status, 200, 'the mapped client is bob\'s, not the portal\'s to delete');
  });
});
