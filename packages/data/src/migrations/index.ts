import { Migrator } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import { DataErrors } from '../errors.ts';
import * as apim0001 from './apim/0001_gateway_environments.ts';
import * as apim0002 from './apim/0002_system_settings.ts';
import * as shared0001 from './shared/0001_tenants_users_roles.ts';
import * as local0001 from './local/0001_local_entries.ts';
import { adminMigrations } from './admin.ts';
import { devportalMigrations } from './devportal.ts';
import { keyManagerMigrations } from './key-manager.ts';
import { publisherMigrations } from './publisher.ts';

/**
 * The migration sets, one per database, imported statically (no directory scan, so bundling and
 * type stripping see them). Names sort in order of application; never rename or edit an applied one.
 * Each component keeps its own migrations in ./<component>.ts, numbered in its own range:
 *
 * | area        | apim      | shared    |
 * |-------------|-----------|-----------|
 * | foundation  | 0001-0002 | 0001      |
 * | key-manager | 0100-0199 | 0100-0199 |
 * | publisher   | 0200-0299 | 0200-0299 |
 * | admin       | 0300-0399 | 0300-0399 |
 * | devportal   | 0400-0499 | 0400-0499 |
 */
export const apimMigrations: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_gateway_environments': apim0001,
  '0002_system_settings': apim0002,
  ...keyManagerMigrations.apim,
  ...publisherMigrations.apim,
  ...adminMigrations.apim,
  ...devportalMigrations.apim,
});

export const sharedMigrations: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_tenants_users_roles': shared0001,
  ...keyManagerMigrations.shared,
  ...publisherMigrations.shared,
  ...adminMigrations.shared,
  ...devportalMigrations.shared,
});

/** The per-node local store (never shared between nodes): the gateway's last-known-good snapshot. */
export const localMigrations: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_local_entries': local0001,
});

export type DatabaseRole = 'apim' | 'shared' | 'local';

/**
 * Each database keeps its own history table, so apim and shared may even live in one PostgreSQL
 * database or one SQLite file without reading each other's history.
 */
export function migrationTables(role: DatabaseRole): { migrationTableName: string; migrationLockTableName: string } {
  return { migrationTableName: `gatehouse_${role}_migration`, migrationLockTableName: `gatehouse_${role}_migration_lock` };
}

/**
 * Applies the pending migrations of one database and returns their names. Concurrent runs are
 * serialized: PostgreSQL by kysely's advisory lock, SQLite by the BEGIN IMMEDIATE transaction the
 * whole run executes in. Throws DATA_ERR_UNAVAILABLE when the database cannot be reached, and
 * DATA_ERR_MIGRATION otherwise.
 */
export async function migrateToLatest(db: Kysely<unknown>, role: DatabaseRole): Promise<string[]> {
  const migrations = role === 'apim' ? apimMigrations : role === 'shared' ? sharedMigrations : localMigrations;
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => ({ ...migrations }) },
    ...migrationTables(role),
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    if (DataErrors.is(error, 'DATA_ERR_UNAVAILABLE')) throw error;
    const failed = results.find((r) => r.status === 'Error');
    throw DataErrors.create('DATA_ERR_MIGRATION', {
      message: `Migrating the ${role} database failed${failed ? ` at ${failed.migrationName}` : ''}`,
      description: failed ? `migration ${failed.migrationName}` : `${role} migration history`,
      cause: error,
    });
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
