import { systemClock } from '@gatehouse/core';
import type { Clock } from '@gatehouse/core';
import type { Databases } from '../databases.ts';
import { DEFAULT_SCRYPT_PARAMS } from '../passwords.ts';
import type { ScryptParams } from '../passwords.ts';
import { createGatewayEnvironmentRepository } from './gateway-environments.ts';
import type { GatewayEnvironmentRepository } from './gateway-environments.ts';
import { createRoleRepository } from './roles.ts';
import type { RoleRepository } from './roles.ts';
import { createSettingsRepository } from './settings.ts';
import type { SettingsRepository } from './settings.ts';
import { createTenantRepository } from './tenants.ts';
import type { TenantRepository } from './tenants.ts';
import { createUserRepository } from './users.ts';
import type { UserRepository } from './users.ts';

export interface Repositories {
  tenants: TenantRepository;
  users: UserRepository;
  roles: RoleRepository;
  gatewayEnvironments: GatewayEnvironmentRepository;
  settings: SettingsRepository;
}

export interface RepositoryOptions {
  /** Default: the system clock. */
  clock?: Clock;
  /**
   * scrypt cost for new password hashes. Default {@link DEFAULT_SCRYPT_PARAMS}; tests lower it.
   * Existing hashes keep verifying whatever their cost, since each hash names its parameters.
   */
  passwordParams?: ScryptParams;
}

/**
 * The repositories over both databases: plain objects returning camelCase domain objects, every
 * method scoped by tenant id.
 *
 * @example
 * ```ts
 * const dbs = await openDatabases(config.database);
 * await dbs.migrate();
 * const repos = createRepositories(dbs);
 * const user = await repos.users.findByUsername(SUPER_TENANT_ID, 'admin');
 * ```
 */
export function createRepositories(dbs: Pick<Databases, 'apim' | 'shared'>, options: RepositoryOptions = {}): Repositories {
  const deps = { clock: options.clock ?? systemClock, passwordParams: options.passwordParams ?? DEFAULT_SCRYPT_PARAMS };
  return {
    tenants: createTenantRepository(dbs.shared, deps),
    users: createUserRepository(dbs.shared, deps),
    roles: createRoleRepository(dbs.shared, deps),
    gatewayEnvironments: createGatewayEnvironmentRepository(dbs.apim, deps),
    settings: createSettingsRepository(dbs.apim, deps),
  };
}

export type { Page, PageRequest } from './common.ts';
export type { Tenant, NewTenant, TenantRepository } from './tenants.ts';
export type { User, NewUser, UserPatch, UserRepository } from './users.ts';
export type { Role, RoleRepository } from './roles.ts';
export type {
  GatewayEnvironment,
  NewGatewayEnvironment,
  GatewayEnvironmentPatch,
  GatewayEnvironmentRepository,
  VirtualHost,
} from './gateway-environments.ts';
export type { SettingsRepository } from './settings.ts';
