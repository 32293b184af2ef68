import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createAdminService } from '@gatehouse/admin';
import { createServerKeys, systemClock } from '@gatehouse/core';
import { ADMIN, CONSUMER_SCOPES, DP, PUB, SECRET, clientCredentials, decodeJwt, startHarness } from './helpers.ts';
import type { Harness } from './helpers.ts';

const PW = 'consumer-password-1';

describe('developer portal: the business flow', () => {
  let h: Harness;
  let petsId: string;
  let alice: string;
  let bob: string;

  before(async () => {
    h = await startHarness(['--security.secret', SECRET]);
    petsId = await h.createApi('Pets', { tags: ['animals', 'demo'] });
    for (const u of ['alice', 'bob']) assert.equal((await h.signUp(u, PW)).status, 201);
    alice = await h.token('alice', PW, CONSUMER_SCOPES);
    bob = await h.token('bob', PW, CONSUMER_SCOPES);
  });
  after(() => h?.close());

  it('signs up, creates an application, subscribes, generates keys, and the token carries the application', async () => {
    // The consumer's token, with only apim:subscribe, is enough for the whole flow.
    const carol = (await h.signUp('carol', PW), await h.token('carol', PW, 'apim:subscribe'));
    assert.deepEqual(decodeJwt(carol).payload.scope, 'apim:subscribe');

    const created = await h.call(carol, 'POST', `${DP}/applications`, { name: 'Shop', throttlingPolicy: '10PerMin', description: 'my shop', tokenType: 'JWT', attributes: { team: 'web' } });
    assert.equal(created.status, 201);
    const app = (await created.json()) as { applicationId: string; owner: string; status: string; attributes: Record<string, string> };
    assert.equal(created.headers.get('location'), `${DP}/applications/${app.applicationId}`);
    assert.equal(app.owner, 'carol');
    assert.equal(app.status, 'APPROVED');
    assert.deepEqual(app.attributes, { team: 'web' });
    await h.waitFor((e) => e.type === 'APPLICATION_CREATE' && e.payload.applicationId === app.applicationId);

    const sub = await h.json<{ subscriptionId: string; status: string; apiInfo: { name: string } }>(carol, 'POST', `${DP}/subscriptions`, { applicationId: app.applicationId, apiId: petsId, throttlingPolicy: 'Gold' }, 201);
    assert.equal(sub.status, 'UNBLOCKED');
    assert.equal(sub.apiInfo.name, 'Pets');
    const subEvent = await h.waitFor((e) => e.type === 'SUBSCRIPTIONS_CREATE' && e.payload.subscriptionId === sub.subscriptionId);
    assert.equal(subEvent.payload.apiContext, '/pets/1.0.0');
    assert.equal(subEvent.payload.apiVersion, '1.0.0');
    assert.equal(subEvent.payload.applicationId, app.applicationId);
    assert.equal(subEvent.payload.tier, 'Gold');
    assert.equal(subEvent.payload.status, 'UNBLOCKED');

    const keys = await h.json<{ consumerKey: string; consumerSecret: string; keyMappingId: string; supportedGrantTypes: string[]; token: { accessToken: string } }>(
      carol, 'POST', `${DP}/applications/${app.applicationId}/generate-keys`, { keyType: 'PRODUCTION', grantTypesToBeSupported: ['client_credentials', 'password'], keyManager: 'Resident Key Manager' }, 200,
    );
    assert.ok(keys.consumerSecret.length >= 43);
    assert.deepEqual(keys.supportedGrantTypes.sort(), ['client_credentials', 'password']);
    await h.waitFor((e) => e.type === 'APPLICATION_REGISTRATION_CREATE' && e.payload.consumerKey === keys.consumerKey);

    // The consumer secret is shown once.
    const listed = await h.json<{ list: Record<string, unknown>[] }>(carol, 'GET', `${DP}/applications/${app.applicationId}/oauth-keys`, undefined, 200);
    assert.equal(listed.list.length, 1);
    assert.equal(listed.list[0]!.consumerSecret, undefined);

    const res = await clientCredentials(h.node.baseUrl, keys.consumerKey, keys.consumerSecret);
    assert.equal(res.status, 200);
    const claims = decodeJwt(((await res.json()) as { access_token: string }).access_token).payload;
    assert.deepEqual(claims.application, { id: app.applicationId, uuid: app.applicationId, name: 'Shop', owner: 'carol', tier: '10PerMin' });
    assert.equal(claims.keytype, 'PRODUCTION');

    // generate-token goes through the Key Manager's own token code.
    const tok = await h.json<{ accessToken: string; validityTime: number }>(carol, 'POST', `${DP}/applications/${app.applicationId}/oauth-keys/${keys.keyMappingId}/generate-token`, { consumerSecret: keys.consumerSecret, validityPeriod: 600, grantType: 'CLIENT_CREDENTIALS' }, 200);
    assert.equal(tok.validityTime, 600);
    assert.equal((decodeJwt(tok.accessToken).payload.application as { name: string }).name, 'Shop');
    const wrong = await h.call(carol, 'POST', `${DP}/applications/${app.applicationId}/oauth-keys/${keys.keyMappingId}/generate-token`, { consumerSecret: 'nope' });
    assert.equal(wrong.status, 401);

    // A regenerated secret replaces the old one.
    const regen = await h.json<{ consumerSecret: string }>(carol, 'POST', `${DP}/applications/${app.applicationId}/oauth-keys/${keys.keyMappingId}/regenerate-secret`, undefined, 200);
    assert.notEqual(regen.consumerSecret, keys.consumerSecret);
    assert.equal((await h.call(carol, 'POST', `${DP}/applications/${app.applicationId}/oauth-keys/${keys.keyMappingId}/generate-token`, { consumerSecret: keys.consumerSecret })).status, 401);
    assert.equal((await h.call(carol, 'POST', `${DP}/applications/${app.applicationId}/oauth-keys/${keys.keyMappingId}/generate-token`, { consumerSecret: regen.consumerSecret })).status, 200);

    // Unsubscribe: gone, and the gateway hears of it.
    assert.equal((await h.call(carol, 'DELETE', `${DP}/subscriptions/${sub.subscriptionId}`)).status, 200);
    assert.equal((await h.call(carol, 'GET', `${DP}/subscriptions/${sub.subscriptionId}`)).status, 404);
    const gone = await h.waitFor((e) => e.type === 'SUBSCRIPTIONS_DELETE' && e.payload.subscriptionId === sub.subscriptionId);
    assert.equal(gone.payload.apiId, petsId);
    const subs = await h.json<{ count: number }>(carol, 'GET', `${DP}/subscriptions?applicationId=${app.applicationId}`, undefined, 200);
    assert.equal(subs.count, 0);

    // Clean-up removes the client: its secret stops working.
    assert.equal((await h.call(carol, 'POST', `${DP}/applications/${app.applicationId}/oauth-keys/${keys.keyMappingId}/clean-up`)).status, 200);
    await h.waitFor((e) => e.type === 'REMOVE_APPLICATION_KEYMAPPING' && e.payload.consumerKey === keys.consumerKey);
    const after2 = await clientCredentials(h.node.baseUrl, keys.consumerKey, regen.consumerSecret);
    assert.equal(after2.status, 401);

    assert.equal((await h.call(carol, 'DELETE', `${DP}/applications/${app.applicationId}`)).status, 200);
    await h.waitFor((e) => e.type === 'APPLICATION_DELETE' && e.payload.applicationId === app.applicationId);
  });

  it('answers 404 for every object of another consumer (OWASP API1), and changes nothing', async () => {
    const app = await h.json<{ applicationId: string }>(alice, 'POST', `${DP}/applications`, { name: 'Private', throttlingPolicy: 'Unlimited' }, 201);
    const a = app.applicationId;
    const sub = await h.json<{ subscriptionId: string }>(alice, 'POST', `${DP}/subscriptions`, { applicationId: a, apiId: petsId, throttlingPolicy: 'Unlimited' }, 201);
    const s = sub.subscriptionId;
    const keys = await h.json<{ keyMappingId: string; consumerSecret: string }>(alice, 'POST', `${DP}/applications/${a}/generate-keys`, { keyType: 'PRODUCTION' }, 200);
    const k = keys.keyMappingId;
    const apiKey = await h.json<{ apikey: string }>(alice, 'POST', `${DP}/applications/${a}/api-keys/PRODUCTION/generate`, {}, 200);

    const probes: [string, string, unknown?][] = [
      ['GET', `${DP}/applications/${a}`],
      ['PUT', `${DP}/applications/${a}`, { name: 'Stolen', throttlingPolicy: 'Unlimited' }],
      ['DELETE', `${DP}/applications/${a}`],
      ['POST', `${DP}/applications/${a}/generate-keys`, { keyType: 'SANDBOX' }],
      ['GET', `${DP}/applications/${a}/oauth-keys`],
      ['GET', `${DP}/applications/${a}/oauth-keys/${k}`],
      ['PUT', `${DP}/applications/${a}/oauth-keys/${k}`, { supportedGrantTypes: ['client_credentials'] }],
      ['POST', `${DP}/applications/${a}/oauth-keys/${k}/regenerate-secret`],
      ['POST', `${DP}/applications/${a}/oauth-keys/${k}/generate-token`, { consumerSecret: keys.consumerSecret }],
      ['POST', `${DP}/applications/${a}/oauth-keys/${k}/clean-up`],
      ['POST', `${DP}/applications/${a}/api-keys/PRODUCTION/generate`, {}],
      ['POST', `${DP}/applications/${a}/api-keys/PRODUCTION/revoke`, { apikey: apiKey.apikey }],
      ['GET', `${DP}/subscriptions?applicationId=${a}`],
      ['POST', `${DP}/subscriptions`, { applicationId: a, apiId: petsId, throttlingPolicy: 'Gold' }],
      ['GET', `${DP}/subscriptions/${s}`],
      ['PUT', `${DP}/subscriptions/${s}`, { applicationId: a, apiId: petsId, throttlingPolicy: 'Gold' }],
      ['DELETE', `${DP}/subscriptions/${s}`],
    ];
    for (const [method, path, body] of probes) {
      const res = await h.call(bob, method, path, body);
      assert.equal(res.status, 404, `bob ${method} ${path}`);
      const err = (await res.json()) as { code: number; message: string };
      assert.equal(typeof err.code, 'number');
    }
    // Bob's own key mapping id under Alice's application is not reachable either way round.
    const bobApp = await h.json<{ applicationId: string }>(bob, 'POST', `${DP}/applications`, { name: 'Mine', throttlingPolicy: 'Unlimited' }, 201);
    assert.equal((await h.call(bob, 'GET', `${DP}/applications/${bobApp.applicationId}/oauth-keys/${k}`)).status, 404);
    // Bob's list never shows Alice's objects.
    const bobApps = await h.json<{ list: { name: string }[] }>(bob, 'GET', `${DP}/applications`, undefined, 200);
    assert.deepEqual(bobApps.list.map((x) => x.name), ['Mine']);
    const bobSubs = await h.json<{ count: number }>(bob, 'GET', `${DP}/subscriptions?apiId=${petsId}`, undefined, 200);
    assert.equal(bobSubs.count, 0);

    // Nothing of Alice's changed.
    const still = await h.json<{ name: string; keys: unknown[] }>(alice, 'GET', `${DP}/applications/${a}`, undefined, 200);
    assert.equal(still.name, 'Private');
    assert.equal(still.keys.length, 1);
    assert.equal((await h.call(alice, 'GET', `${DP}/subscriptions/${s}`)).status, 200);
    assert.equal((await h.call(alice, 'POST', `${DP}/applications/${a}/oauth-keys/${k}/generate-token`, { consumerSecret: keys.consumerSecret })).status, 200);
  });

  it('refuses bad subscriptions with WSO2 errors and stores nothing', async () => {
    const admin = await h.adminToken();
    const draft = await h.createApi('Draft', { publish: false });
    const retired = await h.createApi('Old', { actions: ['Deprecate', 'Retire'] });
    const deprecated = await h.createApi('Aging', { actions: ['Deprecate'] });
    const restricted = await h.createApi('Internal', { visibility: 'RESTRICTED', visibleRoles: ['Internal/creator'] });
    const app = await h.json<{ applicationId: string }>(alice, 'POST', `${DP}/applications`, { name: 'Bad', throttlingPolicy: 'Unlimited' }, 201);
    const a = app.applicationId;
    const cases: [string, unknown, number, number][] = [
      ['unpublished', { applicationId: a, apiId: draft, throttlingPolicy: 'Gold' }, 404, 901410],
      ['retired', { applicationId: a, apiId: retired, throttlingPolicy: 'Gold' }, 404, 901410],
      ['deprecated', { applicationId: a, apiId: deprecated, throttlingPolicy: 'Gold' }, 400, 901411],
      ['restricted', { applicationId: a, apiId: restricted, throttlingPolicy: 'Gold' }, 404, 901410],
      ['tier not offered by the API', { applicationId: a, apiId: petsId, throttlingPolicy: 'Bronze' }, 400, 901404],
      ['unknown tier', { applicationId: a, apiId: petsId, throttlingPolicy: 'Platinum' }, 400, 901404],
      ['unknown API', { applicationId: a, apiId: 'no-such-api', throttlingPolicy: 'Gold' }, 404, 901410],
      ['missing tier', { applicationId: a, apiId: petsId }, 400, 900400],
    ];
    for (const [what, body, status, code] of cases) {
      const res = await h.call(alice, 'POST', `${DP}/subscriptions`, body);
      assert.equal(res.status, status, what);
      const err = (await res.json()) as { code: number; message: string; description: string; moreInfo: string; error: unknown[] };
      assert.equal(err.code, code, what);
      assert.ok(err.message && 'moreInfo' in err && Array.isArray(err.error), what);
    }
    assert.equal((await h.json<{ count: number }>(alice, 'GET', `${DP}/subscriptions?applicationId=${a}`)).count, 0);

    await h.json(alice, 'POST', `${DP}/subscriptions`, { applicationId: a, apiId: petsId, throttlingPolicy: 'Gold' }, 201);
    const dup = await h.call(alice, 'POST', `${DP}/subscriptions`, { applicationId: a, apiId: petsId, throttlingPolicy: 'Unlimited' });
    assert.equal(dup.status, 409);
    assert.equal(((await dup.json()) as { code: number }).code, 901421);
    assert.equal((await h.json<{ count: number }>(alice, 'GET', `${DP}/subscriptions?applicationId=${a}`)).count, 1);

    // Application input.
    assert.equal((await h.call(alice, 'POST', `${DP}/applications`, { name: 'Bad', throttlingPolicy: 'Unlimited' })).status, 409);
    assert.equal((await h.call(alice, 'POST', `${DP}/applications`, { name: 'Other', throttlingPolicy: 'NoSuchTier' })).status, 400);
    assert.equal((await h.call(alice, 'POST', `${DP}/applications`, { name: '' , throttlingPolicy: 'Unlimited' })).status, 400);
    // Same name for another owner is fine (unique per owner).
    assert.equal((await h.call(bob, 'POST', `${DP}/applications`, { name: 'Bad', throttlingPolicy: 'Unlimited' })).status, 201);
    // Keys twice, unknown key manager, authorization_code without callback.
    await h.json(alice, 'POST', `${DP}/applications/${a}/generate-keys`, { keyType: 'SANDBOX' }, 200);
    assert.equal((await h.call(alice, 'POST', `${DP}/applications/${a}/generate-keys`, { keyType: 'SANDBOX' })).status, 409);
    assert.equal((await h.call(alice, 'POST', `${DP}/applications/${a}/generate-keys`, { keyType: 'PRODUCTION', keyManager: 'Nope' })).status, 400);
    assert.equal((await h.call(alice, 'POST', `${DP}/applications/${a}/generate-keys`, { keyType: 'PRODUCTION', grantTypesToBeSupported: ['authorization_code'] })).status, 400);
    assert.equal((await h.call(alice, 'POST', `${DP}/applications/${a}/generate-keys`, { keyType: 'PRODUCTION', grantTypesToBeSupported: ['authorization_code'], callbackUrl: 'http://evil.example/cb' })).status, 400);
    assert.equal((await h.call(alice, 'POST', `${DP}/applications/${a}/generate-keys`, { keyType: 'PRODUCTION', grantTypesToBeSupported: ['client_credentials'], callbackUrl: 'javascript:alert(1)' })).status, 400);
    assert.equal((await h.json<{ count: number }>(alice, 'GET', `${DP}/applications/${a}/oauth-keys`)).count, 1);
    // No token, no access.
    assert.equal((await h.call(undefined, 'GET', `${DP}/applications`)).status, 401);
    void admin;
  });

  it('gives OAUTH applications opaque tokens', async () => {
    const app = await h.json<{ applicationId: string; tokenType: string }>(alice, 'POST', `${DP}/applications`, { name: 'Opaque', throttlingPolicy: 'Unlimited', tokenType: 'OAUTH' }, 201);
    assert.equal(app.tokenType, 'OAUTH');
    const keys = await h.json<{ token: { accessToken: string } }>(alice, 'POST', `${DP}/applications/${app.applicationId}/generate-keys`, { keyType: 'PRODUCTION', grantTypesToBeSupported: ['client_credentials'] }, 200);
    assert.doesNotMatch(keys.token.accessToken, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    // Renaming the application renames it in its clients (the facts tokens carry).
    await h.json(alice, 'PUT', `${DP}/applications/${app.applicationId}`, { name: 'Opaque2', throttlingPolicy: '20PerMin', tokenType: 'OAUTH' }, 200);
    const row = await h.node.databases!.apim.selectFrom('km_oauth_clients').select(['application_name', 'application_tier']).where('application_id', '=', app.applicationId).executeTakeFirstOrThrow();
    assert.deepEqual({ ...row }, { application_name: 'Opaque2', application_tier: '20PerMin' });
    await h.waitFor((e) => e.type === 'APPLICATION_UPDATE' && e.payload.applicationId === app.applicationId);
  });

  it('lets the publisher list, block and unblock subscriptions', async () => {
    const admin = await h.adminToken();
    const app = await h.json<{ applicationId: string }>(bob, 'POST', `${DP}/applications`, { name: 'Blocky', throttlingPolicy: 'Unlimited' }, 201);
    const sub = await h.json<{ subscriptionId: string }>(bob, 'POST', `${DP}/subscriptions`, { applicationId: app.applicationId, apiId: petsId, throttlingPolicy: 'Gold' }, 201);
    const list = await h.json<{ list: { subscriptionId: string; subscriptionStatus: string; applicationInfo: { subscriber: string } }[] }>(admin, 'GET', `${PUB}/subscriptions?apiId=${petsId}`, undefined, 200);
    const mine = list.list.find((x) => x.subscriptionId === sub.subscriptionId);
    assert.equal(mine?.applicationInfo.subscriber, 'bob');
    await h.json(admin, 'POST', `${PUB}/subscriptions/block-subscription?subscriptionId=${sub.subscriptionId}&blockState=PROD_ONLY_BLOCKED`, undefined, 200);
    assert.equal((await h.json<{ status: string }>(bob, 'GET', `${DP}/subscriptions/${sub.subscriptionId}`)).status, 'PROD_ONLY_BLOCKED');
    await h.waitFor((e) => e.type === 'SUBSCRIPTIONS_UPDATE' && e.payload.subscriptionId === sub.subscriptionId && e.payload.status === 'PROD_ONLY_BLOCKED');
    await h.json(admin, 'POST', `${PUB}/subscriptions/unblock-subscription?subscriptionId=${sub.subscriptionId}`, undefined, 200);
    assert.equal((await h.json<{ status: string }>(bob, 'GET', `${DP}/subscriptions/${sub.subscriptionId}`)).status, 'UNBLOCKED');
    // The consumer changes the tier to another one the API offers.
    const changed = await h.json<{ throttlingPolicy: string }>(bob, 'PUT', `${DP}/subscriptions/${sub.subscriptionId}`, { applicationId: app.applicationId, apiId: petsId, throttlingPolicy: 'Unlimited' }, 200);
    assert.equal(changed.throttlingPolicy, 'Unlimited');
    await h.waitFor((e) => e.type === 'SUBSCRIPTIONS_UPDATE' && e.payload.subscriptionId === sub.subscriptionId && e.payload.tier === 'Unlimited');
    assert.equal((await h.call(bob, 'PUT', `${DP}/subscriptions/${sub.subscriptionId}`, { applicationId: app.applicationId, apiId: petsId, throttlingPolicy: 'Bronze' })).status, 400);
    // Renaming onto another of one's own applications is a conflict; key grant types can be edited.
    const other = await h.json<{ applicationId: string }>(bob, 'POST', `${DP}/applications`, { name: 'Blocky2', throttlingPolicy: 'Unlimited' }, 201);
    assert.equal((await h.call(bob, 'PUT', `${DP}/applications/${other.applicationId}`, { name: 'Blocky', throttlingPolicy: 'Unlimited' })).status, 409);
    const keys = await h.json<{ keyMappingId: string }>(bob, 'POST', `${DP}/applications/${other.applicationId}/generate-keys`, { keyType: 'PRODUCTION' }, 200);
    const edited = await h.json<{ supportedGrantTypes: string[]; callbackUrl: string }>(bob, 'PUT', `${DP}/applications/${other.applicationId}/oauth-keys/${keys.keyMappingId}`, { supportedGrantTypes: ['authorization_code', 'refresh_token'], callbackUrl: 'https://app.example/cb' }, 200);
    assert.deepEqual([edited.supportedGrantTypes.sort(), edited.callbackUrl], [['authorization_code', 'refresh_token'], 'https://app.example/cb']);
    // A consumer token cannot block.
    assert.equal((await h.call(bob, 'POST', `${PUB}/subscriptions/block-subscription?subscriptionId=${sub.subscriptionId}&blockState=BLOCKED`)).status, 403);
  });

  it('issues API keys listing the subscribed APIs, and revokes them by jti', async () => {
    const app = await h.json<{ applicationId: string }>(bob, 'POST', `${DP}/applications`, { name: 'Keyed', throttlingPolicy: '20PerMin' }, 201);
    await h.json(bob, 'POST', `${DP}/subscriptions`, { applicationId: app.applicationId, apiId: petsId, throttlingPolicy: 'Gold' }, 201);
    const key = await h.json<{ apikey: string; validityTime: number }>(bob, 'POST', `${DP}/applications/${app.applicationId}/api-keys/PRODUCTION/generate`, { validityPeriod: 3600, additionalProperties: { permittedIP: '10.0.0.1' } }, 200);
    assert.equal(key.validityTime, 3600);
    const { header, payload } = decodeJwt(key.apikey);
    const jwks = (await (await fetch(`${h.node.baseUrl}/oauth2/jwks`)).json()) as { keys: { kid: string }[] };
    assert.ok(jwks.keys.some((k) => k.kid === header.kid), 'signed by a key in the JWKS');
    assert.equal(payload.keytype, 'PRODUCTION');
    assert.equal(payload.permittedIP, '10.0.0.1');
    assert.deepEqual((payload.application as { name: string; tier: string }).tier, '20PerMin');
    assert.deepEqual(payload.subscribedAPIs, [{ name: 'Pets', context: '/pets/1.0.0', version: '1.0.0', publisher: 'admin', subscriptionTier: 'Gold', subscriberTenantDomain: 'carbon.super', uuid: petsId }]);
    // An API key is not a management token.
    assert.equal((await h.call(key.apikey, 'GET', `${DP}/applications`)).status, 401);
    assert.equal((await h.call(bob, 'POST', `${DP}/applications/${app.applicationId}/api-keys/PRODUCTION/revoke`, { apikey: key.apikey })).status, 200);
    await h.waitFor((e) => e.topic === 'tokenRevocation' && e.payload.jti === payload.jti);
    assert.equal((await h.call(bob, 'POST', `${DP}/applications/${app.applicationId}/api-keys/SANDBOX/revoke`, { apikey: key.apikey })).status, 404);
  });

  it('discovers published APIs: search, visibility, definition with gateway URLs, tags, documents, ratings, comments', async () => {
    const admin = await h.adminToken();
    const secret = await h.createApi('Secret', { visibility: 'RESTRICTED', visibleRoles: ['Internal/creator'], tags: ['hidden'] });
    await h.createApi('Weather', { tags: ['climate'] });

    const anon = await h.json<{ list: { name: string }[] }>(undefined, 'GET', `${DP}/apis?limit=100`, undefined, 200);
    const names = anon.list.map((x) => x.name);
    assert.ok(names.includes('Pets') && names.includes('Weather'));
    assert.ok(!names.includes('Secret') && !names.includes('Draft') && !names.includes('Old'));
    assert.equal((await h.call(undefined, 'GET', `${DP}/apis/${secret}`)).status, 404);
    assert.equal((await h.call(alice, 'GET', `${DP}/apis/${secret}`)).status, 404);
    // The admin's roles see the restricted API.
    assert.equal((await h.call(admin, 'GET', `${DP}/apis/${secret}`)).status, 200);

    assert.deepEqual((await h.json<{ list: { name: string }[] }>(undefined, 'GET', `${DP}/apis?query=${encodeURIComponent('name:weath')}`)).list.map((x) => x.name), ['Weather']);
    assert.deepEqual((await h.json<{ list: { name: string }[] }>(undefined, 'GET', `${DP}/apis?query=${encodeURIComponent('tag:animals')}`)).list.map((x) => x.name), ['Pets']);
    assert.deepEqual((await h.json<{ list: { name: string }[] }>(undefined, 'GET', `${DP}/apis?query=${encodeURIComponent('context:/pets')}`)).list.map((x) => x.name), ['Pets']);
    assert.equal((await h.json<{ count: number }>(undefined, 'GET', `${DP}/apis?query=${encodeURIComponent('provider:nobody')}`)).count, 0);
    const paged = await h.json<{ count: number; pagination: { total: number } }>(undefined, 'GET', `${DP}/apis?limit=1&offset=0`);
    assert.equal(paged.count, 1);
    assert.ok(paged.pagination.total >= 2);

    const api = await h.json<{ endpointURLs: { environmentName: string; URLs: { https: string } }[]; tiers: { tierName: string }[] }>(undefined, 'GET', `${DP}/apis/${petsId}`, undefined, 200);
    assert.equal(api.endpointURLs[0]?.environmentName, 'Default');
    assert.match(api.endpointURLs[0]!.URLs.https, /^https:\/\/localhost(:\d+)?\/pets\/1\.0\.0$/);
    assert.deepEqual(api.tiers.map((t) => t.tierName), ['Gold', 'Unlimited']);
    const def = await h.json<{ servers: { url: string }[]; paths: Record<string, unknown> }>(undefined, 'GET', `${DP}/apis/${petsId}/swagger?environmentName=Default`, undefined, 200);
    assert.ok(def.servers.length >= 1 && def.servers.every((s) => s.url.endsWith('/pets/1.0.0')));
    assert.ok('/items' in def.paths);
    assert.equal((await h.call(undefined, 'GET', `${DP}/apis/${petsId}/swagger?environmentName=Nowhere`)).status, 400);

    const tags = await h.json<{ list: { value: string; count: number }[] }>(undefined, 'GET', `${DP}/tags`, undefined, 200);
    assert.ok(tags.list.some((t) => t.value === 'animals'));
    assert.ok(!tags.list.some((t) => t.value === 'hidden'));

    // Documents written through the Publisher API.
    const doc = await h.json<{ documentId: string }>(admin, 'POST', `${PUB}/apis/${petsId}/documents`, { name: 'Guide', type: 'HOWTO', sourceType: 'INLINE', visibility: 'API_LEVEL', summary: 'how to' }, 201);
    const form = new FormData();
    form.append('inlineContent', '# Hello pets');
    await fetch(`${h.node.baseUrl}${PUB}/apis/${petsId}/documents/${doc.documentId}/content`, { method: 'POST', headers: { authorization: `Bearer ${admin}` }, body: form });
    const hidden = await h.json<{ documentId: string }>(admin, 'POST', `${PUB}/apis/${petsId}/documents`, { name: 'Notes', type: 'OTHER', otherTypeName: 'notes', sourceType: 'INLINE', visibility: 'OWNER_ONLY' }, 201);
    const docs = await h.json<{ list: { documentId: string; name: string }[] }>(undefined, 'GET', `${DP}/apis/${petsId}/documents`, undefined, 200);
    assert.deepEqual(docs.list.map((d) => d.name), ['Guide']);
    assert.equal((await h.call(undefined, 'GET', `${DP}/apis/${petsId}/documents/${hidden.documentId}`)).status, 404);
    const content = await fetch(`${h.node.baseUrl}${DP}/apis/${petsId}/documents/${doc.documentId}/content`);
    assert.equal(content.status, 200);
    assert.equal(await content.text(), '# Hello pets');

    // Ratings.
    await h.json(alice, 'PUT', `${DP}/apis/${petsId}/user-rating`, { rating: 5 }, 200);
    await h.json(bob, 'PUT', `${DP}/apis/${petsId}/user-rating`, { rating: 2 }, 200);
    await h.json(bob, 'PUT', `${DP}/apis/${petsId}/user-rating`, { rating: 3 }, 200);
    const ratings = await h.json<{ avgRating: string; userRating: number; count: number }>(alice, 'GET', `${DP}/apis/${petsId}/ratings`, undefined, 200);
    assert.equal(ratings.avgRating, '4');
    assert.equal(ratings.userRating, 5);
    assert.equal(ratings.count, 2);
    assert.equal((await h.call(alice, 'PUT', `${DP}/apis/${petsId}/user-rating`, { rating: 9 })).status, 400);
    assert.equal((await h.call(alice, 'DELETE', `${DP}/apis/${petsId}/user-rating`)).status, 200);
    assert.equal((await h.call(alice, 'GET', `${DP}/apis/${petsId}/user-rating`)).status, 404);
    assert.equal((await h.call(alice, 'PUT', `${DP}/apis/${secret}/user-rating`, { rating: 4 })).status, 404);

    // Comments.
    const c = await h.json<{ id: string; createdBy: string }>(alice, 'POST', `${DP}/apis/${petsId}/comments`, { content: 'Nice API', category: 'general' }, 201);
    assert.equal(c.createdBy, 'alice');
    await h.json(bob, 'POST', `${DP}/apis/${petsId}/comments?replyTo=${c.id}`, { content: 'Agreed' }, 201);
    const one = await h.json<{ replies: { count: number } }>(undefined, 'GET', `${DP}/apis/${petsId}/comments/${c.id}`, undefined, 200);
    assert.equal(one.replies.count, 1);
    assert.equal((await h.json<{ count: number }>(undefined, 'GET', `${DP}/apis/${petsId}/comments`)).count, 1);
    assert.equal((await h.call(bob, 'DELETE', `${DP}/apis/${petsId}/comments/${c.id}`)).status, 403);
    assert.equal((await h.call(alice, 'DELETE', `${DP}/apis/${petsId}/comments/${c.id}`)).status, 200);
    assert.equal((await h.call(undefined, 'GET', `${DP}/apis/${petsId}/comments/${c.id}`)).status, 404);
  });

  it('holds applications, subscriptions and sign-ups for approval when Admin workflows are on', async () => {
    const admin = await h.adminToken();
    const svc = createAdminService({ databases: h.node.databases!, repositories: h.repos, keys: createServerKeys(SECRET), hub: h.node.hub, clock: systemClock });
    const approve = async (type: string) => {
      const wfs = await h.json<{ list: { referenceId: string; workflowType: string }[] }>(admin, 'GET', `${ADMIN}/workflows?workflowType=AM_${type}`, undefined, 200);
      const wf = wfs.list[0];
      assert.ok(wf, `a pending ${type} workflow`);
      await h.json(admin, 'POST', `${ADMIN}/workflows/update-workflow-status?workflowReferenceId=${encodeURIComponent(wf.referenceId)}`, { status: 'APPROVED' }, 200);
    };
    const eventually = async (fn: () => Promise<boolean>) => {
      for (let i = 0; i < 100 && !(await fn()); i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(await fn());
    };
    for (const t of ['APPLICATION_CREATION', 'SUBSCRIPTION_CREATION', 'USER_SIGNUP'] as const) await svc.setWorkflowEnabled(-1234, t, true);
    try {
      const res = await h.call(alice, 'POST', `${DP}/applications`, { name: 'Pending', throttlingPolicy: 'Unlimited' });
      assert.equal(res.status, 202);
      const app = (await res.json()) as { applicationId: string; status: string };
      assert.equal(app.status, 'CREATED');
      assert.equal((await h.call(alice, 'POST', `${DP}/subscriptions`, { applicationId: app.applicationId, apiId: petsId, throttlingPolicy: 'Gold' })).status, 400);
      await approve('APPLICATION_CREATION');
      await eventually(async () => (await h.json<{ status: string }>(alice, 'GET', `${DP}/applications/${app.applicationId}`)).status === 'APPROVED');

      const subRes = await h.call(alice, 'POST', `${DP}/subscriptions`, { applicationId: app.applicationId, apiId: petsId, throttlingPolicy: 'Gold' });
      assert.equal(subRes.status, 202);
      const sub = (await subRes.json()) as { subscriptionId: string; status: string };
      assert.equal(sub.status, 'ON_HOLD');
      await approve('SUBSCRIPTION_CREATION');
      await eventually(async () => (await h.json<{ status: string }>(alice, 'GET', `${DP}/subscriptions/${sub.subscriptionId}`)).status === 'UNBLOCKED');

      assert.equal((await h.signUp('dave', PW)).status, 201);
      await assert.rejects(h.token('dave', PW, 'apim:subscribe'));
      await approve('USER_SIGNUP');
      await eventually(async () => (await h.repos.users.findByUsername(-1234, 'dave'))?.status === 'ACTIVE');
      assert.ok(await h.token('dave', PW, 'apim:subscribe'));
    } finally {
      for (const t of ['APPLICATION_CREATION', 'SUBSCRIPTION_CREATION', 'USER_SIGNUP'] as const) await svc.setWorkflowEnabled(-1234, t, false);
    }
  });

  it('applies the password policy to sign-up and change-password', async () => {
    assert.equal((await h.signUp('erin', 'short')).status, 400);
    assert.equal((await h.signUp('erin-long-name', 'erin-long-name')).status, 400);
    assert.equal((await h.signUp('alice', PW)).status, 409);
    assert.equal((await h.signUp('erin', PW)).status, 201);
    const erin = await h.token('erin', PW, 'apim:subscribe');
    const roles = await h.repos.users.rolesOf(-1234, (await h.repos.users.findByUsername(-1234, 'erin'))!.id);
    assert.deepEqual(roles, ['Internal/subscriber']);
    assert.equal((await h.call(erin, 'POST', `${DP}/me/change-password`, { currentPassword: 'wrong-password', newPassword: 'new-password-1' })).status, 400);
    assert.equal((await h.call(erin, 'POST', `${DP}/me/change-password`, { currentPassword: PW, newPassword: 'erin' })).status, 400);
    assert.equal((await h.call(erin, 'POST', `${DP}/me/change-password`, { currentPassword: PW, newPassword: 'new-password-1' })).status, 200);
    await assert.rejects(h.token('erin', PW, 'apim:subscribe'));
    assert.ok(await h.token('erin', 'new-password-1', 'apim:subscribe'));
  });

  it('serves its OpenAPI 3.1 document', async () => {
    const doc = await h.json<{ openapi: string; paths: Record<string, unknown> }>(undefined, 'GET', `${DP}/openapi.json`, undefined, 200);
    assert.equal(doc.openapi, '3.1.0');
    for (const p of ['/applications', '/applications/{applicationId}/generate-keys', '/subscriptions', '/apis', '/apis/{apiId}/swagger', '/tags']) assert.ok(p in doc.paths, p);
  });
});
