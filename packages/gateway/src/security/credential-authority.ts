import { request, type Dispatcher } from 'undici';

/** RFC 7662 §2.2's answer, as the Key Manager gives it to a gateway's internal client. */
export interface IntrospectionAnswer {
  readonly active: boolean;
  readonly [claim: string]: unknown;
}

/** Whether a user's password is right, and the user's roles when it is. */
export type UserAuthentication = { readonly authenticated: true; readonly username: string; readonly roles: readonly string[] } | { readonly authenticated: false };

/**
 * What the gateway asks the control plane about credentials it cannot check offline: opaque
 * access tokens (RFC 7662 introspection) and basic-auth passwords. Both throw when the Key
 * Manager cannot be reached or refuses the gateway's own client; a refused credential is an
 * answer, not an error.
 */
export interface CredentialAuthority {
  introspect(token: string): Promise<IntrospectionAnswer>;
  /** `clientIp`: the caller's address as the gateway sees it, so lockouts count per end client. */
  authenticateUser(username: string, password: string, clientIp: string | undefined): Promise<UserAuthentication>;
}

/** The Key Manager's path for basic-auth checks (`USER_AUTHENTICATION_PATH` of @gatehouse/key-manager). */
const USER_AUTHENTICATION_PATH = '/oauth2/internal/user-authentication';

/**
 * The Key Manager over HTTP(S), authenticated as the gateway's internal client (client_secret_basic,
 * RFC 6749 §2.3.1): `POST /oauth2/introspect` and the user-authentication endpoint. The client must
 * be internal (registered as `gatehouse-internal-*`): others only see their own tokens.
 */
export function createCredentialAuthority(options: { baseUrl: string; clientId: string; clientSecret: string; dispatcher: Dispatcher }): CredentialAuthority {
  const enc = (s: string) => encodeURIComponent(s).replaceAll('%20', '+');
  const authorization = `Basic ${Buffer.from(`${enc(options.clientId)}:${enc(options.clientSecret)}`).toString('base64')}`;
  async function post<T>(path: string, form: Record<string, string>): Promise<T> {
    const res = await request(`${options.baseUrl}${path}`, {
      method: 'POST',
      dispatcher: options.dispatcher,
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
    });
    if (res.statusCode !== 200) {
      const body = (await res.body.json().catch(() => ({}))) as { error?: string; error_description?: string };
      throw new Error(`POST ${path} answered ${res.statusCode}${body.error ? ` ${body.error}: ${body.error_description ?? ''}` : ''}`);
    }
    return (await res.body.json()) as T;
  }
  return {
    introspect: (token) => post<IntrospectionAnswer>('/oauth2/introspect', { token, token_type_hint: 'access_token' }),
    async authenticateUser(username, password, clientIp) {
      const answer = await post<{ authenticated?: unknown; username?: unknown; roles?: unknown }>(USER_AUTHENTICATION_PATH, clientIp ? { username, password, client_ip: clientIp } : { username, password });
      if (answer.authenticated !== true || typeof answer.username !== 'string' || !Array.isArray(answer.roles)) return { authenticated: false };
      return { authenticated: true, username: answer.username, roles: answer.roles.filter((r): r is string => typeof r === 'string') };
    },
  };
}
