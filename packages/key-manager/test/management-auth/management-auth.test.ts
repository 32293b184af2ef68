import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fastify } from 'fastify';
import type { FastifyInstance } from 'fastify';
import { isGatehouseError } from '@gatehouse/core';
import { getPrincipal } from '@gatehouse/key-manager';
import { basic, form, registerAdminClient, startKm } from '../helpers.ts';
import type { KmNode } from '../helpers.ts';

describe('management auth for the Publisher, Admin and Developer Portal APIs', () => {
  let km: KmNode;
  let app: FastifyInstance;
  let adminTok: string;
  let subTok: string;
  before(async () => {
    km = await startKm();
    const c = await registerAdminClient(km);
    await km.createUser('sub2', 'sub2-password-123', ['Internal/subscriber']);
    const tok = async (username: string, password: string) =>
      ((await (await form(`${km.base}/oauth2/token`, { grant_type: 'password', username, password, scope: 'apim:api_create apim:subscribe' }, basic(c.clientId, c.clientSecret))).json()) as { access_token: string }).access_token;
    adminTok = await tok('admin', km.adminPassword);
    subTok = await tok('sub2', 'sub2-password-123');
    const auth = km.managementAuth();
    app = fastify();
    // As the control plane does: registry errors answer WSO2's shape.
    app.setErrorHandler((err, _req, reply) => (isGatehouseError(err) ? reply.code(err.status).send(err.toWso2Body()) : reply.code(500).send()));
    app.get('/apis', { onRequest: auth.requireAnyScope('apim:api_view', 'apim:api_create') }, async (request) => getPrincipal(request));
  });
  after(async () => {
    await app?.close();
    await km?.close();
  });

  it('lets a token with one of the scopes through and exposes the principal', async () => {
    const res = await app.inject({ url: '/apis', headers: { authorization: `Bearer ${adminTok}` } });
    assert.equal(res.statusCode, 200);
    const p = res.json() as Record<string, unknown>;
    assert.equal(p.username, 'admin');
    assert.equal(p.tenantId, -1234);
    assert.ok((p.roles as string[]).includes('admin'));
    assert.deepEqual(p.scopes, ['apim:api_create', 'apim:subscribe']);
  });

  it('a client_credentials token acts for the client\'s owner', async () => {
    const c = await registerAdminClient(km, 'cc_tool');
    const { access_token } = (await (await form(`${km.base}/oauth2/token`, { grant_type: 'client_credentials', scope: 'apim:api_create' }, basic(c.clientId, c.clientSecret))).json()) as { access_token: string };
    const p = await km.managementAuth().verify(`Bearer ${access_token}`);
    assert.equal(p.username, 'admin');
    assert.equal(p.clientId, c.clientId);
    assert.deepEqual(p.scopes, ['apim:api_create']);
  });

  it('refuses the tokens of a user who was locked', async () => {
    const { createRepositories } = await import('@gatehouse/data');
    const repos = createRepositories(km.node.databases!);
    await km.createUser('leaver', 'leaver-password-123', ['Internal/subscriber']);
    const c = await registerAdminClient(km, 'leaver_tool');
    const { access_token } = (await (await form(`${km.base}/oauth2/token`, { grant_type: 'password', username: 'leaver', password: 'leaver-password-123', scope: 'apim:subscribe' }, basic(c.clientId, c.clientSecret))).json()) as { access_token: string };
    const user = await repos.users.findByUsername(-1234, 'leaver');
    await repos.users.update(-1234, user!.id, { status: 'LOCKED' });
    // A fresh management auth (another process) has no cached roles for the user.
    const { createManagementAuth } = await import('@gatehouse/key-manager');
    const { loadConfig } = await import('@gatehouse/config');
    const { createServerKeys } = await import('@gatehouse/core');
    const { TEST_SECRET } = await import('../helpers.ts');
    const fresh = createManagementAuth(loadConfig({ argv: ['--server.public_url', km.base], env: {}, cwd: km.node.dataDir }), {
      databases: { ...km.node.databases! }, repositories: repos, keys: createServerKeys(TEST_SECRET), hub: km.node.hub, logger: km.node.logger, clock: { now: () => Date.now() },
    });
    await assert.rejects(fresh.verify(`Bearer ${access_token}`), (e: { wso2Code: number }) => e.wso2Code === 900901);
  });

  it('answers 403 / 900910 without any required scope', async () => {
    const res = await app.inject({ url: '/apis', headers: { authorization: `Bearer ${subTok}` } });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().code, 900910);
  });

  it('a second Key Manager on the same databases (a replica) reuses the keys and purges expired rows', async () => {
    const { loadConfig } = await import('@gatehouse/config');
    const { createServerKeys } = await import('@gatehouse/core');
    const { createRepositories } = await import('@gatehouse/data');
    const { createKeyManager } = await import('@gatehouse/key-manager');
    const { TEST_SECRET } = await import('../helpers.ts');
    const databases = km.node.databases!;
    const before = await databases.apim.selectFrom('km_signing_keys').select('kid').execute();
    // Another process would have its own databases handle; a fresh config object gives a fresh context.
    const config = loadConfig({ argv: ['--server.public_url', km.base, '--security.secret', TEST_SECRET], env: {}, cwd: km.node.dataDir });
    const replica = await createKeyManager(config, { databases: { ...databases }, repositories: createRepositories(databases), keys: createServerKeys(TEST_SECRET), hub: km.node.hub, logger: km.node.logger, clock: { now: () => Date.now() + 400 * 86_400_000 } });
    await replica.ready();
    const after = await databases.apim.selectFrom('km_signing_keys').select('kid').execute();
    assert.deepEqual(after.map((r) => r.kid).sort(), before.map((r) => r.kid).sort());
    const refreshRows = await databases.apim.selectFrom('km_refresh_tokens').select('token_hash').execute();
    assert.ok(refreshRows.length > 0);
    await replica.purgeExpired(); // its clock is 400 days ahead: everything has expired
    assert.equal((await databases.apim.selectFrom('km_refresh_tokens').select('token_hash').execute()).length, 0);
    assert.equal((await databases.apim.selectFrom('km_grants').select('grant_id').execute()).length, 0);
  });

  it('answers 401 / 900902 without a token and 401 / 900901 with a bad one', async () => {
    const none = await app.inject({ url: '/apis' });
    assert.equal(none.statusCode, 401);
    assert.equal(none.json().code, 900902);
    const bad = await app.inject({ url: '/apis', headers: { authorization: 'Bearer not-a-token' } });
    assert.equal(bad.statusCode, 401);
    assert.equal(bad.json().code, 900901);
    assert.equal(bad.json().message, 'Invalid Credentials');
  });
});
