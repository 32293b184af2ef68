import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { basic, form, newClient, oidcClient, signIn, startKm } from '../helpers.ts';
import type { KmNode } from '../helpers.ts';

const REDIRECT = 'http://127.0.0.1/cb';

describe('RFC 7636 PKCE (S256 only, RFC 9700 §4.8 downgrade)', () => {
  let km: KmNode;
  let conf: { client_id: string; client_secret?: string };
  let pub: { client_id: string };
  before(async () => {
    km = await startKm();
    conf = await newClient(km, { client_name: 'conf', redirect_uris: [REDIRECT], grant_types: ['authorization_code'] });
    pub = await newClient(km, { client_name: 'spa', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none' });
  });
  after(() => km?.close());

  function authUrl(clientId: string, extra: Record<string, string>): URL {
    const url = new URL(`${km.base}/oauth2/authorize`);
    url.search = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, state: 'st', ...extra }).toString();
    return url;
  }
  async function codeFor(clientId: string, extra: Record<string, string>): Promise<string> {
    const res = await signIn(authUrl(clientId, extra), 'admin', km.adminPassword);
    assert.equal(res.status, 303);
    const loc = new URL(res.headers.get('location')!);
    assert.equal(loc.searchParams.get('error'), null, loc.searchParams.get('error_description') ?? '');
    return loc.searchParams.get('code')!;
  }
  const exchange = (code: string, extra: Record<string, string>, auth = basic(conf.client_id, conf.client_secret!)) =>
    form(`${km.base}/oauth2/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, ...extra }, auth);

  it('a public client completes the flow with openid-client and S256', async () => {
    const config = await oidcClient(km, pub.client_id, undefined, 'none');
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 'xyz' });
    const res = await signIn(url, 'admin', km.adminPassword);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(res.headers.get('location')!), { pkceCodeVerifier: verifier, expectedState: 'xyz' });
    assert.ok(tokens.access_token);
  });

  it('a public client without PKCE is refused at the authorization endpoint (K8)', async () => {
    const res = await fetch(authUrl(pub.client_id, {}), { redirect: 'manual' });
    const loc = new URL(res.headers.get('location')!);
    assert.equal(loc.searchParams.get('error'), 'invalid_request');
  });

  it('plain, or a challenge without a method (plain by default), is refused (K7)', async () => {
    const cases: Record<string, string>[] = [{ code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }, { code_challenge: 'a'.repeat(43) }];
    for (const extra of cases) {
      const res = await fetch(authUrl(conf.client_id, extra), { redirect: 'manual' });
      assert.equal(new URL(res.headers.get('location')!).searchParams.get('error'), 'invalid_request');
    }
  });

  it('missing, wrong or malformed verifiers fail (K5)', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const challenge = await oidc.calculatePKCECodeChallenge(verifier);
    const c1 = await codeFor(conf.client_id, { code_challenge: challenge, code_challenge_method: 'S256' });
    assert.equal(((await (await exchange(c1, {})).json()) as { error: string }).error, 'invalid_grant');
    const c2 = await codeFor(conf.client_id, { code_challenge: challenge, code_challenge_method: 'S256' });
    assert.equal(((await (await exchange(c2, { code_verifier: oidc.randomPKCECodeVerifier() })).json()) as { error: string }).error, 'invalid_grant');
    const c3 = await codeFor(conf.client_id, { code_challenge: challenge, code_challenge_method: 'S256' });
    for (const bad of ['a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)}!`]) {
      assert.equal(((await (await exchange(c3, { code_verifier: bad })).json()) as { error: string }).error, 'invalid_request');
    }
    assert.equal((await exchange(c3, { code_verifier: verifier })).status, 200, 'format errors do not consume the code');
  });

  it('a verifier without a challenge is a downgrade: invalid_grant (K6)', async () => {
    const code = await codeFor(conf.client_id, {});
    const res = await exchange(code, { code_verifier: oidc.randomPKCECodeVerifier() });
    assert.deepEqual(await res.json(), { error: 'invalid_grant', error_description: 'code_verifier sent but no code_challenge was used' });
  });
});
