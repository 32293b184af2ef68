import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { Roles, SUPER_TENANT_DOMAIN, SUPER_TENANT_ID } from '@gatehouse/core';
import type { GatehouseConfig } from '@gatehouse/config';
import { KeyManagerErrors } from './errors.ts';
import { kmContext } from './context.ts';
import type { KeyManagerDeps } from './context.ts';
import { findClientWithSecret } from './clients.ts';
import { verifyAccessToken } from './tokens.ts';

/** Who called a management REST API, from their access token. */
export interface Principal {
  /** The user; for a client_credentials token, the client's owner (as WSO2 does). */
  username: string;
  tenantId: number;
  tenantDomain: string;
  /** The user's role names now (not at issue time). */
  roles: string[];
  /** Scopes granted to the token. */
  scopes: string[];
  clientId: string;
  /** The token's jti. */
  tokenId: string;
}

/**
 * Bearer-token authentication for the management REST APIs (Publisher, Developer Portal, Admin),
 * against tokens this Key Manager issued: signature (keys from the apim database, reloaded on an
 * unknown kid at most every 5 s), `typ: at+jwt`, issuer, expiry, RFC 9068 claims and revocation.
 * Failures throw `KM_ERR_MISSING_CREDENTIALS` (401, 900902), `KM_ERR_INVALID_CREDENTIALS`
 * (401, 900901) or `KM_ERR_INSUFFICIENT_SCOPE` (403, 900910); the control plane's error handler
 * answers them in WSO2's shape (`err.toWso2Body()`).
 *
 * @example
 * ```ts
 * const auth = createManagementAuth(config, deps);
 * app.get('/api/am/publisher/v4/apis', { onRequest: auth.requireAnyScope('apim:api_view', 'apim:api_create') }, async (request) => {
 *   const principal = getPrincipal(request); // set by the hook
 *   return listApis(principal.tenantId);
 * });
 * const p = await auth.verify(request.headers.authorization); // throws the 401s above
 * ```
 */
export interface ManagementAuth {
  verify(authorizationHeader: string | undefined): Promise<Principal>;
  /** A fastify onRequest hook: 401 without a valid token, 403 (900910) when the token has none of the scopes; stores the principal on the request. */
  requireAnyScope(...scopes: string[]): onRequestHookHandler;
}

const principals = new WeakMap<FastifyRequest, Principal>();

/** The principal `requireAnyScope` authenticated for this request (throws 401 if none was). */
export function getPrincipal(request: FastifyRequest): Principal {
  const p = principals.get(request);
  if (!p) throw KeyManagerErrors.create('KM_ERR_MISSING_CREDENTIALS');
  return p;
}

export type ManagementAuthDeps = Pick<KeyManagerDeps, 'databases' | 'repositories' | 'keys' | 'hub' | 'logger' | 'clock'>;

export function createManagementAuth(config: GatehouseConfig, deps: ManagementAuthDeps): ManagementAuth {
  const ctx = kmContext(config, deps);
  const verify = async (header: string | undefined): Promise<Principal> => {
    if (header === undefined || header.trim() === '') throw KeyManagerErrors.create('KM_ERR_MISSING_CREDENTIALS', { description: 'No Bearer token in the Authorization header' });
    const match = /^Bearer +([\x21-\x7e]+) *$/i.exec(header);
    if (!match?.[1]) throw KeyManagerErrors.create('KM_ERR_MISSING_CREDENTIALS', { description: 'The Authorization header is not a Bearer token' });
    const info = await verifyAccessToken(ctx, match[1]);
    if (!info) throw KeyManagerErrors.create('KM_ERR_INVALID_CREDENTIALS', { description: 'Access failure for API: the token is invalid, expired or revoked' });
    // WSO2: a client_credentials token acts for the client's owner, whose roles bounded its scopes.
    let username = info.username;
    if (username === undefined) {
      const client = await findClientWithSecret(ctx, info.clientId);
      if (!client) throw KeyManagerErrors.create('KM_ERR_INVALID_CREDENTIALS', { description: 'Access failure for API: the client no longer exists' });
      username = client.client.owner;
    }
    // A federated subject is not the local user of the same name.
    const roles = info.idp !== undefined ? [Roles.Everyone] : await ctx.userRoles(info.tenantId, username);
    // CWE-613: a deleted or locked user's tokens stop working (within the 5 s role cache).
    if (!roles) throw KeyManagerErrors.create('KM_ERR_INVALID_CREDENTIALS', { description: 'Access failure for API: the user is no longer active' });
    return {
      username,
      tenantId: info.tenantId ?? SUPER_TENANT_ID,
      tenantDomain: SUPER_TENANT_DOMAIN,
      roles,
      scopes: info.scope,
      clientId: info.clientId,
      tokenId: info.jti,
    };
  };
  return {
    verify,
    requireAnyScope(...scopes) {
      return async (request: FastifyRequest, reply: FastifyReply) => {
        const principal = await verify(request.headers.authorization);
        if (scopes.length > 0 && !scopes.some((s) => principal.scopes.includes(s))) {
          void reply.header('WWW-Authenticate', `Bearer error="insufficient_scope", scope="${scopes.join(' ')}"`);
          throw KeyManagerErrors.create('KM_ERR_INSUFFICIENT_SCOPE', { description: `The access token needs one of the scopes: ${scopes.join(', ')}` });
        }
        principals.set(request, principal);
      };
    },
  };
}
