import type { FastifyRequest } from 'fastify';
import { oauthError } from './errors.ts';
import type { AttemptLimiter } from './attempts.ts';
import { findClientWithSecret } from './clients.ts';
import type { OAuthClient } from './clients.ts';
import type { KmContext } from './context.ts';
import { param } from './http.ts';

/** RFC 6749 §2.3.1: the id and secret are form-urlencoded before base64. Undecodable input is taken raw. */
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replaceAll('+', ' '));
  } catch {
    return value;
  }
}

interface PresentedCredentials {
  clientId: string;
  secret: string | undefined;
  method: 'client_secret_basic' | 'client_secret_post' | 'none';
}

function presented(request: FastifyRequest): PresentedCredentials {
  const body = request.body;
  const header = request.headers.authorization;
  const bodyId = param(body, 'client_id');
  const bodySecret = param(body, 'client_secret');
  if (header !== undefined) {
    const match = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header);
    if (!match?.[1]) throw oauthError('KM_ERR_OAUTH_INVALID_CLIENT', 'unsupported authentication scheme');
    // RFC 6749 §2.3: one authentication method per request.
    if (bodySecret !== undefined) throw oauthError('KM_ERR_OAUTH_INVALID_REQUEST', 'the client authenticated with more than one method');
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw oauthError('KM_ERR_OAUTH_INVALID_CLIENT', 'malformed Basic credentials');
    const clientId = formDecode(decoded.slice(0, colon));
    if (bodyId !== undefined && bodyId !== clientId) throw oauthError('KM_ERR_OAUTH_INVALID_REQUEST', 'client_id differs from the authenticated client');
    return { clientId, secret: formDecode(decoded.slice(colon + 1)), method: 'client_secret_basic' };
  }
  if (bodySecret !== undefined) {
    if (bodyId === undefined) throw oauthError('KM_ERR_OAUTH_INVALID_REQUEST', 'client_secret without client_id');
    return { clientId: bodyId, secret: bodySecret, method: 'client_secret_post' };
  }
  if (bodyId !== undefined) return { clientId: bodyId, secret: undefined, method: 'none' };
  throw oauthError('KM_ERR_OAUTH_INVALID_CLIENT', 'client authentication is required');
}

/**
 * Authenticates the calling client: client_secret_basic or client_secret_post for confidential
 * clients (secret checked as an HMAC in constant time), `none` only for public clients. Every
 * failure is the same `invalid_client` (401), also while the client id + address is locked out.
 */
export async function authenticateClient(ctx: KmContext, limiter: AttemptLimiter, request: FastifyRequest): Promise<OAuthClient> {
  const creds = presented(request);
  const key = `client:${creds.clientId}|${request.ip}`;
  const [locked, found] = await Promise.all([limiter.locked([key]), findClientWithSecret(ctx, creds.clientId)]);
  let ok = false;
  if (!locked && found) {
    if (creds.secret === undefined) ok = found.secretHash === null;
    else ok = found.secretHash !== null && ctx.keys.hmacEquals('client-secret', creds.secret, found.secretHash);
  }
  if (!ok || !found) {
    if (!locked) await limiter.fail(key);
    throw oauthError('KM_ERR_OAUTH_INVALID_CLIENT', 'client authentication failed');
  }
  await limiter.succeed(key);
  return found.client;
}
