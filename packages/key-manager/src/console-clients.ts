import { SUPER_TENANT_ID } from '@gatehouse/core';
import type { KmContext } from './context.ts';

/**
 * The web consoles' OAuth clients, one per app, as WSO2 registers its portals as service
 * providers: public (no secret, `none` at the token endpoint, so PKCE S256 is required by the
 * authorization endpoint), authorization code + refresh token, fixed ids the control plane hands
 * the apps (packages/cli/src/runtime/ui.ts).
 */
export const CONSOLE_CLIENTS = Object.freeze([
  { clientId: 'gatehouse-publisher', name: 'Gatehouse Publisher', path: '/publisher' },
  { clientId: 'gatehouse-devportal', name: 'Gatehouse Developer Portal', path: '/devportal' },
  { clientId: 'gatehouse-admin', name: 'Gatehouse Admin', path: '/admin' },
] as const);

/**
 * Where the consoles may be opened, so where the Key Manager may send the user back: the public
 * URL, `localhost` on the configured ports, and loopback IP addresses on any port (RFC 8252
 * §7.3, which the authorization endpoint applies to `http://127.0.0.1` and `http://[::1]`).
 */
export function consoleOrigins(config: KmContext['config']): string[] {
  const { public_url: publicUrl, https_port: https, http_port: http } = config.server;
  const origins = new Set<string>();
  if (publicUrl) origins.add(new URL(publicUrl).origin);
  if (https !== 0) origins.add(`https://localhost:${https}`).add(`https://127.0.0.1:${https}`);
  if (http !== 0) origins.add(`http://localhost:${http}`);
  origins.add('http://127.0.0.1').add('http://[::1]');
  return [...origins];
}

/**
 * Creates the console clients, or brings their redirect URIs and grants up to date with this
 * configuration. Idempotent and safe when replicas start together (insert or update by the fixed id).
 */
export async function ensureConsoleClients(ctx: KmContext): Promise<void> {
  const now = ctx.clock.now();
  const km = ctx.config.key_manager;
  const origins = consoleOrigins(ctx.config);
  for (const c of CONSOLE_CLIENTS) {
    const mutable = {
      name: c.name,
      secret_hash: null,
      token_endpoint_auth_method: 'none',
      grant_types: 'authorization_code refresh_token',
      redirect_uris: JSON.stringify(origins.map((o) => `${o}${c.path}/callback`)),
      access_token_ttl_ms: km.access_token_ttl_ms,
      refresh_token_ttl_ms: km.refresh_token_ttl_ms,
      id_token_ttl_ms: km.id_token_ttl_ms,
      password_grant_enabled: 0,
      updated_at: now,
    };
    await ctx.databases.apim
      .insertInto('km_oauth_clients')
      .values({
        ...mutable,
        client_id: c.clientId,
        tenant_id: SUPER_TENANT_ID,
        owner: 'admin',
        token_type: 'JWT',
        source: 'console',
        dcr_key: null,
        saas: 1,
        application_id: null,
        application_name: null,
        application_owner: null,
        application_tier: null,
        key_type: null,
        key_manager: null,
        created_at: now,
      })
      .onConflict((oc) => oc.column('client_id').doUpdateSet(mutable))
      .execute();
    ctx.clientCache.delete(c.clientId);
  }
}
