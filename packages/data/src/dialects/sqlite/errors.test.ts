import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapSqliteError } from './errors.ts';

const sqliteError = (errcode: number, message = 'x') => Object.assign(new Error(message), { code: 'ERR_SQLITE_ERROR', errcode });

describe('mapSqliteError', () => {
  const cases: [number, string][] = [
    [2067, 'DATA_ERR_UNIQUE_VIOLATION'],
    [1555, 'DATA_ERR_UNIQUE_VIOLATION'],
    [787, 'DATA_ERR_FOREIGN_KEY_VIOLATION'],
    [1299, 'DATA_ERR_NOT_NULL_VIOLATION'],
    [275, 'DATA_ERR_CHECK_VIOLATION'],
    [517, 'DATA_ERR_SERIALIZATION'],
    [5, 'DATA_ERR_UNAVAILABLE'],
    [261, 'DATA_ERR_UNAVAILABLE'], // SQLITE_BUSY_RECOVERY
    [14, 'DATA_ERR_UNAVAILABLE'],
    [26, 'DATA_ERR_UNAVAILABLE'],
    [1, 'DATA_ERR_QUERY'],
  ];
  for (const [errcode, code] of cases) {
    it(`errcode ${errcode} -> ${code}`, () => {
      const original = sqliteError(errcode);
      const mapped = mapSqliteError(original, '/data/apim.db');
      assert.equal(mapped.code, code);
      assert.equal(mapped.cause, original);
    });
  }

  it('keeps column names but drops an unnamed CHECK expression', () => {
    assert.equal((mapSqliteError(sqliteError(2067, 'UNIQUE constraint failed: users.tenant_id, users.username'), 'f')).description, 'users.tenant_id, users.username');
    assert.equal((mapSqliteError(sqliteError(275, "CHECK constraint failed: status in ('A')"), 'f')).description, undefined);
  });

  it('a closed database is DATA_ERR_UNAVAILABLE', () => {
    const err = Object.assign(new Error('database is not open'), { code: 'ERR_INVALID_STATE' });
    assert.equal(mapSqliteError(err, 'f').code, 'DATA_ERR_UNAVAILABLE');
  });
});
