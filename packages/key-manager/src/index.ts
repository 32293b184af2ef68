import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import { SUPER_TENANT_ID } from '@gatehouse/core';
import type { GatehouseConfig } from '@gatehouse/config';
import { createAttemptLimiter } from './attempts.ts';
import { registerAuthorize } from './authorize.ts';
import { kmContext } from './context.ts';
import type { KeyManagerDeps } from './context.ts';
import { ensureConsoleClients } from './console-clients.ts';
import { registerWso2Dcr } from './dcr.ts';
import { useOAuthErrors } from './http.ts';
import { registerInternalRoutes } from './internal-routes.ts';
import { registerOAuthRoutes } from './oauth-routes.ts';

export { KeyManagerErrors, oauthErrorName } from './errors.ts';
export type { KeyManagerErrorCode } from './errors.ts';
export { createManagementAuth, getPrincipal } from './management-auth.ts';
export type { ManagementAuth, ManagementAuthDeps, Principal } from './management-auth.ts';
export { createSystemScopeRepository, DEFAULT_SYSTEM_SCOPES } from './system-scopes.ts';
export type { SystemScope, SystemScopeRepository } from './system-scopes.ts';
export type { KeyManagerDeps, KmLogger } from './context.ts';
export type { OAuthClient, ClientApplication, NewOAuthClient } from './clients.ts';
export { createSigningKeyStore } from './signing-keys.ts';
export { createAttemptLimiter } from './attempts.ts';
export type { AttemptLimiter } from './attempts.ts';
export { createKeyManagerService } from './service.ts';
export type { KeyManagerService, RevokedToken } from './service.ts';
export type { SigningKey, SigningKeyStore, SigningAlg, KeyPurpose } from './signing-keys.ts';

/** The Key Manager component, as the cli runs it. */
export interface KeyManager {
  readonly name: 'key-manager';
  routes(app: FastifyInstance): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  ready(): Promise<void>;
  /** New current signing key of a purpose; the previous one stays in the JWKS until the next rotation. */
  rotateSigningKey(purpose: 'access' | 'id'): Promise<{ kid: string }>;
  /** Deletes expired codes, refresh tokens, grants, opaque tokens, revocations and stale attempt counters. */
  purgeExpired(): Promise<void>;
}

const PURGE_EVERY_MS = 10 * 60_000;
const KEY_REFRESH_EVERY_MS = 60_000;

/**
 * The OAuth 2.0 authorization server: `/oauth2/*`, `/.well-known/*` and WSO2's
 * `/client-registration/v0.17/register`. Creates the signing keys and seeds the system scopes
 * before it returns (idempotent; safe when replicas start together).
 *
 * @example
 * ```ts
 * const km = await createKeyManager(config, { databases, repositories, keys, hub, logger, clock });
 * await app.register(async (scope) => km.routes(scope));
 * await km.start();
 * ```
 */
export async function createKeyManager(config: GatehouseConfig, deps: KeyManagerDeps): Promise<KeyManager> {
  const ctx = kmContext(config, deps);
  await ctx.signingKeys.ensure();
  await ctx.systemScopes.seedDefaults(SUPER_TENANT_ID);
  await ensureConsoleClients(ctx);
  const limiter = createAttemptLimiter(ctx);
  const timers: NodeJS.Timeout[] = [];

  const purgeExpired = async () => {
    const now = ctx.clock.now();
    const db = ctx.databases.apim;
    await db.deleteFrom('km_authorization_codes').where('expires_at', '<', now).execute();
    await db.deleteFrom('km_refresh_tokens').where('expires_at', '<', now).execute();
    await db.deleteFrom('km_access_tokens').where('expires_at', '<', now).execute();
    await db.deleteFrom('km_revoked_tokens').where('expires_at', '<', now).execute();
    await db.deleteFrom('km_grants').where('expires_at', '<', now).execute();
    await db.deleteFrom('km_used_assertions').where('expires_at', '<', now).execute();
    await db.deleteFrom('km_failed_attempts').where('locked_until', '<', now).where('window_start', '<', now - config.key_manager.lockout_window_ms).execute();
  };

  return {
    name: 'key-manager',
    async routes(app) {
      await app.register(formbody, { bodyLimit: 64 * 1024 });
      await app.register(async (oauth) => {
        useOAuthErrors(oauth);
        registerOAuthRoutes(oauth, ctx, limiter);
        registerAuthorize(oauth, ctx, limiter);
        registerInternalRoutes(oauth, ctx, limiter);
      });
      registerWso2Dcr(app, ctx, limiter);
    },
    async start() {
      const every = (ms: number, what: string, fn: () => Promise<void>) => {
        const t = setInterval(() => fn().catch((err: unknown) => ctx.logger.error({ err }, `key manager: ${what} failed`)), ms);
        t.unref();
        timers.push(t);
      };
      every(PURGE_EVERY_MS, 'purging expired rows', purgeExpired);
      // Another replica may have rotated: pick up its current key.
      every(KEY_REFRESH_EVERY_MS, 'refreshing signing keys', () => ctx.signingKeys.refresh());
    },
    async stop() {
      for (const t of timers.splice(0)) clearInterval(t);
    },
    async ready() {
      await ctx.signingKeys.current('access');
    },
    async rotateSigningKey(purpose) {
      const key = await ctx.signingKeys.rotate(purpose);
      return { kid: key.kid };
    },
    purgeExpired,
  };
}
export { kmContext } from './context.ts';
export type { KmContext } from './context.ts';
export { createClient, findClient, newClientSecret } from './clients.ts';
export { issueAccessToken, revokeJwt } from './tokens.ts';
export { registerWso2Client } from './clients.ts';
export { INTERNAL_CLIENT_PREFIX, isInternalClient } from './internal-clients.ts';
export { USER_AUTHENTICATION_PATH } from './internal-routes.ts';
export { CONSOLE_CLIENTS, consoleOrigins } from './console-clients.ts';
