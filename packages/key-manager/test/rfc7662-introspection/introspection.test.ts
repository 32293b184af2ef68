import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { basic, dcr, form, newClient, oidcClient, startKm } from '../helpers.ts';
import type { KmNode } from '../helpers.ts';

describe('RFC 7662 token introspection', () => {
  let km: KmNode;
  let a: { client_id: string; client_secret?: string };
  let b: { client_id: string; client_secret?: string };
  before(async () => {
    km = await startKm();
    a = await newClient(km, { client_name: 'a', grant_types: ['client_credentials'] });
    b = await newClient(km, { client_name: 'b', grant_types: ['client_credentials'] });
  });
  after(() => km?.close());
  const introspect = (token: string, auth?: string) => form(`${km.base}/oauth2/introspect`, { token }, auth);

  it('openid-client introspects its own token as active, with RFC 7662 fields', async () => {
    const config = await oidcClient(km, a.client_id, a.client_secret);
    const { access_token } = await oidc.clientCredentialsGrant(config);
    const res = await oidc.tokenIntrospection(config, access_token);
    assert.equal(res.active, true);
    assert.equal(res.client_id, a.client_id);
    assert.equal(res.token_type, 'Bearer');
    assert.equal(res.iss, km.issuer);
    assert.equal(res.sub, a.client_id);
    assert.ok(typeof res.exp === 'number' && typeof res.iat === 'number' && typeof res.jti === 'string');
  });

  it('requires client authentication (K17)', async () => {
    const res = await introspect('anything');
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_client');
  });

  it('answers {active:false} alone for another client\'s, garbage, forged or revoked tokens (K17)', async () => {
    const { access_token } = (await (await form(`${km.base}/oauth2/token`, { grant_type: 'client_credentials' }, basic(a.client_id, a.client_secret!))).json()) as { access_token: string };
    const [h, p] = access_token.split('.');
    const forged = `${h}.${p}.${'A'.repeat(86)}`;
    for (const [token, auth] of [
      [access_token, basic(b.client_id, b.client_secret!)],
      ['garbage', basic(a.client_id, a.client_secret!)],
      [forged, basic(a.client_id, a.client_secret!)],
      [`${h}.${Buffer.from(JSON.stringify({ sub: 'x' })).toString('base64url')}.sig`, basic(a.client_id, a.client_secret!)],
    ] as const) {
      const res = await introspect(token, auth);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { active: false });
    }
    await form(`${km.base}/oauth2/revoke`, { token: access_token }, basic(a.client_id, a.client_secret!));
    assert.deepEqual(await (await introspect(access_token, basic(a.client_id, a.client_secret!))).json(), { active: false });
  });

  it('an expired token is inactive', async () => {
    const short = await startKm({ argv: ['--key_manager.access_token_ttl_ms', '1000'] });
    try {
      const reg = (await (await dcr(short, 'admin', short.adminPassword, { clientName: 'short', grantType: 'client_credentials', tokenType: 'OPAQUE' })).json()) as { clientId: string; clientSecret: string };
      const auth = basic(reg.clientId, reg.clientSecret);
      const { access_token } = (await (await form(`${short.base}/oauth2/token`, { grant_type: 'client_credentials' }, auth)).json()) as { access_token: string };
      assert.equal(((await (await form(`${short.base}/oauth2/introspect`, { token: access_token }, auth)).json()) as { active: boolean }).active, true);
      await new Promise((r) => setTimeout(r, 1100));
      assert.deepEqual(await (await form(`${short.base}/oauth2/introspect`, { token: access_token }, auth)).json(), { active: false });
    } finally {
      await short.close();
    }
  });

  it('opaque tokens (WSO2 DCR tokenType OPAQUE) introspect and revoke the same way', async () => {
    const res = await fetch(`${km.base}/client-registration/v0.17/register`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`admin:${km.adminPassword}`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ clientName: 'opaque', grantType: 'client_credentials', tokenType: 'OPAQUE' }),
    });
    const reg = (await res.json()) as { clientId: string; clientSecret: string; tokenType: string };
    assert.equal(reg.tokenType, 'OPAQUE');
    const auth = basic(reg.clientId, reg.clientSecret);
    const { access_token } = (await (await form(`${km.base}/oauth2/token`, { grant_type: 'client_credentials' }, auth)).json()) as { access_token: string };
    assert.equal(access_token.split('.').length, 1);
    assert.ok(Buffer.from(access_token, 'base64url').length >= 32, '>= 256 bits of entropy (K21)');
    assert.equal(((await (await introspect(access_token, auth)).json()) as { active: boolean }).active, true);
    const p = await km.managementAuth().verify(`Bearer ${access_token}`);
    assert.equal(p.clientId, reg.clientId);
    await form(`${km.base}/oauth2/revoke`, { token: access_token }, auth);
    assert.deepEqual(await (await introspect(access_token, auth)).json(), { active: false });
  });
});
