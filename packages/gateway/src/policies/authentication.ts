import { isIP } from 'node:net';
import type { OutgoingHttpHeaders } from 'node:http';
import { fault, FaultCodes, type LocalReply } from '../faults.ts';
import type { Policy, RequestContext } from '../policy.ts';
import type { GatewayData } from '../security/gateway-data.ts';
import { basePaths, type RuntimeApi, type RuntimeOperation } from '../runtime-api.ts';
import { clientAddress, inRange, parseIp } from '../security/ip.ts';
import { UNAVAILABLE, type BasicIdentity, type OpaqueTokens } from '../security/remote-credentials.ts';
import type { TokenVerifier, VerifiedApiKey, VerifiedToken } from '../security/token-verifier.ts';

const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/;
// RFC 7617 §2: the scheme name is case-insensitive; token68 credentials.
const BASIC = /^[Bb][Aa][Ss][Ii][Cc] ([A-Za-z0-9+/]+=*)$/;
const bearerChallenge = (error?: string) => (error ? `Bearer realm="gatehouse", error="${error}"` : 'Bearer realm="gatehouse"');
const BASIC_CHALLENGE = 'Basic realm="gatehouse", charset="UTF-8"';
const challenge = (error?: string) => ({ 'www-authenticate': bearerChallenge(error) });

const invalid = fault(401, FaultCodes.InvalidCredentials, 'Invalid Credentials', 'Invalid Credentials. Make sure you have provided the correct security credentials', challenge('invalid_token'));
const scopeDenied = fault(403, FaultCodes.ScopeInsufficient, 'The access token does not allow you to access the requested resource', 'User is NOT authorized to access the Resource. Scope validation failed.', challenge('insufficient_scope'));
const roleDenied = fault(403, FaultCodes.ScopeInsufficient, 'The user is not allowed to access the requested resource', 'User is NOT authorized to access the Resource. Scope validation failed.');
const notSubscribed = fault(403, FaultCodes.Forbidden, 'Resource forbidden', 'User is NOT authorized to access the Resource. API Subscription validation failed.');
const subscriptionBlocked = fault(403, FaultCodes.ApiTemporarilyBlocked, 'The requested API is temporarily blocked', 'The subscription to this API is blocked for this application.');
const keyNotForApi = fault(403, FaultCodes.Forbidden, 'Resource forbidden', 'The API key is not allowed to access this API.');
const keyNotFromHere = fault(403, FaultCodes.Forbidden, 'Resource forbidden', 'Access forbidden for the invocations from this client.');
// The Key Manager could not say (down, or refusing this gateway's client): not the caller's fault,
// so not a 401 that would make clients throw their credentials away.
const unavailable = fault(503, FaultCodes.AuthFailure, 'Unclassified Authentication Failure', 'The credentials could not be validated now (the key manager did not answer). Try again later.', { 'retry-after': '5' });

/** The 401 answers of one API, with the challenges of every scheme it accepts (RFC 9110 §11.6.1). */
function replies(oauth: boolean, basic: boolean, apiKeys: boolean, keyHeader: string): { missing: LocalReply; invalid: LocalReply } {
  const accepted: string[] = [];
  if (oauth) accepted.push('Authorization: Bearer ACCESS_TOKEN');
  if (basic) accepted.push('Authorization: Basic BASE64(username:password)');
  if (apiKeys) accepted.push(`${keyHeader}: API_KEY`);
  const challenges = (error?: string): OutgoingHttpHeaders | undefined => {
    const list = [...(oauth ? [bearerChallenge(error)] : []), ...(basic ? [BASIC_CHALLENGE] : [])];
    return list.length === 0 ? undefined : { 'www-authenticate': list.length === 1 ? list[0] : list };
  };
  return {
    missing: fault(401, FaultCodes.MissingCredentials, 'Missing Credentials', `Make sure your API invocation call has a header: "${accepted.join('" or "')}"`, challenges()),
    invalid: basic ? fault(401, FaultCodes.InvalidCredentials, invalid.message, invalid.description, challenges('invalid_token')) : invalid,
  };
}

/**
 * For basic-auth callers, the roles that may call an operation: those bound (in the API's
 * scopes) to any scope the operation accepts. `undefined`: no scope required, or one bound to no
 * role (as in WSO2, such a scope is any signed-in user's). A scope the API does not define
 * admits nobody.
 */
function rolesFor(api: RuntimeApi, required: readonly string[]): ReadonlySet<string> | undefined {
  if (required.length === 0) return undefined;
  const roles = new Set<string>();
  for (const name of required) {
    const scope = api.scopes?.find((s) => s.name === name);
    if (scope === undefined) continue;
    if (scope.roles.length === 0) return undefined;
    for (const r of scope.roles) roles.add(r.toLowerCase());
  }
  return roles;
}

/** The key managers whose tokens an API takes (WSO2's API `keyManagers`); undefined: all of them. */
function allowedKeyManagers(api: RuntimeApi): ReadonlySet<string> | undefined {
  const list = api.keyManagers;
  if (list === undefined || list.length === 0 || list.some((k) => k.toLowerCase() === 'all')) return undefined;
  return new Set(list);
}

/** What the hooks of one route are made from. */
function settingsOf(
  api: RuntimeApi,
  operation: RuntimeOperation,
): { oauth: boolean; basic: boolean; apiKeys: boolean; keyHeader: string; basicRoles: ReadonlySet<string> | undefined; byContext: string | undefined; keyManagers: ReadonlySet<string> | undefined } {
  const schemes = api.securitySchemes ?? [];
  const apiKeys = schemes.includes('api_key');
  const basic = schemes.includes('basic_auth');
  const oauth = schemes.includes('oauth2') || (!apiKeys && !basic);
  return {
    oauth,
    basic,
    apiKeys,
    keyHeader: (api.apiKeyHeader || 'apikey').toLowerCase(),
    basicRoles: basic ? rolesFor(api, operation.scopes) : undefined,
    // How the API's keys name it: by id (read from the call), or by versioned context and version.
    byContext: apiKeys ? `${basePaths(api)[0]}\n${api.version}` : undefined,
    keyManagers: oauth ? allowedKeyManagers(api) : undefined,
  };
}

/**
 * Authentication with the subscription and scope checks that follow it (WSO2's
 * APIAuthenticationHandler), by the API's security schemes:
 *
 * - `oauth2` (the default): bearer tokens of the key managers the API allows (its `keyManagers`,
 *   default all). JWTs are verified offline against their issuer's keys, once per token (cached
 *   until `exp`); opaque tokens are introspected (RFC 7662), once per token and key manager (a
 *   bounded cache keyed by an HMAC of the token), at the allowed key managers that introspect, in
 *   order (ours first, then the external ones by name), until one says `active`: a token goes to
 *   no key manager the API does not allow, and one key manager's answer counts only for APIs that
 *   allow it. Revocations are checked on every call. A token without application claims (an
 *   external key manager's, or keys mapped with map-keys) counts for the application its
 *   consumer key is mapped to at the key manager that vouched for it.
 * - `api_key`: WSO2's API keys (the `apikey` header, or the API's `apiKeyHeader`): the Resident
 *   Key Manager's self-contained JWTs, naming the API among their subscribed APIs, used from a
 *   permitted address and referer.
 * - `basic_auth`: a user's name and password, checked by the Key Manager (a success cached
 *   briefly under an HMAC of the credentials); no application or subscription, and an operation's
 *   scopes admit the users holding a role bound to one of them.
 *
 * The `Authorization` header (or API key) is never forwarded to the backend; a bearer token is
 * tried first when both it and an API key are sent. Operations with auth type `None` get no hooks
 * at all: nothing is checked, and the request's headers go to the backend as sent.
 */
export function createAuthenticationPolicy(deps: { verifier: TokenVerifier; data: GatewayData; trustForwardedFor?: boolean }): Policy {
  const { verifier, data } = deps;
  const trustForwardedFor = deps.trustForwardedFor ?? false;
  return {
    name: 'authentication',
    priority: 1800,
    // Routes with the same schemes, key header and scopes share their hooks (all the OAuth2
    // routes of a gateway, typically); the API's id comes from the call.
    shareKey(api, operation) {
      if (operation.authType === 'None') return '';
      const c = settingsOf(api, operation);
      return `${c.oauth ? 'o' : ''}${c.basic ? 'b' : ''}${c.apiKeys ? 'k' : ''}\n${c.keyHeader}\n${JSON.stringify(operation.scopes)}\n${c.basicRoles === undefined ? '*' : JSON.stringify([...c.basicRoles])}\n${c.byContext ?? ''}\n${c.keyManagers === undefined ? '*' : JSON.stringify([...c.keyManagers])}`;
    },
    create(api, operation) {
      if (operation.authType === 'None') return undefined;
      const required = operation.scopes;
      const { oauth, basic, apiKeys, keyHeader, basicRoles, byContext, keyManagers } = settingsOf(api, operation);
      const authorization = oauth || basic;
      const { missing, invalid: invalidReply } = replies(oauth, basic, apiKeys, keyHeader);
      const decideKey = (ctx: RequestContext, key: VerifiedApiKey): LocalReply | undefined => {
        if (data.isRevoked(key.jti)) return invalidReply;
        if (!key.subscribedApis.has(ctx.api.id) && (byContext === undefined || !key.subscribedApis.has(byContext))) return keyNotForApi;
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
        if (data.isRevoked(token.jti)) return invalidReply;
        // WSO2: a token of a key manager the API does not allow is invalid for it.
        if (keyManagers !== undefined && (token.keyManager === undefined || !keyManagers.has(token.keyManager))) return invalidReply;
        if (required.length > 0 && !required.some((s) => token.scopes.includes(s))) return scopeDenied;
        return decide(ctx, token.application === undefined ? (data.resolveApplication(token) ?? token) : token, 'authorization');
      };
      const decide = (ctx: RequestContext, token: VerifiedToken, credentialHeader: string): LocalReply | undefined => {
        const app = token.application;
        if (app === undefined) return notSubscribed;
        const sub = data.subscription(app.id, ctx.api.id);
        if (sub === undefined || sub.status === 'ON_HOLD' || sub.status === 'REJECTED') return notSubscribed;
        if (sub.status === 'BLOCKED' || (sub.status === 'PROD_ONLY_BLOCKED' && token.keyType === 'PRODUCTION')) return subscriptionBlocked;
        ctx.keyType = token.keyType;
        ctx.token = token;
        // RFC 9700 §4.13 spirit: the client's credentials never reach the backend.
        (ctx.dropHeaders ??= []).push(credentialHeader);
        return undefined;
      };
      const decideBasic = (ctx: RequestContext, who: BasicIdentity): LocalReply | undefined => {
        if (basicRoles !== undefined && !roleMatch(who.roles, basicRoles)) return roleDenied;
        // WSO2's basic auth: no application, so no subscription; throttled per user and API.
        ctx.keyType = 'PRODUCTION';
        ctx.token = who.token;
        (ctx.dropHeaders ??= []).push('authorization');
        return undefined;
      };
      // The key managers this API's opaque tokens may go to, recomputed when they change.
      let opaqueAll: readonly OpaqueTokens[] | undefined;
      let opaqueAllowed: readonly OpaqueTokens[] = [];
      const opaqueCandidates = (): readonly OpaqueTokens[] => {
        const all = verifier.opaqueKeyManagers;
        if (all !== opaqueAll) {
          opaqueAll = all;
          opaqueAllowed = keyManagers === undefined ? all : all.filter((o) => keyManagers.has(o.keyManager.name));
        }
        return opaqueAllowed;
      };
      // Past the cached answers: ask the rest in order. One that cannot answer (down, slow,
      // refusing our client) makes the call 503 unless a later one vouches for the token.
      const introspectFrom = async (ctx: RequestContext, token: string, list: readonly OpaqueTokens[], start: number, firstKey: string): Promise<LocalReply | undefined> => {
        let down = false;
        for (let i = start; i < list.length; i++) {
          const o = list[i];
          let key = firstKey;
          if (i > start) {
            if (!o.configured || !o.handles(token)) continue;
            key = o.keyOf(token);
            const hit = o.cached(key);
            if (hit === null) continue;
            if (hit !== undefined) return decideToken(ctx, hit);
          }
          const r = await o.introspect(key, token);
          if (r === UNAVAILABLE) down = true;
          else if (r !== null) return decideToken(ctx, r);
        }
        return down ? unavailable : invalidReply;
      };
      // An opaque token, which only a key manager can tell about: answered from the caches while
      // they know (no promise), else by introspection.
      const opaqueToken = (ctx: RequestContext, token: string, list: readonly OpaqueTokens[]): LocalReply | undefined | Promise<LocalReply | undefined> => {
        for (let i = 0; i < list.length; i++) {
          const o = list[i];
          if (!o.configured || !o.handles(token)) continue;
          const key = o.keyOf(token);
          const hit = o.cached(key);
          if (hit === null) continue;
          if (hit !== undefined) return decideToken(ctx, hit);
          return introspectFrom(ctx, token, list, i, key);
        }
        return invalidReply;
      };
      const bearer = (ctx: RequestContext, tokenString: string): LocalReply | undefined | Promise<LocalReply | undefined> => {
        if (tokenString.includes('.')) {
          const hit = verifier.cached(tokenString);
          if (hit !== undefined) return decideToken(ctx, hit);
          return verifier.verify(tokenString).then((r) => {
            if (r.ok) return decideToken(ctx, r.token);
            if (r.opaque) return opaqueToken(ctx, tokenString, opaqueCandidates());
            const at = r.introspectAt;
            if (at !== undefined && (keyManagers === undefined || keyManagers.has(at.keyManager.name))) return opaqueToken(ctx, tokenString, [at]);
            return invalidReply;
          });
        }
        return opaqueToken(ctx, tokenString, opaqueCandidates());
      };
      const basicAuth = (ctx: RequestContext, credentials: string): LocalReply | undefined | Promise<LocalReply | undefined> => {
        const users = verifier.basic;
        const key = users.keyOf(credentials);
        const hit = users.cached(key);
        if (hit === null) return invalidReply;
        if (hit !== undefined) return decideBasic(ctx, hit);
        const decoded = Buffer.from(credentials, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon < 1) return invalidReply;
        const address = clientAddress(ctx.req, trustForwardedFor);
        return users
          .authenticate(key, decoded.slice(0, colon), decoded.slice(colon + 1), isIP(address) === 0 ? undefined : address)
          .then((r) => (r === UNAVAILABLE ? unavailable : r === null ? invalidReply : decideBasic(ctx, r)));
      };
      return {
        access(ctx) {
          const raw = ctx.req.rawHeaders;
          let header: string | undefined;
          let key: string | undefined;
          for (let i = 0; i < raw.length; i += 2) {
            const n = raw[i];
            if (authorization && n.length === 13 && n.toLowerCase() === 'authorization') {
              if (header !== undefined) return invalidReply; // two Authorization headers: refuse, never pick one
              header = raw[i + 1];
            } else if (apiKeys && n.length === keyHeader.length && n.toLowerCase() === keyHeader) {
              if (key !== undefined) return invalidReply; // two API keys: the same
              key = raw[i + 1];
            }
          }
          if (header !== undefined && header !== '') {
            if (oauth) {
              // A token already verified is its own proof of form (it passed BEARER before it was
              // cached): look it up before running the pattern over a few hundred characters.
              if (header.startsWith('Bearer ')) {
                const hit = verifier.cached(header.slice(7));
                if (hit !== undefined) return decideToken(ctx, hit);
              }
              const m = BEARER.exec(header);
              if (m !== null) return bearer(ctx, m[1]);
            }
            if (basic) {
              const m = BASIC.exec(header);
              if (m !== null) return basicAuth(ctx, m[1]);
            }
            return invalidReply;
          }
          if (key === undefined || key === '') return missing;
          const hit = verifier.cachedApiKey(key);
          if (hit !== undefined) return decideKey(ctx, hit);
          return verifier.verifyApiKey(key).then((r) => (r.ok ? decideKey(ctx, r.key) : invalidReply));
        },
      };
    },
  };
}

function roleMatch(have: ReadonlySet<string>, allowed: ReadonlySet<string>): boolean {
  for (const r of allowed) if (have.has(r)) return true;
  return false;
}
