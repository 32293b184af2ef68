import type { GatehouseConfig } from '@gatehouse/config';
import { createClient, findClient, newClientSecret, toClient } from './clients.ts';
import type { NewOAuthClient, OAuthClient } from './clients.ts';
import { kmContext } from './context.ts';
import type { KeyManagerDeps } from './context.ts';

export interface RevokedToken {
  jti: string;
  tenantId: number;
  clientId: string;
  /** Epoch ms; the row is purged after it. */
  expiresAt: number;
  revokedAt: number;
}

/**
 * OAuth clients and revocations for the other control-plane components: the Developer Portal's
 * application keys (`application` set), and the internal data API's revoked-token list.
 *
 * @example
 * ```ts
 * const km = createKeyManagerService(config, deps);
 * const { client, secret } = await km.createClient({ tenantId, name: 'app1_PRODUCTION', owner: 'alice', grantTypes: ['client_credentials'],
 *   source: 'application', application: { id, name: 'app1', owner: 'alice', tier: 'Unlimited', keyType: 'PRODUCTION', keyManager: 'Resident Key Manager' } });
 * const revoked = await km.listRevokedTokens(); // for gateways resynchronising
 * ```
 */
export interface KeyManagerService {
  /** The secret is returned once; only its HMAC is stored. */
  createClient(input: NewOAuthClient): Promise<{ client: OAuthClient; secret: string | undefined }>;
  getClient(clientId: string): Promise<OAuthClient | undefined>;
  /** A new secret (the old one stops working at once on this replica, within 3 s on others). Undefined for an unknown or public client. */
  regenerateSecret(clientId: string): Promise<string | undefined>;
  /** Removes the client; its tokens stop being accepted at once here (JWTs stay valid at gateways until they expire unless revoked). */
  deleteClient(clientId: string): Promise<boolean>;
  /** Revoked, not yet expired JWT ids. */
  listRevokedTokens(options?: { sinceMs?: number }): Promise<RevokedToken[]>;
}

export function createKeyManagerService(config: GatehouseConfig, deps: KeyManagerDeps): KeyManagerService {
  const ctx = kmContext(config, deps);
  const db = ctx.databases.apim;
  return {
    createClient: (input) => createClient(ctx, input),
    getClient: (clientId) => findClient(ctx, clientId),
    async regenerateSecret(clientId) {
      const row = await db.selectFrom('km_oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
      if (!row || !toClient(row).confidential) return undefined;
      const secret = newClientSecret();
      await db.updateTable('km_oauth_clients').set({ secret_hash: ctx.keys.hmac('client-secret', secret), updated_at: ctx.clock.now() }).where('client_id', '=', clientId).execute();
      ctx.clientCache.delete(clientId);
      return secret;
    },
    async deleteClient(clientId) {
      const result = await db.deleteFrom('km_oauth_clients').where('client_id', '=', clientId).executeTakeFirst();
      ctx.clientCache.delete(clientId);
      return Number(result.numDeletedRows) > 0;
    },
    async listRevokedTokens(options = {}) {
      const now = ctx.clock.now();
      const rows = await db
        .selectFrom('km_revoked_tokens')
        .selectAll()
        .where('expires_at', '>', now)
        .where('revoked_at', '>=', options.sinceMs ?? 0)
        .orderBy('revoked_at')
        .execute();
      return rows.map((r) => ({ jti: r.jti, tenantId: Number(r.tenant_id), clientId: r.client_id, expiresAt: Number(r.expires_at), revokedAt: Number(r.revoked_at) }));
    },
  };
}
