import { randomBytes } from 'node:crypto';
import { Roles, SUPER_TENANT_DOMAIN, SUPER_TENANT_ID } from '@gatehouse/core';
import { DataErrors } from './errors.ts';
import type { Repositories } from './repositories/index.ts';
import type { VirtualHost } from './repositories/gateway-environments.ts';

export interface SeedOptions {
  /** The first admin's password. Without it a random one is generated and returned once. */
  adminPassword?: string;
}

export interface SeedResult {
  /** Whether this call created the `admin` user. */
  adminCreated: boolean;
  /** Set only when this call created the admin with a generated password: print it once. */
  generatedPassword?: string;
}

export const ADMIN_USERNAME = 'admin';

/** WSO2's built-in roles; the first admin holds all but `Internal/everyone`, which every user has implicitly. */
export const DEFAULT_ROLES = [Roles.Admin, Roles.Creator, Roles.Publisher, Roles.Subscriber, Roles.Everyone] as const;
const ADMIN_ROLES = [Roles.Admin, Roles.Creator, Roles.Publisher, Roles.Subscriber] as const;

/** WSO2's `Default` gateway environment, on the gateway's default ports. */
export const DEFAULT_GATEWAY_VHOST: VirtualHost = Object.freeze({
  host: 'localhost',
  httpContext: '',
  httpPort: 8280,
  httpsPort: 8243,
  wsPort: 9099,
  wssPort: 8099,
});

/**
 * Seeds what a fresh install needs: tenant `carbon.super`, WSO2's built-in roles, an `admin` user
 * (only when no admin exists, never with a fixed password) and the `Default` gateway environment.
 * Idempotent, and safe when several processes seed at once: whoever loses a race on a unique
 * constraint treats it as done by the winner.
 *
 * @example
 * ```ts
 * const { adminCreated, generatedPassword } = await seedDefaults(repos, { adminPassword: config.adminPassword });
 * if (generatedPassword) console.log(`admin password (shown once): ${generatedPassword}`);
 * ```
 */
export async function seedDefaults(repos: Repositories, options: SeedOptions = {}): Promise<SeedResult> {
  const tenantId = SUPER_TENANT_ID;
  await repos.tenants.ensure({ id: tenantId, domain: SUPER_TENANT_DOMAIN, name: SUPER_TENANT_DOMAIN });
  for (const role of DEFAULT_ROLES) await repos.roles.ensure(tenantId, role);

  const result = await seedAdmin(repos, tenantId, options.adminPassword);

  if (!(await repos.gatewayEnvironments.getByName(tenantId, 'Default'))) {
    await ignoreDuplicate(
      repos.gatewayEnvironments.create(tenantId, {
        name: 'Default',
        displayName: 'Default',
        description: 'The default gateway environment',
        type: 'hybrid',
        provider: 'wso2',
        vhosts: [{ ...DEFAULT_GATEWAY_VHOST }],
      }),
    );
  }
  return result;
}

async function seedAdmin(repos: Repositories, tenantId: number, adminPassword: string | undefined): Promise<SeedResult> {
  if ((await repos.users.existsWithRole(tenantId, Roles.Admin)) || (await repos.users.findByUsername(tenantId, ADMIN_USERNAME))) {
    return { adminCreated: false };
  }
  const generated = adminPassword === undefined ? randomBytes(18).toString('base64url') : undefined;
  const created = await ignoreDuplicate(
    repos.users.create(tenantId, { username: ADMIN_USERNAME, password: adminPassword ?? generated!, roles: ADMIN_ROLES }),
  );
  if (!created) return { adminCreated: false };
  return generated === undefined ? { adminCreated: true } : { adminCreated: true, generatedPassword: generated };
}

async function ignoreDuplicate<T>(work: Promise<T>): Promise<T | undefined> {
  try {
    return await work;
  } catch (err) {
    if (DataErrors.is(err, 'DATA_ERR_UNIQUE_VIOLATION')) return undefined;
    throw err;
  }
}
