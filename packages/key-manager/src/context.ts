import { createRemoteJWKSet } from 'jose';
import type { Clock, ServerKeys } from '@gatehouse/core';
import type { GatehouseConfig } from '@gatehouse/config';
import type { Databases, Repositories } from '@gatehouse/data';
import type { EventHub } from '@gatehouse/events';
import { createSigningKeyStore } from './signing-keys.ts';
import type { SigningKeyStore } from './signing-keys.ts';
import type { OAuthClient } from './clients.ts';
import { createSystemScopeRepository, systemScopeEdits } from './system-scopes.ts';
import type { SystemScopeRepository } from './system-scopes.ts';

/** Minimal pino-compatible logger. */
export interface KmLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** What the Key Manager needs from its host: structurally a subset of the cli's `ComponentDeps`. */
export interface KeyManagerDeps {
  readonly databases: Databases;
  readonly repositories: Repositories;
  readonly keys: ServerKeys;
  readonly hub: EventHub;
  readonly logger: KmLogger;
  readonly clock: Clock;
}

/** Everything the endpoints share, built once per process. */
export interface KmContext extends KeyManagerDeps {
  readonly config: GatehouseConfig;
  /** Configured issuer (`${server.public_url}/oauth2/token`), or undefined when `public_url` is empty (tests on port 0). */
  readonly configuredIssuer: string | undefined;
  readonly signingKeys: SigningKeyStore;
  readonly systemScopes: SystemScopeRepository;
  /** scope -> roles, cached briefly so Admin edits apply within seconds. */
  scopeRoles(tenantId: number): Promise<ReadonlyMap<string, readonly string[]>>;
  /**
   * Clients by id with their secret HMAC, cached for {@link CLIENT_CACHE_MS} (WSO2's OAuthCache):
   * a change made on this replica applies at once, one made on another replica within that time.
   */
  readonly clientCache: Map<string, { at: number; value: { client: OAuthClient; secretHash: string | null } }>;
  /** JWT bearer grant (RFC 7523) issuers from `key_manager.trusted_issuers`, with their JWKS (fetched lazily, jose's cache and cooldown). */
  readonly trustedIssuers: ReadonlyMap<string, { issuer: string; jwks: ReturnType<typeof createRemoteJWKSet> }>;
  /** A user's role names, cached briefly; undefined when the user does not exist or is not ACTIVE. */
  userRoles(tenantId: number, username: string): Promise<string[] | undefined>;
}

const SCOPE_CACHE_MS = 5000;
const ROLE_CACHE_MS = 5000;
export const CLIENT_CACHE_MS = 3000;

const contexts = new WeakMap<object, KmContext>();

/** One context per (config, databases): the management auth of other components shares the Key Manager's caches. */
export function kmContext(config: GatehouseConfig, deps: KeyManagerDeps): KmContext {
  const cached = contexts.get(deps.databases);
  if (cached) return cached;
  const scopeCache = new Map<number, { at: number; edits: number; value: Promise<ReadonlyMap<string, readonly string[]>> }>();
  const roleCache = new Map<string, { at: number; value: Promise<string[] | undefined> }>();
  const systemScopes = createSystemScopeRepository(deps.databases, { clock: deps.clock });
  const base = config.server.public_url;
  const ctx: KmContext = {
    ...deps,
    config,
    configuredIssuer: base ? `${base}/oauth2/token` : undefined,
    signingKeys: createSigningKeyStore(deps.databases, deps.keys, { accessAlg: config.key_manager.signing_alg, clock: deps.clock }),
    systemScopes,
    clientCache: new Map(),
    trustedIssuers: new Map(
      config.key_manager.trusted_issuers.map((entry) => {
        const bar = entry.lastIndexOf('|');
        const issuer = entry.slice(0, bar);
        const jwksUri = URL.parse(entry.slice(bar + 1));
        if (bar <= 0 || !jwksUri || !['https:', 'http:'].includes(jwksUri.protocol)) {
          throw new Error(`key_manager.trusted_issuers: "${entry}" is not <issuer>|<jwks_uri>`);
        }
        return [issuer, { issuer, jwks: createRemoteJWKSet(jwksUri, { timeoutDuration: 5000, cooldownDuration: 30_000 }) }] as const;
      }),
    ),
    scopeRoles(tenantId) {
      const now = deps.clock.now();
      const hit = scopeCache.get(tenantId);
      const edits = systemScopeEdits(deps.databases.shared);
      if (hit && now - hit.at < SCOPE_CACHE_MS && hit.edits === edits) return hit.value;
      const value = systemScopes.listSystemScopes(tenantId).then((list) => new Map(list.map((s) => [s.scope, s.roles] as const)));
      value.catch(() => scopeCache.delete(tenantId));
      scopeCache.set(tenantId, { at: now, edits, value });
      return value;
    },
    userRoles(tenantId, username) {
      const now = deps.clock.now();
      const key = `${tenantId}\n${username}`;
      const hit = roleCache.get(key);
      if (hit && now - hit.at < ROLE_CACHE_MS) return hit.value;
      const value = (async () => {
        const user = await deps.repositories.users.findByUsername(tenantId, username);
        return user && user.status === 'ACTIVE' ? deps.repositories.users.rolesOf(tenantId, user.id) : undefined;
      })();
      value.catch(() => roleCache.delete(key));
      if (roleCache.size > 10_000) roleCache.clear();
      roleCache.set(key, { at: now, value });
      return value;
    },
  };
  contexts.set(deps.databases, ctx);
  return ctx;
}
