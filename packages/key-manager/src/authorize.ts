import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { constantTimeEqual } from '@gatehouse/core';
import type { AttemptLimiter } from './attempts.ts';
import { findClient } from './clients.ts';
import type { OAuthClient } from './clients.ts';
import type { KmContext } from './context.ts';
import { grantableScopes, issueAuthorizationCode } from './grants.ts';
import { issuerOf } from './oauth-routes.ts';

const CSRF_COOKIE = 'gh_km_csrf';
const CHALLENGE = /^[A-Za-z0-9\-_]{43}$/;
const LOOPBACK = new Set(['127.0.0.1', '[::1]']);

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Exact string match (RFC 9700 §2.1); for loopback IP redirect URIs any port (RFC 8252 §7.3). */
export function redirectUriMatches(registered: readonly string[], candidate: string): boolean {
  if (registered.includes(candidate)) return true;
  let c: URL;
  try {
    c = new URL(candidate);
  } catch {
    return false;
  }
  if (c.protocol !== 'http:' || !LOOPBACK.has(c.hostname)) return false;
  return registered.some((r) => {
    const u = new URL(r);
    if (u.protocol !== 'http:' || !LOOPBACK.has(u.hostname)) return false;
    u.port = c.port;
    return u.href === c.href && candidate === c.href;
  });
}

type Params = Record<string, string | undefined>;

interface Checked {
  client: OAuthClient;
  redirectUri: string;
  state: string | undefined;
  scope: string[];
  nonce: string | undefined;
  codeChallenge: string | undefined;
}

/** Problems shown on the page itself: the client or redirect URI cannot be trusted with a redirect (K1). */
class PageError extends Error {}
/** Problems sent back to the (validated) redirect URI. */
class RedirectError extends Error {
  readonly error: string;
  constructor(error: string, description: string) {
    super(description);
    this.error = error;
  }
}

function readParams(source: unknown): Params {
  const out: Params = {};
  if (source === null || typeof source !== 'object') return out;
  for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
    if (Array.isArray(v)) throw new PageError(`the parameter ${k} is repeated`);
    if (typeof v === 'string' && v !== '') out[k] = v;
  }
  return out;
}

async function check(ctx: KmContext, p: Params): Promise<Checked> {
  const clientId = p.client_id;
  if (!clientId) throw new PageError('client_id is missing');
  const client = await findClient(ctx, clientId);
  if (!client) throw new PageError('the client is unknown');
  let redirectUri = p.redirect_uri;
  if (redirectUri === undefined) {
    if (client.redirectUris.length !== 1) throw new PageError('redirect_uri is missing');
    redirectUri = client.redirectUris[0]!;
  } else if (!redirectUriMatches(client.redirectUris, redirectUri)) {
    throw new PageError('redirect_uri is not registered for this client');
  }
  if (p.response_type !== 'code') throw new RedirectError('unsupported_response_type', 'only response_type=code is supported');
  if (!client.grantTypes.includes('authorization_code')) throw new RedirectError('unauthorized_client', 'the client may not use the authorization code grant');
  if (p.request !== undefined || p.request_uri !== undefined) throw new RedirectError('request_not_supported', 'request objects are not supported');
  if (p.code_challenge_method !== undefined && p.code_challenge_method !== 'S256') throw new RedirectError('invalid_request', 'only code_challenge_method=S256 is supported');
  if (p.code_challenge !== undefined) {
    // A missing method means plain (RFC 7636 §4.3), which is refused.
    if (p.code_challenge_method === undefined) throw new RedirectError('invalid_request', 'code_challenge_method=S256 is required');
    if (!CHALLENGE.test(p.code_challenge)) throw new RedirectError('invalid_request', 'code_challenge must be a base64url SHA-256 digest');
  } else if (!client.confidential) {
    throw new RedirectError('invalid_request', 'public clients must use PKCE (code_challenge with S256)');
  }
  const scope = (p.scope ?? '').split(' ').filter(Boolean);
  if (!scope.every((s) => /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))) throw new RedirectError('invalid_scope', 'the scope is malformed');
  return { client, redirectUri, state: p.state, scope: [...new Set(scope)], nonce: p.nonce, codeChallenge: p.code_challenge };
}

function redirect(reply: FastifyReply, issuer: string, redirectUri: string, params: Record<string, string | undefined>): FastifyReply {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  url.searchParams.set('iss', issuer);
  // RFC 9700 §4.12: 303, so a POST with the password is never re-sent.
  return reply.code(303).header('Location', url.href).send();
}

/**
 * Readable on a phone and in dark mode, and accessible (language, landmarks, labels): the page the
 * web consoles send users to. Inline CSS only, which the page's CSP allows (`style-src 'unsafe-inline'`).
 */
const PAGE_HEAD = `<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="light dark"><style>
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f1f3f5;color:#212529}
main{max-width:26rem;margin:8vh auto;padding:2rem;background:#fff;border:1px solid #dee2e6;border-radius:8px}
h1{margin-top:0;font-size:1.5rem}label{display:block;margin:.75rem 0;font-weight:600}
input:not([type=hidden]){display:block;box-sizing:border-box;width:100%;margin-top:.25rem;padding:.5rem;font:inherit;border:1px solid #868e96;border-radius:4px}
button{font:inherit;padding:.5rem 1rem;margin:.75rem .5rem 0 0;border-radius:4px;border:1px solid #3b5bdb;background:#3b5bdb;color:#fff;cursor:pointer}
button[value=deny]{background:transparent;color:#3b5bdb}#error{color:#c92a2a;font-weight:600}ul{padding-left:1.25rem;max-height:10rem;overflow:auto}
@media (prefers-color-scheme:dark){body{background:#1a1b1e;color:#e9ecef}main{background:#25262b;border-color:#373a40}input:not([type=hidden]){background:#1a1b1e;color:#e9ecef}button[value=deny]{color:#91a7ff}#error{color:#ff8787}}
</style>`;

function secureHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('Cache-Control', 'no-store')
    .header('X-Frame-Options', 'DENY')
    .header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
    .header('Referrer-Policy', 'no-referrer')
    .type('text/html; charset=utf-8');
}

function errorPage(reply: FastifyReply, message: string): FastifyReply {
  return secureHeaders(reply)
    .code(400)
    .send(`<!doctype html><html lang="en"><head>${PAGE_HEAD}<title>Sign-in error</title></head><body><main><h1>Sign-in error</h1><p id="error">${esc(message)}</p></main></body></html>`);
}

function loginPage(reply: FastifyReply, c: Checked, params: Params, csrf: string, message?: string): FastifyReply {
  const hidden = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method']
    .filter((k) => params[k] !== undefined)
    .map((k) => `<input type="hidden" name="${k}" value="${esc(params[k]!)}">`)
    .join('');
  const scopes = c.scope.length > 0 ? `<ul>${c.scope.map((s) => `<li>${esc(s)}</li>`).join('')}</ul>` : '<p>No scopes requested.</p>';
  return secureHeaders(reply).header('Set-Cookie', `${CSRF_COOKIE}=${csrf}; Path=/oauth2/authorize; HttpOnly; SameSite=Strict`).send(`<!doctype html>
<html lang="en"><head>${PAGE_HEAD}<title>Sign in - Gatehouse</title></head><body><main>
<h1>Sign in</h1>
<p><strong>${esc(c.client.name)}</strong> asks to access your account with these scopes:</p>${scopes}
${message ? `<p id="error" role="alert">${esc(message)}</p>` : ''}
<form method="post" action="/oauth2/authorize">${hidden}<input type="hidden" name="csrf" value="${csrf}">
<label>Username <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button name="decision" value="approve">Sign in and allow</button> <button name="decision" value="deny" formnovalidate>Deny</button>
</form></main></body></html>`);
}

function cookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

/**
 * The authorization endpoint (RFC 6749 §4.1): a plain HTML sign-in and consent page. No CORS,
 * no framing, CSRF double-submit cookie, exact redirect URIs, PKCE S256 only.
 */
export function registerAuthorize(app: FastifyInstance, ctx: KmContext, limiter: AttemptLimiter): void {
  const handle = async (request: FastifyRequest, reply: FastifyReply, post: boolean) => {
    let params: Params;
    let checked: Checked;
    try {
      params = readParams(post ? request.body : request.query);
      checked = await check(ctx, params);
    } catch (err) {
      if (err instanceof PageError) return errorPage(reply, err.message);
      if (err instanceof RedirectError) {
        // Only reached once the client and redirect URI are known good.
        const p = readParams(post ? request.body : request.query);
        const client = await findClient(ctx, p.client_id ?? '');
        const uri = p.redirect_uri ?? client?.redirectUris[0] ?? '';
        return redirect(reply, issuerOf(ctx, request), uri, { error: err.error, error_description: err.message, state: p.state });
      }
      throw err;
    }
    const issuer = issuerOf(ctx, request);
    const fresh = () => randomBytes(32).toString('base64url');
    if (!post) return loginPage(reply, checked, params, fresh());

    const sent = params.csrf;
    const stored = cookie(request, CSRF_COOKIE);
    if (sent === undefined || stored === undefined || !constantTimeEqual(sent, stored)) return errorPage(reply, 'the sign-in form expired or was not sent from this site; start again');
    if (params.decision !== 'approve') return redirect(reply, issuer, checked.redirectUri, { error: 'access_denied', error_description: 'the user denied the request', state: checked.state });
    const username = params.username ?? '';
    const key = `user:${username}|${request.ip}`;
    const locked = await limiter.locked([key]);
    const user = locked || username === '' ? null : await ctx.repositories.users.verifyCredentials(checked.client.tenantId, username, params.password ?? '');
    if (!user) {
      if (!locked && username !== '') await limiter.fail(key);
      return loginPage(reply.code(401), checked, params, fresh(), 'The username or password is not valid.');
    }
    await limiter.succeed(key);
    const scope = await grantableScopes(ctx, checked.client.tenantId, user.username, checked.scope);
    const code = await issueAuthorizationCode(ctx, checked.client, {
      username: user.username,
      redirectUri: checked.redirectUri,
      scope,
      codeChallenge: checked.codeChallenge,
      nonce: checked.nonce,
    });
    void reply.header('Set-Cookie', `${CSRF_COOKIE}=; Path=/oauth2/authorize; HttpOnly; SameSite=Strict; Max-Age=0`);
    return redirect(reply, issuer, checked.redirectUri, { code, state: checked.state });
  };
  app.get('/oauth2/authorize', (request, reply) => handle(request, reply, false));
  app.post('/oauth2/authorize', (request, reply) => handle(request, reply, true));
}
