import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeUrl } from './open.ts';
import { mapPostgresError } from './errors.ts';

const pgError = (code: string, extra: object = {}) => Object.assign(new Error('x'), { code, ...extra });

describe('mapPostgresError', () => {
  const cases: [Error, string][] = [
    [pgError('23505', { table: 'users', constraint: 'users_tenant_username_unique' }), 'DATA_ERR_UNIQUE_VIOLATION'],
    [pgError('23503'), 'DATA_ERR_FOREIGN_KEY_VIOLATION'],
    [pgError('23502', { column: 'username' }), 'DATA_ERR_NOT_NULL_VIOLATION'],
    [pgError('23514'), 'DATA_ERR_CHECK_VIOLATION'],
    [pgError('40001'), 'DATA_ERR_SERIALIZATION'],
    [pgError('40P01'), 'DATA_ERR_SERIALIZATION'],
    [pgError('08006'), 'DATA_ERR_UNAVAILABLE'],
    [pgError('57P01'), 'DATA_ERR_UNAVAILABLE'],
    [pgError('3D000'), 'DATA_ERR_UNAVAILABLE'],
    [pgError('53300'), 'DATA_ERR_UNAVAILABLE'],
    [pgError('ECONNREFUSED'), 'DATA_ERR_UNAVAILABLE'],
    [Object.assign(new AggregateError([pgError('ECONNREFUSED'), pgError('ECONNREFUSED')]), {}), 'DATA_ERR_UNAVAILABLE'],
    [new Error('Connection terminated unexpectedly'), 'DATA_ERR_UNAVAILABLE'],
    [new Error('timeout exceeded when trying to connect'), 'DATA_ERR_UNAVAILABLE'],
    [pgError('42P01'), 'DATA_ERR_QUERY'],
    [new Error('something else'), 'DATA_ERR_QUERY'],
  ];
  for (const [original, code] of cases) {
    it(`${(original as { code?: string }).code ?? original.message} -> ${code}`, () => {
      const mapped = mapPostgresError(original, 'db:5432/x');
      assert.equal(mapped.code, code);
      assert.equal(mapped.cause, original);
    });
  }

  it('names the constraint and the column', () => {
    const unique = mapPostgresError(pgError('23505', { table: 'users', constraint: 'users_tenant_username_unique' }), 't');
    assert.equal(unique.description, 'users.users_tenant_username_unique');
    const notNull = mapPostgresError(pgError('23502', { table: 'users', column: 'username' }), 't');
    assert.equal(notNull.details[0].field, 'username');
  });

  it('describes a URL as host:port/database without credentials', () => {
    assert.equal(describeUrl('postgres://gh:pa55@db.internal:6543/apim?sslmode=require'), 'db.internal:6543/apim');
    assert.equal(describeUrl('postgres://gh:pa55@db.internal/apim'), 'db.internal:5432/apim');
    assert.doesNotMatch(describeUrl('not a url pa55'), /pa55/);
  });
});
