import { postgresUrl } from './services.ts';
import { tempDir, uniqueName } from './tmp.ts';

/** The secret `freshPostgresDatabases` puts in `argv` unless told otherwise. */
export const TEST_NODE_SECRET = 'gatehouse-test-secret-0123456789abcdef';

/** One PostgreSQL database created for a test; `drop()` removes it even with open connections. */
export interface FreshPostgresDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** An apim + shared pair of PostgreSQL databases created for a test. */
export interface FreshPostgresDatabases {
  urls: { apim: string; shared: string };
  /** `--database.*` flags for both databases plus `--security.secret`, ready for `startTestNode`. */
  argv: string[];
  /** Only the `--database.*` flags, for callers that pass their own `--security.secret`. */
  databaseArgv: string[];
  drop(): Promise<void>;
}

/**
 * Runs statements on the server's `postgres` database. `pg` is imported here, on first use, so
 * suites that never touch PostgreSQL never load it.
 */
async function adminQueries(statements: readonly string[]): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: postgresUrl('postgres') });
  await client.connect();
  try {
    for (const text of statements) await client.query(text);
  } finally {
    await client.end();
  }
}

const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;
const dropAll = (names: readonly string[]) => adminQueries(names.map((n) => `DROP DATABASE IF EXISTS ${quoted(n)} WITH (FORCE)`));

/**
 * Creates one empty PostgreSQL database named after `prefix` on the test server
 * (`postgresUrl`); `drop()` removes it with `DROP DATABASE … WITH (FORCE)`.
 *
 * @example
 * ```ts
 * const db = await freshPostgresDatabase('gh_keys');
 * after(db.drop);
 * const dbs = await openDatabases({ apim: { type: 'postgres', url: db.url }, shared: { type: 'postgres', url: db.url } });
 * ```
 */
export async function freshPostgresDatabase(prefix: string): Promise<FreshPostgresDatabase> {
  const name = uniqueName(prefix);
  await adminQueries([`CREATE DATABASE ${quoted(name)}`]);
  return { name, url: postgresUrl(name), drop: () => dropAll([name]) };
}

/**
 * Creates an empty apim + shared pair of PostgreSQL databases (`<prefix>_…_apim`,
 * `<prefix>_…_shared`) on the test server; `drop()` removes both with `WITH (FORCE)`.
 * Guard the suite with `skipUnless('postgres')`.
 *
 * @example
 * ```ts
 * const pg = await freshPostgresDatabases('gh_dp');
 * const node = await startTestNode(['--profile', 'control-plane', ...pg.argv]);
 * after(async () => { await node.close(); await pg.drop(); });
 * ```
 */
export async function freshPostgresDatabases(prefix: string, options: { secret?: string } = {}): Promise<FreshPostgresDatabases> {
  const base = uniqueName(prefix);
  const names = [`${base}_apim`, `${base}_shared`] as const;
  await adminQueries(names.map((n) => `CREATE DATABASE ${quoted(n)}`));
  const urls = { apim: postgresUrl(names[0]), shared: postgresUrl(names[1]) };
  const databaseArgv = ['--database.apim.type', 'postgres', '--database.apim.url', urls.apim, '--database.shared.type', 'postgres', '--database.shared.url', urls.shared];
  return {
    urls,
    argv: [...databaseArgv, '--security.secret', options.secret ?? TEST_NODE_SECRET],
    databaseArgv,
    drop: () => dropAll(names),
  };
}

/** What {@link freshMigratedDatabases} needs of `@gatehouse/data`'s `openDatabases` (passed in: the data package itself depends on this one). */
type OpenDatabases<D> = (options: {
  apim: { type: 'sqlite'; path: string } | { type: 'postgres'; url: string; poolMax: number };
  shared: { type: 'sqlite'; path: string } | { type: 'postgres'; url: string; poolMax: number };
}) => Promise<D>;

/**
 * Two fresh, migrated databases (apim, shared) of one dialect: temp SQLite files, or new PostgreSQL
 * databases named after `prefix`; `close()` closes and removes them.
 *
 * @example
 * ```ts
 * const { dbs, close } = await freshMigratedDatabases(openDatabases, 'postgres', { prefix: 'gh_pub', secret });
 * after(close);
 * ```
 */
export async function freshMigratedDatabases<D extends { migrate(): Promise<unknown>; close(): Promise<void> }>(
  open: OpenDatabases<D>,
  dialect: 'sqlite' | 'postgres',
  options: { prefix: string; secret: string },
): Promise<{ dbs: D; close(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = await tempDir(`${options.prefix}-`);
    const dbs = await open({ apim: { type: 'sqlite', path: `${dir.path}/apim.db` }, shared: { type: 'sqlite', path: `${dir.path}/shared.db` } });
    await dbs.migrate();
    return { dbs, close: async () => { await dbs.close(); await dir.remove(); } };
  }
  const pg = await freshPostgresDatabases(options.prefix, { secret: options.secret });
  const dbs = await open({ apim: { type: 'postgres', url: pg.urls.apim, poolMax: 4 }, shared: { type: 'postgres', url: pg.urls.shared, poolMax: 4 } });
  await dbs.migrate();
  return { dbs, close: async () => { await dbs.close(); await pg.drop(); } };
}
