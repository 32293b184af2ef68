/**
 * HTTP Basic credentials of an OAuth client: RFC 6749 §2.3.1 form-urlencodes the client id and
 * secret before base64 (a space becomes `+`).
 */
export function clientBasicAuth(clientId: string, clientSecret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replaceAll('%20', '+');
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(clientSecret)}`).toString('base64')}`;
}

/** HTTP Basic credentials of a user, as WSO2's DCR endpoint reads them (plain `user:password`). */
export function userBasicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** A client registered through WSO2 DCR. */
export interface RegisteredClient {
  clientId: string;
  clientSecret: string;
  [k: string]: unknown;
}

/** The raw WSO2 DCR call (`POST /client-registration/v0.17/register`), for tests of the endpoint itself. */
export function dcrRequest(baseUrl: string, username: string, password: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${baseUrl}/client-registration/v0.17/register`, {
    method: 'POST',
    headers: { authorization: userBasicAuth(username, password), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

export interface ManagementClient {
  /**
   * Registers a management client as admin (WSO2 DCR, client_credentials + password +
   * refresh_token); `body` overrides fields of the request. `token` uses the latest registration.
   */
  register(body?: Record<string, unknown>): Promise<RegisteredClient>;
  /** A password-grant access token for a user, on the registered client (registered on first use). */
  token(username: string, password: string, scope: string): Promise<string>;
}

/**
 * Gets management tokens from a running node the way WSO2 tools (apictl, the portals) do: WSO2 DCR
 * with the admin's HTTP Basic credentials, then the password grant at `/oauth2/token` with the
 * client's form-urlencoded Basic credentials (RFC 6749 §2.3.1).
 *
 * @example
 * ```ts
 * const mgmt = managementClient(node.baseUrl, node.adminPassword, { clientName: 'admin-tests' });
 * const token = await mgmt.token('admin', node.adminPassword, 'apim:admin apim:tier_view');
 * ```
 */
export function managementClient(baseUrl: string, adminPassword: string, options: { clientName?: string } = {}): ManagementClient {
  let client: RegisteredClient | undefined;
  const register = async (body: Record<string, unknown> = {}) => {
    const res = await dcrRequest(baseUrl, 'admin', adminPassword, {
      clientName: options.clientName ?? 'gatehouse-tests',
      owner: 'admin',
      grantType: 'client_credentials password refresh_token',
      saasApp: true,
      callbackUrl: 'https://localhost',
      ...body,
    });
    // WSO2's DCR answers 200 OK, also for a client that already exists.
    if (res.status !== 200) throw new Error(`client registration failed: ${res.status} ${await res.text()}`);
    client = (await res.json()) as RegisteredClient;
    return client;
  };
  return {
    register,
    async token(username, password, scope) {
      const c = client ?? (await register());
      const res = await fetch(`${baseUrl}/oauth2/token`, {
        method: 'POST',
        headers: { authorization: clientBasicAuth(c.clientId, c.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password', username, password, scope }).toString(),
      });
      if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { access_token: string }).access_token;
    },
  };
}
