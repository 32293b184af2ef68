import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { SignJWT, generateKeyPair } from 'jose';
import { createServerKeys } from '@gatehouse/core';
import { createSigningKeyStore } from '@gatehouse/key-manager';
import { TEST_SECRET, basic, decodeJwt, form, newClient, signIn, startKm } from '../helpers.ts';
import type { KmNode } from '../helpers.ts';

describe('RFC 9068 JWT access tokens', () => {
  let km: KmNode;
  let c: { client_id: string; client_secret?: string };
  let as: oauth.AuthorizationServer;
  before(async () => {
    km = await startKm();
    c = await newClient(km, { client_name: 'rs-test', grant_types: ['client_credentials', 'authorization_code'], redirect_uris: ['https://app.example.com/cb'] });
    const issuer = new URL(km.issuer);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { [oauth.allowInsecureRequests]: true }));
  });
  after(() => km?.close());
  const cc = async () => ((await (await form(`${km.base}/oauth2/token`, { grant_type: 'client_credentials' }, basic(c.client_id, c.client_secret!))).json()) as { access_token: string }).access_token;
  const validate = (token: string) =>
    oauth.validateJwtAccessToken(as, new Request('https://rs.example/api', { headers: { authorization: `Bearer ${token}` } }), c.client_id, { [oauth.allowInsecureRequests]: true });

  it('oauth4webapi validates client_credentials tokens: typ at+jwt, required claims, sub = client_id (K21)', async () => {
    const token = await cc();
    const claims = await validate(token);
    assert.equal(claims.iss, km.issuer);
    assert.equal(claims.sub, c.client_id);
    assert.equal(claims.client_id, c.client_id);
    assert.equal(decodeJwt(token).header.typ, 'at+jwt');
  });

  it('oauth4webapi validates user tokens from the code flow, sub = username', async () => {
    const url = new URL(`${km.base}/oauth2/authorize`);
    url.search = new URLSearchParams({ response_type: 'code', client_id: c.client_id, redirect_uri: 'https://app.example.com/cb', scope: 'apim:admin' }).toString();
    const code = new URL((await signIn(url, 'admin', km.adminPassword)).headers.get('location')!).searchParams.get('code')!;
    const tokens = (await (await form(`${km.base}/oauth2/token`, { grant_type: 'authorization_code', code, redirect_uri: 'https://app.example.com/cb' }, basic(c.client_id, c.client_secret!))).json()) as { access_token: string };
    const claims = await validate(tokens.access_token);
    assert.equal(claims.sub, 'admin');
    assert.equal(claims.scope, 'apim:admin');
  });

  it('jti is unique across 1000 tokens (K21)', async () => {
    const jtis = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const batch = await Promise.all(Array.from({ length: 20 }, cc));
      for (const t of batch) jtis.add(String(decodeJwt(t).payload.jti));
    }
    assert.equal(jtis.size, 1000);
  });

  it('management auth refuses forged tokens: alg none, HS256 with the public key, a foreign key, an ID token, a bad signature', async () => {
    const auth = km.managementAuth();
    const real = await cc();
    const { header, payload } = decodeJwt(real);
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${b64({ ...header, alg: 'none' })}.${b64(payload)}.`;
    const { keys } = (await (await fetch(`${km.base}/oauth2/jwks`)).json()) as { keys: Record<string, string>[] };
    const hs = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: String(header.kid) }).sign(new TextEncoder().encode(JSON.stringify(keys[0])));
    const attacker = await generateKeyPair('ES256');
    const foreign = await new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: String(header.kid) }).sign(attacker.privateKey);
    const url = new URL(`${km.base}/oauth2/authorize`);
    url.search = new URLSearchParams({ response_type: 'code', client_id: c.client_id, redirect_uri: 'https://app.example.com/cb', scope: 'openid' }).toString();
    const code = new URL((await signIn(url, 'admin', km.adminPassword)).headers.get('location')!).searchParams.get('code')!;
    const { id_token } = (await (await form(`${km.base}/oauth2/token`, { grant_type: 'authorization_code', code, redirect_uri: 'https://app.example.com/cb' }, basic(c.client_id, c.client_secret!))).json()) as { id_token: string };
    for (const bad of [none, hs, foreign, id_token, `${real}x`]) {
      await assert.rejects(auth.verify(`Bearer ${bad}`), (e: { wso2Code: number; status: number }) => e.status === 401 && e.wso2Code === 900901);
    }
  });

  it('rotation keeps the previous key in the JWKS, so tokens signed before still verify; the one before is retired', async () => {
    const before = await cc();
    const oldKid = String(decodeJwt(before).header.kid);
    const store = createSigningKeyStore(km.node.databases!, createServerKeys(TEST_SECRET), { accessAlg: 'ES256', clock: { now: () => Date.now() } });
    const first = await store.rotate('access');
    let published = await store.published();
    assert.equal(published.find((k) => k.kid === oldKid)?.status, 'previous');
    assert.equal(published.find((k) => k.kid === first.kid)?.status, 'current');
    await km.managementAuth().verify(`Bearer ${before}`);
    const second = await store.rotate('access');
    published = await store.published();
    assert.equal(published.some((k) => k.kid === oldKid), false, 'retired keys leave the JWKS');
    assert.deepEqual(published.filter((k) => k.purpose === 'access').map((k) => k.kid).sort(), [first.kid, second.kid].sort());
  });
});
