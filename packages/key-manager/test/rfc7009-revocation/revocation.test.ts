import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { Topics } from '@gatehouse/events';
import type { HubEvent } from '@gatehouse/events';
import { basic, decodeJwt, dcr, form, newClient, oidcClient, startKm } from '../helpers.ts';
import type { KmNode } from '../helpers.ts';

describe('RFC 7009 token revocation', () => {
  let km: KmNode;
  let a: { client_id: string; client_secret?: string };
  let b: { client_id: string; client_secret?: string };
  const events: HubEvent<{ jti: string }>[] = [];
  before(async () => {
    km = await startKm();
    a = await newClient(km, { client_name: 'a', grant_types: ['client_credentials'] });
    b = await newClient(km, { client_name: 'b', grant_types: ['client_credentials'] });
    await km.node.hub.subscribe<{ jti: string }>(Topics.TokenRevocation, (e) => {
      events.push(e);
    });
  });
  after(() => km?.close());
  const ccToken = async (c: { client_id: string; client_secret?: string }) =>
    ((await (await form(`${km.base}/oauth2/token`, { grant_type: 'client_credentials' }, basic(c.client_id, c.client_secret!))).json()) as { access_token: string }).access_token;
  const active = async (token: string, c: { client_id: string; client_secret?: string }) =>
    ((await (await form(`${km.base}/oauth2/introspect`, { token }, basic(c.client_id, c.client_secret!))).json()) as { active: boolean }).active;

  it('openid-client revokes a JWT: the jti is stored, published on tokenRevocation, and management auth refuses it', async () => {
    const config = await oidcClient(km, a.client_id, a.client_secret);
    const { access_token } = await oidc.clientCredentialsGrant(config);
    const auth = km.managementAuth();
    await auth.verify(`Bearer ${access_token}`);
    await oidc.tokenRevocation(config, access_token);
    assert.equal(await active(access_token, a), false);
    const jti = decodeJwt(access_token).payload.jti;
    assert.ok(events.some((e) => e.payload.jti === jti && e.type === 'token.revoked'));
    const row = await km.node.databases!.apim.selectFrom('km_revoked_tokens').selectAll().where('jti', '=', String(jti)).executeTakeFirst();
    assert.ok(row && Number(row.expires_at) > Date.now());
    await assert.rejects(auth.verify(`Bearer ${access_token}`), (e: { wso2Code: number }) => e.wso2Code === 900901);
  });

  it('lists revoked tokens for the internal data API, and application clients carry their application claims', async () => {
    const { loadConfig } = await import('@gatehouse/config');
    const { createServerKeys } = await import('@gatehouse/core');
    const { createRepositories } = await import('@gatehouse/data');
    const { createKeyManagerService } = await import('@gatehouse/key-manager');
    const { TEST_SECRET } = await import('../helpers.ts');
    const config = loadConfig({ argv: ['--server.public_url', km.base, '--security.secret', TEST_SECRET], env: {}, cwd: km.node.dataDir });
    const svc = createKeyManagerService(config, { databases: km.node.databases!, repositories: createRepositories(km.node.databases!), keys: createServerKeys(TEST_SECRET), hub: km.node.hub, logger: km.node.logger, clock: { now: () => Date.now() } });
    const { client, secret } = await svc.createClient({
      tenantId: -1234, name: 'app1_PRODUCTION', owner: 'admin', grantTypes: ['client_credentials'], source: 'application',
      application: { id: 'app-uuid-1', name: 'app1', owner: 'admin', tier: 'Gold', keyType: 'PRODUCTION', keyManager: 'Resident Key Manager' },
    });
    const res = await form(`${km.base}/oauth2/token`, { grant_type: 'client_credentials' }, basic(client.clientId, secret!));
    const { access_token } = (await res.json()) as { access_token: string };
    const { payload } = decodeJwt(access_token);
    assert.deepEqual(payload.application, { id: 'app-uuid-1', uuid: 'app-uuid-1', name: 'app1', owner: 'admin', tier: 'Gold' });
    assert.equal(payload.keytype, 'PRODUCTION');
    const since = Date.now();
    await form(`${km.base}/oauth2/revoke`, { token: access_token }, basic(client.clientId, secret!));
    const listed = await svc.listRevokedTokens({ sinceMs: since });
    assert.deepEqual(listed.map((r) => r.jti), [payload.jti]);
    const newSecret = await svc.regenerateSecret(client.clientId);
    assert.equal((await form(`${km.base}/oauth2/token`, { grant_type: 'client_credentials' }, basic(client.clientId, newSecret!))).status, 200);
    assert.equal(await svc.deleteClient(client.clientId), true);
  });

  it('answers 200 for unknown tokens (K18)', async () => {
    const res = await form(`${km.base}/oauth2/revoke`, { token: 'never-issued' }, basic(a.client_id, a.client_secret!));
    assert.equal(res.status, 200);
  });

  it('refuses to revoke another client\'s token, which stays active (K18)', async () => {
    const token = await ccToken(a);
    const res = await form(`${km.base}/oauth2/revoke`, { token }, basic(b.client_id, b.client_secret!));
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
    assert.equal(await active(token, a), true);
  });

  it('requires client authentication', async () => {
    const res = await form(`${km.base}/oauth2/revoke`, { token: 'x' });
    assert.equal(res.status, 401);
  });

  it('a wrong token_type_hint still revokes (K18)', async () => {
    const token = await ccToken(a);
    await form(`${km.base}/oauth2/revoke`, { token, token_type_hint: 'refresh_token' }, basic(a.client_id, a.client_secret!));
    assert.equal(await active(token, a), false);
  });

  it('revoking a refresh token kills its family and the access tokens of the grant (K18)', async () => {
    const reg = (await (await dcr(km, 'admin', km.adminPassword, { clientName: 'rt', grantType: 'password refresh_token' })).json()) as { clientId: string; clientSecret: string };
    const c = { client_id: reg.clientId, client_secret: reg.clientSecret };
    const tokens = (await (await form(`${km.base}/oauth2/token`, { grant_type: 'password', username: 'admin', password: km.adminPassword, scope: 'apim:admin' }, basic(c.client_id, c.client_secret))).json()) as { access_token: string; refresh_token: string };
    assert.equal(await active(tokens.refresh_token, c), true);
    const res = await form(`${km.base}/oauth2/revoke`, { token: tokens.refresh_token, token_type_hint: 'access_token' }, basic(c.client_id, c.client_secret));
    assert.equal(res.status, 200);
    assert.equal(await active(tokens.access_token, c), false);
    assert.equal(await active(tokens.refresh_token, c), false);
    const refresh = await form(`${km.base}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, basic(c.client_id, c.client_secret));
    assert.equal(((await refresh.json()) as { error: string }).error, 'invalid_grant');
  });
});
