import { newId } from '@gatehouse/core';
import type { Kysely, Selectable } from 'kysely';
import { DataErrors } from '../errors.ts';
import type { ApimSchema, GatewayEnvironmentsTable } from '../schema.ts';
import type { RepositoryDeps } from './common.ts';

/** A gateway virtual host, as WSO2's Admin API `VHost`. */
export interface VirtualHost {
  host: string;
  httpContext: string;
  httpPort: number;
  httpsPort: number;
  wsPort: number;
  wssPort: number;
}

export interface GatewayEnvironment {
  id: string;
  tenantId: number;
  /** Unique per tenant, immutable (WSO2 keys deployments by it). */
  name: string;
  displayName: string;
  description: string | null;
  /** `hybrid`, `production` or `sandbox` in WSO2. */
  type: string;
  provider: string;
  vhosts: VirtualHost[];
  /** Bumped by every update; pass it back as `expectedVersion` for optimistic locking. */
  version: number;
  createdAt: number;
  updatedAt: number;
}

export interface NewGatewayEnvironment {
  name: string;
  /** Defaults to `name`. */
  displayName?: string;
  description?: string | null;
  /** Default `hybrid`. */
  type?: string;
  /** Default `wso2`. */
  provider?: string;
  vhosts: VirtualHost[];
}

export type GatewayEnvironmentPatch = Partial<Omit<NewGatewayEnvironment, 'name'>>;

/**
 * Gateway environments of a tenant (apim database), as WSO2's Admin API `/environments`.
 *
 * @example
 * ```ts
 * const env = await repos.gatewayEnvironments.create(tenantId, {
 *   name: 'eu', vhosts: [{ host: 'eu.example.com', httpContext: '', httpPort: 80, httpsPort: 443, wsPort: 9099, wssPort: 8099 }],
 * });
 * await repos.gatewayEnvironments.update(tenantId, env.id, { displayName: 'Europe' }, { expectedVersion: env.version });
 * ```
 */
export interface GatewayEnvironmentRepository {
  /** Throws DATA_ERR_UNIQUE_VIOLATION when the name is taken in the tenant. */
  create(tenantId: number, input: NewGatewayEnvironment): Promise<GatewayEnvironment>;
  get(tenantId: number, id: string): Promise<GatewayEnvironment | undefined>;
  getByName(tenantId: number, name: string): Promise<GatewayEnvironment | undefined>;
  /** Ordered by name. */
  list(tenantId: number): Promise<GatewayEnvironment[]>;
  /** Throws DATA_ERR_NOT_FOUND, or DATA_ERR_CONFLICT when `expectedVersion` is stale. */
  update(tenantId: number, id: string, patch: GatewayEnvironmentPatch, options?: { expectedVersion?: number }): Promise<GatewayEnvironment>;
  /** Throws DATA_ERR_NOT_FOUND. */
  delete(tenantId: number, id: string): Promise<void>;
}

function toEnvironment(row: Selectable<GatewayEnvironmentsTable>): GatewayEnvironment {
  return {
    id: row.id,
    tenantId: Number(row.tenant_id),
    name: row.name,
    displayName: row.display_name,
    description: row.description,
    type: row.type,
    provider: row.provider,
    vhosts: JSON.parse(row.vhosts) as VirtualHost[],
    version: Number(row.version),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function serializeVhosts(vhosts: readonly VirtualHost[]): string {
  return JSON.stringify(
    vhosts.map((v) => ({ host: v.host, httpContext: v.httpContext, httpPort: v.httpPort, httpsPort: v.httpsPort, wsPort: v.wsPort, wssPort: v.wssPort })),
  );
}

function notFound(tenantId: number, id: string) {
  return DataErrors.create('DATA_ERR_NOT_FOUND', { message: 'The gateway environment was not found', description: `gateway environment ${id} in tenant ${tenantId}` });
}

export function createGatewayEnvironmentRepository(db: Kysely<ApimSchema>, deps: RepositoryDeps): GatewayEnvironmentRepository {
  const get = async (tenantId: number, id: string) => {
    const row = await db.selectFrom('gateway_environments').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row && toEnvironment(row);
  };

  return {
    async create(tenantId, input) {
      const now = deps.clock.now();
      const row: GatewayEnvironmentsTable = {
        id: newId(),
        tenant_id: tenantId,
        name: input.name,
        display_name: input.displayName ?? input.name,
        description: input.description ?? null,
        type: input.type ?? 'hybrid',
        provider: input.provider ?? 'wso2',
        vhosts: serializeVhosts(input.vhosts),
        version: 1,
        created_at: now,
        updated_at: now,
      };
      await db.insertInto('gateway_environments').values(row).execute();
      return toEnvironment(row);
    },

    get,

    async getByName(tenantId, name) {
      const row = await db
        .selectFrom('gateway_environments')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('name', '=', name)
        .executeTakeFirst();
      return row && toEnvironment(row);
    },

    async list(tenantId) {
      const rows = await db.selectFrom('gateway_environments').selectAll().where('tenant_id', '=', tenantId).orderBy('name').execute();
      return rows.map(toEnvironment);
    },

    async update(tenantId, id, patch, options = {}) {
      const set: Partial<GatewayEnvironmentsTable> = { updated_at: deps.clock.now() };
      if (patch.displayName !== undefined) set.display_name = patch.displayName;
      if (patch.description !== undefined) set.description = patch.description;
      if (patch.type !== undefined) set.type = patch.type;
      if (patch.provider !== undefined) set.provider = patch.provider;
      if (patch.vhosts !== undefined) set.vhosts = serializeVhosts(patch.vhosts);
      let query = db
        .updateTable('gateway_environments')
        .set(set)
        .set((eb) => ({ version: eb('version', '+', 1) }))
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id);
      if (options.expectedVersion !== undefined) query = query.where('version', '=', options.expectedVersion);
      const result = await query.executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) {
        if (options.expectedVersion !== undefined && (await get(tenantId, id))) {
          throw DataErrors.create('DATA_ERR_CONFLICT', { description: `gateway environment ${id} is no longer at version ${options.expectedVersion}` });
        }
        throw notFound(tenantId, id);
      }
      const updated = await get(tenantId, id);
      if (!updated) throw notFound(tenantId, id);
      return updated;
    },

    async delete(tenantId, id) {
      const result = await db.deleteFrom('gateway_environments').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) throw notFound(tenantId, id);
    },
  };
}
