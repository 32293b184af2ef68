import { it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '@gatehouse/testing';
import type { CredentialAuthority, IntrospectionAnswer, UserAuthentication } from './credential-authority.ts';
import { BasicCredentials, OpaqueTokens, UNAVAILABLE } from './remote-credentials.ts';

/** A Key Manager of the test's own: answers from a table and counts the calls it gets. */
function authority(clock: FakeClock) {
  const calls = { introspect: 0, users: 0 };
  const tokens = new Map<string, IntrospectionAnswer>();
  let down = false;
  let hold: Promise<void> | undefined;
  const a: CredentialAuthority = {
    async introspect(token) {
      calls.introspect++;
      await hold;
      if (down) throw new Error('connect ECONNREFUSED');
      return tokens.get(token) ?? { active: false };
    },
    async authenticateUser(username, password): Promise<UserAuthentication> {
      calls.users++;
      await hold;
      if (down) throw new Error('connect ECONNREFUSED');
      return username === 'carol' && password === 'right' ? { authenticated: true, username, roles: ['Internal/Creator'] } : { authenticated: false };
    },
  };
  const nowS = () => Math.floor(clock.now() / 1000);
  return {
    a,
    calls,
    issue(token: string, ttlS: number, extra: Record<string, unknown> = {}) {
      tokens.set(token, { active: true, token_type: 'Bearer', client_id: 'c1', sub: 'alice', scope: 'read write', jti: `jti-${token}`, iat: nowS(), exp: nowS() + ttlS, ...extra });
    },
    setDown(v: boolean) {
      down = v;
    },
    holdUntil(p: Promise<void> | undefined) {
      hold = p;
    },
  };
}

it('introspects an opaque token once, and keeps the answer until the token expires', async () => {
  const clock = new FakeClock();
  const km = authority(clock);
  const opaque = new OpaqueTokens({ now: () => clock.now(), maxTtlMs: 3_600_000 });
  opaque.setAuthority(km.a);
  km.issue('tok-a', 120, { application: { id: 'app-1', name: 'Shop', owner: 'alice', tier: 'Gold' }, keytype: 'SANDBOX' });
  const key = opaque.keyOf('tok-a');
  assert.ok(!key.includes('tok-a'), 'the cache is keyed by an HMAC, never the token');
  const [one, two] = await Promise.all([opaque.introspect(key, 'tok-a'), opaque.introspect(key, 'tok-a')]);
  assert.equal(km.calls.introspect, 1, 'concurrent requests share one call');
  assert.ok(one !== null && one !== UNAVAILABLE);
  assert.equal(one, two);
  assert.deepEqual(one.application, { id: 'app-1', name: 'Shop', owner: 'alice', tier: 'Gold' });
  assert.equal(one.keyType, 'SANDBOX');
  assert.deepEqual(one.scopes, ['read', 'write']);
  assert.equal(one.jti, 'jti-tok-a');
  clock.advance(119_000);
  assert.equal(opaque.cached(key), one);
  clock.advance(1_000);
  assert.equal(opaque.cached(key), undefined, 'not kept past exp');
});

it('keeps an answer no longer than the maximum, however long the token lives', async () => {
  const clock = new FakeClock();
  const km = authority(clock);
  const opaque = new OpaqueTokens({ now: () => clock.now(), maxTtlMs: 60_000 });
  opaque.setAuthority(km.a);
  km.issue('long', 86_400);
  const key = opaque.keyOf('long');
  await opaque.introspect(key, 'long');
  clock.advance(59_999);
  assert.notEqual(opaque.cached(key), undefined);
  clock.advance(1);
  assert.equal(opaque.cached(key), undefined);
  await opaque.introspect(key, 'long');
  assert.equal(km.calls.introspect, 2);
});

it('remembers an inactive token briefly, never an outage; refuses refresh tokens and tokens without jti', async () => {
  const clock = new FakeClock();
  const km = authority(clock);
  const opaque = new OpaqueTokens({ now: () => clock.now(), negativeTtlMs: 5_000 });
  opaque.setAuthority(km.a);
  const key = opaque.keyOf('garbage');
  assert.equal(await opaque.introspect(key, 'garbage'), null);
  assert.equal(opaque.cached(key), null);
  clock.advance(5_000);
  assert.equal(opaque.cached(key), undefined);
  km.setDown(true);
  km.issue('t', 600);
  const k2 = opaque.keyOf('t');
  assert.equal(await opaque.introspect(k2, 't'), UNAVAILABLE);
  assert.equal(opaque.cached(k2), undefined, 'an outage is not remembered');
  km.setDown(false);
  assert.notEqual(await opaque.introspect(k2, 't'), UNAVAILABLE);
  km.issue('rt', 600, { token_type: 'refresh_token' });
  km.issue('nojti', 600, { jti: undefined });
  km.issue('expired', -1);
  for (const t of ['rt', 'nojti', 'expired']) assert.equal(await opaque.introspect(opaque.keyOf(t), t), null, t);
});

it('bounds the calls in flight and the entries kept', async () => {
  const clock = new FakeClock();
  const km = authority(clock);
  const opaque = new OpaqueTokens({ now: () => clock.now(), maxPending: 2, max: 3 });
  opaque.setAuthority(km.a);
  let release!: () => void;
  km.holdUntil(new Promise<void>((r) => (release = r)));
  const first = opaque.introspect(opaque.keyOf('x1'), 'x1');
  const second = opaque.introspect(opaque.keyOf('x2'), 'x2');
  assert.equal(await opaque.introspect(opaque.keyOf('x3'), 'x3'), UNAVAILABLE, 'past the cap, at once');
  release();
  await Promise.all([first, second]);
  km.holdUntil(undefined);
  for (const t of ['y1', 'y2', 'y3', 'y4']) {
    km.issue(t, 600);
    await opaque.introspect(opaque.keyOf(t), t);
  }
  assert.equal(opaque.size, 3);
  assert.equal(opaque.cached(opaque.keyOf('y1')), undefined, 'the oldest went first');
  assert.equal(new OpaqueTokens().configured, false);
  assert.equal(await new OpaqueTokens().introspect('k', 't'), UNAVAILABLE, 'no Key Manager: nothing is accepted');
});

it('checks basic credentials once, keeps a success briefly under an HMAC, and gives each identity its own jti', async () => {
  const clock = new FakeClock();
  const km = authority(clock);
  const basic = new BasicCredentials({ now: () => clock.now(), successTtlMs: 30_000 });
  basic.setAuthority(km.a);
  const key = basic.keyOf('carol:right');
  assert.ok(!key.includes('right'));
  const who = await basic.authenticate(key, 'carol', 'right', '203.0.113.1');
  assert.ok(who !== null && who !== UNAVAILABLE);
  assert.deepEqual([...who.roles], ['internal/creator']);
  assert.equal(who.token.subject, 'carol');
  assert.equal(who.token.application, undefined);
  assert.equal(basic.cached(key), who);
  clock.advance(30_000);
  assert.equal(basic.cached(key), undefined, 'a success is kept briefly');
  const again = await basic.authenticate(key, 'carol', 'right', undefined);
  assert.ok(again !== null && again !== UNAVAILABLE);
  assert.notEqual(again.token.jti, who.token.jti);
  assert.equal(km.calls.users, 2);
  const wrong = basic.keyOf('carol:wrong');
  assert.equal(await basic.authenticate(wrong, 'carol', 'wrong', undefined), null);
  assert.equal(basic.cached(wrong), null, 'the same wrong password costs no second call for a while');
  assert.equal(km.calls.users, 3);
});

it('regression: a flood of made-up tokens evicted the introspected good ones (refusals and identities shared one bound)', async () => {
  const clock = new FakeClock();
  const km = authority(clock);
  const opaque = new OpaqueTokens({ now: () => clock.now(), max: 3, maxRefused: 2 });
  opaque.setAuthority(km.a);
  km.issue('good', 600);
  const good = opaque.keyOf('good');
  const identity = await opaque.introspect(good, 'good');
  assert.ok(identity !== null && identity !== UNAVAILABLE);
  for (let i = 0; i < 10; i++) assert.equal(await opaque.introspect(opaque.keyOf(`made-up-${i}`), `made-up-${i}`), null);
  assert.equal(opaque.cached(good), identity, 'still answered without a call');
  assert.equal(km.calls.introspect, 11);
  assert.equal(opaque.size, 1);
  assert.equal(opaque.cached(opaque.keyOf('made-up-9')), null, 'the latest refusals are remembered');
  assert.equal(opaque.cached(opaque.keyOf('made-up-0')), undefined, 'refusals are bounded on their own');
});

it('reads an external key manager\'s answer without trusting its application claims, and bounds one without exp', async () => {
  const clock = new FakeClock();
  const km = authority(clock);
  const opaque = new OpaqueTokens({ now: () => clock.now(), maxTtlMs: 60_000, keyManager: { name: 'Okta', issuer: 'https://okta.test', consumerKeyClaim: 'cid', scopesClaim: 'scp' }, tokenPatterns: [/^okta-/] });
  opaque.setAuthority(km.a);
  assert.equal(opaque.handles('okta-1'), true);
  assert.equal(opaque.handles('other-1'), false, 'WSO2 REFERENCE patterns pick the tokens it handles');
  km.issue('okta-1', 120, { application: { id: 'app-1', name: 'Shop', owner: 'alice', tier: 'Gold' }, keytype: 'SANDBOX', jti: undefined, client_id: undefined, cid: 'okta-client', scope: undefined, scp: ['a', 'b'], iss: undefined });
  const one = await opaque.introspect(opaque.keyOf('okta-1'), 'okta-1');
  assert.ok(one !== null && one !== UNAVAILABLE);
  assert.equal(one.application, undefined, 'an external application claim names nothing: key mappings do');
  assert.equal(one.keyType, 'PRODUCTION');
  assert.equal(one.keyManager, 'Okta');
  assert.equal(one.issuer, 'https://okta.test');
  assert.equal(one.clientId, 'okta-client');
  assert.deepEqual(one.scopes, ['a', 'b']);
  assert.match(one.jti, /^Okta:/, 'an id of its own when the answer has no jti');
  km.issue('okta-2', 120, { exp: undefined });
  const two = await opaque.introspect(opaque.keyOf('okta-2'), 'okta-2');
  assert.ok(two !== null && two !== UNAVAILABLE);
  assert.equal(two.exp, Math.floor((clock.now() + 60_000) / 1000), 'no exp: kept the maximum, no longer');
});
