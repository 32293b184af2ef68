import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isGatehouseError } from '@gatehouse/core';
import { oauthError, oauthErrorName } from './errors.ts';

/** A form (or JSON) parameter: absent, or exactly one string; a repeated one is invalid (RFC 6749 §3.1, §3.2). */
export function param(body: unknown, name: string): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const value = (body as Record<string, unknown>)[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw oauthError('KM_ERR_OAUTH_INVALID_REQUEST', `the parameter ${name} must be given once, as a string`);
  return value === '' ? undefined : value;
}

export function requiredParam(body: unknown, name: string): string {
  const value = param(body, name);
  if (value === undefined) throw oauthError('KM_ERR_OAUTH_INVALID_REQUEST', `the parameter ${name} is required`);
  return value;
}

const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** RFC 6749 §3.3 scope: space-delimited, case-sensitive tokens; duplicates collapsed. */
export function parseScope(value: string | undefined): string[] {
  if (value === undefined) return [];
  const tokens = value.split(' ').filter(Boolean);
  if (!tokens.every((t) => SCOPE_TOKEN.test(t))) throw oauthError('KM_ERR_OAUTH_INVALID_SCOPE', 'the scope contains characters RFC 6749 §3.3 does not allow');
  return [...new Set(tokens)];
}

/** The issuer base: `server.public_url`, else this request's own origin (only when public_url is empty, as in port-0 tests). */
export function baseUrl(configured: string, request: FastifyRequest): string {
  return configured || `${request.protocol}://${request.host}`;
}

/** RFC 6749 §5.1: token answers are never cached. */
export function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
}

/**
 * The OAuth endpoints' error handler: RFC 6749 §5.2 bodies (`{ error, error_description }`),
 * `Cache-Control: no-store`, and `WWW-Authenticate` on 401s (RFC 6749 §5.2, RFC 6750 §3).
 */
export function useOAuthErrors(app: FastifyInstance): void {
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, request, reply) => {
    noStore(reply);
    let name = isGatehouseError(err) ? oauthErrorName(err.code) : undefined;
    let status = isGatehouseError(err) ? err.status : (err.statusCode ?? 500);
    let description: string;
    if (name !== undefined && isGatehouseError(err)) {
      description = err.description ?? err.message;
    } else if (isGatehouseError(err) && err.expose) {
      return reply.code(err.status).send(err.toWso2Body());
    } else if (isGatehouseError(err) && err.status === 503) {
      // The database is down: RFC 6749 §4.1.2.1's temporarily_unavailable, with the 503 it stands
      // for, so clients (and load balancers) retry instead of treating it as a server bug.
      request.log.warn({ code: err.code }, 'oauth request failed: a dependency is unavailable');
      name = 'temporarily_unavailable';
      description = 'The authorization server is temporarily unavailable';
    } else if (status < 500) {
      // fastify's own client errors: bad JSON, unsupported media type, body too large.
      name = 'invalid_request';
      description = err.message;
    } else {
      request.log.error({ err }, 'oauth request failed');
      name = 'server_error';
      status = 500;
      description = 'The authorization server failed to complete the request';
    }
    if (name === 'invalid_client' && status === 401) void reply.header('WWW-Authenticate', 'Basic realm="gatehouse"');
    if (name === 'invalid_token') void reply.header('WWW-Authenticate', `Bearer error="invalid_token", error_description="${description.replaceAll('"', "'")}"`);
    return reply.code(status).send({ error: name, error_description: description });
  });
}
