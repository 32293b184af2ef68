import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { loadConfig } from '@gatehouse/config';
import { kmContext } from '@gatehouse/key-manager';
import type { KmLogger } from '@gatehouse/key-manager';
import { basic, dcr, form, newClient, oidcClient, startKm } from '../helpers.ts';
import type { KmNode } from '../helpers.ts';

// RFC 7662 §4 lets the authorization server decide which protected resources may introspect
// which tokens. Here: a client's own tokens, and every access token of the tenant for a gateway's
// internal client (registered by an admin as `gatehouse-internal-*`), and nobody else.
describe('introspection and user checks for a gateway\'s internal client', () => {
  let km: KmNode;
  let gateway: { clientId: string; clientSecret: string };
  let tools: { clientId: string; clientSecret: string };
  let app: { client_id: string; client_secret?: string };
  let opaque: { clientId: string; clientSecret: string };
  before(async () => {
    km = await startKm({ argv: ['--key_manager.lockout_threshold', '3'] });
    await km.createUser('carol', 'carol-password-1', ['Internal/subscriber', 'Internal/creator']);
    const register = async (user: string, password: string, body: Record<string, unknown>) => {
      const res = await dcr(km, user, password, { grantType: 'client_credentials', ...body });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as { clientId: string; clientSecret: string };
    };
    gateway = await register('admin', km.adminPassword, { clientName: 'gatehouse-internal-gw-1' });
    tools = await register('admin', km.adminPassword, { clientName: 'admin-tools' });
    opaque = await register('admin', km.adminPassword, { clientName: 'opaque-app', tokenType: 'OPAQUE' });
    app = await newClient(km, { client_name: 'some-app', grant_types: ['client_credentials'] });
  });
  after(() => km?.close());

  const tokenOf = async (clientId: string, secret: string) =>
    ((await (await form(`${km.base}/oauth2/token`, { grant_type: 'client_credentials' }, basic(clientId, secret))).json()) as { access_token: string }).access_token;
  const introspect = async (token: string, clientId: string, secret: string) => (await form(`${km.base}/oauth2/introspect`, { token }, basic(clientId, secret))).json() as Promise<Record<string, unknown>>;

  it('lets the internal client introspect another client\'s JWT and opaque tokens', async () => {
    const jwt = await tokenOf(app.client_id, app.client_secret!);
    // The gateway as an RFC 7662 client (openid-client), found by discovery.
    const seen = await oidc.tokenIntrospection(await oidcClient(km, gateway.clientId, gateway.clientSecret), jwt);
    assert.equal(seen.active, true);
    assert.equal(seen.client_id, app.client_id);
    assert.equal(seen.token_type, 'Bearer');
    const o = await tokenOf(opaque.clientId, opaque.clientSecret);
    assert.equal(o.includes('.'), false);
    const seenOpaque = await introspect(o, gateway.clientId, gateway.clientSecret);
    assert.equal(seenOpaque.active, true);
    assert.equal(seenOpaque.client_id, opaque.clientId);
    assert.equal(typeof seenOpaque.jti, 'string');
    await form(`${km.base}/oauth2/revoke`, { token: o }, basic(opaque.clientId, opaque.clientSecret));
    assert.deepEqual(await introspect(o, gateway.clientId, gateway.clientSecret), { active: false }, 'revoked: inactive for the gateway too');
  });

  it('refuses everyone else: an admin\'s other client sees another client\'s token as inactive', async () => {
    const o = await tokenOf(opaque.clientId, opaque.clientSecret);
    const jwt = await tokenOf(app.client_id, app.client_secret!);
    for (const t of [o, jwt]) assert.deepEqual(await introspect(t, tools.clientId, tools.clientSecret), { active: false });
    assert.deepEqual(await introspect(o, app.client_id, app.client_secret!), { active: false });
    // A name is not enough: an RFC 7591 client may call itself anything, and stays ordinary.
    const named = await newClient(km, { client_name: 'gatehouse-internal-gw-1', grant_types: ['client_credentials'] });
    assert.deepEqual(await introspect(o, named.client_id, named.client_secret!), { active: false });
    const res = await form(`${km.base}/oauth2/introspect`, { token: o }, basic(gateway.clientId, 'wrong-secret'));
    assert.equal(res.status, 401);
  });

  it('lets only an admin register an internal client, for an admin owner', async () => {
    const byCarol = await dcr(km, 'carol', 'carol-password-1', { clientName: 'gatehouse-internal-mine', grantType: 'client_credentials' });
    assert.equal(byCarol.status, 403);
    const forCarol = await dcr(km, 'admin', km.adminPassword, { clientName: 'gatehouse-internal-carol', owner: 'carol', grantType: 'client_credentials' });
    assert.equal(forCarol.status, 403);
    const ordinary = await dcr(km, 'carol', 'carol-password-1', { clientName: 'carol-tools', grantType: 'client_credentials' });
    assert.equal(ordinary.status, 200);
  });

  const check = (username: string, password: string, auth: string, extra: Record<string, string> = {}) =>
    form(`${km.base}/oauth2/internal/user-authentication`, { username, password, ...extra }, auth);

  it('checks a user\'s password for the internal client and answers the user\'s roles', async () => {
    const ok = await check('carol', 'carol-password-1', basic(gateway.clientId, gateway.clientSecret), { client_ip: '198.51.100.1' });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('cache-control'), 'no-store');
    const body = (await ok.json()) as { authenticated: boolean; username: string; roles: string[] };
    assert.equal(body.authenticated, true);
    assert.equal(body.username, 'carol');
    assert.deepEqual([...body.roles].sort(), ['Internal/creator', 'Internal/subscriber']);
    for (const [u, p] of [['carol', 'wrong'], ['nobody', 'carol-password-1']]) {
      assert.deepEqual(await (await check(u!, p!, basic(gateway.clientId, gateway.clientSecret), { client_ip: '198.51.100.1' })).json(), { authenticated: false });
    }
  });

  it('refuses the user check to any other client, and to nobody', async () => {
    const other = await check('carol', 'carol-password-1', basic(tools.clientId, tools.clientSecret));
    assert.equal(other.status, 400);
    assert.equal(((await other.json()) as { error: string }).error, 'unauthorized_client');
    assert.equal((await check('carol', 'carol-password-1', '')).status, 401);
    assert.equal((await check('carol', 'carol-password-1', basic(gateway.clientId, gateway.clientSecret), { client_ip: 'not-an-ip' })).status, 400);
  });

  it('locks a username out per client address after repeated failures, as the password grant does', async () => {
    const auth = basic(gateway.clientId, gateway.clientSecret);
    for (let i = 0; i < 3; i++) await check('carol', `guess-${i}`, auth, { client_ip: '203.0.113.7' });
    assert.deepEqual(await (await check('carol', 'carol-password-1', auth, { client_ip: '203.0.113.7' })).json(), { authenticated: false }, 'locked, even with the right password');
    const elsewhere = (await (await check('carol', 'carol-password-1', auth, { client_ip: '203.0.113.8' })).json()) as { authenticated: boolean };
    assert.equal(elsewhere.authenticated, true, 'another address is not locked out');
  });

  it('a gateway credential allowed unlimited password guessing by choosing client_ip: failures per user over all addresses lock that user\'s basic-auth checks, warned once', async () => {
    // The node's Key Manager context (one per database), whose logger is silent: listen to its warnings.
    const ctx = kmContext(loadConfig({ argv: [], env: {}, cwd: km.node.dataDir }), { databases: km.node.databases! } as Parameters<typeof kmContext>[1]);
    const warnings: { obj: object; msg: string | undefined }[] = [];
    const logger = ctx.logger as { -readonly [K in keyof KmLogger]: KmLogger[K] };
    const warn = logger.warn;
    logger.warn = (obj, msg) => void warnings.push({ obj, msg });
    after(() => {
      logger.warn = warn;
    });
    await km.createUser('dave', 'dave-password-1', ['Internal/subscriber']);
    const auth = basic(gateway.clientId, gateway.clientSecret);
    const attempt = async (password: string, ip: string) => (await check('dave', password, auth, { client_ip: ip })).json() as Promise<{ authenticated: boolean }>;

    // 10x the per-address threshold (3), one guess per made-up address: no address is ever locked.
    for (let i = 0; i < 30; i++) assert.equal((await attempt(`guess-${i}`, `192.0.2.${i + 1}`)).authenticated, false);
    assert.equal(warnings.length, 1, 'warned when the lockout started');
    assert.match(warnings[0]!.msg ?? '', /locked out/);
    assert.equal((warnings[0]!.obj as { username?: string }).username, 'dave');
    for (let i = 0; i < 3; i++) assert.equal((await attempt(`more-${i}`, `198.18.0.${i + 1}`)).authenticated, false);
    assert.equal(warnings.length, 1, 'once per lockout, not once per refused guess');

    assert.equal((await attempt('dave-password-1', '198.18.1.1')).authenticated, false, 'locked from a fresh address, even with the right password');
    // The trade-off is bounded: the user still signs in elsewhere, and other users are not affected.
    assert.equal((await dcr(km, 'dave', 'dave-password-1', { clientName: 'dave-tools', grantType: 'client_credentials' })).status, 200);
    assert.equal(((await (await check('carol', 'carol-password-1', auth, { client_ip: '198.18.1.3' })).json()) as { authenticated: boolean }).authenticated, true);
  });
});
