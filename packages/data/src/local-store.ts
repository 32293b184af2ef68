import type { Kysely } from 'kysely';
import type { Clock } from '@gatehouse/core';
import { systemClock } from '@gatehouse/core';
import { openSqlite } from './dialects/sqlite/open.ts';
import type { DataLogger } from './dialects/types.ts';
import { migrateToLatest } from './migrations/index.ts';

interface LocalSchema {
  local_entries: { namespace: string; key: string; value: string; updated_at: number };
}

/**
 * A node's own store (WSO2's local Carbon database): one SQLite file in its data directory,
 * never shared, never a network connection. The Gateway keeps its last-known-good runtime
 * snapshot here so it can serve, and restart, while the control plane is unreachable.
 * Values are JSON.
 *
 * @example
 * ```ts
 * const store = await openLocalStore({ path: 'data/local.db' });
 * await store.put('snapshot', 'Default', { apis, seq });
 * await store.putMany('state', [['meta', { format: 2 }], ['apis', apis]]); // both or neither
 * const last = await store.get<{ apis: unknown[] }>('snapshot', 'Default');
 * ```
 */
export interface LocalStore {
  get<T>(namespace: string, key: string): Promise<T | undefined>;
  /** Inserts or replaces, atomically. */
  put(namespace: string, key: string, value: unknown): Promise<void>;
  /**
   * Inserts or replaces several entries of a namespace in one transaction: a reader (or a crash)
   * sees all of them or none, never a mix of old and new.
   */
  putMany(namespace: string, entries: Iterable<readonly [key: string, value: unknown]>): Promise<void>;
  delete(namespace: string, key: string): Promise<void>;
  /** Every entry of a namespace, by key. */
  list<T>(namespace: string): Promise<{ key: string; value: T; updatedAt: number }[]>;
  close(): Promise<void>;
}

export async function openLocalStore(options: { path: string; clock?: Clock; logger?: DataLogger }): Promise<LocalStore> {
  const clock = options.clock ?? systemClock;
  const { db } = await openSqlite<LocalSchema>({ path: options.path }, options.logger);
  try {
    await migrateToLatest(db as Kysely<unknown>, 'local');
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return {
    async get<T>(namespace: string, key: string) {
      const row = await db.selectFrom('local_entries').select('value').where('namespace', '=', namespace).where('key', '=', key).executeTakeFirst();
      return row === undefined ? undefined : (JSON.parse(row.value) as T);
    },
    async put(namespace, key, value) {
      const text = JSON.stringify(value);
      const now = clock.now();
      await db
        .insertInto('local_entries')
        .values({ namespace, key, value: text, updated_at: now })
        .onConflict((oc) => oc.columns(['namespace', 'key']).doUpdateSet({ value: text, updated_at: now }))
        .execute();
    },
    async putMany(namespace, entries) {
      const now = clock.now();
      // Serialised before the transaction, so the write lock is held for the writes only.
      const rows = Array.from(entries, ([key, value]) => ({ namespace, key, value: JSON.stringify(value), updated_at: now }));
      if (rows.length === 0) return;
      await db.transaction().execute(async (trx) => {
        for (const row of rows) {
          await trx
            .insertInto('local_entries')
            .values(row)
            .onConflict((oc) => oc.columns(['namespace', 'key']).doUpdateSet({ value: row.value, updated_at: now }))
            .execute();
        }
      });
    },
    async delete(namespace, key) {
      await db.deleteFrom('local_entries').where('namespace', '=', namespace).where('key', '=', key).execute();
    },
    async list<T>(namespace: string) {
      const rows = await db.selectFrom('local_entries').selectAll().where('namespace', '=', namespace).orderBy('key').execute();
      return rows.map((r) => ({ key: r.key, value: JSON.parse(r.value) as T, updatedAt: Number(r.updated_at) }));
    },
    close: () => db.destroy(),
  };
}
