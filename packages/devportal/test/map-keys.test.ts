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

/** A token endpoint that answers 200 and then streams JSON-looking bytes without end. */
async function startEndlessTokenEndpoint(): Promise<{ url: string; bytesSent: () => number; close(): Promise<void> }> {
  let sent = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    res.write('{"access_token":"x","padding":"');
    const pump = () => {
      while (!res.destroyed && sent < 64 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
      if (!res.destroyed && sent < 64 * 1024 * 1024) res.once('drain', pump);
    };
    res.on('close', () => res.removeAllListeners('drain'));
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    bytesSent: () => sent,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

describe('developer portal: map-keys is no secret-guessing oracle (security review)', () => {
  let h: Harness;
  let idp: Awaited<ReturnType<typeof startTokenEndpoint>>;
  let endless: Awaited<ReturnType<typeof startEndlessTokenEndpoint>>;
  const users: Record<string, { token: string; app: string }> = {};
  const mapKeys = (user: string, body: Record<string, unknown>) => h.call(users[user]!.token, 'POST', `${DP}/applications/${users[user]!.app}/map-keys`, { keyType: 'PRODUCTION', ...body });

  before(async () => {
    idp = await startTokenEndpoint({ 'ext-carol': 'carol-secret', 'ext-erin': 'erin-secret' });
    endless = await startEndlessTokenEndpoint();
    // Threshold 2 per user and key manager, so 3x2 = 6 per user over all key managers.
    h = await startHarness(['--security.secret', SECRET, '--key_manager.lockout_threshold', '2']);
    const admin = await h.adminToken();
    for (const name of ['K1', 'K2', 'K3', 'K4']) {
      await h.json(admin, 'POST', `${ADMIN}/key-managers`, { name, type: 'custom', issuer: `https://${name}.test`, tokenEndpoint: idp.url, enableMapOAuthConsumerApps: true, enabled: true }, 201);
    }
    await h.json(admin, 'POST', `${ADMIN}/key-managers`, { name: 'Endless', type: 'custom', issuer: 'https://endless.test', tokenEndpoint: endless.url, enableMapOAuthConsumerApps: true, enabled: true }, 201);
    for (const u of ['carol', 'erin', 'frank']) {
      assert.equal((await h.signUp(u, PW)).status, 201);
      const token = await h.token(u, PW, CONSUMER_SCOPES);
      const app = (await h.json<{ applicationId: string }>(token, 'POST', `${DP}/applications`, { name: `${u}App`, throttlingPolicy: 'Unlimited' }, 201)).applicationId;
      users[u] = { token, app };
    }
  });
  after(async () => {
    await h?.close();
    await idp?.close();
    await endless?.close();
  });

  it('map-keys against an external key manager had no rate limit: failed proofs lock the user and key manager out with 429 and Retry-After', async () => {
    for (const guess of ['guess-1', 'guess-2']) {
      assert.equal((await mapKeys('carol', { consumerKey: 'ext-carol', consumerSecret: guess, keyManager: 'K1' })).status, 401);
    }
    const before = idp.requests;
    const locked = await mapKeys('carol', { consumerKey: 'ext-carol', consumerSecret: 'carol-secret', keyManager: 'K1' });
    assert.equal(locked.status, 429, 'locked, even with the right secret');
    const retryAfter = Number(locked.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 300, `Retry-After ${locked.headers.get('retry-after')}`);
    const body = (await locked.json()) as { code: number; message: string; description: string; moreInfo: string; error: unknown[] };
    assert.equal(body.code, 901436);
    assert.deepEqual(Object.keys(body).sort(), ['code', 'description', 'error', 'message', 'moreInfo']);
    assert.equal(idp.requests, before, 'no outbound token request while locked out');
    // Another key manager is a different pair, and another user is not affected.
    assert.equal((await mapKeys('carol', { consumerKey: 'ext-carol', consumerSecret: 'carol-secret', keyManager: 'K2' })).status, 200);
  });

  it('map-keys failures spread over key managers still lock the user out (per-user limit)', async () => {
    for (const km of ['K1', 'K2', 'K3']) {
      for (const guess of ['a', 'b']) assert.equal((await mapKeys('erin', { consumerKey: 'ext-erin', consumerSecret: guess, keyManager: km })).status, 401, `${km} ${guess}`);
    }
    const before = idp.requests;
    const locked = await mapKeys('erin', { consumerKey: 'ext-erin', consumerSecret: 'erin-secret', keyManager: 'K4' });
    assert.equal(locked.status, 429, 'a fresh key manager is refused once the user is locked out');
    assert.ok(Number(locked.headers.get('retry-after')) >= 1);
    assert.equal(idp.requests, before);
  });

  it('an external token endpoint\'s response body was read whole: an endless answer is cut off at 64 KiB and reported unreachable', async () => {
    const started = Date.now();
    const res = await mapKeys('frank', { consumerKey: 'ext-frank', consumerSecret: 'x', keyManager: 'Endless' });
    assert.equal(res.status, 502);
    assert.equal(((await res.json()) as { code: number }).code, 901435);
    assert.ok(Date.now() - started < 4000, 'not waiting for the timeout');
    assert.ok(endless.bytesSent() < 16 * 1024 * 1024, `the portal stopped reading (${endless.bytesSent()} bytes sent)`);
  });
});
