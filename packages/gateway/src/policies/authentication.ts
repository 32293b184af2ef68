import { fault, FaultCodes, type LocalReply } from '../faults.ts';
import type { Policy, RequestContext } from '../policy.ts';
import type { GatewayData } from '../security/gateway-data.ts';
import { basePaths } from '../runtime-api.ts';
import { clientAddress, inRange, parseIp } from '../security/ip.ts';
import type { TokenVerifier, VerifiedApiKey, VerifiedToken } from '../security/token-verifier.ts';

const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/;
const challenge = (error?: string) => ({ 'www-authenticate': error ? `Bearer realm="gatehouse", error="${error}"` : 'Bearer realm="gatehouse"' });

const missing = fault(401, FaultCodes.MissingCredentials, 'Missing Credentials', 'Make sure your API invocation call has a header: "Authorization: Bearer ACCESS_TOKEN"', challenge());
const invalid = fault(401, FaultCodes.InvalidCredentials, 'Invalid Credentials', 'Invalid Credentials. Make sure you have provided the correct security credentials', challenge('invalid_token'));
const scopeDenied = fault(403, FaultCodes.ScopeInsufficient, 'The access token does not allow you to access the requested resource', 'User is NOT authorized to access the Resource. Scope validation failed.', challenge('insufficient_scope'));
const notSubscribed = fault(403, FaultCodes.Forbidden, 'Resource forbidden', 'User is NOT authorized to access the Resource. API Subscription validation failed.');
const subscriptionBlocked = fault(403, FaultCodes.ApiTemporarilyBlocked, 'The requested API is temporarily blocked', 'The subscription to this API is blocked for this application.');
const missingEither = (header: string) =>
  fault(401, FaultCodes.MissingCredentials, 'Missing Credentials', `Make sure your API invocation call has a header: "Authorization: Bearer ACCESS_TOKEN" or "${header}: API_KEY"`, challenge());
const keyNotForApi = fault(403, FaultCodes.Forbidden, 'Resource forbidden', 'The API key is not allowed to access this API.');
const keyNotFromHere = fault(403, FaultCodes.Forbidden, 'Resource forbidden', 'Access forbidden for the invocations from this client.');

/**
 * OAuth2 bearer authentication with the subscription and scope checks that follow it (WSO2's
 * APIAuthenticationHandler): JWTs verified offline against their issuer's keys, once per token
 * (cached until `exp`), checked against revocations on every call. For APIs whose security schemes
 * include `api_key`, WSO2's API keys too (the `apikey` header, or the API's `apiKeyHeader`): the
 * Resident Key Manager's self-contained JWTs, naming the API among their subscribed APIs, used from
 * a permitted address and referer. A bearer token is tried first when both are sent. Operations
 * with auth type `None` get no hooks at all.
 */
export function createAuthenticationPolicy(deps: { verifier: TokenVerifier; data: GatewayData; trustForwardedFor?: boolean }): Policy {
  const { verifier, data } = deps;
  const trustForwardedFor = deps.trustForwardedFor ?? false;
  return {
    name: 'authentication',
    priority: 1800,
    create(api, operation) {
      if (operation.authType === 'None') return undefined;
      const required = operation.scopes;
      const schemes = api.securitySchemes ?? [];
      const apiKeys = schemes.includes('api_key');
      const oauth = !apiKeys || schemes.includes('oauth2');
      const keyHeader = (api.apiKeyHeader || 'apikey').toLowerCase();
      const missingReply = apiKeys ? (oauth ? missingEither(keyHeader) : fault(401, FaultCodes.MissingCredentials, 'Missing Credentials', `Make sure your API invocation call has a header: "${keyHeader}: API_KEY"`)) : missing;
      // How the API's keys name it: by id, or by versioned context and version.
      const byContext = `${basePaths(api)[0]}\n${api.version}`;
      const decideKey = (ctx: RequestContext, key: VerifiedApiKey): LocalReply | undefined => {
        if (data.isRevoked(key.jti)) return invalid;
        if (!key.subscribedApis.has(api.id) && !key.subscribedApis.has(byContext)) return keyNotForApi;
        // API keys carry no scopes: an operation that needs one is not for them.
        if (required.length > 0) return scopeDenied;
        if (key.permittedIps !== undefined) {
          const ip = parseIp(clientAddress(ctx.req, trustForwardedFor));
          if (ip === undefined || !key.permittedIps.some((r) => inRange(ip, r))) return keyNotFromHere;
        }
        if (key.permittedReferers !== undefined) {
          const referer = ctx.req.headers.referer;
          if (referer === undefined || !key.permittedReferers.some((r) => r.test(referer))) return keyNotFromHere;
        }
        return decide(ctx, key, keyHeader);
      };
      const decideToken = (ctx: RequestContext, token: VerifiedToken): LocalReply | undefined => {
        if (data.isRevoked(token.jti)) return invalid;
        if (required.length > 0 && !required.some((s) => token.scopes.includes(s))) return scopeDenied;
        return decide(ctx, token, 'authorization');
      };
      const decide = (ctx: RequestContext, token: VerifiedToken, credentialHeader: string): LocalReply | undefined => {
        const app = token.application;
        if (app === undefined) return notSubscribed;
        const sub = data.subscription(app.id, api.id);
        if (sub === undefined || sub.status === 'ON_HOLD' || sub.status === 'REJECTED') return notSubscribed;
        if (sub.status === 'BLOCKED' || (sub.status === 'PROD_ONLY_BLOCKED' && token.keyType === 'PRODUCTION')) return subscriptionBlocked;
        ctx.keyType = token.keyType;
        ctx.token = token;
        // RFC 9700 §4.13 spirit: the client's credentials never reach the backend.
        (ctx.dropHeaders ??= []).push(credentialHeader);
        return undefined;
      };
      return {
        access(ctx) {
          const raw = ctx.req.rawHeaders;
          let header: string | undefined;
          let key: string | undefined;
          for (let i = 0; i < raw.length; i += 2) {
            const n = raw[i];
            if (oauth && n.length === 13 && n.toLowerCase() === 'authorization') {
              if (header !== undefined) return invalid; // two Authorization headers: refuse, never pick one
              header = raw[i + 1];
            } else if (apiKeys && n.length === keyHeader.length && n.toLowerCase() === keyHeader) {
              if (key !== undefined) return invalid; // two API keys: the same
              key = raw[i + 1];
            }
          }
          if (header !== undefined && header !== '') {
            const m = BEARER.exec(header);
            if (m === null) return invalid;
            const tokenString = m[1];
            const hit = verifier.cached(tokenString);
            if (hit !== undefined) return decideToken(ctx, hit);
            return verifier.verify(tokenString).then((r) => (r.ok ? decideToken(ctx, r.token) : invalid));
          }
          if (key === undefined || key === '') return missingReply;
          const hit = verifier.cachedApiKey(key);
          if (hit !== undefined) return decideKey(ctx, hit);
          return verifier.verifyApiKey(key).then((r) => (r.ok ? decideKey(ctx, r.key) : invalid));
        },
      };
    },
  };
}
