import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { oauthError } from './errors.ts';
import type { AttemptLimiter } from './attempts.ts';
import { authenticateClient } from './client-auth.ts';
import type { KmContext } from './context.ts';
import { noStore, param, requiredParam } from './http.ts';
import { isInternalClient } from './internal-clients.ts';

/** Where a gateway checks the credentials of an API's `basic_auth` callers. */
export const USER_AUTHENTICATION_PATH = '/oauth2/internal/user-authentication';

/**
 * WSO2's gateway checks basic-auth callers against the Key Manager's user store (its
 * RemoteUserStoreManagerService); a gateway here has no database either, so it asks this
 * endpoint. Why not the password grant: it would mint and store a token per check, needs a
 * password-enabled client, and maps the user's roles to system scopes only, while an API's
 * scopes are bound to roles the gateway reads from the API itself. This answers the one thing
 * needed, the user's roles, to the gateway's internal client only (client_secret_basic), and
 * counts failures with the same lockout as the password grant (`user:<name>|<ip>`, the end
 * client's address as the gateway saw it), so guessing through gateways is as slow as guessing
 * at `/oauth2/token`. Every refusal is the same `{ authenticated: false }`.
 *
 * The internal client names `client_ip` itself, so with a stolen gateway credential each guess
 * could claim a new address. Failures are therefore also counted per user alone
 * (`basic-auth-user:<tenant>:<name>`), {@link USER_WIDE_FACTOR}× the per-address threshold, and
 * past it the user's basic-auth checks are refused for `lockout_ms` whatever the address. The
 * trade-off: whoever holds a gateway credential (or can send many wrong passwords through a
 * gateway) can lock a user out of basic-auth APIs; not out of the portals' own sign-in, the
 * password grant or authorization code, which never read this key. A success does not reset
 * it: the victim's own traffic would otherwise clear an attacker's count.
 */
const USER_WIDE_FACTOR = 10;

export function registerInternalRoutes(app: FastifyInstance, ctx: KmContext, limiter: AttemptLimiter): void {
  app.post(USER_AUTHENTICATION_PATH, async (request, reply) => {
    noStore(reply);
    const type = request.headers['content-type'] ?? '';
    if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) throw oauthError('KM_ERR_OAUTH_INVALID_REQUEST', 'the body must be application/x-www-form-urlencoded');
    const client = await authenticateClient(ctx, limiter, request);
    if (!isInternalClient(client)) throw oauthError('KM_ERR_OAUTH_UNAUTHORIZED_CLIENT', 'only a gateway\'s internal client may check user credentials');
    const username = requiredParam(request.body, 'username');
    const password = requiredParam(request.body, 'password');
    const clientIp = param(request.body, 'client_ip');
    if (clientIp !== undefined && isIP(clientIp) === 0) throw oauthError('KM_ERR_OAUTH_INVALID_REQUEST', 'client_ip must be an IP address');
    const refused = { authenticated: false };
    if (username.length > 255 || password.length > 1024) return refused;
    const key = `user:${username}|${clientIp ?? request.ip}`;
    const userKey = `basic-auth-user:${client.tenantId}:${username}`;
    const locked = await limiter.locked([key, userKey]);
    const user = locked ? null : await ctx.repositories.users.verifyCredentials(client.tenantId, username, password);
    if (!user) {
      if (!locked) {
        await limiter.fail(key);
        if (await limiter.fail(userKey, ctx.config.key_manager.lockout_threshold * USER_WIDE_FACTOR)) {
          ctx.logger.warn(
            { username, tenantId: client.tenantId, gatewayClient: client.clientId, lockoutMs: ctx.config.key_manager.lockout_ms },
            'basic-auth checks for this user are locked out: too many failed passwords from any address (a gateway credential may be misused)',
          );
        }
      }
      return refused;
    }
    await limiter.succeed(key);
    const roles = await ctx.repositories.users.rolesOf(client.tenantId, user.id);
    return { authenticated: true, username: user.username, roles };
  });
}
