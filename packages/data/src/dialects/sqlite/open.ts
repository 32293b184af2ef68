import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Kysely, sql } from 'kysely';
import { DataErrors } from '../../errors.ts';
import type { DataLogger, OpenedDatabase } from '../types.ts';
import { NodeSqliteDialect } from './dialect.ts';
import { mapSqliteError } from './errors.ts';

export interface SqliteOpenOptions {
  readonly path: string;
  readonly busyTimeoutMs?: number;
}

/** Opens (creating its directory and file if missing) one SQLite database and checks it answers. */
export async function openSqlite<DB>(options: SqliteOpenOptions, logger?: DataLogger): Promise<OpenedDatabase<DB>> {
  const memory = options.path === ':memory:';
  const target = memory ? options.path : resolve(options.path);
  if (!memory) {
    try {
      await mkdir(dirname(target), { recursive: true });
    } catch (err) {
      throw DataErrors.create('DATA_ERR_UNAVAILABLE', {
        message: `Cannot create the directory for SQLite database ${target}`,
        description: `cannot create ${dirname(target)}`,
        cause: err,
      });
    }
  }
  const db = new Kysely<DB>({ dialect: new NodeSqliteDialect({ path: target, busyTimeoutMs: options.busyTimeoutMs }) });
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    await db.destroy().catch(() => undefined);
    const mapped = mapSqliteError(err, target);
    if (DataErrors.is(mapped, 'DATA_ERR_UNAVAILABLE')) {
      throw DataErrors.create('DATA_ERR_UNAVAILABLE', { message: `Cannot open SQLite database ${target}`, description: mapped.description, cause: err });
    }
    throw mapped;
  }
  logger?.info({ dialect: 'sqlite', target }, 'database opened');
  return { db, dialect: 'sqlite', target };
}
