import type { FastifyInstance } from 'fastify';
import { Roles, SUPER_TENANT_ID } from '@gatehouse/core';
import { KeyManagerErrors } from './errors.ts';
import type { AttemptLimiter } from './attempts.ts';
import { registerWso2Client } from './clients.ts';
import type { KmContext } from './context.ts';
import { INTERNAL_CLIENT_PREFIX, isReservedClientName } from './internal-clients.ts';
import { redirectUriProblem } from './oauth-routes.ts';

const WSO2_GRANTS = new Set(['client_credentials', 'password', 'refresh_token', 'authorization_code', 'implicit', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'urn:ietf:params:oauth:grant-type:saml2-bearer', 'iwa:ntlm', 'urn:ietf:params:oauth:grant-type:device_code']);
const SUPPORTED = new Set(['client_credentials', 'password', 'refresh_token', 'authorization_code', 'urn:ietf:params:oauth:grant-type:jwt-bearer']);

function invalid(description: string) {
  return KeyManagerErrors.create('KM_ERR_DCR_INVALID_REQUEST', { description });
}

/**
 * WSO2's DCR for management tools (`POST /client-registration/v0.17/register`): HTTP Basic with a
 * user's credentials; one client per (owner, clientName), re-registration reissues the secret.
 */
export function registerWso2Dcr(app: FastifyInstance, ctx: KmContext, limiter: AttemptLimiter): void {
  app.post('/client-registration/v0.17/register', async (request, reply) => {
    void reply.header('Cache-Control', 'no-store');
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header);
    if (!match?.[1]) {
      void reply.header('WWW-Authenticate', 'Basic realm="gatehouse"');
      throw KeyManagerErrors.create('KM_ERR_MISSING_CREDENTIALS', { description: 'HTTP Basic credentials of a user are required' });
    }
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const username = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? '' : decoded.slice(colon + 1);
    const key = `user:${username}|${request.ip}`;
    const locked = await limiter.locked([key]);
    const user = locked ? null : await ctx.repositories.users.verifyCredentials(SUPER_TENANT_ID, username, password);
    if (!user) {
      if (!locked) await limiter.fail(key);
      void reply.header('WWW-Authenticate', 'Basic realm="gatehouse"');
      throw KeyManagerErrors.create('KM_ERR_INVALID_CREDENTIALS', { description: 'The username or password is not valid' });
    }
    await limiter.succeed(key);

    const body = request.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalid('the body must be a JSON object');
    const b = body as Record<string, unknown>;
    const clientName = b.clientName;
    if (typeof clientName !== 'string' || clientName.trim() === '' || clientName.length > 255) throw invalid('clientName is required (at most 255 characters)');
    const owner = b.owner === undefined || b.owner === null || b.owner === '' ? user.username : b.owner;
    if (typeof owner !== 'string') throw invalid('owner must be a string');
    if (owner !== user.username) {
      const roles = await ctx.repositories.users.rolesOf(SUPER_TENANT_ID, user.id);
      if (!roles.includes(Roles.Admin)) throw KeyManagerErrors.create('KM_ERR_DCR_FORBIDDEN', { description: `${user.username} may not register a client for ${owner}` });
      if (!(await ctx.repositories.users.findByUsername(SUPER_TENANT_ID, owner))) throw invalid(`owner ${owner} does not exist`);
    }
    if (isReservedClientName(clientName)) {
      // An internal client may read every token of the tenant: an admin registers it, for an admin.
      const ownerUser = owner === user.username ? user : await ctx.repositories.users.findByUsername(SUPER_TENANT_ID, owner);
      const [mine, theirs] = await Promise.all([ctx.repositories.users.rolesOf(SUPER_TENANT_ID, user.id), ownerUser ? ctx.repositories.users.rolesOf(SUPER_TENANT_ID, ownerUser.id) : ([] as string[])]);
      if (!mine.includes(Roles.Admin) || !theirs.includes(Roles.Admin)) {
        throw KeyManagerErrors.create('KM_ERR_DCR_FORBIDDEN', { description: `only a user with the admin role may register a client named ${INTERNAL_CLIENT_PREFIX}*, owned by an admin` });
      }
    }
    const grantRaw = b.grantType ?? 'client_credentials';
    if (typeof grantRaw !== 'string') throw invalid('grantType must be a space-separated string');
    const requested = grantRaw.split(' ').filter(Boolean);
    const unknown = requested.filter((g) => !WSO2_GRANTS.has(g));
    if (unknown.length > 0) throw invalid(`unknown grant types: ${unknown.join(', ')}`);
    // WSO2 accepts its other grant names; those this server does not implement are dropped.
    const grantTypes = requested.filter((g) => SUPPORTED.has(g));
    const callback = b.callbackUrl;
    if (callback !== undefined && callback !== null && typeof callback !== 'string') throw invalid('callbackUrl must be a string');
    const redirectUris = typeof callback === 'string' && callback !== '' ? [callback] : [];
    for (const uri of redirectUris) {
      const problem = redirectUriProblem(uri);
      if (problem) throw invalid(`callbackUrl ${problem}`);
    }
    if (grantTypes.includes('authorization_code') && redirectUris.length === 0) throw invalid('callbackUrl is required for authorization_code');
    const saas = b.saasApp === true || b.saasApp === 'true';
    const tokenType = b.tokenType === 'OPAQUE' || b.tokenType === 'DEFAULT' ? 'OPAQUE' : 'JWT';

    const { client, secret } = await registerWso2Client(ctx, { tenantId: SUPER_TENANT_ID, name: clientName, owner, grantTypes, redirectUris, saas, tokenType });
    return {
      clientId: client.clientId,
      clientName: client.name,
      callBackURL: redirectUris[0] ?? null,
      clientSecret: secret,
      isSaasApplication: client.saas,
      appOwner: client.owner,
      jsonString: JSON.stringify({ grant_types: client.grantTypes.join(' '), redirect_uris: redirectUris[0] ?? null, client_name: client.name }),
      jsonAppAttribute: '{}',
      tokenType: client.tokenType,
    };
  });
}
