import pg from 'pg';
import { Kysely, sql } from 'kysely';
import { DataErrors } from '../../errors.ts';
import type { DataLogger, OpenedDatabase } from '../types.ts';
import { PgDialect } from './dialect.ts';
import { mapPostgresError } from './errors.ts';

export interface PostgresOpenOptions {
  readonly url: string;
  readonly poolMax?: number;
  readonly connectTimeoutMs?: number;
}

const DEFAULT_POOL_MAX = 10;
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
const INT8_OID = 20;

// int8 (bigint columns: epoch-ms timestamps, count(*)) as a JS number, like SQLite returns it.
// Per pool, not pg.types.setTypeParser, which would change every pg user in the process.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

/**
 * Opens a `pg.Pool` behind kysely and checks one connection, so an unreachable server fails here
 * (DATA_ERR_UNAVAILABLE naming host:port) instead of at the first request.
 */
export async function openPostgres<DB>(options: PostgresOpenOptions, logger?: DataLogger): Promise<OpenedDatabase<DB>> {
  const target = describeUrl(options.url);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax ?? DEFAULT_POOL_MAX,
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    application_name: 'gatehouse',
    types,
  });
  // A client losing its server emits 'error' on itself: while checked out nothing else listens,
  // and an unhandled 'error' event would crash the process. The query in flight is rejected
  // anyway (and mapped to DATA_ERR_UNAVAILABLE), and the pool drops the broken client on release.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  // Idle clients' errors are re-emitted on the pool.
  pool.on('error', (err) => {
    const mapped = mapPostgresError(err, target);
    logger?.warn({ dialect: 'postgres', target, code: mapped.code }, 'idle database connection failed');
  });
  const db = new Kysely<DB>({ dialect: new PgDialect({ pool, target }) });
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy().catch(() => undefined);
    const mapped = mapPostgresError(err, target);
    if (DataErrors.is(mapped, 'DATA_ERR_UNAVAILABLE')) {
      throw DataErrors.create('DATA_ERR_UNAVAILABLE', {
        message: `Cannot connect to PostgreSQL at ${target}`,
        description: mapped.description,
        cause: err,
      });
    }
    throw mapped;
  }
  logger?.info({ dialect: 'postgres', target }, 'database opened');
  return { db, dialect: 'postgres', target };
}

/** `host:port/database` from a connection URL, without user or password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    const host = u.searchParams.get('host') ?? (u.hostname || 'localhost');
    const port = u.port || '5432';
    const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
    return `${host}:${port}/${database}`;
  } catch {
    return '(unparseable PostgreSQL URL)';
  }
}
