import assert from 'node:assert/strict';
import { createServer, connect } from 'node:net';
import type { Socket } from 'node:net';
import { before, it } from 'node:test';
import { SUPER_TENANT_ID } from '@gatehouse/core';
import { testServices } from '@gatehouse/testing';
import { createRepositories, DataErrors, openDatabases } from '../src/index.ts';
import type { Databases, Repositories, UsersTable } from '../src/index.ts';
import { forEachDialect, TEST_PASSWORD_PARAMS } from './dialects.ts';

async function rejectsWith(work: Promise<unknown>, code: string, status: number) {
  const err = await work.then(
    () => assert.fail(`expected ${code}`),
    (e: unknown) => e,
  );
  assert.ok(DataErrors.is(err), `a data error, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  assert.equal(err.status, status);
  return err;
}

function userRow(overrides: Partial<UsersTable> = {}): UsersTable {
  return {
    id: crypto.randomUUID(),
    tenant_id: SUPER_TENANT_ID,
    username: `u-${crypto.randomUUID()}`,
    password_hash: 'x',
    email: null,
    given_name: null,
    family_name: null,
    status: 'ACTIVE',
    created_at: 1,
    updated_at: 1,
    ...overrides,
  };
}

await forEachDialect((dialect, h) => {
  let dbs: Databases;
  let repos: Repositories;
  before(async () => {
    dbs = await h.open();
    repos = createRepositories(dbs, { passwordParams: TEST_PASSWORD_PARAMS });
    await repos.tenants.ensure({ id: SUPER_TENANT_ID, domain: 'carbon.super' });
  });

  it('a duplicate username is DATA_ERR_UNIQUE_VIOLATION (409), naming the constraint without SQL or values', async () => {
    await repos.users.create(SUPER_TENANT_ID, { username: 'dup', password: 'pw-one' });
    const err = await rejectsWith(repos.users.create(SUPER_TENANT_ID, { username: 'dup', password: 'pw-two' }), 'DATA_ERR_UNIQUE_VIOLATION', 409);
    assert.match(err.description ?? '', /users/);
    assert.doesNotMatch(`${err.message} ${err.description}`, /insert|dup\b|values/i);
    assert.ok(err.cause, 'keeps the driver error as cause');
    assert.equal(err.expose, true);
    assert.equal(err.toWso2Body().code, 900409);
  });

  it('a missing tenant is DATA_ERR_FOREIGN_KEY_VIOLATION (409)', async () => {
    await rejectsWith(repos.users.create(4242, { username: 'orphan', password: 'pw' }), 'DATA_ERR_FOREIGN_KEY_VIOLATION', 409);
  });

  it('a null in a required column is DATA_ERR_NOT_NULL_VIOLATION (400) naming the column', async () => {
    const err = await rejectsWith(
      dbs.shared.insertInto('users').values(userRow({ username: null as unknown as string })).execute(),
      'DATA_ERR_NOT_NULL_VIOLATION',
      400,
    );
    assert.equal(err.details[0]?.field, 'username');
  });

  it('a value outside a CHECK is DATA_ERR_CHECK_VIOLATION (400) naming the constraint', async () => {
    const err = await rejectsWith(
      dbs.shared.insertInto('users').values(userRow({ status: 'BANNED' as 'ACTIVE' })).execute(),
      'DATA_ERR_CHECK_VIOLATION',
      400,
    );
    assert.match(err.description ?? '', /users_status_check/);
  });

  it('anything else is DATA_ERR_QUERY (500), not exposed', async () => {
    const err = await rejectsWith(dbs.shared.selectFrom('no_such_table' as 'users').selectAll().execute(), 'DATA_ERR_QUERY', 500);
    assert.equal(err.expose, false);
    assert.equal(err.toWso2Body().message, 'Internal server error');
  });

  it('errors inside a transaction are mapped too, and the transaction leaves nothing', async () => {
    await rejectsWith(
      dbs.shared.transaction().execute(async (trx) => {
        await trx.insertInto('users').values(userRow({ username: 'in-trx' })).execute();
        await trx.insertInto('users').values(userRow({ username: 'in-trx' })).execute();
      }),
      'DATA_ERR_UNIQUE_VIOLATION',
      409,
    );
    assert.equal(await repos.users.findByUsername(SUPER_TENANT_ID, 'in-trx'), undefined);
  });

  it('ping resolves while the databases answer', async () => {
    await dbs.ping();
  });

  it(`an unreachable ${dialect === 'sqlite' ? 'path' : 'server'} fails openDatabases fast with DATA_ERR_UNAVAILABLE (503), without the password`, async () => {
    const started = performance.now();
    const err = await rejectsWith(openDatabases(h.unreachablePair()), 'DATA_ERR_UNAVAILABLE', 503);
    assert.ok(performance.now() - started < 3000, 'fails fast');
    if (dialect === 'postgres') assert.match(err.message, /127\.0\.0\.1:1\b/);
    assert.doesNotMatch(`${err.message} ${err.description}`, /s3cret/);
  });

  it('ping on closed databases is DATA_ERR_UNAVAILABLE', async () => {
    const other = await openDatabases(await h.freshPair());
    await other.ping();
    await other.close();
    await rejectsWith(other.ping(), 'DATA_ERR_UNAVAILABLE', 503);
  });

  it('ping turns DATA_ERR_UNAVAILABLE when the server goes away, and the process survives it', { skip: dialect === 'sqlite' && 'SQLite has no server to lose' }, async () => {
    // A TCP proxy in front of PostgreSQL that the test can pull the plug on.
    const sockets = new Set<Socket>();
    const proxy = createServer((client) => {
      const upstream = connect(testServices.postgres.port, testServices.postgres.host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as { port: number };
    const pair = await h.freshPair();
    const via = (o: typeof pair.apim) => (o.type === 'postgres' ? { ...o, url: o.url.replace(/@[^/]+\//, `@127.0.0.1:${port}/`) } : o);
    const other = await openDatabases({ apim: via(pair.apim), shared: via(pair.shared) });
    try {
      await other.ping();
      await new Promise<void>((resolve) => {
        proxy.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      const started = performance.now();
      await rejectsWith(other.ping(), 'DATA_ERR_UNAVAILABLE', 503);
      assert.ok(performance.now() - started < 3000, 'fails fast');
    } finally {
      await other.close();
    }
  });
});
