import { DataErrors } from '../errors.ts';
import type { SharedSchema, TenantStatus, TenantsTable } from '../schema.ts';
import type { Kysely, Selectable } from 'kysely';
import type { RepositoryDeps } from './common.ts';

export interface Tenant {
  id: number;
  domain: string;
  name: string;
  status: TenantStatus;
  createdAt: number;
}

export interface NewTenant {
  /** Defaults to the next free positive id. */
  id?: number;
  domain: string;
  name?: string;
  status?: TenantStatus;
}

/**
 * Tenants (shared database). The tenant id is the row's id; every other table carries it.
 *
 * @example
 * ```ts
 * const { tenant } = await repos.tenants.ensure({ id: SUPER_TENANT_ID, domain: SUPER_TENANT_DOMAIN });
 * ```
 */
export interface TenantRepository {
  /** Throws DATA_ERR_UNIQUE_VIOLATION when the id or domain is taken. */
  create(input: NewTenant): Promise<Tenant>;
  /** Creates the tenant unless one with that id exists; safe when two processes race. */
  ensure(input: NewTenant & { id: number }): Promise<{ tenant: Tenant; created: boolean }>;
  getById(id: number): Promise<Tenant | undefined>;
  getByDomain(domain: string): Promise<Tenant | undefined>;
  list(): Promise<Tenant[]>;
}

export function toTenant(row: Selectable<TenantsTable>): Tenant {
  return { id: Number(row.id), domain: row.domain, name: row.name, status: row.status, createdAt: Number(row.created_at) };
}

export function createTenantRepository(db: Kysely<SharedSchema>, deps: RepositoryDeps): TenantRepository {
  const getById = async (id: number) => {
    const row = await db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toTenant(row);
  };

  const rowOf = (input: NewTenant, id: number): TenantsTable => ({
    id,
    domain: input.domain,
    name: input.name ?? input.domain,
    status: input.status ?? 'ACTIVE',
    created_at: deps.clock.now(),
  });

  return {
    async create(input) {
      if (input.id !== undefined) {
        const row = rowOf(input, input.id);
        await db.insertInto('tenants').values(row).execute();
        return toTenant(row);
      }
      return db.transaction().execute(async (trx) => {
        const { max } = await trx
          .selectFrom('tenants')
          .select((eb) => eb.fn.max('id').as('max'))
          .executeTakeFirstOrThrow();
        const row = rowOf(input, Math.max(Number(max ?? 0), 0) + 1);
        await trx.insertInto('tenants').values(row).execute();
        return toTenant(row);
      });
    },

    async ensure(input) {
      const row = rowOf(input, input.id);
      const inserted = await db
        .insertInto('tenants')
        .values(row)
        // No conflict target: two processes inserting the same tenant at once can collide on the
        // domain's unique index before the id's, and PostgreSQL only skips conflicts on the target.
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return { tenant: toTenant(row), created: true };
      const tenant = await getById(input.id);
      if (!tenant) throw DataErrors.create('DATA_ERR_UNIQUE_VIOLATION', { description: `tenant ${input.id}: its domain ${row.domain} belongs to another tenant` });
      return { tenant, created: false };
    },

    getById,

    async getByDomain(domain) {
      const row = await db.selectFrom('tenants').selectAll().where('domain', '=', domain).executeTakeFirst();
      return row && toTenant(row);
    },

    async list() {
      const rows = await db.selectFrom('tenants').selectAll().orderBy('id').execute();
      return rows.map(toTenant);
    },
  };
}
