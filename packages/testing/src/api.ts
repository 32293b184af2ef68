/** Calls a REST API with a bearer token; see `api`. */
export interface ApiCaller {
  /**
   * Sends `body` as JSON (a string is sent as is, `FormData` as multipart) with `Authorization:
   * Bearer <token>` when there is a token; `headers` are added last.
   */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  /** `call`, then the parsed JSON body (`undefined` when empty); throws when `expect` is given and the status differs. */
  json<T = Record<string, unknown>>(method: string, path: string, body?: unknown, expect?: number): Promise<T>;
}

/**
 * A tiny JSON caller for a node's REST APIs: `baseUrl` is prefixed to every path.
 *
 * @example
 * ```ts
 * const dp = api(node.baseUrl, token);
 * const app = await dp.json<{ applicationId: string }>('POST', '/api/am/devportal/v3/applications', { name: 'Shop' }, 201);
 * const res = await api(node.baseUrl).call('GET', '/api/am/devportal/v3/apis');
 * ```
 */
export function api(baseUrl: string, token?: string): ApiCaller {
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const raw = typeof body === 'string' || body instanceof FormData;
    return fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined || body instanceof FormData ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: raw ? body : JSON.stringify(body) }),
    });
  };
  return {
    call,
    async json<T>(method: string, path: string, body?: unknown, expect?: number): Promise<T> {
      const res = await call(method, path, body);
      const text = await res.text();
      if (expect !== undefined && res.status !== expect) throw new Error(`${method} ${path}: expected ${expect}, got ${res.status} ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    },
  };
}
