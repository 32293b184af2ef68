import assert from 'node:assert/strict';
import { it } from 'node:test';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { apimMigrations, migrationTables, openDatabases, sharedMigrations } from '../src/index.ts';
import { forEachDialect, runConcurrently } from './dialects.ts';

const ALL = { apim: Object.keys(apimMigrations), shared: Object.keys(sharedMigrations) };

async function appliedNames(db: Kysely<unknown>, role: 'apim' | 'shared'): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from ${sql.table(migrationTables(role).migrationTableName)} order by name`.execute(db);
  return rows.map((r) => r.name);
}

await forEachDialect((_dialect, h) => {
  it('applies every migration once, and nothing on a second run', async () => {
    const dbs = await h.open({ migrate: false });
    assert.deepEqual(await dbs.migrate(), ALL);
    assert.deepEqual(await dbs.migrate(), { apim: [], shared: [] });
    assert.deepEqual(await appliedNames(dbs.apim as Kysely<unknown>, 'apim'), ALL.apim);
    assert.deepEqual(await appliedNames(dbs.shared as Kysely<unknown>, 'shared'), ALL.shared);
  });

  it('creates the tables of each database in that database only, each with a tenant_id', async () => {
    const dbs = await h.open();
    const names = async (db: Kysely<unknown>) =>
      (await db.introspection.getTables()).filter((t) => !t.name.startsWith('gatehouse_')).map((t) => t.name).sort();
    // Components add their own tables; the foundation's stay where ARCHITECTURE.md puts them.
    const apim = await names(dbs.apim as Kysely<unknown>);
    const shared = await names(dbs.shared as Kysely<unknown>);
    for (const t of ['gateway_environments', 'system_settings']) assert.ok(apim.includes(t) && !shared.includes(t), `${t} in apim only`);
    for (const t of ['roles', 'tenants', 'user_roles', 'users']) assert.ok(shared.includes(t) && !apim.includes(t), `${t} in shared only`);
    assert.deepEqual(apim.filter((t) => shared.includes(t)), [], 'no table in both databases');
    for (const db of [dbs.apim, dbs.shared] as Kysely<unknown>[]) {
      for (const table of await db.introspection.getTables()) {
        if (table.name.startsWith('gatehouse_') || table.name === 'tenants') continue; // tenants.id is the tenant id
        const tenant = table.columns.find((c) => c.name === 'tenant_id');
        assert.ok(tenant, `${table.name} has tenant_id`);
        assert.equal(tenant.isNullable, false, `${table.name}.tenant_id is not null`);
      }
    }
  });

  it('keeps apim and shared history apart when both live in one store', async () => {
    const pair = await h.freshPair();
    const dbs = await openDatabases({ apim: pair.apim, shared: pair.apim });
    try {
      assert.deepEqual(await dbs.migrate(), ALL);
      assert.deepEqual(await dbs.migrate(), { apim: [], shared: [] });
    } finally {
      await dbs.close();
    }
  });

  it('two processes migrating the same fresh store both succeed and apply the schema once', async () => {
    const pair = await h.freshPair();
    const results = await runConcurrently(2, pair, 'migrate');
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const applied = { apim: results.flatMap((r) => r.output.apim as string[]), shared: results.flatMap((r) => r.output.shared as string[]) };
    assert.deepEqual(applied.apim.sort(), ALL.apim);
    assert.deepEqual(applied.shared.sort(), ALL.shared);
    const dbs = await openDatabases(pair);
    try {
      assert.deepEqual(await appliedNames(dbs.apim as Kysely<unknown>, 'apim'), ALL.apim);
      assert.deepEqual(await appliedNames(dbs.shared as Kysely<unknown>, 'shared'), ALL.shared);
      assert.deepEqual(await dbs.migrate(), { apim: [], shared: [] });
    } finally {
      await dbs.close();
    }
  });
});
