import { newId } from '@gatehouse/core';
import type { Clock } from '@gatehouse/core';
import type { ApimSchema } from '@gatehouse/data';
import type { Kysely, Selectable } from 'kysely';

type AdminKeyManagersTable = ApimSchema['admin_key_managers'];

/** A key manager as stored; `config` holds every other Admin API field except secrets. */
export interface StoredKeyManager {
  id: string;
  tenantId: number;
  name: string;
  displayName: string | null;
  type: string;
  description: string | null;
  issuer: string | null;
  enabled: boolean;
  tokenType: string;
  config: Record<string, unknown>;
  /** Sealed JSON of the secret additional properties, or null. */
  sealedSecrets: string | null;
  version: number;
  createdAt: number;
  updatedAt: number;
}

export type KeyManagerInput = Omit<StoredKeyManager, 'id' | 'tenantId' | 'version' | 'createdAt' | 'updatedAt'>;

/**
 * Key managers of a tenant (apim database); names unique per tenant (DATA_ERR_UNIQUE_VIOLATION).
 *
 * @example
 * ```ts
 * const km = await store.create(tenantId, { name: 'okta', type: 'Okta', issuer, enabled: true, tokenType: 'DIRECT', config: {}, ... });
 * ```
 */
export interface KeyManagerStore {
  create(tenantId: number, input: KeyManagerInput): Promise<StoredKeyManager>;
  get(tenantId: number, id: string): Promise<StoredKeyManager | undefined>;
  getByName(tenantId: number, name: string): Promise<StoredKeyManager | undefined>;
  /** Ordered by name. */
  list(tenantId: number): Promise<StoredKeyManager[]>;
  /** Replaces every field but the name. */
  replace(tenantId: number, id: string, input: Omit<KeyManagerInput, 'name'>): Promise<StoredKeyManager | undefined>;
  delete(tenantId: number, id: string): Promise<boolean>;
}

function toKeyManager(row: Selectable<AdminKeyManagersTable>): StoredKeyManager {
  return {
    id: row.id,
    tenantId: Number(row.tenant_id),
    name: row.name,
    displayName: row.display_name,
    type: row.type,
    description: row.description,
    issuer: row.issuer,
    enabled: Number(row.enabled) === 1,
    tokenType: row.token_type,
    config: JSON.parse(row.config) as Record<string, unknown>,
    sealedSecrets: row.sealed_secrets,
    version: Number(row.version),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function createKeyManagerStore(db: Kysely<ApimSchema>, clock: Clock): KeyManagerStore {
  const table = 'admin_key_managers' as const;
  const get = async (tenantId: number, id: string) => {
    const row = await db.selectFrom(table).selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row && toKeyManager(row);
  };
  return {
    async create(tenantId, input) {
      const now = clock.now();
      const row: AdminKeyManagersTable = {
        id: newId(),
        tenant_id: tenantId,
        name: input.name,
        display_name: input.displayName,
        type: input.type,
        description: input.description,
        issuer: input.issuer,
        enabled: input.enabled ? 1 : 0,
        token_type: input.tokenType,
        config: JSON.stringify(input.config),
        sealed_secrets: input.sealedSecrets,
        version: 1,
        created_at: now,
        updated_at: now,
      };
      await db.insertInto(table).values(row).execute();
      return toKeyManager(row);
    },
    get,
    async getByName(tenantId, name) {
      const row = await db.selectFrom(table).selectAll().where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
      return row && toKeyManager(row);
    },
    async list(tenantId) {
      const rows = await db.selectFrom(table).selectAll().where('tenant_id', '=', tenantId).orderBy('name').execute();
      return rows.map(toKeyManager);
    },
    async replace(tenantId, id, input) {
      const result = await db
        .updateTable(table)
        .set({
          display_name: input.displayName,
          type: input.type,
          description: input.description,
          issuer: input.issuer,
          enabled: input.enabled ? 1 : 0,
          token_type: input.tokenType,
          config: JSON.stringify(input.config),
          sealed_secrets: input.sealedSecrets,
          updated_at: clock.now(),
        })
        .set((eb) => ({ version: eb('version', '+', 1) }))
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return undefined;
      return get(tenantId, id);
    },
    async delete(tenantId, id) {
      const result = await db.deleteFrom(table).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
