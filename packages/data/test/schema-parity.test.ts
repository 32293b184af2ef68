import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Kysely, TableMetadata } from 'kysely';
import { bothDialects } from './dialects.ts';

/** A type family both dialects agree on: `varchar(255)` (SQLite keeps the declaration) = `varchar` (pg). */
function family(dataType: string): string {
  const t = dataType.toLowerCase().replace(/\(.*\)$/, '').trim();
  if (['int', 'int4', 'integer', 'int2', 'smallint'].includes(t)) return 'integer';
  if (['int8', 'bigint'].includes(t)) return 'bigint';
  if (['text', 'varchar', 'character varying', 'char', 'bpchar'].includes(t)) return 'text';
  if (['bool', 'boolean'].includes(t)) return 'boolean';
  return t;
}

type Shape = Record<string, Record<string, { nullable: boolean; type: string }>>;

function shape(tables: TableMetadata[]): Shape {
  const out: Shape = {};
  for (const t of tables.filter((t) => !t.isView).sort((a, b) => a.name.localeCompare(b.name))) {
    out[t.name] = Object.fromEntries(
      t.columns
        .map((c) => [c.name, { nullable: c.isNullable, type: family(c.dataType) }] as const)
        .sort(([a], [b]) => a.localeCompare(b)),
    );
  }
  return out;
}

bothDialects((sqlite, postgres) => {
  it('the same migrations give both dialects the same tables, columns, nullability and type families', async () => {
    const [a, b] = await Promise.all([sqlite.open(), postgres.open()]);
    for (const role of ['apim', 'shared'] as const) {
      const left = shape(await (a[role] as Kysely<unknown>).introspection.getTables());
      const right = shape(await (b[role] as Kysely<unknown>).introspection.getTables());
      assert.ok(Object.keys(left).length > 2, `${role} has tables`);
      assert.deepEqual(left, right, `${role} schema differs between sqlite and postgres`);
    }
  });
});
