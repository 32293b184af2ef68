import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { adminToken, registerClient, startKm } from '../helpers.ts';
import type { KmNode } from '../helpers.ts';

describe('RFC 7591 dynamic client registration', () => {
  let km: KmNode;
  let token: string;
  let trapHits = 0;
  const trap = createServer((_req, res) => {
    trapHits += 1;
    res.end('{}');
  });
  before(async () => {
    km = await startKm();
    token = await adminToken(km);
    await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
  });
  after(async () => {
    trap.close();
    await km?.close();
  });

  it('openid-client registers a client with an initial access token and uses it', async () => {
    const config = await oidc.dynamicClientRegistration(
      new URL(km.issuer),
      { client_name: 'dyn', redirect_uris: ['https://app.example.com/cb'], grant_types: ['authorization_code', 'client_credentials'] },
      undefined,
      { initialAccessToken: token, execute: [oidc.allowInsecureRequests] },
    );
    const md = config.clientMetadata();
    assert.ok(md.client_id);
    assert.ok(typeof md.client_secret === 'string' && md.client_secret.length >= 43);
    const res = await oidc.clientCredentialsGrant(config);
    assert.ok(res.access_token);
  });

  it('requires an initial access token unless open registration is on', async () => {
    const res = await fetch(`${km.base}/oauth2/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"grant_types":["client_credentials"]}' });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_token');
  });

  it('rejects unsafe redirect URIs with invalid_redirect_uri (K19)', async () => {
    for (const uri of ['https://app.example.com/cb#frag', 'http://app.example.com/cb', 'javascript:alert(1)', 'data:text/html,x', 'https://*.example.com/cb', '/relative', 'https://user@app.example.com/cb']) {
      const res = await registerClient(km, { redirect_uris: [uri], grant_types: ['authorization_code'] }, token);
      assert.equal(res.status, 400, uri);
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_redirect_uri', uri);
    }
  });

  it('rejects client-chosen ids and remote key material, and never fetches them (K19, SSRF)', async () => {
    const port = (trap.address() as AddressInfo).port;
    for (const meta of [
      { client_id: 'mine', grant_types: ['client_credentials'] },
      { sub: 'admin', grant_types: ['client_credentials'] },
      { jwks_uri: `http://127.0.0.1:${port}/jwks`, grant_types: ['client_credentials'] },
      { jwks_uri: 'http://169.254.169.254/latest/meta-data', grant_types: ['client_credentials'] },
      { token_endpoint_auth_method: 'private_key_jwt', grant_types: ['client_credentials'] },
      { grant_types: ['implicit'] },
    ]) {
      const res = await registerClient(km, meta, token);
      assert.equal(res.status, 400, JSON.stringify(meta));
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_client_metadata');
    }
    assert.equal(trapHits, 0);
  });
});
