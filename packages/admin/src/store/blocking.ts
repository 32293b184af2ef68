import { newId } from '@gatehouse/core';
import type { Clock } from '@gatehouse/core';
import type { ApimSchema } from '@gatehouse/data';
import type { Kysely, Selectable } from 'kysely';

type AdminBlockingConditionsTable = ApimSchema['admin_blocking_conditions'];

export const BlockingTypes = ['API', 'APPLICATION', 'IP', 'IPRANGE', 'USER'] as const;
export type BlockingType = (typeof BlockingTypes)[number];

/** A blocking (deny) condition, WSO2's `BlockingCondition`. */
export interface BlockingCondition {
  id: string;
  tenantId: number;
  conditionType: BlockingType;
  /** A string (API context, `owner:application`, user) or an IP object (`{ fixedIp, invert }`, `{ startingIp, endingIp, invert }`). */
  conditionValue: unknown;
  conditionStatus: boolean;
  createdAt: number;
  updatedAt: number;
}

/**
 * Blocking conditions of a tenant (apim database). `valueKey` is the normalized value; the pair
 * (type, valueKey) is unique per tenant, so the insert throws DATA_ERR_UNIQUE_VIOLATION on a repeat.
 *
 * @example
 * ```ts
 * await store.create(tenantId, { conditionType: 'IP', conditionValue: { fixedIp: '10.0.0.1', invert: false }, valueKey: '10.0.0.1|false', conditionStatus: true });
 * ```
 */
export interface BlockingStore {
  create(tenantId: number, input: { conditionType: BlockingType; conditionValue: unknown; valueKey: string; conditionStatus: boolean }): Promise<BlockingCondition>;
  get(tenantId: number, id: string): Promise<BlockingCondition | undefined>;
  /** Oldest first. */
  list(tenantId: number): Promise<BlockingCondition[]>;
  setStatus(tenantId: number, id: string, status: boolean): Promise<BlockingCondition | undefined>;
  delete(tenantId: number, id: string): Promise<boolean>;
}

function toCondition(row: Selectable<AdminBlockingConditionsTable>): BlockingCondition {
  return {
    id: row.id,
    tenantId: Number(row.tenant_id),
    conditionType: row.condition_type as BlockingType,
    conditionValue: JSON.parse(row.condition_value) as unknown,
    conditionStatus: Number(row.enabled) === 1,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function createBlockingStore(db: Kysely<ApimSchema>, clock: Clock): BlockingStore {
  const table = 'admin_blocking_conditions' as const;
  const get = async (tenantId: number, id: string) => {
    const row = await db.selectFrom(table).selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row && toCondition(row);
  };
  return {
    async create(tenantId, input) {
      const now = clock.now();
      const row: AdminBlockingConditionsTable = {
        id: newId(),
        tenant_id: tenantId,
        condition_type: input.conditionType,
        condition_value: JSON.stringify(input.conditionValue),
        value_key: input.valueKey,
        enabled: input.conditionStatus ? 1 : 0,
        created_at: now,
        updated_at: now,
      };
      await db.insertInto(table).values(row).execute();
      return toCondition(row);
    },
    get,
    async list(tenantId) {
      const rows = await db.selectFrom(table).selectAll().where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('id').execute();
      return rows.map(toCondition);
    },
    async setStatus(tenantId, id, status) {
      const result = await db
        .updateTable(table)
        .set({ enabled: status ? 1 : 0, updated_at: clock.now() })
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
