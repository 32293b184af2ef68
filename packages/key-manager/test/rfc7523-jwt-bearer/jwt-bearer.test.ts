import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JWTPayload } from 'jose';
import { skipUnless } from '@gatehouse/testing';
import { basic, dcr, decodeJwt, form, startKm } from '../helpers.ts';
import type { KmNode } from '../helpers.ts';

const GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const IDP = 'https://idp.example.com';

function suite(name: string, postgres: boolean, skip: false | string) {
  describe(name, { skip }, () => {
    let km: KmNode;
    let key: CryptoKey;
    let client: { clientId: string; clientSecret: string };
    const jwksServer = createServer();
    before(async () => {
      const pair = await generateKeyPair('RS256');
      key = pair.privateKey;
      const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' };
      jwksServer.on('request', (_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [jwk] })));
      await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
      const jwksUri = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`;
      km = await startKm({ postgres, argv: ['--key_manager.trusted_issuers', `${IDP}|${jwksUri}`] });
      client = (await (await dcr(km, 'admin', km.adminPassword, { clientName: 'federation', grantType: GRANT })).json()) as { clientId: string; clientSecret: string };
    });
    after(async () => {
      jwksServer.close();
      await km?.close();
    });

    const assertion = (claims: JWTPayload = {}, opts: { exp?: number | null; aud?: string | string[] } = {}) => {
      const now = Math.floor(Date.now() / 1000);
      const jwt = new SignJWT({ jti: randomUUID(), ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: 'idp-1' })
        .setIssuer(String(claims.iss ?? IDP))
        .setSubject('admin')
        .setAudience(opts.aud ?? km.issuer)
        .setIssuedAt(now);
      if (opts.exp !== null) jwt.setExpirationTime(opts.exp ?? now + 300);
      return jwt.sign(key);
    };
    const grant = async (a: string, scope = 'apim:api_list_view apim:admin') =>
      form(`${km.base}/oauth2/token`, { grant_type: GRANT, assertion: a, scope }, basic(client.clientId, client.clientSecret));

    it('exchanges a trusted assertion for a token of a federated subject with Internal/everyone scopes only', async () => {
      const res = await grant(await assertion());
      assert.equal(res.status, 200);
      const body = (await res.json()) as { access_token: string; scope: string; refresh_token?: string };
      assert.equal(body.scope, 'apim:api_list_view', 'apim:admin is not granted to a federated "admin"');
      const { payload } = decodeJwt(body.access_token);
      assert.equal(payload.sub, 'admin');
      assert.equal(payload.idp, IDP);
      const p = await km.managementAuth().verify(`Bearer ${body.access_token}`);
      assert.deepEqual(p.roles, ['Internal/everyone']);
    });

    it('refuses a replayed assertion', async () => {
      const a = await assertion();
      assert.equal((await grant(a)).status, 200);
      const again = await grant(a);
      assert.deepEqual(await again.json(), { error: 'invalid_grant', error_description: 'the assertion was already used' });
    });

    it('refuses foreign or mixed audiences, no exp, a far exp, an untrusted issuer, a foreign key (K15, RFC 10070)', async () => {
      const now = Math.floor(Date.now() / 1000);
      const other = await generateKeyPair('RS256');
      const foreign = await new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: 'RS256', kid: 'idp-1' }).setIssuer(IDP).setSubject('x').setAudience(km.issuer).setExpirationTime(now + 60).sign(other.privateKey);
      const bad = [
        await assertion({}, { aud: 'https://other-as.example/token' }),
        await assertion({}, { aud: [km.issuer, 'https://other-as.example/token'] }),
        await assertion({}, { exp: null }),
        await assertion({}, { exp: now + 86_400 }),
        await assertion({}, { exp: now - 120 }),
        await assertion({ iss: 'https://evil.example.com' }),
        foreign,
        'not-a-jwt',
      ];
      for (const a of bad) {
        const res = await grant(a);
        assert.equal(res.status, 400);
        assert.equal(((await res.json()) as { error: string }).error, 'invalid_grant');
      }
    });

    it('refuses clients not registered for the grant', async () => {
      const other = (await (await dcr(km, 'admin', km.adminPassword, { clientName: 'cc-only', grantType: 'client_credentials' })).json()) as { clientId: string; clientSecret: string };
      const res = await form(`${km.base}/oauth2/token`, { grant_type: GRANT, assertion: await assertion() }, basic(other.clientId, other.clientSecret));
      assert.equal(((await res.json()) as { error: string }).error, 'unauthorized_client');
    });
  });
}

suite('RFC 7523 JWT bearer grant (sqlite)', false, false);
suite('RFC 7523 JWT bearer grant (postgres)', true, await skipUnless('postgres'));
