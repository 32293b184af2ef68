import { newId } from '@gatehouse/core';
import { DataErrors } from '../errors.ts';
import type { Kysely, Selectable } from 'kysely';
import type { RolesTable, SharedSchema } from '../schema.ts';
import type { RepositoryDeps } from './common.ts';

export interface Role {
  id: string;
  tenantId: number;
  name: string;
  description: string | null;
  createdAt: number;
}

/**
 * Roles of a tenant (shared database), by WSO2 name (`admin`, `Internal/subscriber`, ...).
 *
 * @example
 * ```ts
 * const role = await repos.roles.ensure(SUPER_TENANT_ID, Roles.Creator);
 * ```
 */
export interface RoleRepository {
  /** Returns the role, creating it if missing; safe when two processes race. */
  ensure(tenantId: number, name: string, description?: string): Promise<Role>;
  getByName(tenantId: number, name: string): Promise<Role | undefined>;
  list(tenantId: number): Promise<Role[]>;
}

function toRole(row: Selectable<RolesTable>): Role {
  return { id: row.id, tenantId: Number(row.tenant_id), name: row.name, description: row.description, createdAt: Number(row.created_at) };
}

export function createRoleRepository(db: Kysely<SharedSchema>, deps: RepositoryDeps): RoleRepository {
  const getByName = async (tenantId: number, name: string) => {
    const row = await db.selectFrom('roles').selectAll().where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
    return row && toRole(row);
  };

  return {
    async ensure(tenantId, name, description) {
      const existing = await getByName(tenantId, name);
      if (existing) return existing;
      // ON CONFLICT DO NOTHING rather than catching the violation: on PostgreSQL a caught error
      // would still abort an enclosing transaction.
      await db
        .insertInto('roles')
        .values({ id: newId(), tenant_id: tenantId, name, description: description ?? null, created_at: deps.clock.now() })
        .onConflict((oc) => oc.columns(['tenant_id', 'name']).doNothing())
        .execute();
      const role = await getByName(tenantId, name);
      if (!role) throw DataErrors.create('DATA_ERR_CONFLICT', { description: `role ${name} was deleted while being ensured` });
      return role;
    },

    getByName,

    async list(tenantId) {
      const rows = await db.selectFrom('roles').selectAll().where('tenant_id', '=', tenantId).orderBy('name').execute();
      return rows.map(toRole);
    },
  };
}
