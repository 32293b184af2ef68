import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, decodeJwt, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import type { FastifyRequest } from 'fastify';
import { Roles, constantTimeEqual } from '@gatehouse/core';
import { oauthError } from './errors.ts';
import type { AttemptLimiter } from './attempts.ts';
import type { OAuthClient } from './clients.ts';
import type { KmContext } from './context.ts';
import { param, parseScope, requiredParam } from './http.ts';
import { allowedScopes } from './system-scopes.ts';
import { issueAccessToken, revokeGrant } from './tokens.ts';

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

export interface GrantContext {
  ctx: KmContext;
  limiter: AttemptLimiter;
  client: OAuthClient;
  request: FastifyRequest;
  issuer: string;
}

/** The scopes a user (or, for client_credentials, the client's owner) may obtain out of those requested. */
async function grantableScopes(ctx: KmContext, tenantId: number, username: string, requested: readonly string[]): Promise<string[]> {
  if (requested.length === 0) return [];
  const [roles, scopes] = await Promise.all([ctx.userRoles(tenantId, username), ctx.scopeRoles(tenantId)]);
  return allowedScopes(requested, roles ?? [], scopes);
}

function requireGrantType(client: OAuthClient, grantType: string): void {
  if (!client.grantTypes.includes(grantType)) throw oauthError('KM_ERR_OAUTH_UNAUTHORIZED_CLIENT', `the client may not use the ${grantType} grant`);
}

async function createGrant(ctx: KmContext, client: OAuthClient, username: string | null, scope: readonly string[]): Promise<string> {
  const grantId = randomUUID();
  const now = ctx.clock.now();
  await ctx.databases.apim
    .insertInto('km_grants')
    .values({ grant_id: grantId, tenant_id: client.tenantId, client_id: client.clientId, username, scope: scope.join(' '), revoked_at: null, expires_at: now + client.refreshTokenTtlMs, created_at: now })
    .execute();
  return grantId;
}

async function issueRefreshToken(ctx: KmContext, client: OAuthClient, grantId: string, username: string | null, scope: readonly string[], authTime: number): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  const now = ctx.clock.now();
  await ctx.databases.apim
    .insertInto('km_refresh_tokens')
    .values({
      token_hash: ctx.keys.hmac('refresh-token', token),
      grant_id: grantId,
      tenant_id: client.tenantId,
      client_id: client.clientId,
      username,
      scope: scope.join(' '),
      auth_time: authTime,
      expires_at: now + client.refreshTokenTtlMs,
      consumed_at: null,
      created_at: now,
    })
    .execute();
  await ctx.databases.apim.updateTable('km_grants').set({ expires_at: now + client.refreshTokenTtlMs }).where('grant_id', '=', grantId).execute();
  return token;
}

/** OIDC Core §2 ID token, RS256 with the `id` key (never usable as an access token: other typ, other key). */
async function issueIdToken(g: GrantContext, username: string, authTime: number, nonce: string | null): Promise<string> {
  const key = await g.ctx.signingKeys.current('id');
  const now = Math.floor(g.ctx.clock.now() / 1000);
  const claims: Record<string, unknown> = { sub: username, auth_time: Math.floor(authTime / 1000), azp: g.client.clientId };
  if (nonce !== null) claims.nonce = nonce;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
    .setIssuer(g.issuer)
    .setAudience(g.client.clientId)
    .setIssuedAt(now)
    .setExpirationTime(now + Math.floor(g.client.idTokenTtlMs / 1000))
    .setJti(randomUUID())
    .sign(key.privateKey);
}

async function userTokens(
  g: GrantContext,
  grantId: string,
  username: string,
  scope: readonly string[],
  authTime: number,
  options: { refresh: boolean; nonce: string | null },
): Promise<TokenResponse> {
  const at = await issueAccessToken(g.ctx, g.client, { issuer: g.issuer, username, scope, grantId });
  const out: TokenResponse = { access_token: at.token, token_type: 'Bearer', expires_in: at.expiresIn, scope: scope.length > 0 ? scope.join(' ') : 'default' };
  if (options.refresh) out.refresh_token = await issueRefreshToken(g.ctx, g.client, grantId, username, scope, authTime);
  if (scope.includes('openid')) out.id_token = await issueIdToken(g, username, authTime, options.nonce);
  return out;
}

export async function clientCredentialsGrant(g: GrantContext): Promise<TokenResponse> {
  requireGrantType(g.client, 'client_credentials');
  const requested = parseScope(param(g.request.body, 'scope'));
  // CVE-2025-11229 class: the client gets at most what its owner's roles allow.
  const scope = (await grantableScopes(g.ctx, g.client.tenantId, g.client.owner, requested)).filter((s) => s !== 'openid');
  const at = await issueAccessToken(g.ctx, g.client, { issuer: g.issuer, scope });
  return { access_token: at.token, token_type: 'Bearer', expires_in: at.expiresIn, scope: scope.length > 0 ? scope.join(' ') : 'default' };
}

export async function passwordGrant(g: GrantContext): Promise<TokenResponse> {
  // RFC 9700 §2.4: off unless enabled for the client.
  if (!g.client.passwordGrantEnabled) throw oauthError('KM_ERR_OAUTH_UNAUTHORIZED_CLIENT', 'the password grant is not enabled for this client');
  const body = g.request.body;
  const username = requiredParam(body, 'username');
  const password = requiredParam(body, 'password');
  const requested = parseScope(param(body, 'scope'));
  const key = `user:${username}|${g.request.ip}`;
  const locked = await g.limiter.locked([key]);
  const user = locked ? null : await g.ctx.repositories.users.verifyCredentials(g.client.tenantId, username, password);
  if (!user) {
    if (!locked) await g.limiter.fail(key);
    throw oauthError('KM_ERR_OAUTH_INVALID_GRANT', 'the username or password is not valid');
  }
  await g.limiter.succeed(key);
  const scope = await grantableScopes(g.ctx, g.client.tenantId, user.username, requested);
  const grantId = await createGrant(g.ctx, g.client, user.username, scope);
  return userTokens(g, grantId, user.username, scope, g.ctx.clock.now(), { refresh: g.client.grantTypes.includes('refresh_token'), nonce: null });
}

export async function refreshTokenGrant(g: GrantContext): Promise<TokenResponse> {
  requireGrantType(g.client, 'refresh_token');
  const body = g.request.body;
  const token = requiredParam(body, 'refresh_token');
  const requestedRaw = param(body, 'scope');
  const db = g.ctx.databases.apim;
  const hash = g.ctx.keys.hmac('refresh-token', token);
  const row = await db.selectFrom('km_refresh_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  const now = g.ctx.clock.now();
  if (!row || row.client_id !== g.client.clientId) throw oauthError('KM_ERR_OAUTH_INVALID_GRANT', 'the refresh token is invalid');
  if (row.consumed_at !== null) {
    // RFC 9700 §4.14.2: a rotated-out token came back; whoever holds the family may be an attacker.
    await revokeGrant(g.ctx, row.grant_id);
    throw oauthError('KM_ERR_OAUTH_INVALID_GRANT', 'the refresh token was already used; its grant is revoked');
  }
  if (Number(row.expires_at) <= now) throw oauthError('KM_ERR_OAUTH_INVALID_GRANT', 'the refresh token has expired');
  const grant = await db.selectFrom('km_grants').select(['revoked_at']).where('grant_id', '=', row.grant_id).executeTakeFirst();
  if (!grant || grant.revoked_at !== null) throw oauthError('KM_ERR_OAUTH_INVALID_GRANT', 'the grant was revoked');
  const granted = row.scope.split(' ').filter(Boolean);
  let scope = granted;
  if (requestedRaw !== undefined) {
    const requested = parseScope(requestedRaw);
    // RFC 6749 §6: never broader than the original grant.
    if (requested.some((s) => !granted.includes(s))) throw oauthError('KM_ERR_OAUTH_INVALID_SCOPE', 'the requested scope exceeds the original grant');
    scope = requested;
  }
  // Atomic consume (K10): of two concurrent refreshes, exactly one updates the row; the other is reuse.
  const consumed = await db.updateTable('km_refresh_tokens').set({ consumed_at: now }).where('token_hash', '=', hash).where('consumed_at', 'is', null).executeTakeFirst();
  if (Number(consumed.numUpdatedRows) !== 1) {
    await revokeGrant(g.ctx, row.grant_id);
    throw oauthError('KM_ERR_OAUTH_INVALID_GRANT', 'the refresh token was already used; its grant is revoked');
  }
  const username = row.username;
  if (username === null) {
    const at = await issueAccessToken(g.ctx, g.client, { issuer: g.issuer, scope, grantId: row.grant_id });
    const rt = await issueRefreshToken(g.ctx, g.client, row.grant_id, null, granted, Number(row.auth_time));
    return { access_token: at.token, token_type: 'Bearer', expires_in: at.expiresIn, scope: scope.join(' ') || 'default', refresh_token: rt };
  }
  const at = await issueAccessToken(g.ctx, g.client, { issuer: g.issuer, username, scope, grantId: row.grant_id });
  // The new refresh token keeps the grant's full scope (RFC 6749 §6), the access token the narrowed one.
  const rt = await issueRefreshToken(g.ctx, g.client, row.grant_id, username, granted, Number(row.auth_time));
  return { access_token: at.token, token_type: 'Bearer', expires_in: at.expiresIn, scope: scope.join(' ') || 'default', refresh_token: rt };
}

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** RFC 7636 §4.2 S256. */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

export async function authorizationCodeGrant(g: GrantContext): Promise<TokenResponse> {
  requireGrantType(g.client, 'authorization_code');
  const body = g.request.body;
  const code = requiredParam(body, 'code');
  const redirectUri = param(body, 'redirect_uri');
  const verifier = param(body, 'code_verifier');
  if (verifier !== undefined && !VERIFIER.test(verifier)) throw oauthError('KM_ERR_OAUTH_INVALID_REQUEST', 'code_verifier must be 43-128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)');
  const db = g.ctx.databases.apim;
  const hash = g.ctx.keys.hmac('authorization-code', code);
  const row = await db.selectFrom('km_authorization_codes').selectAll().where('code_hash', '=', hash).executeTakeFirst();
  const now = g.ctx.clock.now();
  if (!row || row.client_id !== g.client.clientId) throw oauthError('KM_ERR_OAUTH_INVALID_GRANT', 'the authorization code is invalid');
  if (row.consumed_at !== null) {
    // RFC 6749 §4.1.2: a second redemption revokes what the first one issued.
    await revokeGrant(g.ctx, row.grant_id);
    throw oauthError('KM_ERR_OAUTH_INVALID_GRANT', 'the authorization code was already used');
  }
  if (Number(row.expires_at) <= now) throw oauthError('KM_ERR_OAUTH_INVALID_GRANT', 'the authorization code has expired');
  // RFC 6749 §4.1.3: the same redirect_uri as at the authorization endpoint.
  if (redirectUri !== row.redirect_uri) throw oauthError('KM_ERR_OAUTH_INVALID_GRANT', 'redirect_uri does not match the authorization request');
  if (row.code_challenge !== null) {
    if (verifier === undefined || !constantTimeEqual(s256(verifier), row.code_challenge)) throw oauthError('KM_ERR_OAUTH_INVALID_GRANT', 'PKCE verification failed');
  } else if (verifier !== undefined) {
    // RFC 9700 §4.8: a verifier without a challenge is a downgrade attempt.
    throw oauthError('KM_ERR_OAUTH_INVALID_GRANT', 'code_verifier sent but no code_challenge was used');
  }
  const consumed = await db.updateTable('km_authorization_codes').set({ consumed_at: now }).where('code_hash', '=', hash).where('consumed_at', 'is', null).executeTakeFirst();
  if (Number(consumed.numUpdatedRows) !== 1) {
    await revokeGrant(g.ctx, row.grant_id);
    throw oauthError('KM_ERR_OAUTH_INVALID_GRANT', 'the authorization code was already used');
  }
  const scope = row.scope.split(' ').filter(Boolean);
  await db
    .insertInto('km_grants')
    .values({ grant_id: row.grant_id, tenant_id: row.tenant_id, client_id: row.client_id, username: row.username, scope: row.scope, revoked_at: null, expires_at: now + g.client.refreshTokenTtlMs, created_at: now })
    .execute();
  return userTokens(g, row.grant_id, row.username, scope, Number(row.auth_time), { refresh: g.client.grantTypes.includes('refresh_token'), nonce: row.nonce });
}

/** Stores a new authorization code (by HMAC) and returns it. */
export async function issueAuthorizationCode(
  ctx: KmContext,
  client: OAuthClient,
  input: { username: string; redirectUri: string; scope: readonly string[]; codeChallenge: string | undefined; nonce: string | undefined },
): Promise<string> {
  const code = randomBytes(32).toString('base64url');
  const now = ctx.clock.now();
  await ctx.databases.apim
    .insertInto('km_authorization_codes')
    .values({
      code_hash: ctx.keys.hmac('authorization-code', code),
      tenant_id: client.tenantId,
      client_id: client.clientId,
      username: input.username,
      redirect_uri: input.redirectUri,
      scope: input.scope.join(' '),
      code_challenge: input.codeChallenge ?? null,
      nonce: input.nonce ?? null,
      grant_id: randomUUID(),
      auth_time: now,
      expires_at: now + ctx.config.key_manager.authorization_code_ttl_ms,
      consumed_at: null,
      created_at: now,
    })
    .execute();
  return code;
}

export { grantableScopes };

export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ASSERTION_MAX_LIFETIME_S = 3600;

/**
 * RFC 7523 §2.1 JWT bearer grant: an assertion signed by a trusted issuer (`key_manager.trusted_issuers`).
 * Checked per RFC 7523 §3 and RFC 10070: `aud` only this issuer or its token endpoint (every
 * value, so a multi-audience assertion cannot be replayed here), `exp` required and at most an hour
 * away, `jti` single use. The subject is a federated user: only `Internal/everyone` scopes.
 */
export async function jwtBearerGrant(g: GrantContext): Promise<TokenResponse> {
  requireGrantType(g.client, JWT_BEARER);
  const body = g.request.body;
  const assertion = requiredParam(body, 'assertion');
  const requested = parseScope(param(body, 'scope'));
  let unverified: JWTPayload;
  try {
    unverified = decodeJwt(assertion);
  } catch {
    throw oauthError('KM_ERR_OAUTH_INVALID_GRANT', 'the assertion is not a JWT');
  }
  const trust = typeof unverified.iss === 'string' ? g.ctx.trustedIssuers.get(unverified.iss) : undefined;
  if (!trust) throw oauthError('KM_ERR_OAUTH_INVALID_GRANT', 'the assertion issuer is not trusted');
  const tokenEndpoint = `${g.issuer.replace(/\/oauth2\/token$/, '')}/oauth2/token`;
  const audiences = new Set([g.issuer, tokenEndpoint]);
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, trust.jwks, {
      issuer: trust.issuer,
      algorithms: ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'],
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'jti'],
      currentDate: new Date(g.ctx.clock.now()),
      clockTolerance: 30,
    }));
  } catch {
    throw oauthError('KM_ERR_OAUTH_INVALID_GRANT', 'the assertion signature or claims are not valid');
  }
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (aud.length === 0 || !aud.every((a) => typeof a === 'string' && audiences.has(a))) throw oauthError('KM_ERR_OAUTH_INVALID_GRANT', 'the assertion audience must be this issuer only');
  const nowS = Math.floor(g.ctx.clock.now() / 1000);
  const exp = Number(payload.exp);
  if (exp - nowS > ASSERTION_MAX_LIFETIME_S) throw oauthError('KM_ERR_OAUTH_INVALID_GRANT', 'the assertion expires too far in the future');
  const sub = String(payload.sub);
  const jti = String(payload.jti);
  if (sub.length === 0 || sub.length > 255 || jti.length === 0 || jti.length > 255) throw oauthError('KM_ERR_OAUTH_INVALID_GRANT', 'the assertion sub or jti is not acceptable');
  const used = await g.ctx.databases.apim
    .insertInto('km_used_assertions')
    .values({ tenant_id: g.client.tenantId, issuer: trust.issuer, jti, expires_at: (exp + 30) * 1000 })
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst();
  if (Number(used.numInsertedOrUpdatedRows ?? 0n) !== 1) throw oauthError('KM_ERR_OAUTH_INVALID_GRANT', 'the assertion was already used');
  const scopes = await g.ctx.scopeRoles(g.client.tenantId);
  const scope = allowedScopes(requested, [Roles.Everyone], scopes).filter((s) => s !== 'openid');
  const at = await issueAccessToken(g.ctx, g.client, { issuer: g.issuer, username: sub, scope, federatedIssuer: trust.issuer });
  return { access_token: at.token, token_type: 'Bearer', expires_in: at.expiresIn, scope: scope.join(' ') || 'default' };
}
