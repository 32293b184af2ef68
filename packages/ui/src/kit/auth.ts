import { jwtPayload, randomToken, s256 } from './pkce.ts';
import type { RuntimeConfig } from './config.ts';
import { parseProblem } from './wso2-error.ts';

/** A signed-in user's tokens, kept in sessionStorage (this tab only, gone when it closes). */
export interface Session {
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
  /** Epoch ms. */
  readonly expiresAt: number;
  /** The scopes the Key Manager granted (the requested ones the user's roles allow). */
  readonly scopes: readonly string[];
  readonly username: string;
}

interface PendingSignIn {
  readonly verifier: string;
  readonly returnTo: string;
  readonly createdAt: number;
}

interface Metadata {
  readonly issuer: string;
}

export interface AuthDeps {
  readonly storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  /** Full-page navigation (to the Key Manager's sign-in page). */
  readonly navigate: (url: string) => void;
  /** The app's origin, for the redirect URI. */
  readonly origin: string;
  readonly fetch: typeof fetch;
  readonly now: () => number;
}

/** Refresh this long before the access token expires, so a request never leaves with a dying token. */
const REFRESH_MARGIN_MS = 60_000;
const PENDING_TTL_MS = 15 * 60_000;

/**
 * Sign-in to one app through the Key Manager: authorization code with PKCE S256 (RFC 7636), a
 * public client (no secret), RFC 9207's `iss` checked, tokens in sessionStorage. Refreshes
 * (with rotation) before expiry; when that fails the session is dropped and the app signs in again.
 *
 * @example
 * ```ts
 * const auth = new Auth(config, ['openid', 'apim:api_view']);
 * if (!auth.session) await auth.signIn('/apis');       // leaves the page
 * const token = await auth.accessToken();               // fresh, refreshed if needed
 * ```
 */
export class Auth {
  readonly config: RuntimeConfig;
  readonly scopes: readonly string[];
  #deps: AuthDeps;
  #listeners = new Set<() => void>();
  #metadata: Promise<Metadata> | undefined;
  #refreshing: Promise<Session | undefined> | undefined;
  #session: Session | undefined;
  #signedOut = false;

  constructor(config: RuntimeConfig, scopes: readonly string[], deps?: Partial<AuthDeps>) {
    this.config = config;
    this.scopes = scopes;
    this.#deps = {
      storage: deps?.storage ?? sessionStorage,
      navigate: deps?.navigate ?? ((url) => window.location.assign(url)),
      origin: deps?.origin ?? window.location.origin,
      fetch: deps?.fetch ?? ((input, init) => fetch(input, init)),
      now: deps?.now ?? Date.now,
    };
    this.#session = this.#read<Session>(this.#key('session'));
  }

  get session(): Session | undefined {
    return this.#session;
  }

  /** True after `signOut()` in this page, until the next sign-in: the app shows "signed out" instead of signing in again. */
  get signedOut(): boolean {
    return this.#signedOut;
  }

  get redirectUri(): string {
    return `${this.#deps.origin}${this.config.basePath}/callback`;
  }

  /** Whether the session holds at least one of the scopes (or, with none given, exists). */
  hasAnyScope(scopes: readonly string[] | undefined): boolean {
    const s = this.#session;
    if (!s) return false;
    return !scopes || scopes.length === 0 || scopes.some((x) => s.scopes.includes(x));
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Leaves for the Key Manager's sign-in page; comes back to `returnTo` (a path inside the app). */
  async signIn(returnTo = '/'): Promise<void> {
    this.#signedOut = false;
    await this.#meta(); // fail here, on this page, when the Key Manager cannot be reached
    const state = randomToken();
    const verifier = randomToken() + randomToken(); // 86 characters (RFC 7636 §4.1 allows 43-128)
    this.#write(this.#key(`pending.${state}`), { verifier, returnTo: safePath(returnTo), createdAt: this.#deps.now() } satisfies PendingSignIn);
    const url = new URL(this.#endpoint('authorize'));
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.config.keyManager.clientId,
      redirect_uri: this.redirectUri,
      scope: this.scopes.join(' '),
      state,
      code_challenge: await s256(verifier),
      code_challenge_method: 'S256',
    }).toString();
    this.#deps.navigate(url.href);
  }

  /**
   * Completes a sign-in on `/callback?code&state&iss`: checks the state and the issuer, redeems
   * the code with the verifier. Returns the path to go back to. Throws a message to show.
   */
  async completeSignIn(search: string): Promise<string> {
    const params = new URLSearchParams(search);
    const state = params.get('state') ?? '';
    const pendingKey = this.#key(`pending.${state}`);
    const pending = state ? this.#read<PendingSignIn>(pendingKey) : undefined;
    this.#deps.storage.removeItem(pendingKey);
    if (params.get('error')) throw new Error(params.get('error_description') ?? params.get('error') ?? 'the sign-in failed');
    if (!pending || this.#deps.now() - pending.createdAt > PENDING_TTL_MS) throw new Error('This sign-in was not started here or took too long. Sign in again.');
    const meta = await this.#meta();
    // RFC 9207: the answer must come from the issuer we sent the user to (mix-up attacks).
    const iss = params.get('iss');
    if (iss !== null && iss !== meta.issuer) throw new Error('The sign-in answer came from an unexpected issuer.');
    const code = params.get('code');
    if (!code) throw new Error('The sign-in answer has no authorization code.');
    const session = await this.#token({ grant_type: 'authorization_code', code, redirect_uri: this.redirectUri, code_verifier: pending.verifier });
    this.#set(session);
    return pending.returnTo;
  }

  /** A valid access token (refreshed when close to expiry), or undefined when not signed in. */
  async accessToken(): Promise<string | undefined> {
    const s = this.#session;
    if (!s) return undefined;
    if (s.expiresAt - this.#deps.now() > REFRESH_MARGIN_MS) return s.accessToken;
    return (await this.refresh())?.accessToken;
  }

  /** Rotates the tokens with the refresh token; one refresh at a time. Drops the session when it fails. */
  refresh(): Promise<Session | undefined> {
    this.#refreshing ??= (async () => {
      const s = this.#session;
      try {
        if (!s?.refreshToken) throw new Error('no refresh token');
        const next = await this.#token({ grant_type: 'refresh_token', refresh_token: s.refreshToken });
        this.#set(next);
        return next;
      } catch {
        this.#set(undefined);
        return undefined;
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  /** Revokes the refresh token (which ends its grant and so the access token's) and forgets the session. */
  async signOut(): Promise<void> {
    const s = this.#session;
    this.#signedOut = true;
    this.#set(undefined);
    if (!s) return;
    try {
      const revoke = (token: string, hint: string) =>
        this.#deps.fetch(this.#endpoint('revoke'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token, token_type_hint: hint, client_id: this.config.keyManager.clientId }) });
      await Promise.all([revoke(s.accessToken, 'access_token'), s.refreshToken ? revoke(s.refreshToken, 'refresh_token') : undefined]);
    } catch {
      // Signed out locally whatever the Key Manager says; the access token expires on its own.
    }
  }

  /**
   * The Key Manager's endpoints on the console's own origin (or `keyManager.url`), not the
   * absolute ones of its metadata: those carry `server.public_url`, which may be another port
   * or scheme than the page, and the token endpoint answers no cross-origin request.
   */
  #endpoint(name: 'authorize' | 'token' | 'revoke'): string {
    return new URL(`${this.config.keyManager.url}/oauth2/${name}`, this.#deps.origin).href;
  }

  /** The Key Manager's metadata (RFC 8414), read for its `issuer` (RFC 9207 check). */
  #meta(): Promise<Metadata> {
    this.#metadata ??= (async () => {
      const res = await this.#deps.fetch(new URL(`${this.config.keyManager.url}/.well-known/oauth-authorization-server`, this.#deps.origin).href, { headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error(`the Key Manager could not be reached (HTTP ${res.status})`);
      return (await res.json()) as Metadata;
    })();
    this.#metadata.catch(() => (this.#metadata = undefined));
    return this.#metadata;
  }

  async #token(params: Record<string, string>): Promise<Session> {
    const res = await this.#deps.fetch(this.#endpoint('token'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ ...params, client_id: this.config.keyManager.clientId }),
    });
    const body: unknown = await res.json().catch(() => undefined);
    if (!res.ok) throw new Error(parseProblem(res.status, body).message);
    const t = body as { access_token: string; refresh_token?: string; expires_in: number; scope?: string };
    const claims = jwtPayload(t.access_token);
    return {
      accessToken: t.access_token,
      refreshToken: t.refresh_token,
      expiresAt: this.#deps.now() + t.expires_in * 1000,
      scopes: (t.scope ?? '').split(' ').filter((s) => s !== '' && s !== 'default'),
      username: typeof claims?.sub === 'string' ? claims.sub : 'user',
    };
  }

  #set(session: Session | undefined): void {
    this.#session = session;
    if (session) this.#write(this.#key('session'), session);
    else this.#deps.storage.removeItem(this.#key('session'));
    for (const l of this.#listeners) l();
  }

  #key(name: string): string {
    return `gatehouse.${this.config.app}.${name}`;
  }

  #read<T>(key: string): T | undefined {
    try {
      const raw = this.#deps.storage.getItem(key);
      return raw ? (JSON.parse(raw) as T) : undefined;
    } catch {
      return undefined;
    }
  }

  #write(key: string, value: unknown): void {
    this.#deps.storage.setItem(key, JSON.stringify(value));
  }
}

/** Only a path inside the app: never an absolute URL someone slipped into `returnTo` (open redirect). */
function safePath(path: string): string {
  return path.startsWith('/') && !path.startsWith('//') && !path.includes('\\') ? path : '/';
}
