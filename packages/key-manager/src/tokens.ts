import { randomBytes, randomUUID } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import { SUPER_TENANT_ID } from '@gatehouse/core';
import { Topics } from '@gatehouse/events';
import type { KmContext } from './context.ts';
import type { OAuthClient } from './clients.ts';

/** What an access token stands for, whatever its format. */
export interface AccessTokenInfo {
  jti: string;
  clientId: string;
  tenantId: number;
  /** Username for user grants, client id for client_credentials (RFC 9068 §2.2). */
  sub: string;
  username: string | undefined;
  /** The external issuer of a federated subject (JWT bearer grant). */
  idp: string | undefined;
  scope: string[];
  iat: number;
  exp: number;
  iss: string;
  claims: JWTPayload;
}

export interface IssuedAccessToken {
  token: string;
  jti: string;
  expiresIn: number;
}

export interface IssueOptions {
  issuer: string;
  /** Present for user grants. */
  username?: string;
  scope: readonly string[];
  grantId?: string;
  tenantId?: number;
  /** Set for a federated subject (JWT bearer grant): carried as `idp`, and never mapped to a local user's roles. */
  federatedIssuer?: string;
}

/** Whether a string looks like a compact JWS (three base64url parts). */
export function looksLikeJwt(token: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);
}

/**
 * Issues an access token for a client: a JWT per RFC 9068 (plus the application claims WSO2's
 * gateway reads offline), or an opaque random token stored by HMAC. JWTs issued within a grant
 * are recorded so revoking the grant (refresh reuse, code reuse) can revoke them.
 */
export async function issueAccessToken(ctx: KmContext, client: OAuthClient, opts: IssueOptions): Promise<IssuedAccessToken> {
  const now = ctx.clock.now();
  const iat = Math.floor(now / 1000);
  const expiresIn = Math.max(1, Math.floor(client.accessTokenTtlMs / 1000));
  const exp = iat + expiresIn;
  const jti = randomUUID();
  const sub = opts.username ?? client.clientId;
  const tenantId = opts.tenantId ?? client.tenantId;
  const claims: JWTPayload = {
    iss: opts.issuer,
    sub,
    aud: client.clientId,
    client_id: client.clientId,
    azp: client.clientId,
    aut: opts.username === undefined ? 'APPLICATION' : 'APPLICATION_USER',
    scope: opts.scope.length > 0 ? opts.scope.join(' ') : 'default',
    iat,
    nbf: iat,
    exp,
    jti,
  };
  if (opts.federatedIssuer !== undefined) claims.idp = opts.federatedIssuer;
  if (client.application) {
    claims.application = {
      id: client.application.id,
      uuid: client.application.id,
      name: client.application.name,
      owner: client.application.owner,
      tier: client.application.tier,
    };
    claims.keytype = client.application.keyType;
  }
  if (client.tokenType === 'OPAQUE') {
    const token = randomBytes(32).toString('base64url');
    await ctx.databases.apim
      .insertInto('km_access_tokens')
      .values({
        jti,
        token_hash: ctx.keys.hmac('access-token', token),
        grant_id: opts.grantId ?? null,
        tenant_id: tenantId,
        client_id: client.clientId,
        subject: sub,
        username: opts.username ?? null,
        scope: String(claims.scope),
        claims: JSON.stringify(claims),
        expires_at: exp * 1000,
        revoked_at: null,
        created_at: now,
      })
      .execute();
    return { token, jti, expiresIn };
  }
  const key = await ctx.signingKeys.current('access');
  // Compact JWS built directly (RFC 7515 §7.1), the header encoded once per key: the token
  // endpoint's hot path. Verification everywhere goes through jose.
  const input = `${key.atHeader}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const token = `${input}.${(await key.sign(input)).toString('base64url')}`;
  if (opts.grantId !== undefined) {
    await ctx.databases.apim
      .insertInto('km_access_tokens')
      .values({
        jti,
        token_hash: null,
        grant_id: opts.grantId,
        tenant_id: tenantId,
        client_id: client.clientId,
        subject: sub,
        username: opts.username ?? null,
        scope: String(claims.scope),
        claims: '{}',
        expires_at: exp * 1000,
        revoked_at: null,
        created_at: now,
      })
      .execute();
  }
  return { token, jti, expiresIn };
}

/** Issuer check: exact when `server.public_url` is set; otherwise (port-0 tests) any `<origin>/oauth2/token`. */
export function issuerMatches(ctx: KmContext, iss: unknown): iss is string {
  if (typeof iss !== 'string') return false;
  if (ctx.configuredIssuer !== undefined) return iss === ctx.configuredIssuer;
  return /^https?:\/\/[^/?#]+\/oauth2\/token$/.test(iss);
}

const REQUIRED_CLAIMS = ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'];

/**
 * Resolves an access token issued here (JWT or opaque) to what it stands for, or undefined when
 * it is malformed, forged, expired, revoked, or not an access token (an ID token has another
 * `typ` and key, RFC 8725 §3.12).
 */
export async function verifyAccessToken(ctx: KmContext, token: string): Promise<AccessTokenInfo | undefined> {
  if (token.length === 0 || token.length > 8192) return undefined;
  const nowSec = Math.floor(ctx.clock.now() / 1000);
  if (!looksLikeJwt(token)) {
    const row = await ctx.databases.apim
      .selectFrom('km_access_tokens')
      .selectAll()
      .where('token_hash', '=', ctx.keys.hmac('access-token', token))
      .executeTakeFirst();
    if (!row || row.revoked_at !== null || Number(row.expires_at) <= ctx.clock.now()) return undefined;
    const claims = JSON.parse(row.claims) as JWTPayload;
    return {
      jti: row.jti,
      clientId: row.client_id,
      tenantId: Number(row.tenant_id),
      sub: row.subject,
      username: row.username ?? undefined,
      idp: typeof claims.idp === 'string' ? claims.idp : undefined,
      scope: row.scope.split(' ').filter(Boolean),
      iat: Number(claims.iat),
      exp: Number(claims.exp),
      iss: String(claims.iss),
      claims,
    };
  }
  let kid: string | undefined;
  try {
    kid = decodeProtectedHeader(token).kid;
  } catch {
    return undefined;
  }
  if (typeof kid !== 'string' || kid.length > 128) return undefined;
  const key = await ctx.signingKeys.byKid(kid);
  if (!key || key.purpose !== 'access') return undefined;
  let payload: JWTPayload;
  try {
    // One key, one algorithm (RFC 8725 §3.1): the allow-list is the key's own alg.
    ({ payload } = await jwtVerify(token, key.publicKey, {
      algorithms: [key.alg],
      typ: 'at+jwt',
      requiredClaims: REQUIRED_CLAIMS,
      currentDate: new Date(nowSec * 1000),
      // Only replicas of this server verify here: allow them a little clock skew (RFC 7519 §4.1.4).
      clockTolerance: 5,
    }));
  } catch {
    return undefined;
  }
  if (!issuerMatches(ctx, payload.iss) || typeof payload.jti !== 'string' || typeof payload.client_id !== 'string' || typeof payload.sub !== 'string') {
    return undefined;
  }
  const revoked = await ctx.databases.apim.selectFrom('km_revoked_tokens').select('jti').where('jti', '=', payload.jti).executeTakeFirst();
  if (revoked) return undefined;
  const aut = payload.aut;
  return {
    jti: payload.jti,
    clientId: payload.client_id,
    tenantId: SUPER_TENANT_ID,
    sub: payload.sub,
    username: aut === 'APPLICATION_USER' ? payload.sub : undefined,
    idp: typeof payload.idp === 'string' ? payload.idp : undefined,
    scope: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
    iat: Number(payload.iat),
    exp: Number(payload.exp),
    iss: payload.iss,
    claims: payload,
  };
}

/** Records a JWT's jti as revoked until it expires, and tells the gateways (`tokenRevocation`). */
export async function revokeJwt(ctx: KmContext, info: { jti: string; clientId: string; tenantId: number; exp: number }): Promise<void> {
  const now = ctx.clock.now();
  await ctx.databases.apim
    .insertInto('km_revoked_tokens')
    .values({ jti: info.jti, tenant_id: info.tenantId, client_id: info.clientId, expires_at: info.exp * 1000, revoked_at: now })
    .onConflict((oc) => oc.column('jti').doNothing())
    .execute();
  await ctx.databases.apim.updateTable('km_access_tokens').set({ revoked_at: now }).where('jti', '=', info.jti).where('revoked_at', 'is', null).execute();
  await publishRevocation(ctx, [info]);
}

async function publishRevocation(ctx: KmContext, tokens: readonly { jti: string; clientId: string; tenantId: number; exp: number }[]): Promise<void> {
  for (const t of tokens) {
    try {
      await ctx.hub.publish(Topics.TokenRevocation, 'token.revoked', { jti: t.jti, clientId: t.clientId, expiresAt: t.exp * 1000 }, { tenantId: t.tenantId });
    } catch (err) {
      // Stored first: gateways that miss the event resync revoked tokens from the data API.
      ctx.logger.error({ err, jti: t.jti }, 'could not publish a token revocation');
    }
  }
}

/**
 * Revokes a whole grant: marks it, consumes its refresh tokens and revokes every access token
 * issued from it (RFC 6749 §4.1.2 code reuse, RFC 9700 §4.14 refresh reuse, RFC 7009 §2.1).
 */
export async function revokeGrant(ctx: KmContext, grantId: string): Promise<void> {
  const now = ctx.clock.now();
  const tokens = await ctx.databases.apim.transaction().execute(async (trx) => {
    await trx.updateTable('km_grants').set({ revoked_at: now }).where('grant_id', '=', grantId).where('revoked_at', 'is', null).execute();
    await trx.updateTable('km_refresh_tokens').set({ consumed_at: now }).where('grant_id', '=', grantId).where('consumed_at', 'is', null).execute();
    const live = await trx
      .selectFrom('km_access_tokens')
      .select(['jti', 'client_id', 'tenant_id', 'expires_at'])
      .where('grant_id', '=', grantId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .execute();
    await trx.updateTable('km_access_tokens').set({ revoked_at: now }).where('grant_id', '=', grantId).where('revoked_at', 'is', null).execute();
    // Opaque tokens too: gateways cache what introspection told them and check the jti on every call.
    if (live.length > 0) {
      await trx
        .insertInto('km_revoked_tokens')
        .values(live.map((t) => ({ jti: t.jti, tenant_id: Number(t.tenant_id), client_id: t.client_id, expires_at: Number(t.expires_at), revoked_at: now })))
        .onConflict((oc) => oc.column('jti').doNothing())
        .execute();
    }
    return live.map((t) => ({ jti: t.jti, clientId: t.client_id, tenantId: Number(t.tenant_id), exp: Math.floor(Number(t.expires_at) / 1000) }));
  });
  await publishRevocation(ctx, tokens);
}
