import { resolve } from 'node:path';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { DataErrors } from './errors.ts';
import { openSqlite } from './dialects/sqlite/open.ts';
import type { DataLogger, DialectName, OpenedDatabase } from './dialects/types.ts';
import { migrateToLatest } from './migrations/index.ts';
import type { ApimSchema, SharedSchema } from './schema.ts';

export type { DataLogger, DialectName } from './dialects/types.ts';

/** Where one database lives: a SQLite file, or a PostgreSQL server. */
export type DatabaseOptions =
  | { type: 'sqlite'; path: string; busyTimeoutMs?: number }
  | { type: 'postgres'; url: string; poolMax?: number; connectTimeoutMs?: number };

/** Names of the migrations applied by one `migrate()` call, per database. */
export interface MigrationReport {
  apim: string[];
  shared: string[];
}

/** The two databases of ARCHITECTURE.md, opened and checked. */
export interface Databases {
  /** WSO2_AM_DB: APIs, applications, subscriptions, keys, policies, gateway environments, ... */
  readonly apim: Kysely<ApimSchema>;
  /** WSO2_SHARED_DB: tenants, users, roles, the API metadata registry. */
  readonly shared: Kysely<SharedSchema>;
  readonly dialects: { readonly apim: DialectName; readonly shared: DialectName };
  /** Applies pending migrations to both databases; safe when several processes start at once. */
  migrate(): Promise<MigrationReport>;
  /** Resolves when both databases answer; throws DATA_ERR_UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenDatabasesOptions {
  apim: DatabaseOptions;
  shared: DatabaseOptions;
  logger?: DataLogger;
}

/**
 * Opens both databases (a PostgreSQL one before a SQLite one) and checks that each answers, so a wrong path or an unreachable server
 * fails here with DATA_ERR_UNAVAILABLE (naming the file or host:port, never a password).
 * Migrations are not applied: call `migrate()`.
 *
 * @example
 * ```ts
 * const dbs = await openDatabases({
 *   apim: { type: 'sqlite', path: 'data/apim.db' },
 *   shared: { type: 'postgres', url: 'postgres://gatehouse@db:5432/shared', poolMax: 20 },
 * });
 * await dbs.migrate();
 * const repos = createRepositories(dbs);
 * ```
 */
export async function openDatabases(opts: OpenDatabasesOptions): Promise<Databases> {
  const { logger } = opts;
  // A server first: if it is unreachable, no SQLite file (or its folder) has been created yet.
  const serverFirst = opts.apim.type === 'sqlite' && opts.shared.type === 'postgres';
  let apim: OpenedDatabase<ApimSchema>;
  let shared: OpenedDatabase<SharedSchema>;
  if (sameSqliteFile(opts.apim, opts.shared)) {
    // One file, one connection: two node:sqlite connections in one thread would block each other
    // synchronously on busy_timeout. The schemas do not overlap, nor do the migration tables.
    apim = await openOne<ApimSchema>(opts.apim, logger);
    shared = apim as unknown as OpenedDatabase<SharedSchema>;
  } else if (serverFirst) {
    shared = await openOne<SharedSchema>(opts.shared, logger);
    try {
      apim = await openOne<ApimSchema>(opts.apim, logger);
    } catch (err) {
      await shared.db.destroy().catch(() => undefined);
      throw err;
    }
  } else {
    apim = await openOne<ApimSchema>(opts.apim, logger);
    try {
      shared = await openOne<SharedSchema>(opts.shared, logger);
    } catch (err) {
      await apim.db.destroy().catch(() => undefined);
      throw err;
    }
  }
  const stores = apim === (shared as unknown) ? [apim] : [apim, shared];
  let closed = false;

  return {
    apim: apim.db,
    shared: shared.db,
    dialects: Object.freeze({ apim: apim.dialect, shared: shared.dialect }),

    async migrate() {
      const report: MigrationReport = {
        apim: await migrateToLatest(apim.db as Kysely<unknown>, 'apim'),
        shared: await migrateToLatest(shared.db as Kysely<unknown>, 'shared'),
      };
      if (report.apim.length > 0 || report.shared.length > 0) {
        logger?.info({ migrations: report }, 'database migrations applied');
      }
      return report;
    },

    async ping() {
      await Promise.all(
        stores.map(async (store) => {
          try {
            await sql`select 1`.execute(store.db);
          } catch (err) {
            if (DataErrors.is(err, 'DATA_ERR_UNAVAILABLE')) throw err;
            throw DataErrors.create('DATA_ERR_UNAVAILABLE', { description: `${store.dialect} ${store.target} did not answer`, cause: err });
          }
        }),
      );
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(stores.map((store) => store.db.destroy()));
    },
  };
}

function openOne<DB>(options: DatabaseOptions, logger: DataLogger | undefined): Promise<OpenedDatabase<DB>> {
  switch (options.type) {
    case 'sqlite':
      return openSqlite<DB>(options, logger);
    case 'postgres':
      // Loaded only when used, so SQLite-only processes never load the pg driver.
      return import('./dialects/postgres/open.ts').then(({ openPostgres }) => openPostgres<DB>(options, logger));
  }
}

function sameSqliteFile(a: DatabaseOptions, b: DatabaseOptions): boolean {
  return a.type === 'sqlite' && b.type === 'sqlite' && a.path !== ':memory:' && resolve(a.path) === resolve(b.path);
}
