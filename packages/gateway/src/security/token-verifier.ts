import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { CredentialAuthority, Introspector } from './credential-authority.ts';
import { JwksCache } from '../snapshot-jwks.ts';
import { parseIpOrCidr, type IpRange } from './ip.ts';
import { BasicCredentials, OpaqueTokens, type OpaqueIssuer } from './remote-credentials.ts';

/** A key manager the gateway trusts: ours (resident) or an external OIDC issuer (Admin). */
export interface TrustedIssuer {
  readonly name: string;
  readonly issuer: string;
  /** JWKS URL (fetched, cached, refetched at most once per cooldown on an unknown kid) ... */
  readonly jwksUri?: string;
  /** ... or the keys themselves. */
  readonly jwks?: JSONWebKeySet;
  /** Claim holding the consumer key (WSO2's `consumerKeyClaim`, default `azp`). */
  readonly consumerKeyClaim?: string;
  /** Claim holding the scopes (WSO2's `scopesClaim`, default `scope`). */
  readonly scopesClaim?: string;
  /** Required `aud` value, when the issuer is configured with one. */
  readonly audience?: string;
}

/** What the gateway learned from a verified token; cached until the token's `exp`. */
export interface VerifiedToken {
  readonly jti: string;
  readonly issuer: string;
  readonly subject: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly exp: number;
  /** WSO2's application claims, when the token was issued to an application's keys. */
  readonly application: { readonly id: string; readonly name: string; readonly owner: string; readonly tier: string } | undefined;
  readonly keyType: 'PRODUCTION' | 'SANDBOX';
  readonly claims: JWTPayload;
  /**
   * The key manager that issued it (its name in Admin): with `clientId`, what a key mapping
   * names, for tokens that carry no application claims (an external key manager's, or keys
   * mapped rather than generated).
   */
  readonly keyManager?: string;
}

/**
 * A failure may point at introspection: `opaque`, the token is no JWT at all; `introspectAt`, a
 * JWT of an issuer the gateway has no keys of, but whose key manager introspects its tokens.
 */
export type VerifyResult = { ok: true; token: VerifiedToken } | { ok: false; reason: string; opaque?: true; introspectAt?: OpaqueTokens };

/** An external key manager whose opaque tokens the gateway introspects (RFC 7662). */
export interface IntrospectingKeyManager extends OpaqueIssuer {
  /** Its endpoint with the gateway's client there; what changes it, `config` says. */
  readonly introspector: Introspector;
  /** Endpoint and client, as a string: the same value keeps the key manager's cache. */
  readonly config: string;
  /** WSO2's REFERENCE token handling: the tokens it handles (whole match); undefined: all. */
  readonly tokenPatterns?: readonly RegExp[];
}

/** A verified API key (WSO2's self-contained `apikey` JWT): a token plus what it was issued for. */
export interface VerifiedApiKey extends VerifiedToken {
  /** The subscribed APIs the key names, by id and by `context\nversion`. */
  readonly subscribedApis: ReadonlySet<string>;
  /** `permittedIP`, parsed: the client address must fall in one; undefined: any address. */
  readonly permittedIps: readonly IpRange[] | undefined;
  /** `permittedReferer`, compiled (`*` as a wildcard, whole value): undefined: any referer. */
  readonly permittedReferers: readonly RegExp[] | undefined;
}

export type VerifyApiKeyResult = { ok: true; key: VerifiedApiKey } | { ok: false; reason: string };

const RESIDENT = 'Resident Key Manager';
// An API key has no audience and may have no expiry (the Developer Portal's `validityPeriod` -1).
const API_KEY_REQUIRED = ['iss', 'sub', 'iat', 'jti'];

// RFC 8725 §3.1: an allow-list, never what the token's header says. No HMAC, no `none`.
const ALGORITHMS = ['ES256', 'ES384', 'RS256', 'RS384', 'RS512', 'PS256', 'EdDSA'];
// RFC 9068 §2.2: all of them, always (jose does not require exp by itself).
const REQUIRED = ['iss', 'exp', 'aud', 'sub', 'iat', 'jti'];

/**
 * Offline JWT access-token verification, one signature check per token: a bounded cache keeps
 * verified tokens until their `exp`, and the issuer (`iss`) picks the key set, so a key of one
 * trusted issuer never validates another's token. What cannot be checked offline (opaque tokens,
 * basic-auth passwords) goes to the control plane, once per credential: `opaque` and `basic`.
 */
export class TokenVerifier {
  /** Opaque access tokens of the Resident Key Manager, by introspection. */
  readonly opaque: OpaqueTokens;
  /** Every key manager opaque tokens are introspected at: ours, then the external ones by name. Replaced, never mutated. */
  #opaqueAll: readonly OpaqueTokens[];
  readonly #external = new Map<string, { config: string; tokens: OpaqueTokens }>();
  /** Basic-auth credentials. */
  readonly basic: BasicCredentials;
  readonly #issuers = new Map<string, { issuer: TrustedIssuer; keys: JWTVerifyGetKey }>();
  readonly #cache = new Map<string, VerifiedToken>();
  readonly #apiKeyCache = new Map<string, VerifiedApiKey>();
  readonly #maxCache: number;
  readonly #clockToleranceS: number;
  readonly #now: () => number;
  /** External key managers' fetched keys, kept for the local snapshot and used while their JWKS URI fails. */
  readonly jwks: JwksCache;

  readonly #jwksTimeoutMs: number;

  constructor(options: { maxCache?: number; clockToleranceS?: number; now?: () => number; jwks?: JwksCache; jwksTimeoutMs?: number } = {}) {
    this.#jwksTimeoutMs = options.jwksTimeoutMs ?? 5_000;
    this.#maxCache = options.maxCache ?? 100_000;
    this.#clockToleranceS = options.clockToleranceS ?? 30;
    this.#now = options.now ?? Date.now;
    this.jwks = options.jwks ?? new JwksCache();
    this.opaque = new OpaqueTokens({ now: this.#now });
    this.#opaqueAll = [this.opaque];
    this.basic = new BasicCredentials({ now: this.#now });
  }

  /**
   * Where opaque tokens may be introspected, in the order to ask: the Resident Key Manager, then
   * the external key managers with an introspection endpoint. The same array until they change.
   */
  get opaqueKeyManagers(): readonly OpaqueTokens[] {
    return this.#opaqueAll;
  }

  /**
   * Replaces the external key managers that introspect opaque tokens. One whose `config` is
   * unchanged keeps what it learned; `onError(name)` gives the handler of one's failed calls.
   */
  setIntrospectingKeyManagers(list: readonly IntrospectingKeyManager[], onError?: (name: string) => (err: Error) => void): void {
    const next = new Map<string, { config: string; tokens: OpaqueTokens }>();
    for (const km of [...list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const existing = this.#external.get(km.name);
      if (existing !== undefined && existing.config === km.config) {
        next.set(km.name, existing);
        continue;
      }
      const tokens = new OpaqueTokens({ now: this.#now, keyManager: { name: km.name, issuer: km.issuer, consumerKeyClaim: km.consumerKeyClaim, scopesClaim: km.scopesClaim }, tokenPatterns: km.tokenPatterns });
      tokens.setAuthority(km.introspector, onError?.(km.name));
      next.set(km.name, { config: km.config, tokens });
    }
    this.#external.clear();
    for (const [k, v] of next) this.#external.set(k, v);
    this.#opaqueAll = [this.opaque, ...Array.from(next.values(), (v) => v.tokens)];
  }

  /** Where opaque tokens and basic-auth passwords are checked (the control plane); `onError` hears each failed call. */
  setAuthority(authority: CredentialAuthority | undefined, onError?: (err: Error) => void): void {
    this.opaque.setAuthority(authority, onError);
    this.basic.setAuthority(authority, onError);
  }

  /** Replaces the trusted issuers (on a key manager event); verified tokens of removed ones are forgotten. */
  setIssuers(issuers: readonly TrustedIssuer[]): void {
    const next = new Map<string, { issuer: TrustedIssuer; keys: JWTVerifyGetKey }>();
    for (const issuer of issuers) {
      const existing = this.#issuers.get(issuer.issuer);
      const same = existing && existing.issuer.jwksUri === issuer.jwksUri && existing.issuer.jwks === issuer.jwks;
      const keys = same
        ? existing.keys
        : issuer.jwks
          ? createLocalJWKSet(issuer.jwks)
          : this.jwks.keys(issuer.jwksUri as string, { cooldownDuration: 30_000, timeoutDuration: this.#jwksTimeoutMs, cacheMaxAge: 600_000 });
      next.set(issuer.issuer, { issuer, keys });
    }
    this.#issuers.clear();
    for (const [k, v] of next) this.#issuers.set(k, v);
    for (const [token, v] of this.#cache) if (!next.has(v.issuer)) this.#cache.delete(token);
    for (const [key, v] of this.#apiKeyCache) if (!next.has(v.issuer)) this.#apiKeyCache.delete(key);
  }

  /** A verified token from the cache, if still valid; never a signature check. */
  cached(token: string): VerifiedToken | undefined {
    const hit = this.#cache.get(token);
    if (hit === undefined) return undefined;
    if (hit.exp * 1000 <= this.#now()) {
      this.#cache.delete(token);
      return undefined;
    }
    return hit;
  }

  async verify(token: string): Promise<VerifyResult> {
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      return { ok: false, reason: 'not a JWT', opaque: true };
    }
    const trusted = typeof iss === 'string' ? this.#issuers.get(iss) : undefined;
    if (!trusted) {
      // No keys for this issuer: its key manager may still introspect it (a JWT used as a reference).
      for (const o of this.#opaqueAll) if (o !== this.opaque && o.keyManager.issuer === iss) return { ok: false, reason: 'the token issuer has no keys here', introspectAt: o };
      return { ok: false, reason: 'the token issuer is not trusted' };
    }
    const { issuer } = trusted;
    try {
      const { payload } = await jwtVerify(token, trusted.keys, {
        issuer: issuer.issuer,
        audience: issuer.audience,
        algorithms: ALGORITHMS,
        typ: issuer.name === RESIDENT ? 'at+jwt' : undefined,
        requiredClaims: REQUIRED,
        clockTolerance: this.#clockToleranceS,
        currentDate: new Date(this.#now()),
      });
      const verified = toVerified(payload, issuer);
      if (!verified) return { ok: false, reason: 'the token lacks a client id or has malformed claims' };
      this.#remember(token, verified);
      return { ok: true, token: verified };
    } catch (err) {
      return { ok: false, reason: (err as { code?: string }).code ?? 'invalid token' };
    }
  }

  /** A verified API key from the cache, if still valid; never a signature check. */
  cachedApiKey(key: string): VerifiedApiKey | undefined {
    const hit = this.#apiKeyCache.get(key);
    if (hit === undefined) return undefined;
    if (hit.exp * 1000 <= this.#now()) {
      this.#apiKeyCache.delete(key);
      return undefined;
    }
    return hit;
  }

  /**
   * Verifies an API key: a JWT of the Resident Key Manager only (its issuer picks its keys), with
   * `typ: JWT` (so an access token is never an API key, nor an API key an access token) and
   * `tokenType: apiKey`; `exp` is checked when present. Cached like access tokens.
   */
  async verifyApiKey(key: string): Promise<VerifyApiKeyResult> {
    let iss: unknown;
    try {
      iss = decodeJwt(key).iss;
    } catch {
      return { ok: false, reason: 'not a JWT' };
    }
    const trusted = typeof iss === 'string' ? this.#issuers.get(iss) : undefined;
    if (!trusted || trusted.issuer.name !== RESIDENT) return { ok: false, reason: 'the API key issuer is not trusted' };
    try {
      const { payload } = await jwtVerify(key, trusted.keys, {
        issuer: trusted.issuer.issuer,
        algorithms: ALGORITHMS,
        typ: 'JWT',
        requiredClaims: API_KEY_REQUIRED,
        clockTolerance: this.#clockToleranceS,
        currentDate: new Date(this.#now()),
      });
      const verified = toVerifiedApiKey(payload, trusted.issuer.issuer);
      if (!verified) return { ok: false, reason: 'the API key has malformed claims' };
      this.#remember(key, verified, this.#apiKeyCache);
      return { ok: true, key: verified };
    } catch (err) {
      return { ok: false, reason: (err as { code?: string }).code ?? 'invalid API key' };
    }
  }

  #remember<T>(token: string, verified: T, cache: Map<string, T> = this.#cache as Map<string, T>): void {
    if (cache.size >= this.#maxCache) {
      // Oldest first: Map keeps insertion order.
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
    cache.set(token, verified);
  }

  get cacheSize(): number {
    return this.#cache.size;
  }
}

function toVerified(p: JWTPayload, issuer: TrustedIssuer): VerifiedToken | undefined {
  const clientId = p[issuer.consumerKeyClaim ?? 'azp'] ?? p.client_id;
  if (typeof clientId !== 'string' || typeof p.jti !== 'string' || typeof p.sub !== 'string' || typeof p.exp !== 'number') return undefined;
  const rawScope = p[issuer.scopesClaim ?? 'scope'];
  const scopes = typeof rawScope === 'string' ? rawScope.split(' ').filter(Boolean) : Array.isArray(rawScope) ? rawScope.filter((s): s is string => typeof s === 'string') : [];
  // WSO2's application claims mean something only in our own tokens: an external issuer's
  // `application` claim could name any application, so its tokens go through key mappings.
  const resident = issuer.name === RESIDENT;
  const app = resident ? (p.application as Record<string, unknown> | undefined) : undefined;
  const application =
    app && typeof app === 'object' && typeof app.id === 'string'
      ? { id: app.id, name: String(app.name ?? ''), owner: String(app.owner ?? ''), tier: String(app.tier ?? 'Unlimited') }
      : undefined;
  return {
    jti: p.jti,
    issuer: issuer.issuer,
    subject: p.sub,
    clientId,
    scopes,
    exp: p.exp,
    application,
    keyType: resident && p.keytype === 'SANDBOX' ? 'SANDBOX' : 'PRODUCTION',
    claims: p,
    keyManager: issuer.name,
  };
}

function toVerifiedApiKey(p: JWTPayload, issuer: string): VerifiedApiKey | undefined {
  if (p.tokenType !== 'apiKey' || typeof p.jti !== 'string' || typeof p.sub !== 'string' || !Array.isArray(p.subscribedAPIs)) return undefined;
  if (p.exp !== undefined && typeof p.exp !== 'number') return undefined;
  const app = p.application as Record<string, unknown> | undefined;
  if (!app || typeof app !== 'object' || typeof app.id !== 'string') return undefined;
  const subscribedApis = new Set<string>();
  for (const s of p.subscribedAPIs as unknown[]) {
    if (!s || typeof s !== 'object') continue;
    const { uuid, context, version } = s as Record<string, unknown>;
    if (typeof uuid === 'string') subscribedApis.add(uuid);
    if (typeof context === 'string' && typeof version === 'string') subscribedApis.add(`${context}\n${version}`);
  }
  let permittedIps: IpRange[] | undefined;
  if (typeof p.permittedIP === 'string' && p.permittedIP.trim() !== '') {
    permittedIps = [];
    for (const part of p.permittedIP.split(',')) {
      const r = parseIpOrCidr(part.trim());
      if (r) permittedIps.push(r);
    }
  }
  let permittedReferers: RegExp[] | undefined;
  if (typeof p.permittedReferer === 'string' && p.permittedReferer.trim() !== '') {
    permittedReferers = p.permittedReferer
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean)
      .map((r) => new RegExp(`^${r.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`));
  }
  return {
    jti: p.jti,
    issuer,
    subject: p.sub,
    clientId: `apikey:${app.id}`,
    scopes: [],
    exp: p.exp ?? Number.POSITIVE_INFINITY,
    application: { id: app.id, name: String(app.name ?? ''), owner: String(app.owner ?? ''), tier: String(app.tier ?? 'Unlimited') },
    keyType: p.keytype === 'SANDBOX' ? 'SANDBOX' : 'PRODUCTION',
    claims: p,
    subscribedApis,
    permittedIps,
    permittedReferers,
  };
}
