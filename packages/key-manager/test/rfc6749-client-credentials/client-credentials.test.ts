import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import * as oidc from 'openid-client';
import { basic, decodeJwt, dcr, form, newClient, oidcClient, startKm } from '../helpers.ts';
import type { KmNode } from '../helpers.ts';

/** A form POST from a given loopback source address (request.ip on the server). */
function postFrom(localAddress: string, url: string, body: string, authorization: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', localAddress, headers: { 'content-type': 'application/x-www-form-urlencoded', authorization } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end(body);
  });
}

describe('RFC 6749 §4.4 client credentials and §2.3 client authentication', () => {
  let km: KmNode;
  let cc: { client_id: string; client_secret?: string };
  before(async () => {
    km = await startKm({ argv: ['--key_manager.lockout_threshold', '5'] });
    cc = await newClient(km, { client_name: 'cc', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' });
  });
  after(() => km?.close());
  const token = () => `${km.base}/oauth2/token`;

  it('openid-client obtains a token with client_secret_basic and with client_secret_post', async () => {
    for (const method of ['basic', 'post'] as const) {
      const config = await oidcClient(km, cc.client_id, cc.client_secret, method);
      const res = await oidc.clientCredentialsGrant(config);
      assert.equal(res.token_type.toLowerCase(), 'bearer');
      assert.ok((res.expires_in ?? 0) > 3000);
      assert.equal(decodeJwt(res.access_token).payload.sub, cc.client_id);
    }
  });

  it('both Basic and client_secret in the body is invalid_request (§2.3)', async () => {
    const res = await form(token(), { grant_type: 'client_credentials', client_secret: cc.client_secret! }, basic(cc.client_id, cc.client_secret!));
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
  });

  it('a wrong secret, another client\'s secret, no authentication, or `none` for a confidential client is 401 invalid_client (K13)', async () => {
    const other = await newClient(km, { client_name: 'other', grant_types: ['client_credentials'] });
    const cases: [Record<string, string>, string | undefined][] = [
      [{ grant_type: 'client_credentials' }, basic(cc.client_id, 'wrong')],
      [{ grant_type: 'client_credentials' }, basic(cc.client_id, other.client_secret!)],
      [{ grant_type: 'client_credentials' }, undefined],
      [{ grant_type: 'client_credentials', client_id: other.client_id }, undefined],
      [{ grant_type: 'client_credentials' }, 'Bearer abc'],
    ];
    for (const [params, auth] of cases) {
      const res = await form(token(), params, auth);
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Basic/);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_client');
    }
  });

  it('answers RFC 6749 §5.2 errors for bad grant requests', async () => {
    const auth = basic(cc.client_id, cc.client_secret!);
    const missing = await form(token(), {}, auth);
    assert.deepEqual(await missing.json(), { error: 'invalid_request', error_description: 'the parameter grant_type is required' });
    const unknown = await form(token(), { grant_type: 'urn:example:nope' }, auth);
    assert.equal(((await unknown.json()) as { error: string }).error, 'unsupported_grant_type');
    const repeated = await fetch(token(), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth }, body: 'grant_type=client_credentials&grant_type=password' });
    assert.equal(((await repeated.json()) as { error: string }).error, 'invalid_request');
    const badScope = await form(token(), { grant_type: 'client_credentials', scope: 'a"b' }, auth);
    assert.equal(((await badScope.json()) as { error: string }).error, 'invalid_scope');
    const json = await fetch(token(), { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body: '{"grant_type":"client_credentials"}' });
    assert.equal(json.status >= 400 && json.status < 500, true);
  });

  it('the password grant is refused unless enabled for the client (K22)', async () => {
    const res = await form(token(), { grant_type: 'password', username: 'admin', password: km.adminPassword }, basic(cc.client_id, cc.client_secret!));
    assert.equal(((await res.json()) as { error: string }).error, 'unauthorized_client');
  });

  it('a client never gets scopes beyond what its owner may hold (K12, CVE-2025-11229 class)', async () => {
    await km.createUser('dev1', 'dev1-password-123', ['Internal/subscriber']);
    const reg = await (await dcr(km, 'dev1', 'dev1-password-123', { clientName: 'devtool', grantType: 'client_credentials' })).json() as { clientId: string; clientSecret: string };
    const res = await form(token(), { grant_type: 'client_credentials', scope: 'apim:admin apim:api_create apim:subscribe' }, basic(reg.clientId, reg.clientSecret));
    const body = (await res.json()) as { scope: string; access_token: string };
    assert.equal(body.scope, 'apim:subscribe');
    const none = await form(token(), { grant_type: 'client_credentials', scope: 'apim:admin' }, basic(reg.clientId, reg.clientSecret));
    assert.equal(((await none.json()) as { scope: string }).scope, 'default');
  });

  it('locks a client id + IP out after repeated failures, with the same invalid_client answer (K16)', async () => {
    const victim = await newClient(km, { client_name: 'victim', grant_types: ['client_credentials'] });
    const bystander = await newClient(km, { client_name: 'bystander', grant_types: ['client_credentials'] });
    for (let i = 0; i < 5; i++) {
      const res = await form(token(), { grant_type: 'client_credentials' }, basic(victim.client_id, `wrong-${i}`));
      assert.equal(res.status, 401);
    }
    const locked = await form(token(), { grant_type: 'client_credentials' }, basic(victim.client_id, victim.client_secret!));
    assert.equal(locked.status, 401);
    assert.deepEqual(await locked.json(), { error: 'invalid_client', error_description: 'client authentication failed' });
    const other = await form(token(), { grant_type: 'client_credentials' }, basic(bystander.client_id, bystander.client_secret!));
    assert.equal(other.status, 200, 'another client from the same address is not locked out');
    const fromElsewhere = await postFrom('127.0.0.2', token(), 'grant_type=client_credentials', basic(victim.client_id, victim.client_secret!));
    assert.equal(fromElsewhere, 200, 'the same client from another address is not locked out');
  });

  it('locks a username + IP out of the password grant after repeated failures', async () => {
    await km.createUser('bf1', 'bf1-password-123', ['Internal/subscriber']);
    const reg = await (await dcr(km, 'bf1', 'bf1-password-123', { clientName: 'bf', grantType: 'password' })).json() as { clientId: string; clientSecret: string };
    for (let i = 0; i < 5; i++) {
      const res = await form(token(), { grant_type: 'password', username: 'bf1', password: `bad-${i}` }, basic(reg.clientId, reg.clientSecret));
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_grant');
    }
    const locked = await form(token(), { grant_type: 'password', username: 'bf1', password: 'bf1-password-123' }, basic(reg.clientId, reg.clientSecret));
    assert.equal(locked.status, 400);
    assert.equal(((await locked.json()) as { error: string }).error, 'invalid_grant');
  });
});
