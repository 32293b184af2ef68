import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JSONWebKeySet, type JWTPayload } from 'jose';
import { sendJson } from '@gatehouse/runtime';
import type { Policy } from '../policy.ts';
import { basePaths } from '../runtime-api.ts';
import type { GatewayData } from '../security/gateway-data.ts';

/**
 * WSO2's backend JWT (`[apim.jwt]`): an assertion of who calls, signed by the gateway, sent to the
 * backend in place of the client's credentials (which authentication already drops).
 *
 * @example
 * ```ts
 * createGateway(config, deps, { backendJwt: { enabled: true, ttlSeconds: 900 } });
 * // the backend verifies `X-JWT-Assertion` against GET /health/jwks of the gateway
 * ```
 */
export interface BackendJwtOptions {
  /** Off by default, as WSO2's `[apim.jwt] enable = false`. */
  readonly enabled: boolean;
  /** The header the assertion travels in; default `X-JWT-Assertion`. */
  readonly header?: string;
  /** Lifetime of one assertion, never past the client token's `exp`; default 900 (WSO2's). */
  readonly ttlSeconds?: number;
  /** `iss` of the assertions; default WSO2's `wso2.org/products/am`. */
  readonly issuer?: string;
  /** Assertions kept (per token and API), oldest out; default 10 000. */
  readonly maxCache?: number;
}

/** Where the gateway serves the assertions' public key: a reserved ops path, never an API path. */
export const BACKEND_JWT_JWKS_PATH = '/health/jwks';

const DIALECT = 'http://wso2.org/claims';
// RFC 7230 token: a header name the upstream request can carry.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Checks the options, listing every problem in one message. */
export function checkBackendJwtOptions(options: BackendJwtOptions): void {
  const problems: string[] = [];
  if (options.header !== undefined && !HEADER_NAME.test(options.header)) problems.push(`header ${JSON.stringify(options.header)} is not a header name`);
  if (options.ttlSeconds !== undefined && (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds < 1)) problems.push(`ttlSeconds must be a positive integer, got ${options.ttlSeconds}`);
  if (options.maxCache !== undefined && (!Number.isInteger(options.maxCache) || options.maxCache < 1)) problems.push(`maxCache must be a positive integer, got ${options.maxCache}`);
  if (options.issuer !== undefined && options.issuer === '') problems.push('issuer must not be empty');
  if (problems.length > 0) throw new Error(`invalid backendJwt options: ${problems.join('; ')}`);
}

type SigningKey = Parameters<SignJWT['sign']>[0];

/**
 * The gateway's own signing key: ES256 (P-256), generated in memory at start and never stored, so
 * a restart rotates it and every gateway node has its own (a backend behind several nodes trusts
 * each node's JWKS; the `kid` is the key's RFC 7638 thumbprint).
 */
export class BackendJwtSigner {
  readonly issuer: string;
  #key: SigningKey | undefined;
  #kid = '';
  #jwks: JSONWebKeySet = { keys: [] };

  constructor(issuer: string) {
    this.issuer = issuer;
  }

  async start(): Promise<void> {
    if (this.#key !== undefined) return;
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    this.#kid = await calculateJwkThumbprint(jwk);
    this.#jwks = { keys: [{ ...jwk, kid: this.#kid, alg: 'ES256', use: 'sig' }] };
    this.#key = privateKey;
  }

  /** The public keys backends verify with. */
  jwks(): JSONWebKeySet {
    return this.#jwks;
  }

  /** Answers `GET /health/jwks`; true when the path was this one. */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url;
    if (url === undefined || !url.startsWith(BACKEND_JWT_JWKS_PATH) || (url.length > BACKEND_JWT_JWKS_PATH.length && url[BACKEND_JWT_JWKS_PATH.length] !== '?')) return false;
    sendJson(res, 200, this.#jwks);
    return true;
  }

  sign(claims: JWTPayload): Promise<string> {
    const key = this.#key;
    if (key === undefined) return Promise.reject(new Error('the backend JWT signer has not started'));
    return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: this.#kid }).sign(key);
  }
}

interface Cached {
  readonly jwt: string;
  /** Epoch ms after which the assertion is signed again. */
  readonly until: number;
}

/**
 * The `backend-jwt` policy: on secured operations, adds the signed assertion of the caller (WSO2's
 * `http://wso2.org/claims/*`) to the upstream request. Never signs per request: an assertion is
 * cached per (issuer, token `jti`, API) until shortly before it expires, or until the client's
 * token does; the first call of a token waits for the signature, later calls are synchronous
 * hits. Claims are fixed for the assertion's life (a subscription tier change shows at renewal).
 * A header of that name sent by the client is dropped on every operation, so a backend never
 * sees a client's assertion as the gateway's. Disabled (no `signer`), it gives no hooks at all.
 */
export function createBackendJwtPolicy(deps: { data: GatewayData; signer?: BackendJwtSigner; options?: BackendJwtOptions; now?: () => number }): Policy {
  const { data, signer } = deps;
  const options = deps.options ?? { enabled: false };
  const header = options.header ?? 'X-JWT-Assertion';
  const drop = header.toLowerCase();
  const ttl = options.ttlSeconds ?? 900;
  // Renewed this long before `exp`, so no assertion reaches a backend about to expire.
  const marginMs = Math.min(30, Math.floor(ttl / 10)) * 1000;
  const maxCache = options.maxCache ?? 10_000;
  const now = deps.now ?? Date.now;
  const cache = new Map<string, Cached>();
  const pending = new Map<string, Promise<string>>();

  const remember = (key: string, value: Cached): void => {
    if (cache.size >= maxCache) {
      const oldest = cache.keys().next(); // Map keeps insertion order
      if (!oldest.done) cache.delete(oldest.value);
    }
    cache.set(key, value);
  };

  return {
    name: 'backend-jwt',
    priority: 1400,
    // Two hooks objects at most, one for unsecured and one for secured routes: the API is read
    // from the call.
    shareKey: (_api, operation) => (signer === undefined || !options.enabled ? '' : operation.authType === 'None' ? 'none' : 'secured'),
    create(_api, operation) {
      if (signer === undefined || !options.enabled) return undefined;
      if (operation.authType === 'None') {
        return {
          access(ctx) {
            (ctx.dropHeaders ??= []).push(drop);
            return undefined;
          },
        };
      }
      const addAssertion = (headers: [string, string][] | undefined, jwt: string): [string, string][] => {
        const out = headers ?? [];
        out.push([header, jwt]);
        return out;
      };
      return {
        access(ctx) {
          (ctx.dropHeaders ??= []).push(drop);
          const token = ctx.token;
          if (token === undefined) return undefined;
          const api = ctx.api;
          const apiId = api.id;
          // RFC 7519 §4.1.7: a jti is unique per issuer only.
          const key = `${token.issuer}\n${token.jti}\n${apiId}`;
          const t = now();
          const hit = cache.get(key);
          if (hit !== undefined && hit.until > t) {
            ctx.addHeaders = addAssertion(ctx.addHeaders, hit.jwt);
            return undefined;
          }
          let signing = pending.get(key);
          if (signing === undefined) {
            const app = token.application;
            const iat = Math.floor(t / 1000);
            const exp = Math.min(iat + ttl, Math.floor(token.exp));
            const claims: JWTPayload = {
              iss: signer.issuer,
              sub: token.subject,
              iat,
              exp,
              jti: randomUUID(),
              [`${DIALECT}/subscriber`]: app?.owner ?? token.subject,
              [`${DIALECT}/applicationid`]: app?.id,
              [`${DIALECT}/applicationname`]: app?.name,
              [`${DIALECT}/applicationtier`]: app?.tier,
              [`${DIALECT}/apiname`]: api.name,
              [`${DIALECT}/apicontext`]: basePaths(api)[0],
              [`${DIALECT}/version`]: api.version,
              [`${DIALECT}/tier`]: app ? data.subscription(app.id, apiId)?.tier : undefined,
              [`${DIALECT}/keytype`]: token.keyType,
              [`${DIALECT}/enduser`]: token.subject,
            };
            // Capped by the token: it serves until the token itself is refused; else renewed early.
            const until = exp < iat + ttl ? exp * 1000 : exp * 1000 - marginMs;
            signing = signer.sign(claims).then(
              (jwt) => {
                pending.delete(key);
                remember(key, { jwt, until });
                return jwt;
              },
              (err: unknown) => {
                pending.delete(key);
                throw err;
              },
            );
            pending.set(key, signing);
          }
          return signing.then((jwt) => {
            ctx.addHeaders = addAssertion(ctx.addHeaders, jwt);
            return undefined;
          });
        },
      };
    },
  };
}
