import type { Kysely } from 'kysely';
import type { ApimSchema } from '../schema.ts';
import type { RepositoryDeps } from './common.ts';

/**
 * Per-tenant key/value settings (apim database). Values are strings; callers serialize JSON.
 *
 * @example
 * ```ts
 * await repos.settings.set(tenantId, 'devportal.theme', JSON.stringify(theme));
 * const theme = await repos.settings.get(tenantId, 'devportal.theme'); // string | undefined
 * ```
 */
export interface SettingsRepository {
  get(tenantId: number, key: string): Promise<string | undefined>;
  /** Inserts or replaces. */
  set(tenantId: number, key: string, value: string): Promise<void>;
  /** Every key of the tenant. */
  all(tenantId: number): Promise<Record<string, string>>;
  /** Whether a value was removed. */
  delete(tenantId: number, key: string): Promise<boolean>;
}

export function createSettingsRepository(db: Kysely<ApimSchema>, deps: RepositoryDeps): SettingsRepository {
  return {
    async get(tenantId, key) {
      const row = await db.selectFrom('system_settings').select('value').where('tenant_id', '=', tenantId).where('key', '=', key).executeTakeFirst();
      return row?.value;
    },

    async set(tenantId, key, value) {
      const updatedAt = deps.clock.now();
      await db
        .insertInto('system_settings')
        .values({ tenant_id: tenantId, key, value, updated_at: updatedAt })
        .onConflict((oc) => oc.columns(['tenant_id', 'key']).doUpdateSet({ value, updated_at: updatedAt }))
        .execute();
    },

    async all(tenantId) {
      const rows = await db.selectFrom('system_settings').select(['key', 'value']).where('tenant_id', '=', tenantId).orderBy('key').execute();
      return Object.fromEntries(rows.map((r) => [r.key, r.value]));
    },

    async delete(tenantId, key) {
      const result = await db.deleteFrom('system_settings').where('tenant_id', '=', tenantId).where('key', '=', key).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
