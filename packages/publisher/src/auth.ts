import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import type { GatehouseConfig } from '@gatehouse/config';
import { PublisherErrors } from './errors.ts';

/** The Key Manager's `Principal` (packages/key-manager), the fields the Publisher reads. */
export interface Principal {
  username: string;
  tenantId: number;
  tenantDomain: string;
  roles: string[];
  scopes: string[];
}

/** What the Publisher needs from `@gatehouse/key-manager`'s management auth. */
export interface Authorizer {
  requireAnyScope(...scopes: string[]): onRequestHookHandler;
  principal(request: FastifyRequest): Principal;
}

interface KeyManagerModule {
  createManagementAuth?: (config: GatehouseConfig, deps: never) => { requireAnyScope(...scopes: string[]): onRequestHookHandler };
  getPrincipal?: (request: FastifyRequest) => Principal;
}

/**
 * The Key Manager's bearer-token check for the management APIs. Loaded lazily so a process can
 * start while that package is incomplete; then every Publisher operation answers 503 instead of
 * being open.
 */
export async function loadAuthorizer(config: GatehouseConfig, deps: object): Promise<Authorizer> {
  let km: KeyManagerModule = {};
  try {
    km = (await import('@gatehouse/key-manager')) as KeyManagerModule;
  } catch {
    km = {};
  }
  const { createManagementAuth, getPrincipal } = km;
  if (typeof createManagementAuth !== 'function' || typeof getPrincipal !== 'function') {
    const unavailable: onRequestHookHandler = async () => {
      throw PublisherErrors.create('PUB_ERR_AUTH_UNAVAILABLE', { description: '@gatehouse/key-manager does not export createManagementAuth yet' });
    };
    return { requireAnyScope: () => unavailable, principal: () => { throw PublisherErrors.create('PUB_ERR_AUTH_UNAVAILABLE'); } };
  }
  const auth = createManagementAuth(config, deps as never);
  return { requireAnyScope: (...scopes) => auth.requireAnyScope(...scopes), principal: getPrincipal };
}
