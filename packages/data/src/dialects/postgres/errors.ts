import { isGatehouseError } from '@gatehouse/core';
import type { GatehouseError } from '@gatehouse/core';
import { DataErrors } from '../../errors.ts';
import type { DataErrorCode } from '../../errors.ts';

interface PgError {
  code?: string;
  constraint?: string;
  table?: string;
  column?: string;
  message?: string;
  errors?: unknown[];
}

// Socket errors from node:net / node:dns while connecting or mid-query.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPIPE',
  'ENOENT',
]);

// pg's own connection failures have no code, only these messages.
const PG_CONNECTION_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end|Client was closed|Connection closed/i;

/**
 * Maps an error from `pg` (a server error with its SQLSTATE `code`, or a socket error) to a
 * data-layer error. `target` is `host:port/database`, never the URL, so no password is repeated.
 */
export function mapPostgresError(err: unknown, target: string): GatehouseError {
  if (isGatehouseError(err)) return err;
  const e = (err ?? {}) as PgError;
  const code = typeof e.code === 'string' ? e.code : '';
  const make = (c: DataErrorCode, description?: string, field?: string) =>
    DataErrors.create(c, { description, cause: err, details: field ? [{ field, message: 'violates a constraint' }] : undefined });

  // SQLSTATE classes: https://www.postgresql.org/docs/current/errcodes-appendix.html
  switch (code) {
    case '23505':
    case '23P01':
      return make('DATA_ERR_UNIQUE_VIOLATION', subject(e.table, e.constraint));
    case '23503':
      return make('DATA_ERR_FOREIGN_KEY_VIOLATION', subject(e.table, e.constraint));
    case '23502':
      return make('DATA_ERR_NOT_NULL_VIOLATION', subject(e.table, e.column), e.column);
    case '23514':
      return make('DATA_ERR_CHECK_VIOLATION', subject(e.table, e.constraint));
    case '40001':
    case '40P01':
    case '55P03':
      return make('DATA_ERR_SERIALIZATION');
    case '57P01':
    case '57P02':
    case '57P03':
    case '3D000':
    case '28000':
    case '28P01':
      return make('DATA_ERR_UNAVAILABLE', `cannot use PostgreSQL at ${target} (${code})`);
  }
  if (code.startsWith('08') || code.startsWith('53')) {
    return make('DATA_ERR_UNAVAILABLE', `cannot use PostgreSQL at ${target} (${code})`);
  }
  const network = networkCode(e);
  if (network) return make('DATA_ERR_UNAVAILABLE', `cannot reach PostgreSQL at ${target} (${network})`);
  if (!code && PG_CONNECTION_MESSAGES.test(e.message ?? '')) {
    return make('DATA_ERR_UNAVAILABLE', `lost or could not open the connection to PostgreSQL at ${target}`);
  }
  return make('DATA_ERR_QUERY');
}

function networkCode(e: PgError): string | undefined {
  if (NETWORK_CODES.has(e.code ?? '')) return e.code;
  // Happy-eyeballs connects (several addresses) fail with an AggregateError.
  for (const inner of e.errors ?? []) {
    const c = (inner as PgError | undefined)?.code;
    if (c && NETWORK_CODES.has(c)) return c;
  }
  return undefined;
}

function subject(table: string | undefined, name: string | undefined): string | undefined {
  if (table && name) return `${table}.${name}`;
  return name ?? table;
}
