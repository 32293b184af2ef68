import { defineErrors } from '@gatehouse/core';
import type { GatehouseError } from '@gatehouse/core';

/**
 * The data layer's error registry. Both dialects map their driver's errors to these codes inside
 * the driver, so no layer above reads a SQLite or PostgreSQL message. The original error is kept
 * as `cause`; `description` names the constraint or column, never the SQL or the values.
 *
 * @example
 * ```ts
 * try {
 *   await repos.users.create(tenantId, { username: 'alice', password });
 * } catch (err) {
 *   if (DataErrors.is(err, 'DATA_ERR_UNIQUE_VIOLATION')) return conflict(err.toWso2Body());
 *   throw err;
 * }
 * ```
 */
export const DataErrors = defineErrors({
  DATA_ERR_UNIQUE_VIOLATION: { status: 409, wso2Code: 900409, message: 'The resource already exists' },
  DATA_ERR_FOREIGN_KEY_VIOLATION: { status: 409, wso2Code: 900601, message: 'The resource refers to, or is referred to by, another resource' },
  DATA_ERR_NOT_NULL_VIOLATION: { status: 400, wso2Code: 900602, message: 'A required value is missing' },
  DATA_ERR_CHECK_VIOLATION: { status: 400, wso2Code: 900603, message: 'A value is not allowed' },
  DATA_ERR_SERIALIZATION: { status: 409, wso2Code: 900604, message: 'The operation conflicted with a concurrent one; retry it' },
  DATA_ERR_UNAVAILABLE: { status: 503, wso2Code: 900503, message: 'The database is unavailable' },
  DATA_ERR_NOT_FOUND: { status: 404, wso2Code: 900404, message: 'The requested resource was not found' },
  DATA_ERR_CONFLICT: { status: 409, wso2Code: 900605, message: 'The resource was modified by someone else' },
  DATA_ERR_MIGRATION: { status: 500, wso2Code: 900606, message: 'The database migration failed' },
  DATA_ERR_QUERY: { status: 500, wso2Code: 900500, message: 'The database query failed' },
});

export type DataErrorCode = keyof typeof DataErrors.specs;
export type DataError = GatehouseError<DataErrorCode>;

/** Whether running the same operation again may succeed (serialization failures and deadlocks). */
export function isRetryable(err: unknown): boolean {
  return DataErrors.is(err, 'DATA_ERR_SERIALIZATION');
}
