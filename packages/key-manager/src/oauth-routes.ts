import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SUPER_TENANT_ID, isGatehouseError } from '@gatehouse/core';
import { oauthError } from './errors.ts';
import type { AttemptLimiter } from './attempts.ts';
import { authenticateClient } from './client-auth.ts';
import { createClient } from './clients.ts';
import type { TokenEndpointAuthMethod } from './clients.ts';
import type { KmContext } from './context.ts';
import { JWT_BEARER, authorizationCodeGrant, clientCredentialsGrant, jwtBearerGrant, passwordGrant, refreshTokenGrant } from './grants.ts';
import type { GrantContext, TokenResponse } from './grants.ts';
import { baseUrl, noStore, param, requiredParam } from './http.ts';
import { isInternalClient } from './internal-clients.ts';
import { createManagementAuth } from './management-auth.ts';
import { revokeGrant, revokeJwt, verifyAccessToken } from './tokens.ts';

const GRANTS: Record<string, (g: GrantContext) => Promise<TokenResponse>> = {
  client_credentials: clientCredentialsGrant,
  password: passwordGrant,
  refresh_token: refreshTokenGrant,
  authorization_code: authorizationCodeGrant,
  [JWT_BEARER]: jwtBearerGrant,
};

/** The issuer: `${server.public_url}/oauth2/token`, as WSO2 names it. */
export function issuerOf(ctx: KmContext, request: FastifyRequest): string {
  return ctx.configuredIssuer ?? `${baseUrl('', request)}/oauth2/token`;
}

export function metadata(ctx: KmContext, request: FastifyRequest, scopes: readonly string[]): Record<string, unknown> {
  const base = baseUrl(ctx.config.server.public_url, request);
  const authMethods = ['client_secret_basic', 'client_secret_post'];
  return {
    issuer: issuerOf(ctx, request),
    authorization_endpoint: `${base}/oauth2/authorize`,
    token_endpoint: `${base}/oauth2/token`,
    jwks_uri: `${base}/oauth2/jwks`,
    userinfo_endpoint: `${base}/oauth2/userinfo`,
    registration_endpoint: `${base}/oauth2/register`,
    introspection_endpoint: `${base}/oauth2/introspect`,
    revocation_endpoint: `${base}/oauth2/revoke`,
    scopes_supported: scopes,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'client_credentials', 'password', 'refresh_token', JWT_BEARER],
    token_endpoint_auth_methods_supported: [...authMethods, 'none'],
    introspection_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_methods_supported: authMethods,
    code_challenge_methods_supported: ['S256'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'preferred_username', 'email', 'given_name', 'family_name'],
    authorization_response_iss_parameter_supported: true,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
  };
}

/** Redirect URI rules (RFC 9700 §2.1, RFC 6749 §3.1.2, RFC 8252 §7.3): absolute, no fragment, https or loopback http, no wildcard. */
export function redirectUriProblem(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not an absolute URI';
  }
  if (uri.includes('#')) return 'has a fragment';
  if (uri.includes('*')) return 'has a wildcard';
  if (url.username || url.password) return 'has userinfo';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname)) return undefined;
  return 'must be https (or http on a loopback address)';
}

/** RFC 6749 §3.2, RFC 7662 §2.1, RFC 7009 §2.1: these endpoints take application/x-www-form-urlencoded only. */
function requireForm(request: FastifyRequest): void {
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) throw oauthError('KM_ERR_OAUTH_INVALID_REQUEST', 'the body must be application/x-www-form-urlencoded');
}

export function registerOAuthRoutes(app: FastifyInstance, ctx: KmContext, limiter: AttemptLimiter): void {
  const mgmt = createManagementAuth(ctx.config, ctx);

  app.post('/oauth2/token', async (request, reply) => {
    noStore(reply);
    requireForm(request);
    const grantType = requiredParam(request.body, 'grant_type');
    const handler = GRANTS[grantType];
    // Authenticate first: an unauthenticated caller learns nothing about supported grants.
    const client = await authenticateClient(ctx, limiter, request);
    if (!handler) throw oauthError('KM_ERR_OAUTH_UNSUPPORTED_GRANT_TYPE', `grant_type ${grantType} is not supported`);
    return handler({ ctx, limiter, client, request, issuer: issuerOf(ctx, request) });
  });

  app.post('/oauth2/introspect', async (request, reply) => {
    noStore(reply);
    requireForm(request);
    const client = await authenticateClient(ctx, limiter, request);
    const token = requiredParam(request.body, 'token');
    const inactive = { active: false };
    const info = await verifyAccessToken(ctx, token);
    if (info) {
      // RFC 7662 §2.2: another client's token is inactive for this caller, with nothing else said;
      // §4: only a gateway's internal client (the protected resource) may introspect any access
      // token of its tenant, and it alone learns the application the token was issued to.
      const internal = isInternalClient(client) && info.tenantId === client.tenantId;
      if (info.clientId !== client.clientId && !internal) return inactive;
      const out: Record<string, unknown> = {
        active: true,
        scope: info.scope.join(' ') || 'default',
        client_id: info.clientId,
        token_type: 'Bearer',
        exp: info.exp,
        iat: info.iat,
        nbf: info.claims.nbf ?? info.iat,
        sub: info.sub,
        aud: info.claims.aud ?? info.clientId,
        iss: info.iss,
        jti: info.jti,
      };
      if (info.username !== undefined) out.username = info.username;
      if (internal) {
        const { application, keytype, aut } = info.claims;
        if (application !== undefined) out.application = application;
        if (keytype !== undefined) out.keytype = keytype;
        if (aut !== undefined) out.aut = aut;
      }
      return out;
    }
    const rt = await ctx.databases.apim
      .selectFrom('km_refresh_tokens')
      .innerJoin('km_grants', 'km_grants.grant_id', 'km_refresh_tokens.grant_id')
      .select(['km_refresh_tokens.client_id', 'km_refresh_tokens.username', 'km_refresh_tokens.scope', 'km_refresh_tokens.expires_at', 'km_refresh_tokens.consumed_at', 'km_refresh_tokens.created_at', 'km_grants.revoked_at'])
      .where('km_refresh_tokens.token_hash', '=', ctx.keys.hmac('refresh-token', token))
      .executeTakeFirst();
    if (!rt || rt.client_id !== client.clientId || rt.consumed_at !== null || rt.revoked_at !== null || Number(rt.expires_at) <= ctx.clock.now()) return inactive;
    const out: Record<string, unknown> = {
      active: true,
      token_type: 'refresh_token',
      scope: rt.scope,
      client_id: rt.client_id,
      exp: Math.floor(Number(rt.expires_at) / 1000),
      iat: Math.floor(Number(rt.created_at) / 1000),
      sub: rt.username ?? rt.client_id,
      iss: issuerOf(ctx, request),
    };
    if (rt.username !== null) out.username = rt.username;
    return out;
  });

  app.post('/oauth2/revoke', async (request, reply) => {
    noStore(reply);
    requireForm(request);
    const client = await authenticateClient(ctx, limiter, request);
    const token = requiredParam(request.body, 'token');
    // token_type_hint is only a hint (RFC 7009 §2.1): both kinds are tried whatever it says.
    param(request.body, 'token_type_hint');
    const info = await verifyAccessToken(ctx, token);
    if (info) {
      if (info.clientId !== client.clientId) throw oauthError('KM_ERR_OAUTH_INVALID_REQUEST', 'the token was not issued to this client');
      await revokeJwt(ctx, { jti: info.jti, clientId: info.clientId, tenantId: info.tenantId, exp: info.exp });
      return reply.code(200).send();
    }
    const rt = await ctx.databases.apim
      .selectFrom('km_refresh_tokens')
      .select(['client_id', 'grant_id'])
      .where('token_hash', '=', ctx.keys.hmac('refresh-token', token))
      .executeTakeFirst();
    if (rt) {
      if (rt.client_id !== client.clientId) throw oauthError('KM_ERR_OAUTH_INVALID_REQUEST', 'the token was not issued to this client');
      await revokeGrant(ctx, rt.grant_id);
    }
    // RFC 7009 §2.2: unknown, invalid or expired tokens answer 200 too.
    return reply.code(200).send();
  });

  app.get('/oauth2/jwks', async (_request, reply) => {
    const keys = await ctx.signingKeys.published();
    void reply.header('Cache-Control', 'public, max-age=60').header('Access-Control-Allow-Origin', '*');
    return { keys: keys.map((k) => k.publicJwk) };
  });

  const serveMetadata = async (request: FastifyRequest) => {
    const scopes = await ctx.scopeRoles(SUPER_TENANT_ID);
    return metadata(ctx, request, [...scopes.keys()]);
  };
  for (const path of [
    '/.well-known/openid-configuration',
    '/.well-known/oauth-authorization-server',
    '/oauth2/token/.well-known/openid-configuration',
    '/.well-known/oauth-authorization-server/oauth2/token',
    '/.well-known/openid-configuration/oauth2/token',
  ]) {
    app.get(path, async (request, reply) => {
      void reply.header('Access-Control-Allow-Origin', '*').header('Cache-Control', 'public, max-age=60');
      return serveMetadata(request);
    });
  }

  const userinfo = async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer +([\x21-\x7e]+) *$/i.exec(header);
    if (!match?.[1]) throw oauthError('KM_ERR_OAUTH_INVALID_TOKEN', 'a Bearer access token is required');
    const info = await verifyAccessToken(ctx, match[1]);
    if (!info || info.username === undefined) throw oauthError('KM_ERR_OAUTH_INVALID_TOKEN', 'the access token is invalid, expired or revoked');
    if (!info.scope.includes('openid')) {
      const err = oauthError('KM_ERR_OAUTH_INVALID_SCOPE', 'the access token lacks the openid scope');
      throw Object.assign(err, { insufficientScope: true });
    }
    const user = await ctx.repositories.users.findByUsername(info.tenantId, info.username);
    if (!user) throw oauthError('KM_ERR_OAUTH_INVALID_TOKEN', 'the user no longer exists');
    const out: Record<string, unknown> = { sub: user.username, preferred_username: user.username };
    if (user.email !== null) out.email = user.email;
    if (user.givenName !== null) out.given_name = user.givenName;
    if (user.familyName !== null) out.family_name = user.familyName;
    return out;
  };
  app.get('/oauth2/userinfo', async (request, reply) => {
    noStore(reply);
    try {
      return await userinfo(request);
    } catch (err) {
      // RFC 6750 §3.1: insufficient_scope is a 403 with its WWW-Authenticate.
      if (isGatehouseError(err) && (err as { insufficientScope?: boolean }).insufficientScope) {
        return reply.code(403).header('WWW-Authenticate', 'Bearer error="insufficient_scope", scope="openid"').send({ error: 'insufficient_scope', error_description: err.description });
      }
      throw err;
    }
  });

  // RFC 7591 dynamic client registration.
  app.post('/oauth2/register', async (request, reply) => {
    noStore(reply);
    let owner = 'anonymous';
    if (!ctx.config.key_manager.open_registration || request.headers.authorization !== undefined) {
      let principal;
      try {
        principal = await mgmt.verify(request.headers.authorization);
      } catch {
        throw oauthError('KM_ERR_OAUTH_INVALID_TOKEN', 'an initial access token (management token with apim:admin, apim:app_manage or apim:subscribe) is required');
      }
      if (!['apim:admin', 'apim:app_manage', 'apim:subscribe'].some((s) => principal.scopes.includes(s))) {
        throw oauthError('KM_ERR_OAUTH_INVALID_TOKEN', 'the initial access token lacks apim:admin, apim:app_manage or apim:subscribe');
      }
      owner = principal.username;
    }
    const body = request.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw oauthError('KM_ERR_OAUTH_INVALID_CLIENT_METADATA', 'the body must be a JSON object');
    const meta = body as Record<string, unknown>;
    for (const forbidden of ['client_id', 'client_secret', 'sub', 'client_id_issued_at', 'jwks_uri', 'jwks', 'sector_identifier_uri', 'software_statement']) {
      if (meta[forbidden] !== undefined) throw oauthError('KM_ERR_OAUTH_INVALID_CLIENT_METADATA', `${forbidden} may not be set by the client`);
    }
    const method = (meta.token_endpoint_auth_method ?? 'client_secret_basic') as TokenEndpointAuthMethod;
    if (!['client_secret_basic', 'client_secret_post', 'none'].includes(method)) throw oauthError('KM_ERR_OAUTH_INVALID_CLIENT_METADATA', `token_endpoint_auth_method ${String(method)} is not supported`);
    const grantTypes = meta.grant_types ?? ['authorization_code'];
    if (!Array.isArray(grantTypes) || !grantTypes.every((g) => typeof g === 'string' && ['authorization_code', 'client_credentials', 'refresh_token', JWT_BEARER].includes(g))) {
      throw oauthError('KM_ERR_OAUTH_INVALID_CLIENT_METADATA', `grant_types must be a list of authorization_code, client_credentials, refresh_token, ${JWT_BEARER}`);
    }
    if (method === 'none' && grantTypes.includes('client_credentials')) throw oauthError('KM_ERR_OAUTH_INVALID_CLIENT_METADATA', 'a public client cannot use client_credentials');
    const redirectUris = meta.redirect_uris ?? [];
    if (!Array.isArray(redirectUris) || !redirectUris.every((u) => typeof u === 'string')) throw oauthError('KM_ERR_OAUTH_INVALID_REDIRECT_URI', 'redirect_uris must be a list of strings');
    for (const uri of redirectUris as string[]) {
      const problem = redirectUriProblem(uri);
      if (problem) throw oauthError('KM_ERR_OAUTH_INVALID_REDIRECT_URI', `redirect URI ${uri} ${problem}`);
    }
    if (grantTypes.includes('authorization_code') && redirectUris.length === 0) throw oauthError('KM_ERR_OAUTH_INVALID_REDIRECT_URI', 'authorization_code needs at least one redirect URI');
    const name = meta.client_name === undefined ? 'client' : meta.client_name;
    if (typeof name !== 'string' || name.length > 255) throw oauthError('KM_ERR_OAUTH_INVALID_CLIENT_METADATA', 'client_name must be a string of at most 255 characters');
    const { client, secret } = await createClient(ctx, {
      tenantId: SUPER_TENANT_ID,
      name,
      owner,
      tokenEndpointAuthMethod: method,
      grantTypes: grantTypes as string[],
      redirectUris: redirectUris as string[],
      source: 'rfc7591',
    });
    const out: Record<string, unknown> = {
      client_id: client.clientId,
      client_id_issued_at: Math.floor(client.createdAt / 1000),
      client_name: client.name,
      token_endpoint_auth_method: client.tokenEndpointAuthMethod,
      grant_types: client.grantTypes,
      redirect_uris: client.redirectUris,
      response_types: client.grantTypes.includes('authorization_code') ? ['code'] : [],
    };
    if (secret !== undefined) Object.assign(out, { client_secret: secret, client_secret_expires_at: 0 });
    return reply.code(201).send(out);
  });
}
