import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { ApimSchema } from '@gatehouse/data';
import { CLIENT_CACHE_MS } from './context.ts';
import type { KmContext } from './context.ts';
import { isReservedClientName } from './internal-clients.ts';

type KmOAuthClientsTable = ApimSchema['km_oauth_clients'];

export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export interface ClientApplication {
  id: string;
  name: string;
  owner: string;
  tier: string;
  keyType: 'PRODUCTION' | 'SANDBOX';
  keyManager: string;
}

/** An OAuth client as the Key Manager uses it (never carries the secret). */
export interface OAuthClient {
  clientId: string;
  tenantId: number;
  name: string;
  owner: string;
  /** False for public clients (`none`), which must use PKCE. */
  confidential: boolean;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  grantTypes: string[];
  redirectUris: string[];
  tokenType: 'JWT' | 'OPAQUE';
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  idTokenTtlMs: number;
  passwordGrantEnabled: boolean;
  source: string;
  saas: boolean;
  application: ClientApplication | undefined;
  createdAt: number;
}

export interface NewOAuthClient {
  tenantId: number;
  name: string;
  owner: string;
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  grantTypes: readonly string[];
  redirectUris?: readonly string[];
  tokenType?: 'JWT' | 'OPAQUE';
  /** `internal`: a platform component's client (see `isInternalClient`), registered through WSO2 DCR. */
  source: 'wso2-dcr' | 'rfc7591' | 'application' | 'internal';
  saas?: boolean;
  application?: ClientApplication;
}

export function toClient(row: Selectable<KmOAuthClientsTable>): OAuthClient {
  return {
    clientId: row.client_id,
    tenantId: Number(row.tenant_id),
    name: row.name,
    owner: row.owner,
    confidential: row.secret_hash !== null,
    tokenEndpointAuthMethod: row.token_endpoint_auth_method as TokenEndpointAuthMethod,
    grantTypes: row.grant_types.split(' ').filter(Boolean),
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    tokenType: row.token_type as 'JWT' | 'OPAQUE',
    accessTokenTtlMs: Number(row.access_token_ttl_ms),
    refreshTokenTtlMs: Number(row.refresh_token_ttl_ms),
    idTokenTtlMs: Number(row.id_token_ttl_ms),
    passwordGrantEnabled: Number(row.password_grant_enabled) === 1,
    source: row.source,
    saas: Number(row.saas) === 1,
    application:
      row.application_id === null
        ? undefined
        : {
            id: row.application_id,
            name: row.application_name ?? '',
            owner: row.application_owner ?? '',
            tier: row.application_tier ?? 'Unlimited',
            keyType: (row.key_type ?? 'PRODUCTION') as 'PRODUCTION' | 'SANDBOX',
            keyManager: row.key_manager ?? 'Resident Key Manager',
          },
    createdAt: Number(row.created_at),
  };
}

/** 256-bit random client secret (RFC 6749 §10.10: guessing probability far below 2^-160). */
export function newClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Client ids are chosen by the server (RFC 9700 §4.15), random and opaque. */
function newClientId(): string {
  return randomBytes(18).toString('base64url');
}

export async function findClient(ctx: KmContext, clientId: string): Promise<OAuthClient | undefined> {
  if (clientId.length === 0 || clientId.length > 128) return undefined;
  const row = await ctx.databases.apim.selectFrom('km_oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
  return row && toClient(row);
}

/** Reads the stored secret HMAC, for client authentication only. */
export async function findClientWithSecret(ctx: KmContext, clientId: string): Promise<{ client: OAuthClient; secretHash: string | null } | undefined> {
  if (clientId.length === 0 || clientId.length > 128) return undefined;
  const now = ctx.clock.now();
  const hit = ctx.clientCache.get(clientId);
  if (hit && now - hit.at < CLIENT_CACHE_MS) return hit.value;
  const row = await ctx.databases.apim.selectFrom('km_oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
  if (!row) {
    ctx.clientCache.delete(clientId);
    return undefined;
  }
  const value = { client: toClient(row), secretHash: row.secret_hash };
  if (ctx.clientCache.size >= 10_000) ctx.clientCache.clear();
  ctx.clientCache.set(clientId, { at: now, value });
  return value;
}

/** Creates a client and returns it with its secret (shown once; only its HMAC is stored). */
export async function createClient(ctx: KmContext, input: NewOAuthClient, dcrKey?: string): Promise<{ client: OAuthClient; secret: string | undefined }> {
  const method = input.tokenEndpointAuthMethod ?? 'client_secret_basic';
  const secret = method === 'none' ? undefined : newClientSecret();
  const now = ctx.clock.now();
  const km = ctx.config.key_manager;
  const row: KmOAuthClientsTable = {
    client_id: newClientId(),
    tenant_id: input.tenantId,
    name: input.name,
    owner: input.owner,
    secret_hash: secret === undefined ? null : ctx.keys.hmac('client-secret', secret),
    token_endpoint_auth_method: method,
    grant_types: [...new Set(input.grantTypes)].join(' '),
    redirect_uris: JSON.stringify(input.redirectUris ?? []),
    token_type: input.tokenType ?? 'JWT',
    access_token_ttl_ms: km.access_token_ttl_ms,
    refresh_token_ttl_ms: km.refresh_token_ttl_ms,
    id_token_ttl_ms: km.id_token_ttl_ms,
    password_grant_enabled: input.grantTypes.includes('password') ? 1 : 0,
    source: input.source,
    dcr_key: dcrKey ?? null,
    saas: input.saas ? 1 : 0,
    application_id: input.application?.id ?? null,
    application_name: input.application?.name ?? null,
    application_owner: input.application?.owner ?? null,
    application_tier: input.application?.tier ?? null,
    key_type: input.application?.keyType ?? null,
    key_manager: input.application?.keyManager ?? null,
    created_at: now,
    updated_at: now,
  };
  await ctx.databases.apim.insertInto('km_oauth_clients').values(row).onConflict((oc) => oc.doNothing()).execute();
  return { client: toClient(row), secret };
}

/**
 * WSO2 DCR semantics: one client per (owner, clientName); registering again returns the same
 * client id with a newly issued secret (the old one stops working) and the new grant types. A
 * reserved name (`gatehouse-internal-*`) makes an internal client; the caller checks who may.
 */
export async function registerWso2Client(
  ctx: KmContext,
  input: Omit<NewOAuthClient, 'source'>,
): Promise<{ client: OAuthClient; secret: string }> {
  const dcrKey = `${input.owner}\n${input.name}`;
  const source = isReservedClientName(input.name) ? 'internal' : 'wso2-dcr';
  const db = ctx.databases.apim;
  const existing = () => db.selectFrom('km_oauth_clients').selectAll().where('tenant_id', '=', input.tenantId).where('dcr_key', '=', dcrKey).executeTakeFirst();
  let row = await existing();
  if (!row) {
    const created = await createClient(ctx, { ...input, source }, dcrKey);
    row = await existing();
    // The insert is ON CONFLICT DO NOTHING: a concurrent registration may have won; reissue below.
    if (row && row.client_id === created.client.clientId && created.secret !== undefined) return { client: created.client, secret: created.secret };
  }
  if (!row) throw new Error('the DCR client vanished while it was being registered');
  const secret = newClientSecret();
  const now = ctx.clock.now();
  await db
    .updateTable('km_oauth_clients')
    .set({
      secret_hash: ctx.keys.hmac('client-secret', secret),
      grant_types: [...new Set(input.grantTypes)].join(' '),
      password_grant_enabled: input.grantTypes.includes('password') ? 1 : 0,
      redirect_uris: JSON.stringify(input.redirectUris ?? []),
      saas: input.saas ? 1 : 0,
      source,
      updated_at: now,
    })
    .where('client_id', '=', row.client_id)
    .execute();
  ctx.clientCache.delete(row.client_id);
  const updated = await db.selectFrom('km_oauth_clients').selectAll().where('client_id', '=', row.client_id).executeTakeFirstOrThrow();
  return { client: toClient(updated), secret };
}
