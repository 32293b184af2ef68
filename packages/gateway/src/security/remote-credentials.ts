import { randomUUID } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { CredentialAuthority, IntrospectionAnswer, Introspector } from './credential-authority.ts';
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
class RemoteChecks<V, A> {
  protected authority: A | undefined;
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
  setAuthority(authority: A | undefined, onError?: (err: Error) => void): void {
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

  protected check(key: string, run: (authority: A) => Promise<{ value: V; until: number } | null>): Promise<RemoteCheck<V>> {
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

/** Which key manager an {@link OpaqueTokens} asks, and how its answers read. */
export interface OpaqueIssuer {
  /** The key manager's name in Admin: what API `keyManagers` lists and key mappings name. */
  readonly name: string;
  /** Its issuer, for tokens whose answer has no `iss`. */
  readonly issuer?: string;
  /** The claim holding the consumer key when the answer has no `client_id` (WSO2's `consumerKeyClaim`). */
  readonly consumerKeyClaim?: string;
  /** The claim holding the scopes when the answer has no `scope` (WSO2's `scopesClaim`). */
  readonly scopesClaim?: string;
}

/**
 * Opaque access tokens of one key manager (the Resident Key Manager by default), introspected
 * (RFC 7662) with the gateway's client there. What introspection said is kept until the token's
 * `exp`, and never longer than `maxTtlMs`, so a change the gateway missed an event for (a
 * revocation, a deleted client) holds at most that long; revocations that do arrive are checked
 * by `jti` on every call. Only our own answers' application claims count: an external key
 * manager's tokens name their application through key mappings, as its JWTs do.
 */
export class OpaqueTokens extends RemoteChecks<VerifiedToken, Introspector> {
  readonly #maxTtlMs: number;
  /** The key manager whose tokens these are. */
  readonly keyManager: OpaqueIssuer;
  readonly #patterns: readonly RegExp[] | undefined;

  constructor(options: RemoteCheckOptions & { maxTtlMs?: number; keyManager?: OpaqueIssuer; tokenPatterns?: readonly RegExp[] } = {}) {
    super(options);
    this.#maxTtlMs = options.maxTtlMs ?? 300_000;
    this.keyManager = options.keyManager ?? { name: RESIDENT };
    this.#patterns = options.tokenPatterns;
  }

  /** Whether this key manager handles the token (WSO2's `canHandleToken`: its REFERENCE patterns, when it has some). */
  handles(token: string): boolean {
    const patterns = this.#patterns;
    if (patterns === undefined) return true;
    for (const p of patterns) if (p.test(token)) return true;
    return false;
  }

  introspect(key: string, token: string): Promise<RemoteCheck<VerifiedToken>> {
    return this.check(key, async (authority) => {
      const now = this.now();
      const verified = fromIntrospection(await authority.introspect(token), now, this.keyManager, key, this.#maxTtlMs);
      if (verified === undefined) return null;
      return { value: verified, until: Math.min(verified.exp * 1000, now + this.#maxTtlMs) };
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
export class BasicCredentials extends RemoteChecks<BasicIdentity, CredentialAuthority> {
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

function fromIntrospection(a: IntrospectionAnswer, now: number, km: OpaqueIssuer, key: string, maxTtlMs: number): VerifiedToken | undefined {
  if (a.active !== true) return undefined;
  // RFC 7662 §2.2: token_type is optional; a refresh token is never an access token.
  if (a.token_type !== undefined && (typeof a.token_type !== 'string' || a.token_type.toLowerCase() !== 'bearer')) return undefined;
  const resident = km.name === RESIDENT;
  const clientId = a.client_id ?? (km.consumerKeyClaim === undefined ? undefined : a[km.consumerKeyClaim]);
  const rawScope = a.scope ?? (km.scopesClaim === undefined ? undefined : a[km.scopesClaim]);
  const { sub } = a;
  // Ours always says `exp` and `jti`. RFC 7662 makes both optional: an external answer without
  // `exp` is kept `maxTtlMs`, and one without `jti` gets an id from the token's cache key.
  let exp = a.exp;
  if (exp === undefined && !resident) exp = Math.floor((now + maxTtlMs) / 1000);
  const jti = a.jti ?? (resident ? undefined : `${km.name}:${key}`);
  if (typeof exp !== 'number' || exp * 1000 <= now || typeof jti !== 'string' || typeof clientId !== 'string' || clientId === '') return undefined;
  // WSO2's application claims mean something only in our own answers: an external key manager
  // could name any application, so its tokens go through key mappings.
  const app = resident ? (a.application as Record<string, unknown> | undefined) : undefined;
  const application =
    app && typeof app === 'object' && typeof app.id === 'string'
      ? { id: app.id, name: String(app.name ?? ''), owner: String(app.owner ?? ''), tier: String(app.tier ?? 'Unlimited') }
      : undefined;
  return {
    jti,
    issuer: typeof a.iss === 'string' ? a.iss : (km.issuer ?? km.name),
    subject: typeof sub === 'string' ? sub : typeof a.username === 'string' ? a.username : clientId,
    clientId,
    scopes: typeof rawScope === 'string' ? rawScope.split(' ').filter(Boolean) : Array.isArray(rawScope) ? rawScope.filter((s): s is string => typeof s === 'string') : [],
    exp,
    application,
    keyType: resident && a.keytype === 'SANDBOX' ? 'SANDBOX' : 'PRODUCTION',
    claims: a as JWTPayload,
    keyManager: km.name,
  };
}
