import type { Auth } from './auth.ts';
import { parseProblem, type ProblemDetails } from './wso2-error.ts';

/** A failed call: the HTTP status and WSO2's error body, parsed (message, per-field messages). */
export class ApiError extends Error {
  readonly problem: ProblemDetails;
  constructor(problem: ProblemDetails) {
    super(problem.message);
    this.name = 'ApiError';
    this.problem = problem;
  }
  get status(): number {
    return this.problem.status;
  }
}

export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** A JSON body (serialised), or FormData / URLSearchParams / Blob sent as they are. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  /** Call without a token even when signed in (the Developer Portal's anonymous catalogue does not need one). */
  readonly anonymous?: boolean;
}

export interface ApiClientDeps {
  readonly fetch: typeof fetch;
  /** Base for relative paths; the page's origin by default. */
  readonly origin: string;
  /** Called when the session cannot be renewed: the app signs in again and comes back here. */
  readonly onSignInRequired: () => void;
}

/**
 * fetch for the management REST APIs: adds the bearer token, answers JSON, and turns an error
 * into an {@link ApiError}. On a 401 it refreshes the session once and retries; when that fails
 * it asks for a new sign-in (`onSignInRequired`) and throws.
 *
 * @example
 * ```ts
 * const api = new ApiClient(auth, { onSignInRequired: () => auth.signIn(location.pathname) });
 * const apis = await api.get<ApiList>('/api/am/publisher/v4/apis', { query: { query: 'pets', limit: 25 } });
 * await api.post('/api/am/admin/v4/throttling/policies/application', { body: policy });
 * ```
 */
export class ApiClient {
  #auth: Auth;
  #deps: ApiClientDeps;

  constructor(auth: Auth, deps: Partial<ApiClientDeps> & Pick<ApiClientDeps, 'onSignInRequired'>) {
    this.#auth = auth;
    this.#deps = { fetch: deps.fetch ?? ((input, init) => fetch(input, init)), origin: deps.origin ?? window.location.origin, onSignInRequired: deps.onSignInRequired };
  }

  get<T>(path: string, options?: RequestOptions): Promise<T> {
    return this.request<T>('GET', path, options);
  }
  post<T>(path: string, options?: RequestOptions): Promise<T> {
    return this.request<T>('POST', path, options);
  }
  put<T>(path: string, options?: RequestOptions): Promise<T> {
    return this.request<T>('PUT', path, options);
  }
  delete<T = void>(path: string, options?: RequestOptions): Promise<T> {
    return this.request<T>('DELETE', path, options);
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = new URL(path, this.#deps.origin);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    let body: BodyInit | undefined;
    const b = options.body;
    if (b instanceof FormData || b instanceof URLSearchParams || b instanceof Blob || typeof b === 'string') body = b;
    else if (b !== undefined) {
      body = JSON.stringify(b);
      headers['content-type'] = 'application/json';
    }
    const send = async (token: string | undefined) =>
      this.#deps.fetch(url, { method, headers: token ? { ...headers, authorization: `Bearer ${token}` } : headers, body, signal: options.signal }).catch((err: unknown) => {
        if ((err as { name?: string }).name === 'AbortError') throw err;
        throw new ApiError(parseProblem(0, undefined));
      });
    const token = options.anonymous ? undefined : await this.#auth.accessToken();
    let res = await send(token);
    if (res.status === 401 && token !== undefined) {
      // Revoked or expired early: one refresh, one retry, then a new sign-in.
      const renewed = await this.#auth.refresh();
      if (renewed) res = await send(renewed.accessToken);
      if (res.status === 401) this.#deps.onSignInRequired();
    } else if (res.status === 401 && !options.anonymous) {
      this.#deps.onSignInRequired();
    }
    const text = await res.text();
    let parsed: unknown = text;
    if (text !== '' && (res.headers.get('content-type') ?? '').includes('json')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    if (!res.ok) throw new ApiError(parseProblem(res.status, parsed));
    return (text === '' ? undefined : parsed) as T;
  }
}
