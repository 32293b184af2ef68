import { fault, FaultCodes, type LocalReply } from '../faults.ts';
import type { Policy, RequestContext } from '../policy.ts';
import type { GatewayData } from '../security/gateway-data.ts';
import type { TokenVerifier, VerifiedToken } from '../security/token-verifier.ts';

const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/;
const challenge = (error?: string) => ({ 'www-authenticate': error ? `Bearer realm="gatehouse", error="${error}"` : 'Bearer realm="gatehouse"' });

const missing = fault(401, FaultCodes.MissingCredentials, 'Missing Credentials', 'Make sure your API invocation call has a header: "Authorization: Bearer ACCESS_TOKEN"', challenge());
const invalid = fault(401, FaultCodes.InvalidCredentials, 'Invalid Credentials', 'Invalid Credentials. Make sure you have provided the correct security credentials', challenge('invalid_token'));
const scopeDenied = fault(403, FaultCodes.ScopeInsufficient, 'The access token does not allow you to access the requested resource', 'User is NOT authorized to access the Resource. Scope validation failed.', challenge('insufficient_scope'));
const notSubscribed = fault(403, FaultCodes.Forbidden, 'Resource forbidden', 'User is NOT authorized to access the Resource. API Subscription validation failed.');
const subscriptionBlocked = fault(403, FaultCodes.ApiTemporarilyBlocked, 'The requested API is temporarily blocked', 'The subscription to this API is blocked for this application.');

/**
 * OAuth2 bearer authentication with the subscription and scope checks that follow it (WSO2's
 * APIAuthenticationHandler): JWTs verified offline against their issuer's keys, once per token
 * (cached until `exp`), checked against revocations on every call. Operations with auth type
 * `None` get no hooks at all.
 */
export function createAuthenticationPolicy(deps: { verifier: TokenVerifier; data: GatewayData }): Policy {
  const { verifier, data } = deps;
  return {
    name: 'authentication',
    priority: 1800,
    create(api, operation) {
      if (operation.authType === 'None') return undefined;
      const required = operation.scopes;
      const decide = (ctx: RequestContext, token: VerifiedToken): LocalReply | undefined => {
        if (data.isRevoked(token.jti)) return invalid;
        if (required.length > 0 && !required.some((s) => token.scopes.includes(s))) return scopeDenied;
        const app = token.application;
        if (app === undefined) return notSubscribed;
        const sub = data.subscription(app.id, api.id);
        if (sub === undefined || sub.status === 'ON_HOLD' || sub.status === 'REJECTED') return notSubscribed;
        if (sub.status === 'BLOCKED' || (sub.status === 'PROD_ONLY_BLOCKED' && token.keyType === 'PRODUCTION')) return subscriptionBlocked;
        ctx.keyType = token.keyType;
        ctx.token = token;
        // RFC 9700 §4.13 spirit: the client's credentials never reach the backend.
        (ctx.dropHeaders ??= []).push('authorization');
        return undefined;
      };
      return {
        access(ctx) {
          const raw = ctx.req.rawHeaders;
          let header: string | undefined;
          for (let i = 0; i < raw.length; i += 2) {
            if (raw[i].length === 13 && raw[i].toLowerCase() === 'authorization') {
              if (header !== undefined) return invalid; // two Authorization headers: refuse, never pick one
              header = raw[i + 1];
            }
          }
          if (header === undefined || header === '') return missing;
          const m = BEARER.exec(header);
          if (m === null) return invalid;
          const tokenString = m[1];
          const hit = verifier.cached(tokenString);
          if (hit !== undefined) return decide(ctx, hit);
          return verifier.verify(tokenString).then((r) => (r.ok ? decide(ctx, r.token) : invalid));
        },
      };
    },
  };
}
