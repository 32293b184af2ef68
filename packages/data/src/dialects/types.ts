import type { Kysely } from 'kysely';

export type DialectName = 'sqlite' | 'postgres';

/** What each dialect's `open.ts` hands back to `openDatabases`. */
export interface OpenedDatabase<DB> {
  readonly db: Kysely<DB>;
  readonly dialect: DialectName;
  /** A printable name for the store: the file path, or `host:port/database` (never a password). */
  readonly target: string;
}

export interface DataLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}
