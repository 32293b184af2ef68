import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { registerAdminClient, startKm } from '../helpers.ts';
import type { KmNode } from '../helpers.ts';

describe('RFC 8414 / OIDC discovery metadata', () => {
  let km: KmNode;
  before(async () => {
    km = await startKm();
  });
  after(() => km?.close());

  it('openid-client discovers the issuer (issuer equality, RFC 8414 §3.3) (K20)', async () => {
    const c = await registerAdminClient(km);
    const config = await oidc.discovery(new URL(km.issuer), c.clientId, c.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
    const md = config.serverMetadata();
    assert.equal(md.issuer, km.issuer);
    assert.deepEqual(md.code_challenge_methods_supported, ['S256']);
    assert.equal(md.token_endpoint, `${km.base}/oauth2/token`);
  });

  it('serves the same document at every well-known location, issuer exactly the configured one', async () => {
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server', '/oauth2/token/.well-known/openid-configuration', '/.well-known/oauth-authorization-server/oauth2/token']) {
      const res = await fetch(`${km.base}${path}`);
      assert.equal(res.status, 200, path);
      const md = (await res.json()) as Record<string, unknown>;
      assert.equal(md.issuer, km.issuer, path);
      assert.deepEqual(md.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'none']);
      assert.deepEqual(md.response_types_supported, ['code']);
      assert.ok((md.scopes_supported as string[]).includes('apim:api_create'));
      assert.equal(md.jwks_uri, `${km.base}/oauth2/jwks`);
    }
  });

  it('discovery from another issuer URL fails (RFC 8414 §3.3 mismatch)', async () => {
    const wrong = new URL(km.issuer.replace('127.0.0.1', 'localhost'));
    await assert.rejects(oidc.discovery(wrong, 'x', 'y', undefined, { execute: [oidc.allowInsecureRequests] }));
  });

  it('without server.public_url (port 0), the issuer is the request\'s own origin and discovery still works', async () => {
    const { startTestNode } = await import('@gatehouse/cli');
    const node = await startTestNode(['--profile', 'key-manager']);
    try {
      const issuer = `${node.baseUrl}/oauth2/token`;
      const md = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { issuer: string; token_endpoint: string };
      assert.equal(md.issuer, issuer);
      assert.equal(md.token_endpoint, `${node.baseUrl}/oauth2/token`);
      await oidc.discovery(new URL(issuer), 'x', 'y', undefined, { execute: [oidc.allowInsecureRequests] });
    } finally {
      await node.close();
    }
  });

  it('JWKS publishes an ES256 access-token key and an RS256 ID-token key, public parts only', async () => {
    const { keys } = (await (await fetch(`${km.base}/oauth2/jwks`)).json()) as { keys: Record<string, string>[] };
    assert.deepEqual(keys.map((k) => k.alg).sort(), ['ES256', 'RS256']);
    for (const k of keys) {
      assert.ok(k.kid);
      assert.equal(k.use, 'sig');
      assert.equal(k.d, undefined);
      assert.equal(k.p, undefined);
    }
  });
});
