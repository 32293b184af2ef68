import type { OAuthClient } from './clients.ts';

/**
 * Names of the clients platform components (gateways, traffic managers) use against the control
 * plane. A WSO2 DCR registration under such a name is refused unless the registering user has
 * the admin role, and marks the client `internal`: the only clients that may introspect every
 * access token of their tenant and check a user's password for a gateway (basic auth). The
 * all-in-one node provisions `gatehouse-internal-gateway`; a separate gateway's operator registers
 * one under this prefix and passes it as `control_plane.client_id`.
 *
 * Why a reserved name rather than a scope: any admin's tooling client can get `apim:admin`, and
 * "may read every token" must not come with every admin token; the name is chosen once, at
 * registration, by an admin, and is visible in the client list.
 */
export const INTERNAL_CLIENT_PREFIX = 'gatehouse-internal-';

export function isReservedClientName(name: string): boolean {
  return name.startsWith(INTERNAL_CLIENT_PREFIX);
}

/** A confidential, non-application client registered as internal. */
export function isInternalClient(client: OAuthClient): boolean {
  return client.source === 'internal' && client.confidential && client.application === undefined;
}
