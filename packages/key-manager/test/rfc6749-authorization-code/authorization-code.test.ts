import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { basic, decodeJwt, form, newClient, oidcClient, signIn, startKm } from '../helpers.ts';
import type { KmNode } from '../helpers.ts';

const REDIRECT = 'https://app.example.com/cb';

describe('RFC 6749 §4.1 authorization code (with OIDC ID tokens)', () => {
  let km: KmNode;
  let web: { client_id: string; client_secret?: string };
  let config: oidc.Configuration;
  before(async () => {
    km = await startKm();
    await km.createUser('alice', 'alice-password-123', ['Internal/subscriber']);
    web = await newClient(km, { client_name: 'web', redirect_uris: [REDIRECT, 'http://127.0.0.1/loop'], grant_types: ['authorization_code', 'refresh_token'] });
    config = await oidcClient(km, web.client_id, web.client_secret);
  });
  after(() => km?.close());

  /** The whole browser flow; returns the redirect back to the client. */
  async function authorize(params: Record<string, string> = {}, user = 'alice', password = 'alice-password-123') {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid apim:subscribe apim:admin',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...params,
    });
    const res = await signIn(url, user, password);
    return { res, verifier, state, nonce, location: res.headers.get('location') };
  }

  it('openid-client completes code + PKCE, gets an ID token with the nonce, userinfo and a refresh (K26)', async () => {
    const { res, verifier, state, nonce, location } = await authorize();
    assert.equal(res.status, 303);
    assert.ok(location?.startsWith(`${REDIRECT}?`));
    const tokens = await oidc.authorizationCodeGrant(config, new URL(location!), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
    assert.equal(tokens.scope, 'openid apim:subscribe', 'apim:admin is dropped for a subscriber');
    const claims = tokens.claims()!;
    assert.equal(claims.sub, 'alice');
    assert.equal(claims.iss, km.issuer);
    assert.equal(claims.aud, web.client_id);
    assert.equal(decodeJwt(tokens.id_token!).header.alg, 'RS256');
    const info = await oidc.fetchUserInfo(config, tokens.access_token, 'alice');
    assert.equal(info.preferred_username, 'alice');
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    assert.ok(refreshed.access_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  });

  it('shows an error page and never redirects for a bad client or redirect_uri (K1)', async () => {
    const bad = [
      `${REDIRECT}/`,
      'https://APP.example.com/cb',
      `${REDIRECT}?x=1`,
      'https://app.example.com%2Fcb',
      'https://app.example.com@evil.example/cb',
      `${REDIRECT}#frag`,
      'https://sub.app.example.com/cb',
      'https://app.example.com:8443/cb',
    ];
    for (const redirectUri of bad) {
      const url = new URL(`${km.base}/oauth2/authorize`);
      url.search = new URLSearchParams({ response_type: 'code', client_id: web.client_id, redirect_uri: redirectUri, scope: 'openid' }).toString();
      const res = await fetch(url, { redirect: 'manual' });
      assert.equal(res.status, 400, redirectUri);
      assert.equal(res.headers.get('location'), null, redirectUri);
      assert.equal(res.headers.get('access-control-allow-origin'), null);
      assert.match(await res.text(), /redirect_uri is not registered/);
    }
    const unknown = await fetch(`${km.base}/oauth2/authorize?response_type=code&client_id=nope&redirect_uri=${encodeURIComponent(REDIRECT)}`, { redirect: 'manual' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.headers.get('location'), null);
  });

  it('accepts any port on a registered loopback redirect URI (RFC 8252 §7.3)', async () => {
    const url = new URL(`${km.base}/oauth2/authorize`);
    url.search = new URLSearchParams({ response_type: 'code', client_id: web.client_id, redirect_uri: 'http://127.0.0.1:49152/loop', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }).toString();
    const res = await signIn(url, 'alice', 'alice-password-123');
    assert.equal(res.status, 303);
    assert.ok(res.headers.get('location')?.startsWith('http://127.0.0.1:49152/loop?code='));
  });

  it('redirects errors once the redirect URI is trusted: bad response_type, denial', async () => {
    const url = new URL(`${km.base}/oauth2/authorize`);
    url.search = new URLSearchParams({ response_type: 'token', client_id: web.client_id, redirect_uri: REDIRECT, state: 's1' }).toString();
    const res = await fetch(url, { redirect: 'manual' });
    assert.equal(res.status, 303);
    const loc = new URL(res.headers.get('location')!);
    assert.equal(loc.searchParams.get('error'), 'unsupported_response_type');
    assert.equal(loc.searchParams.get('state'), 's1');
    const denied = await signIn(oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', state: 's2' }), 'alice', 'x', 'deny');
    assert.equal(new URL(denied.headers.get('location')!).searchParams.get('error'), 'access_denied');
  });

  it('refuses a POST without the CSRF cookie', async () => {
    const res = await fetch(`${km.base}/oauth2/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ response_type: 'code', client_id: web.client_id, redirect_uri: REDIRECT, csrf: 'forged', username: 'alice', password: 'alice-password-123', decision: 'approve' }).toString(),
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
  });

  it('a wrong password shows the page again, without a redirect', async () => {
    const { res } = await authorize({}, 'alice', 'wrong');
    assert.equal(res.status, 401);
    assert.match(await res.text(), /not valid/);
  });

  it('a code with another redirect_uri, by another client, or reused is invalid_grant; reuse revokes the first tokens (K2, K3, K4)', async () => {
    const { location, verifier } = await authorize();
    const code = new URL(location!).searchParams.get('code')!;
    const auth = basic(web.client_id, web.client_secret!);
    const wrongUri = await form(`${km.base}/oauth2/token`, { grant_type: 'authorization_code', code, redirect_uri: `${REDIRECT}/x`, code_verifier: verifier }, auth);
    assert.equal(((await wrongUri.json()) as { error: string }).error, 'invalid_grant');
    const other = await newClient(km, { client_name: 'other', redirect_uris: [REDIRECT], grant_types: ['authorization_code'] });
    const stolen = await form(`${km.base}/oauth2/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }, basic(other.client_id, other.client_secret!));
    assert.equal(((await stolen.json()) as { error: string }).error, 'invalid_grant');
    const first = await form(`${km.base}/oauth2/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }, auth);
    assert.equal(first.status, 200);
    const tokens = (await first.json()) as { access_token: string; refresh_token: string };
    const second = await form(`${km.base}/oauth2/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }, auth);
    assert.equal(((await second.json()) as { error: string }).error, 'invalid_grant');
    const at = await form(`${km.base}/oauth2/introspect`, { token: tokens.access_token }, auth);
    assert.deepEqual(await at.json(), { active: false });
    const rt = await form(`${km.base}/oauth2/introspect`, { token: tokens.refresh_token }, auth);
    assert.deepEqual(await rt.json(), { active: false });
  });

  it('an expired code is invalid_grant (K4)', async () => {
    const short = await startKm({ argv: ['--key_manager.authorization_code_ttl_ms', '1000'] });
    try {
      const c = await newClient(short, { client_name: 'w', redirect_uris: [REDIRECT], grant_types: ['authorization_code'] });
      const url = new URL(`${short.base}/oauth2/authorize`);
      url.search = new URLSearchParams({ response_type: 'code', client_id: c.client_id, redirect_uri: REDIRECT }).toString();
      const res = await signIn(url, 'admin', short.adminPassword);
      const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
      await new Promise((r) => setTimeout(r, 1100));
      const tok = await form(`${short.base}/oauth2/token`, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT }, basic(c.client_id, c.client_secret!));
      assert.deepEqual(await tok.json(), { error: 'invalid_grant', error_description: 'the authorization code has expired' });
    } finally {
      await short.close();
    }
  });
});
