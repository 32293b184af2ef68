import { randomUUID } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { CredentialAuthority, IntrospectionAnswer } from './credential-authority.ts';
import { HashedCache } from './hashed-cache.ts';
import type { VerifiedToken } from './token-verifier.ts';

/** The Key Manager could not answer (down, timing out, or refusing the gateway's client). */
export const UNAVAILABLE = 'unavailable';

/** A credential's check: its identity, `null` when the Key Manager refused it, or {@link UNAVAILABLE}. */
export type RemoteCheck<V> = V | null | typeof UNAVAILABLE;

export interface RemoteCheckOptions {
  /** Identities (successes) kept at most. */
  readonly max?: number;
  /** Refusals kept at most, apart from the identities: a flood of made-up credentials never evicts a good one. */
  readonly maxRefused?: number;
  /** How long a refusal is remembered: the same wrong credential then costs no call. */
  readonly negativeTtlMs?: number;
  /** Checks in flight at most; past that, new credentials are answered {@link UNAVAILABLE} at once. */
  readonly maxPending?: number;
  readonly now?: () => number;
}

/**
 * Credentials the gateway checks through the control plane, each once: a bounded cache keyed by
 * an HMAC of the credential ({@link HashedCache}), one call in flight per credential however many
 * requests carry it, a short memory of refusals, and a cap on calls in flight, so a flood of
 * made-up credentials costs the Key Manager a bounded number of calls.
 */
class RemoteChecks<V> {
  protected authority: CredentialAuthority | undefined;
  protected readonly now: () => number;
  readonly #cache: HashedCache<V>;
  readonly #refused: HashedCache<true>;
  readonly #pending = new Map<string, Promise<RemoteCheck<V>>>();
  readonly #negativeTtlMs: number;
  readonly #maxPending: number;
  #onError: ((err: Error) => void) | undefined;

  constructor(options: RemoteCheckOptions) {
    this.#cache = new HashedCache(options.max ?? 50_000);
    this.#refused = new HashedCache(options.maxRefused ?? 10_000);
    this.#negativeTtlMs = options.negativeTtlMs ?? 5_000;
    this.#maxPending = options.maxPending ?? 256;
    this.now = options.now ?? Date.now;
  }

  /** Where credentials are checked; until set, every check is {@link UNAVAILABLE}. */
  setAuthority(authority: CredentialAuthority | undefined, onError?: (err: Error) => void): void {
    this.authority = authority;
    this.#onError = onError;
    this.#cache.clear();
    this.#refused.clear();
  }

  get configured(): boolean {
    return this.authority !== undefined;
  }

  /** The cache key of a credential. */
  keyOf(credential: string): string {
    return this.#cache.keyOf(credential);
  }

  /** A remembered answer (never a call): the identity, `null` (refused), or undefined (unknown). */
  cached(key: string): V | null | undefined {
    const now = this.now();
    const hit = this.#cache.get(key, now);
    if (hit !== undefined) return hit;
    return this.#refused.get(key, now) === true ? null : undefined;
  }

  forget(key: string): void {
    this.#cache.delete(key);
    this.#refused.delete(key);
  }

  /** Identities kept (refusals are not counted). */
  get size(): number {
    return this.#cache.size;
  }

  protected check(key: string, run: (authority: CredentialAuthority) => Promise<{ value: V; until: number } | null>): Promise<RemoteCheck<V>> {
    const pending = this.#pending.get(key);
    if (pending !== undefined) return pending;
    const authority = this.authority;
    if (authority === undefined || this.#pending.size >= this.#maxPending) return Promise.resolve(UNAVAILABLE);
    const p = run(authority).then(
      (answer): RemoteCheck<V> => {
        this.#pending.delete(key);
        if (answer === null) {
          this.#refused.set(key, true, this.now() + this.#negativeTtlMs);
          return null;
        }
        this.#refused.delete(key);
        this.#cache.set(key, answer.value, answer.until);
        return answer.value;
      },
      (err: unknown): RemoteCheck<V> => {
        this.#pending.delete(key);
        this.#onError?.(err as Error);
        return UNAVAILABLE;
      },
    );
    this.#pending.set(key, p);
    return p;
  }
}

const RESIDENT = 'Resident Key Manager';

/**
 * Opaque access tokens of the Resident Key Manager, introspected (RFC 7662) by the gateway's
 * internal client. What introspection said is kept until the token's `exp`, and never longer than
 * `maxTtlMs`, so a change the gateway missed an event for (a revocation, a deleted client) holds
 * at most that long; revocations that do arrive are checked by `jti` on every call.
 */
export class OpaqueTokens extends RemoteChecks<VerifiedToken> {
  readonly #maxTtlMs: number;

  constructor(options: RemoteCheckOptions & { maxTtlMs?: number } = {}) {
    super(options);
    this.#maxTtlMs = options.maxTtlMs ?? 300_000;
  }

  introspect(key: string, token: string): Promise<RemoteCheck<VerifiedToken>> {
    return this.check(key, async (authority) => {
      const verified = fromIntrospection(await authority.introspect(token), this.now());
      if (verified === undefined) return null;
      return { value: verified, until: Math.min(verified.exp * 1000, this.now() + this.#maxTtlMs) };
    });
  }
}

/** A basic-auth caller: the identity downstream policies see, and the user's roles (lower case). */
export interface BasicIdentity {
  readonly token: VerifiedToken;
  readonly roles: ReadonlySet<string>;
}

/**
 * Basic-auth credentials, checked by the Key Manager; a success is kept `successTtlMs` (a changed
 * password or a removed role holds that long at most), a refusal briefly.
 */
export class BasicCredentials extends RemoteChecks<BasicIdentity> {
  readonly #successTtlMs: number;

  constructor(options: RemoteCheckOptions & { successTtlMs?: number } = {}) {
    super(options);
    this.#successTtlMs = options.successTtlMs ?? 60_000;
  }

  authenticate(key: string, username: string, password: string, clientIp: string | undefined): Promise<RemoteCheck<BasicIdentity>> {
    return this.check(key, async (authority) => {
      const answer = await authority.authenticateUser(username, password, clientIp);
      if (!answer.authenticated) return null;
      const until = this.now() + this.#successTtlMs;
      const claims: JWTPayload = { sub: answer.username };
      const token: VerifiedToken = {
        // A jti of its own per cached identity: caches downstream (backend JWT) key on it.
        jti: `basic:${randomUUID()}`,
        issuer: 'basic-auth',
        subject: answer.username,
        clientId: '',
        scopes: [],
        exp: Math.floor(until / 1000),
        application: undefined,
        keyType: 'PRODUCTION',
        claims,
      };
      return { value: { token, roles: new Set(answer.roles.map((r) => r.toLowerCase())) }, until };
    });
  }
}

function fromIntrospection(a: IntrospectionAnswer, now: number): VerifiedToken | undefined {
  if (a.active !== true) return undefined;
  // RFC 7662 §2.2: token_type is optional; a refresh token is never an access token.
  if (a.token_type !== undefined && (typeof a.token_type !== 'string' || a.token_type.toLowerCase() !== 'bearer')) return undefined;
  const { exp, jti, client_id: clientId, sub, scope } = a;
  if (typeof exp !== 'number' || exp * 1000 <= now || typeof jti !== 'string' || typeof clientId !== 'string') return undefined;
  const app = a.application as Record<string, unknown> | undefined;
  const application =
    app && typeof app === 'object' && typeof app.id === 'string'
      ? { id: app.id, name: String(app.name ?? ''), owner: String(app.owner ?? ''), tier: String(app.tier ?? 'Unlimited') }
      : undefined;
  return {
    jti,
    issuer: typeof a.iss === 'string' ? a.iss : RESIDENT,
    subject: typeof sub === 'string' ? sub : typeof a.username === 'string' ? a.username : clientId,
    clientId,
    scopes: typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [],
    exp,
    application,
    keyType: a.keytype === 'SANDBOX' ? 'SANDBOX' : 'PRODUCTION',
    claims: a as JWTPayload,
    keyManager: RESIDENT,
  };
}
