import { isGatehouseError } from '@gatehouse/core';
import type { GatehouseError } from '@gatehouse/core';
import { DataErrors } from '../../errors.ts';
import type { DataErrorCode } from '../../errors.ts';

// SQLite extended result codes (https://www.sqlite.org/rescode.html).
const CONSTRAINT_CHECK = 275;
const CONSTRAINT_FOREIGNKEY = 787;
const CONSTRAINT_NOTNULL = 1299;
const CONSTRAINT_PRIMARYKEY = 1555;
const CONSTRAINT_UNIQUE = 2067;
const CONSTRAINT_DATATYPE = 3091;
const BUSY_SNAPSHOT = 517;
// Primary result codes (errcode & 0xff).
const BUSY = 5;
const LOCKED = 6;
const IOERR = 10;
const CORRUPT = 11;
const FULL = 13;
const CANTOPEN = 14;
const NOTADB = 26;

interface SqliteError {
  errcode?: number;
  code?: string;
  message?: string;
}

/**
 * Maps an error thrown by `node:sqlite` to a data-layer error. `target` names the database file
 * for UNAVAILABLE descriptions. Already-mapped errors pass through unchanged.
 */
export function mapSqliteError(err: unknown, target: string): GatehouseError {
  if (isGatehouseError(err)) return err;
  const e = (err ?? {}) as SqliteError;
  const message = typeof e.message === 'string' ? e.message : '';
  const errcode = typeof e.errcode === 'number' ? e.errcode : undefined;
  const make = (code: DataErrorCode, description?: string, field?: string) =>
    DataErrors.create(code, { description, cause: err, details: field ? [{ field, message: 'violates a constraint' }] : undefined });

  if (errcode === undefined) {
    // node:sqlite's own errors (closed database, bad binding) carry a Node code, not a result code.
    if (e.code === 'ERR_INVALID_STATE') return make('DATA_ERR_UNAVAILABLE', `SQLite database ${target} is not open`);
    return make('DATA_ERR_QUERY');
  }
  switch (errcode) {
    case CONSTRAINT_UNIQUE:
    case CONSTRAINT_PRIMARYKEY:
      return make('DATA_ERR_UNIQUE_VIOLATION', constraintSubject(message));
    case CONSTRAINT_FOREIGNKEY:
      // SQLite does not say which foreign key failed.
      return make('DATA_ERR_FOREIGN_KEY_VIOLATION', 'foreign key');
    case CONSTRAINT_NOTNULL: {
      // "NOT NULL constraint failed: users.username": the detail names the column alone, as pg's.
      const subject = constraintSubject(message);
      return make('DATA_ERR_NOT_NULL_VIOLATION', subject, subject?.split('.').pop());
    }
    case CONSTRAINT_CHECK:
    case CONSTRAINT_DATATYPE:
      return make('DATA_ERR_CHECK_VIOLATION', constraintSubject(message));
    case BUSY_SNAPSHOT:
      return make('DATA_ERR_SERIALIZATION');
  }
  switch (errcode & 0xff) {
    case BUSY:
    case LOCKED:
      return make('DATA_ERR_UNAVAILABLE', `SQLite database ${target} stayed locked by another connection past the busy timeout`);
    case CANTOPEN:
    case NOTADB:
    case CORRUPT:
      return make('DATA_ERR_UNAVAILABLE', `cannot open SQLite database ${target}`);
    case IOERR:
    case FULL:
      return make('DATA_ERR_UNAVAILABLE', `I/O error on SQLite database ${target}`);
  }
  return make('DATA_ERR_QUERY');
}

/**
 * The part after "constraint failed: ": column names (`users.tenant_id, users.username`) or the
 * name of a named CHECK constraint. An unnamed CHECK would print its expression, so anything that
 * does not look like identifiers is dropped rather than leaked.
 */
function constraintSubject(message: string): string | undefined {
  const i = message.indexOf('constraint failed: ');
  if (i < 0) return undefined;
  const subject = message.slice(i + 'constraint failed: '.length).trim();
  return /^[\w.]+(, [\w.]+)*$/.test(subject) ? subject : undefined;
}
