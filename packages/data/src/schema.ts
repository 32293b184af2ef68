import type { AdminApimTables, AdminSharedTables } from './schema/admin.ts';
import type { DevPortalApimTables, DevPortalSharedTables } from './schema/devportal.ts';
import type { KeyManagerApimTables, KeyManagerSharedTables } from './schema/key-manager.ts';
import type { PublisherApimTables, PublisherSharedTables } from './schema/publisher.ts';
/**
 * Row types of the two databases, as kysely sees them. Column names are snake_case as stored;
 * repositories map rows to camelCase domain objects. Timestamps are epoch milliseconds (bigint
 * columns, read back as numbers on both dialects).
 */

export const UserStatus = { Active: 'ACTIVE', Locked: 'LOCKED', Pending: 'PENDING' } as const;
export type UserStatus = (typeof UserStatus)[keyof typeof UserStatus];

export const TenantStatus = { Active: 'ACTIVE', Inactive: 'INACTIVE' } as const;
export type TenantStatus = (typeof TenantStatus)[keyof typeof TenantStatus];

export interface TenantsTable {
  /** The tenant id itself (WSO2's `carbon.super` is -1234); this table is the only one without `tenant_id`. */
  id: number;
  domain: string;
  name: string;
  status: TenantStatus;
  created_at: number;
}

export interface UsersTable {
  id: string;
  tenant_id: number;
  username: string;
  password_hash: string;
  email: string | null;
  given_name: string | null;
  family_name: string | null;
  status: UserStatus;
  created_at: number;
  updated_at: number;
}

export interface RolesTable {
  id: string;
  tenant_id: number;
  name: string;
  description: string | null;
  created_at: number;
}

export interface UserRolesTable {
  tenant_id: number;
  user_id: string;
  role_id: string;
}

/** The shared database (WSO2_SHARED_DB): users, roles, tenants, later the API metadata registry. */
export interface SharedSchema extends KeyManagerSharedTables, PublisherSharedTables, AdminSharedTables, DevPortalSharedTables {
  tenants: TenantsTable;
  users: UsersTable;
  roles: RolesTable;
  user_roles: UserRolesTable;
}

export interface GatewayEnvironmentsTable {
  id: string;
  tenant_id: number;
  name: string;
  display_name: string;
  description: string | null;
  type: string;
  provider: string;
  /** JSON array of {@link VirtualHost}. */
  vhosts: string;
  /** Optimistic-lock counter, bumped by every update. */
  version: number;
  created_at: number;
  updated_at: number;
}

export interface SystemSettingsTable {
  tenant_id: number;
  key: string;
  value: string;
  updated_at: number;
}

/** The apim database (WSO2_AM_DB): everything that is not users, roles, tenants or the registry. */
export interface ApimSchema extends KeyManagerApimTables, PublisherApimTables, AdminApimTables, DevPortalApimTables {
  gateway_environments: GatewayEnvironmentsTable;
  system_settings: SystemSettingsTable;
}
