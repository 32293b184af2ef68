import { request, type Dispatcher } from 'undici';

/** RFC 7662 §2.2's answer, as the Key Manager gives it to a gateway's internal client. */
export interface IntrospectionAnswer {
  readonly active: boolean;
  readonly [claim: string]: unknown;
}

/** Whether a user's password is right, and the user's roles when it is. */
export type UserAuthentication = { readonly authenticated: true; readonly username: string; readonly roles: readonly string[] } | { readonly authenticated: false };

/**
 * A key manager's RFC 7662 introspection endpoint, as the gateway's client there. Throws when the
 * key manager cannot be reached, answers late, or refuses the gateway's client; an inactive
 * token is an answer (`active: false`), not an error.
 */
export interface Introspector {
  introspect(token: string): Promise<IntrospectionAnswer>;
}

/**
 * What the gateway asks the control plane about credentials it cannot check offline: opaque
 * access tokens (RFC 7662 introspection) and basic-auth passwords. Both throw when the Key
 * Manager cannot be reached or refuses the gateway's own client; a refused credential is an
 * answer, not an error.
 */
export interface CredentialAuthority extends Introspector {
  /** `clientIp`: the caller's address as the gateway sees it, so lockouts count per end client. */
  authenticateUser(username: string, password: string, clientIp: string | undefined): Promise<UserAuthentication>;
}

/** The Key Manager's path for basic-auth checks (`USER_AUTHENTICATION_PATH` of @gatehouse/key-manager). */
const USER_AUTHENTICATION_PATH = '/oauth2/internal/user-authentication';

const enc = (s: string) => encodeURIComponent(s).replaceAll('%20', '+');

/** RFC 6749 §2.3.1's client_secret_basic: each part form-urlencoded, then base64. */
function basicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(clientSecret)}`).toString('base64')}`;
}

/**
 * A form POST with client_secret_basic that wants a 200 JSON answer; anything else throws.
 * `timeoutMs` bounds the whole call (connect, headers and body), however the server stalls.
 */
async function postForm<T>(url: string, authorization: string, form: Record<string, string>, dispatcher: Dispatcher, timeoutMs: number | undefined): Promise<T> {
  const res = await request(url, {
    method: 'POST',
    dispatcher,
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(form).toString(),
    signal: timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs),
  });
  if (res.statusCode !== 200) {
    const body = (await res.body.json().catch(() => ({}))) as { error?: string; error_description?: string };
    throw new Error(`POST ${url} answered ${res.statusCode}${body.error ? ` ${body.error}: ${body.error_description ?? ''}` : ''}`);
  }
  const answer = (await res.body.json()) as T;
  if (answer === null || typeof answer !== 'object') throw new Error(`POST ${url} answered something other than a JSON object`);
  return answer;
}

/**
 * The Key Manager over HTTP(S), authenticated as the gateway's internal client (client_secret_basic,
 * RFC 6749 §2.3.1): `POST /oauth2/introspect` and the user-authentication endpoint. The client must
 * be internal (registered as `gatehouse-internal-*`): others only see their own tokens.
 */
export function createCredentialAuthority(options: { baseUrl: string; clientId: string; clientSecret: string; dispatcher: Dispatcher; timeoutMs?: number }): CredentialAuthority {
  const authorization = basicAuthorization(options.clientId, options.clientSecret);
  const post = <T>(path: string, form: Record<string, string>) => postForm<T>(`${options.baseUrl}${path}`, authorization, form, options.dispatcher, options.timeoutMs);
  return {
    introspect: (token) => post<IntrospectionAnswer>('/oauth2/introspect', { token, token_type_hint: 'access_token' }),
    async authenticateUser(username, password, clientIp) {
      const answer = await post<{ authenticated?: unknown; username?: unknown; roles?: unknown }>(USER_AUTHENTICATION_PATH, clientIp ? { username, password, client_ip: clientIp } : { username, password });
      if (answer.authenticated !== true || typeof answer.username !== 'string' || !Array.isArray(answer.roles)) return { authenticated: false };
      return { authenticated: true, username: answer.username, roles: answer.roles.filter((r): r is string => typeof r === 'string') };
    },
  };
}

/**
 * An external key manager's introspection endpoint (RFC 7662 §2.1), authenticated with the
 * client configured for it in Admin (client_secret_basic). Each call is bounded by `timeoutMs`.
 */
export function createIntrospectionClient(options: { endpoint: string; clientId: string; clientSecret: string; dispatcher: Dispatcher; timeoutMs: number }): Introspector {
  const authorization = basicAuthorization(options.clientId, options.clientSecret);
  return {
    introspect: (token) => postForm<IntrospectionAnswer>(options.endpoint, authorization, { token, token_type_hint: 'access_token' }, options.dispatcher, options.timeoutMs),
  };
}
