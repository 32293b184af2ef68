import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ApiClient, ApiError } from '../../src/kit/api.ts';
import { Auth } from '../../src/kit/auth.ts';
import type { RuntimeConfig } from '../../src/kit/config.ts';
import { formDialogStep, serverErrors, withoutServerErrors, type FormDialogState } from '../../src/kit/form.ts';
import { parseProblem } from '../../src/kit/wso2-error.ts';

const ORIGIN = 'https://cp.example:9443';
const ISSUER = `${ORIGIN}/oauth2/token`;
const config: RuntimeConfig = { app: 'publisher', basePath: '/publisher', tenant: 'carbon.super', keyManager: { url: '', clientId: 'gatehouse-publisher' }, gatewayUrls: [], apps: { publisher: '/publisher/' } };

function memoryStorage() {
  const m = new Map<string, string>();
  return { map: m, getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k) };
}

const jwt = (claims: Record<string, unknown>) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

/** A fake Key Manager: metadata, token (code and refresh grants), revoke. */
function fakeKm(options: { refreshOk?: boolean } = {}) {
  const calls: { url: string; body: URLSearchParams | undefined }[] = [];
  let issued = 0;
  const fetch = (async (input: string | URL, init?: RequestInit) => {
    const url = String(input);
    const body = init?.body instanceof URLSearchParams ? init.body : undefined;
    calls.push({ url, body });
    const json = (status: number, value: unknown) => new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });
    if (url.endsWith('/.well-known/oauth-authorization-server')) return json(200, { issuer: ISSUER });
    if (url.endsWith('/oauth2/revoke')) return new Response('', { status: 200 });
    if (url.endsWith('/oauth2/token')) {
      if (body?.get('grant_type') === 'refresh_token' && options.refreshOk === false) return json(400, { error: 'invalid_grant', error_description: 'the refresh token is expired' });
      issued++;
      return json(200, { access_token: jwt({ sub: 'alice' }) + issued, refresh_token: `rt${issued}`, expires_in: 3600, scope: 'openid apim:api_view' });
    }
    return json(404, {});
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

describe('parseProblem: WSO2 and OAuth error bodies', () => {
  it('puts body fields next to their form fields and keeps the rest', () => {
    const p = parseProblem(400, {
      code: 900400,
      message: 'Bad Request',
      description: 'body.name: is required; querystring.limit: must be >= 1',
      moreInfo: '',
      error: [
        { code: 900400, message: 'body.name: is required' },
        { code: 900400, message: 'context: must start with /' },
        { code: 900400, message: 'querystring.limit: must be >= 1' },
        { code: 900400, message: 'the API is locked' },
        { code: 900400, message: 'body.endpointConfig.production_endpoints.url: must be a URL' },
      ],
    });
    assert.equal(p.message, 'body.name: is required; querystring.limit: must be >= 1');
    assert.deepEqual(p.fields, { name: 'is required', context: 'must start with /', 'endpointConfig.production_endpoints.url': 'must be a URL' });
    assert.deepEqual(p.other, ['querystring.limit: must be >= 1', 'the API is locked']);
    assert.equal(p.code, 900400);
  });
  it('reads RFC 6749 errors, plain text, HTML and no answer', () => {
    assert.equal(parseProblem(400, { error: 'invalid_grant', error_description: 'expired' }).message, 'expired');
    assert.equal(parseProblem(502, '<html>bad gateway</html>').message, 'The server failed to answer. Try again later.');
    assert.equal(parseProblem(503, 'The publisher web UI is not built.').message, 'The publisher web UI is not built.');
    assert.equal(parseProblem(0, undefined).message, 'The server could not be reached.');
    assert.equal(parseProblem(409, { code: 901302, message: 'A throttling policy with this name already exists', description: '' }).message, 'A throttling policy with this name already exists');
  });
});

describe('serverErrors: the form helper', () => {
  const err = new ApiError(parseProblem(400, { code: 900400, message: 'Bad Request', description: 'x', error: [{ message: 'body.policyName: must match pattern' }, { message: 'body.defaultLimit.requestCount.requestCount: must be >= 1' }, { message: 'body.colour: unknown' }] }));
  it('maps server paths to form fields, renamed ones through fieldMap, and reports the others', () => {
    const { fieldErrors, rest } = serverErrors(err, ['policyName', 'requestCount'], { 'defaultLimit.requestCount.requestCount': 'requestCount' });
    assert.deepEqual(fieldErrors, { policyName: 'must match pattern', requestCount: 'must be >= 1' });
    assert.equal(rest, 'colour: unknown');
  });
  it('says to look at the fields when every problem is placed, and passes other errors through', () => {
    assert.equal(serverErrors(err, ['policyName', 'defaultLimit', 'colour']).rest, 'Check the highlighted fields.');
    assert.deepEqual(serverErrors(new Error('offline'), ['a']), { fieldErrors: {}, rest: 'offline' });
  });
});

describe('withoutServerErrors: a hidden form forgets the last refusal', () => {
  it('drops the messages the server placed and keeps the ones put there since', () => {
    const placed = { name: 'must match pattern', 'vhosts.0.host': 'must match pattern' };
    const errors = { name: 'must match pattern', 'vhosts.0.host': 'Enter a host', 'tokenPatterns.0.value': 'Not a regular expression' };
    assert.deepEqual(withoutServerErrors(errors, placed), { 'vhosts.0.host': 'Enter a host', 'tokenPatterns.0.value': 'Not a regular expression' });
  });
  it('answers the same object when there is nothing to drop (no re-render)', () => {
    const errors = { name: 'Enter a name' };
    assert.equal(withoutServerErrors(errors, {}), errors);
    assert.equal(withoutServerErrors(errors, { name: 'must match pattern' }), errors);
  });
});

describe('formDialogStep: a closed dialog keeps its draft for the same item only', () => {
  const closed: FormDialogState<string> = { target: undefined, key: undefined, opened: false, draft: 0, saved: false };
  const open = (s: FormDialogState<string>, target: string) => formDialogStep(s, { type: 'open', target, key: target });
  it('reopened for the same item, the form (and what was typed) is the same; for another item it is new', () => {
    const first = open(closed, 'new');
    assert.equal(first.opened, true);
    const reopened = open(formDialogStep(first, { type: 'close' }), 'new');
    assert.equal(reopened.draft, first.draft);
    const other = open(formDialogStep(reopened, { type: 'close' }), 'km-1');
    assert.notEqual(other.draft, reopened.draft);
    assert.equal(other.target, 'km-1');
    assert.notEqual(open(formDialogStep(other, { type: 'close' }), 'new').draft, first.draft, 'the draft was for the item before');
  });
  it('after a save, the same item opens on what is stored; the form stays until then (the dialog fades out with it)', () => {
    const saved = formDialogStep(open(closed, 'km-1'), { type: 'done' });
    assert.equal(saved.opened, false);
    assert.equal(saved.target, 'km-1');
    assert.notEqual(open(saved, 'km-1').draft, saved.draft);
  });
});

describe('Auth: authorization code + PKCE S256 for a public client', () => {
  async function signedIn(options: { refreshOk?: boolean; now?: () => number } = {}) {
    const km = fakeKm(options);
    const storage = memoryStorage();
    let navigated = '';
    const auth = new Auth(config, ['openid', 'apim:api_view', 'apim:api_create'], { fetch: km.fetch, storage, origin: ORIGIN, navigate: (u) => (navigated = u), now: options.now });
    await auth.signIn('/apis?query=pets');
    const url = new URL(navigated);
    return { auth, km, storage, url };
  }

  it('sends the user to the Key Manager with S256, state and the console redirect URI', async () => {
    const { url, storage } = await signedIn();
    assert.equal(url.origin + url.pathname, `${ORIGIN}/oauth2/authorize`);
    const q = url.searchParams;
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('client_id'), 'gatehouse-publisher');
    assert.equal(q.get('redirect_uri'), `${ORIGIN}/publisher/callback`);
    assert.equal(q.get('scope'), 'openid apim:api_view apim:api_create');
    assert.equal(q.get('code_challenge_method'), 'S256');
    const pending = JSON.parse(storage.getItem(`gatehouse.publisher.pending.${q.get('state')}`)!) as { verifier: string; returnTo: string };
    assert.equal(q.get('code_challenge'), createHash('sha256').update(pending.verifier).digest('base64url'));
    assert.ok(pending.verifier.length >= 43 && pending.verifier.length <= 128);
    assert.equal(pending.returnTo, '/apis?query=pets');
  });

  it('redeems the code with the verifier, checks state and issuer, and keeps the session in storage', async () => {
    const { auth, km, url, storage } = await signedIn();
    const state = url.searchParams.get('state')!;
    await assert.rejects(auth.completeSignIn(`?code=c&state=forged&iss=${encodeURIComponent(ISSUER)}`), /not started here/);
    const returnTo = await auth.completeSignIn(`?code=c1&state=${state}&iss=${encodeURIComponent(ISSUER)}`);
    assert.equal(returnTo, '/apis?query=pets');
    const token = km.calls.find((c) => c.url.endsWith('/oauth2/token'))!;
    assert.equal(token.url, `${ORIGIN}/oauth2/token`);
    assert.equal(token.body?.get('grant_type'), 'authorization_code');
    assert.equal(token.body?.get('client_id'), 'gatehouse-publisher');
    assert.equal(token.body?.get('redirect_uri'), `${ORIGIN}/publisher/callback`);
    assert.ok(token.body?.get('code_verifier'));
    assert.equal(auth.session?.username, 'alice');
    assert.deepEqual(auth.session?.scopes, ['openid', 'apim:api_view']);
    assert.ok(auth.hasAnyScope(['apim:api_view']) && !auth.hasAnyScope(['apim:api_create']));
    // The state is single-use.
    await assert.rejects(auth.completeSignIn(`?code=c1&state=${state}`), /not started here/);
    // A new page of the same tab finds the session.
    assert.equal(new Auth(config, [], { fetch: km.fetch, storage, origin: ORIGIN }).session?.username, 'alice');
  });

  it('refuses an answer from another issuer (RFC 9207) and an open redirect in returnTo', async () => {
    const { auth, url } = await signedIn();
    await assert.rejects(auth.completeSignIn(`?code=c&state=${url.searchParams.get('state')}&iss=https%3A%2F%2Fevil.example%2Foauth2%2Ftoken`), /unexpected issuer/);
    let navigated = '';
    const storage = memoryStorage();
    const other = new Auth(config, [], { fetch: fakeKm().fetch, storage, origin: ORIGIN, navigate: (u) => (navigated = u) });
    await other.signIn('//evil.example/x');
    const state = new URL(navigated).searchParams.get('state');
    assert.equal((JSON.parse(storage.getItem(`gatehouse.publisher.pending.${state}`)!) as { returnTo: string }).returnTo, '/');
  });

  it('refreshes once for concurrent callers near expiry, and drops the session when the refresh fails', async () => {
    let now = 1_000_000;
    const { auth, km, url } = await signedIn({ now: () => now });
    await auth.completeSignIn(`?code=c&state=${url.searchParams.get('state')}`);
    const first = auth.session!.accessToken;
    assert.equal(await auth.accessToken(), first);
    now += 3600_000 - 30_000; // within the refresh margin
    const [a, b] = await Promise.all([auth.accessToken(), auth.accessToken()]);
    assert.equal(a, b);
    assert.notEqual(a, first);
    const refreshes = km.calls.filter((c) => c.body?.get('grant_type') === 'refresh_token');
    assert.equal(refreshes.length, 1);
    assert.equal(refreshes[0]!.body?.get('refresh_token'), 'rt1');
    assert.equal(auth.session?.refreshToken, 'rt2');

    const failing = await signedIn({ refreshOk: false });
    await failing.auth.completeSignIn(`?code=c&state=${failing.url.searchParams.get('state')}`);
    let changes = 0;
    failing.auth.subscribe(() => changes++);
    assert.equal(await failing.auth.refresh(), undefined);
    assert.equal(failing.auth.session, undefined);
    assert.equal(changes, 1);
  });

  it('signs out: revokes both tokens and forgets the session', async () => {
    const { auth, km, url, storage } = await signedIn();
    await auth.completeSignIn(`?code=c&state=${url.searchParams.get('state')}`);
    await auth.signOut();
    assert.equal(auth.session, undefined);
    assert.equal(auth.signedOut, true);
    assert.equal(storage.getItem('gatehouse.publisher.session'), null);
    const revoked = km.calls.filter((c) => c.url.endsWith('/oauth2/revoke')).map((c) => c.body?.get('token_type_hint'));
    assert.deepEqual(revoked.sort(), ['access_token', 'refresh_token']);
  });
});

describe('ApiClient', () => {
  function client(answers: Response[], auth: Partial<Auth>) {
    const sent: { url: string; auth: string | undefined }[] = [];
    let signIns = 0;
    const api = new ApiClient(auth as Auth, {
      origin: ORIGIN,
      fetch: (async (input: string | URL, init?: RequestInit) => {
        sent.push({ url: String(input), auth: (init?.headers as Record<string, string>).authorization });
        return answers.shift()!;
      }) as typeof fetch,
      onSignInRequired: () => signIns++,
    });
    return { api, sent, signIns: () => signIns };
  }
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

  it('sends the token and the query, answers JSON', async () => {
    const c = client([json(200, { count: 0, list: [] })], { accessToken: async () => 'at1' });
    assert.deepEqual(await c.api.get('/api/am/publisher/v4/apis', { query: { query: 'name:pets', limit: 25, offset: undefined } }), { count: 0, list: [] });
    assert.equal(c.sent[0]!.url, `${ORIGIN}/api/am/publisher/v4/apis?query=name%3Apets&limit=25`);
    assert.equal(c.sent[0]!.auth, 'Bearer at1');
  });

  it('on a 401 refreshes once and retries; when that fails too, asks for a sign-in', async () => {
    const ok = client([json(401, { code: 900901 }), json(200, { ok: true })], { accessToken: async () => 'old', refresh: async () => ({ accessToken: 'new' }) as never });
    assert.deepEqual(await ok.api.get('/x'), { ok: true });
    assert.deepEqual(ok.sent.map((s) => s.auth), ['Bearer old', 'Bearer new']);
    assert.equal(ok.signIns(), 0);
    const ko = client([json(401, { code: 900901, message: 'Invalid Credentials', description: 'expired' })], { accessToken: async () => 'old', refresh: async () => undefined });
    await assert.rejects(ko.api.get('/x'), (err: unknown) => err instanceof ApiError && err.status === 401);
    assert.equal(ko.signIns(), 1);
  });

  it('turns a WSO2 error body into an ApiError with field messages', async () => {
    const c = client([json(400, { code: 900400, message: 'Bad Request', description: 'body.name: is required', error: [{ code: 900400, message: 'body.name: is required' }] })], { accessToken: async () => undefined });
    const err = await c.api.post('/x', { body: { name: '' } }).catch((e: unknown) => e);
    assert.ok(err instanceof ApiError);
    assert.deepEqual(err.problem.fields, { name: 'is required' });
    assert.equal(c.sent[0]!.auth, undefined, 'anonymous when not signed in');
  });
});
