import { newId } from '@gatehouse/core';
import type { Clock } from '@gatehouse/core';
import type { ApimSchema } from '@gatehouse/data';
import type { Kysely, Selectable } from 'kysely';

type AdminThrottlePoliciesTable = ApimSchema['admin_throttle_policies'];

/** The four policy kinds of WSO2's Admin API (ARCHITECTURE.md, "Throttling across a cluster"). */
export const PolicyKinds = { Advanced: 'advanced', Application: 'application', Subscription: 'subscription', Custom: 'custom' } as const;
export type PolicyKind = (typeof PolicyKinds)[keyof typeof PolicyKinds];
export const allPolicyKinds: readonly PolicyKind[] = Object.freeze(Object.values(PolicyKinds));

export const TimeUnits = ['sec', 'min', 'hour', 'day', 'month', 'year'] as const;
export type TimeUnit = (typeof TimeUnits)[number];

/** WSO2's ThrottleLimit: exactly one of the three limits, named by `type`. */
export interface ThrottleLimit {
  type: 'REQUESTCOUNTLIMIT' | 'BANDWIDTHLIMIT' | 'EVENTCOUNTLIMIT';
  requestCount?: { timeUnit: string; unitTime: number; requestCount: number };
  bandwidth?: { timeUnit: string; unitTime: number; dataAmount: number; dataUnit: string };
  eventCount?: { timeUnit: string; unitTime: number; eventCount: number };
}

/** A stored throttling policy. `details` holds the kind's own fields, as the Admin API names them. */
export interface ThrottlePolicy {
  id: string;
  tenantId: number;
  kind: PolicyKind;
  name: string;
  displayName: string | null;
  description: string | null;
  isDeployed: boolean;
  /** Null for custom rules, which have a Siddhi query instead. */
  defaultLimit: ThrottleLimit | null;
  /**
   * advanced: `{ conditionalGroups }`; subscription: `{ rateLimitCount, rateLimitTimeUnit,
   * stopOnQuotaReach, billingPlan, customAttributes, subscriberCount, permissions, monetization,
   * graphQLMaxComplexity, graphQLMaxDepth }`; custom: `{ keyTemplate, siddhiQuery }`.
   */
  details: Record<string, unknown>;
  version: number;
  createdAt: number;
  updatedAt: number;
}

export interface NewThrottlePolicy {
  name: string;
  displayName?: string | null;
  description?: string | null;
  isDeployed?: boolean;
  defaultLimit: ThrottleLimit | null;
  details?: Record<string, unknown>;
}

export type ThrottlePolicyPatch = Partial<Omit<NewThrottlePolicy, 'name'>>;

/**
 * Throttling policies of a tenant (apim database). Names are unique per tenant and kind: the
 * insert throws DATA_ERR_UNIQUE_VIOLATION on a duplicate.
 *
 * @example
 * ```ts
 * const gold = await store.create(tenantId, 'subscription', {
 *   name: 'Gold', defaultLimit: { type: 'REQUESTCOUNTLIMIT', requestCount: { timeUnit: 'min', unitTime: 1, requestCount: 5000 } },
 * });
 * await store.getByName(tenantId, 'subscription', 'Gold');
 * ```
 */
export interface PolicyStore {
  create(tenantId: number, kind: PolicyKind, input: NewThrottlePolicy): Promise<ThrottlePolicy>;
  get(tenantId: number, kind: PolicyKind, id: string): Promise<ThrottlePolicy | undefined>;
  getByName(tenantId: number, kind: PolicyKind, name: string): Promise<ThrottlePolicy | undefined>;
  /** Ordered by name; every kind when `kind` is omitted. */
  list(tenantId: number, kind?: PolicyKind): Promise<ThrottlePolicy[]>;
  /** Undefined when no such policy. */
  update(tenantId: number, kind: PolicyKind, id: string, patch: ThrottlePolicyPatch): Promise<ThrottlePolicy | undefined>;
  /** Whether a row was removed. */
  delete(tenantId: number, kind: PolicyKind, id: string): Promise<boolean>;
}

function toPolicy(row: Selectable<AdminThrottlePoliciesTable>): ThrottlePolicy {
  return {
    id: row.id,
    tenantId: Number(row.tenant_id),
    kind: row.kind as PolicyKind,
    name: row.name,
    displayName: row.display_name,
    description: row.description,
    isDeployed: Number(row.is_deployed) === 1,
    defaultLimit: row.default_limit === null ? null : (JSON.parse(row.default_limit) as ThrottleLimit),
    details: JSON.parse(row.details) as Record<string, unknown>,
    version: Number(row.version),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function createPolicyStore(db: Kysely<ApimSchema>, clock: Clock): PolicyStore {
  const table = 'admin_throttle_policies' as const;
  const get = async (tenantId: number, kind: PolicyKind, id: string) => {
    const row = await db.selectFrom(table).selectAll().where('tenant_id', '=', tenantId).where('kind', '=', kind).where('id', '=', id).executeTakeFirst();
    return row && toPolicy(row);
  };
  return {
    async create(tenantId, kind, input) {
      const now = clock.now();
      const row: AdminThrottlePoliciesTable = {
        id: newId(),
        tenant_id: tenantId,
        kind,
        name: input.name,
        display_name: input.displayName ?? input.name,
        description: input.description ?? null,
        is_deployed: input.isDeployed === false ? 0 : 1,
        default_limit: input.defaultLimit === null ? null : JSON.stringify(input.defaultLimit),
        details: JSON.stringify(input.details ?? {}),
        version: 1,
        created_at: now,
        updated_at: now,
      };
      await db.insertInto(table).values(row).execute();
      return toPolicy(row);
    },
    get,
    async getByName(tenantId, kind, name) {
      const row = await db.selectFrom(table).selectAll().where('tenant_id', '=', tenantId).where('kind', '=', kind).where('name', '=', name).executeTakeFirst();
      return row && toPolicy(row);
    },
    async list(tenantId, kind) {
      let query = db.selectFrom(table).selectAll().where('tenant_id', '=', tenantId);
      if (kind) query = query.where('kind', '=', kind);
      const rows = await query.orderBy('kind').orderBy('name').execute();
      return rows.map(toPolicy);
    },
    async update(tenantId, kind, id, patch) {
      const set: Partial<AdminThrottlePoliciesTable> = { updated_at: clock.now() };
      if (patch.displayName !== undefined) set.display_name = patch.displayName;
      if (patch.description !== undefined) set.description = patch.description;
      if (patch.isDeployed !== undefined) set.is_deployed = patch.isDeployed ? 1 : 0;
      if (patch.defaultLimit !== undefined) set.default_limit = patch.defaultLimit === null ? null : JSON.stringify(patch.defaultLimit);
      if (patch.details !== undefined) set.details = JSON.stringify(patch.details);
      const result = await db
        .updateTable(table)
        .set(set)
        .set((eb) => ({ version: eb('version', '+', 1) }))
        .where('tenant_id', '=', tenantId)
        .where('kind', '=', kind)
        .where('id', '=', id)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return undefined;
      return get(tenantId, kind, id);
    },
    async delete(tenantId, kind, id) {
      const result = await db.deleteFrom(table).where('tenant_id', '=', tenantId).where('kind', '=', kind).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
