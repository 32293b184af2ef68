import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnless } from '@gatehouse/testing';
import { createSystemScopeRepository } from '@gatehouse/key-manager';
import { basic, dcr, decodeJwt, form, registerAdminClient, startKm } from '../helpers.ts';
import type { KmNode, Registered } from '../helpers.ts';

function suite(name: string, opts: { postgres: boolean }, skip: false | string) {
  describe(name, { skip }, () => {
    let km: KmNode;
    let client: Registered;
    before(async () => {
      km = await startKm({ postgres: opts.postgres });
      client = await registerAdminClient(km);
      await km.createUser('sub1', 'sub1-password-123', ['Internal/subscriber']);
    });
    after(() => km?.close());

    it('registers a WSO2 DCR client and re-registration keeps the id with a new secret', async () => {
      assert.ok(client.clientId);
      assert.ok(client.clientSecret.length >= 43, 'secret carries at least 256 bits');
      assert.equal(client.clientName, 'rest_api_publisher');
      assert.equal(client.appOwner, 'admin');
      assert.equal(client.isSaasApplication, true);
      assert.equal(typeof client.jsonString, 'string');
      const again = await registerAdminClient(km);
      assert.equal(again.clientId, client.clientId);
      assert.notEqual(again.clientSecret, client.clientSecret);
      const old = await form(`${km.base}/oauth2/token`, { grant_type: 'client_credentials' }, basic(client.clientId, client.clientSecret));
      assert.equal(old.status, 401);
      assert.equal(old.headers.get('www-authenticate')?.startsWith('Basic'), true);
      assert.deepEqual(await old.json(), { error: 'invalid_client', error_description: 'client authentication failed' });
      client = again;
    });

    it('refuses DCR without or with wrong Basic credentials, in WSO2 error shape', async () => {
      const none = await fetch(`${km.base}/client-registration/v0.17/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"clientName":"x"}' });
      assert.equal(none.status, 401);
      assert.equal(((await none.json()) as { code: number }).code, 900902);
      const wrong = await dcr(km, 'admin', 'nope', { clientName: 'x' });
      assert.equal(wrong.status, 401);
      assert.equal(((await wrong.json()) as { code: number }).code, 900901);
      const other = await dcr(km, 'sub1', 'sub1-password-123', { clientName: 'x', owner: 'admin' });
      assert.equal(other.status, 403);
    });

    it('password grant gives admin the requested management scopes, as an RFC 9068 JWT', async () => {
      const res = await form(
        `${km.base}/oauth2/token`,
        { grant_type: 'password', username: 'admin', password: km.adminPassword, scope: 'apim:api_create apim:admin apim:subscribe' },
        basic(client.clientId, client.clientSecret),
      );
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const body = (await res.json()) as Record<string, string | number>;
      assert.equal(body.token_type, 'Bearer');
      assert.equal(body.scope, 'apim:api_create apim:admin apim:subscribe');
      assert.ok(body.refresh_token);
      const { header, payload } = decodeJwt(String(body.access_token));
      assert.equal(header.typ, 'at+jwt');
      assert.equal(header.alg, 'ES256');
      assert.equal(payload.iss, km.issuer);
      assert.equal(payload.sub, 'admin');
      assert.equal(payload.client_id, client.clientId);
      for (const c of ['aud', 'exp', 'iat', 'jti']) assert.ok(payload[c] !== undefined, c);

      const auth = km.managementAuth();
      const p = await auth.verify(`Bearer ${String(body.access_token)}`);
      assert.equal(p.username, 'admin');
      assert.deepEqual(p.scopes, ['apim:api_create', 'apim:admin', 'apim:subscribe']);
      assert.ok(p.roles.includes('admin'));
      assert.equal(p.tenantDomain, 'carbon.super');
      await assert.rejects(auth.verify(undefined), (e: { wso2Code: number; status: number }) => e.status === 401 && e.wso2Code === 900902);
      await assert.rejects(auth.verify('Bearer abc.def.ghi'), (e: { wso2Code: number }) => e.wso2Code === 900901);
    });

    it('a subscriber only gets apim:subscribe, the rest dropped silently', async () => {
      const res = await form(
        `${km.base}/oauth2/token`,
        { grant_type: 'password', username: 'sub1', password: 'sub1-password-123', scope: 'apim:api_create apim:admin apim:subscribe' },
        basic(client.clientId, client.clientSecret),
      );
      assert.equal(res.status, 200);
      const body = (await res.json()) as Record<string, string>;
      assert.equal(body.scope, 'apim:subscribe');
      assert.equal(decodeJwt(body.access_token!).payload.scope, 'apim:subscribe');
    });

    it('a wrong password is invalid_grant', async () => {
      const res = await form(`${km.base}/oauth2/token`, { grant_type: 'password', username: 'sub1', password: 'wrong' }, basic(client.clientId, client.clientSecret));
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_grant');
    });

    it('client_credentials issues a token whose sub is the client id', async () => {
      const res = await form(`${km.base}/oauth2/token`, { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret, scope: 'apim:admin' });
      assert.equal(res.status, 200);
      const body = (await res.json()) as Record<string, string>;
      assert.equal(body.refresh_token, undefined);
      const { payload } = decodeJwt(body.access_token!);
      assert.equal(payload.sub, client.clientId);
      assert.equal(payload.aut, 'APPLICATION');
      // The owner (admin) may hold apim:admin (WSO2: client_credentials gets the owner's scopes).
      assert.equal(payload.scope, 'apim:admin');
    });

    it('refresh rotates, and replaying a used refresh token revokes the family', async () => {
      const first = (await (
        await form(`${km.base}/oauth2/token`, { grant_type: 'password', username: 'sub1', password: 'sub1-password-123', scope: 'apim:subscribe' }, basic(client.clientId, client.clientSecret))
      ).json()) as Record<string, string>;
      const r1 = await form(`${km.base}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: first.refresh_token! }, basic(client.clientId, client.clientSecret));
      assert.equal(r1.status, 200);
      const second = (await r1.json()) as Record<string, string>;
      assert.notEqual(second.refresh_token, first.refresh_token);
      assert.equal(second.scope, 'apim:subscribe');
      const wider = await form(`${km.base}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: second.refresh_token!, scope: 'apim:subscribe apim:admin' }, basic(client.clientId, client.clientSecret));
      assert.equal(((await wider.json()) as { error: string }).error, 'invalid_scope');
      const replay = await form(`${km.base}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: first.refresh_token! }, basic(client.clientId, client.clientSecret));
      assert.equal(replay.status, 400);
      assert.equal(((await replay.json()) as { error: string }).error, 'invalid_grant');
      const afterReuse = await form(`${km.base}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: second.refresh_token! }, basic(client.clientId, client.clientSecret));
      assert.equal(((await afterReuse.json()) as { error: string }).error, 'invalid_grant');
      const intro = await form(`${km.base}/oauth2/introspect`, { token: second.access_token! }, basic(client.clientId, client.clientSecret));
      assert.deepEqual(await intro.json(), { active: false });
    });

    it('of two concurrent refreshes with one token exactly one succeeds, and the family is revoked (K10)', async () => {
      const auth = basic(client.clientId, client.clientSecret);
      const first = (await (await form(`${km.base}/oauth2/token`, { grant_type: 'password', username: 'sub1', password: 'sub1-password-123' }, auth)).json()) as Record<string, string>;
      const results = await Promise.all([0, 1, 2].map(() => form(`${km.base}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: first.refresh_token! }, auth)));
      const ok = results.filter((r) => r.status === 200);
      assert.equal(ok.length, 1);
      for (const r of results.filter((x) => x.status !== 200)) assert.equal(((await r.json()) as { error: string }).error, 'invalid_grant');
      // The reuse revoked the family: the winner's refresh token is dead too.
      const winner = (await ok[0]!.json()) as Record<string, string>;
      const next = await form(`${km.base}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: winner.refresh_token! }, auth);
      assert.equal(next.status, 400);
    });

    it('system scope roles edited through the repository apply to new tokens at once', async () => {
      const scopes = createSystemScopeRepository(km.node.databases!);
      const before = await scopes.listSystemScopes(-1234);
      assert.deepEqual(before.find((s) => s.scope === 'apim:api_publish')?.roles, ['admin', 'Internal/publisher']);
      assert.deepEqual(before.find((s) => s.scope === 'apim:subscribe')?.roles, ['admin', 'Internal/subscriber', 'Internal/devops']);
      await scopes.setSystemScopeRoles(-1234, 'apim:api_publish', ['admin', 'Internal/subscriber']);
      const res = await form(`${km.base}/oauth2/token`, { grant_type: 'password', username: 'sub1', password: 'sub1-password-123', scope: 'apim:api_publish' }, basic(client.clientId, client.clientSecret));
      assert.equal(((await res.json()) as { scope: string }).scope, 'apim:api_publish');
    });
  });
}

suite('management tokens (sqlite)', { postgres: false }, false);
suite('management tokens (postgres)', { postgres: true }, await skipUnless('postgres'));
