/**
 * Publisher search benchmark: 10,000 APIs in one tenant, on SQLite and on PostgreSQL; p50/p95 of
 * `GET /apis?query=...` as the service runs it (query parsing + the store's SQL: count + page of
 * 25), for each query kind. Baseline, measured in the same run on the same data: a plain
 * `select * from apis where tenant_id = ? limit 25`. Target: p95 < 50 ms.
 *
 *   node_modules/.bin/node bench/publisher-search.ts [apis=10000] [iterations=200]
 *
 * PostgreSQL: the test server (GATEHOUSE_TEST_PG_*; a database is created and dropped); skipped
 * with a note when it is unreachable.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { createServerKeys, newId, SUPER_TENANT_ID } from '@gatehouse/core';
import { createRepositories, openDatabases } from '@gatehouse/data';
import type { Databases, DatabaseOptions } from '@gatehouse/data';
import { createInProcessHub } from '@gatehouse/events';
import { createPublisherService } from '@gatehouse/publisher';
import { postgresUrl, skipUnless, uniqueName } from '@gatehouse/testing';

const total = Number(process.argv[2] ?? 10_000);
const iterations = Number(process.argv[3] ?? 200);
const words = ['orders', 'payments', 'pets', 'weather', 'music', 'books', 'flights', 'hotels', 'cars', 'news', 'sports', 'stocks', 'maps', 'mail', 'chat', 'files'];
const statuses = ['CREATED', 'PUBLISHED', 'PUBLISHED', 'PUBLISHED', 'DEPRECATED', 'BLOCKED', 'PROTOTYPED', 'RETIRED'];
const tags = Array.from({ length: 50 }, (_, i) => `tag${i}`);

async function fill(dbs: Databases): Promise<void> {
  const now = Date.now();
  const batch = 250;
  await dbs.apim.transaction().execute(async (trx) => {
    for (let start = 0; start < total; start += batch) {
      const apis = [];
      const apiTags = [];
      for (let i = start; i < Math.min(total, start + batch); i++) {
        const word = words[i % words.length]!;
        const name = `${word}-service-${i}`;
        const provider = `provider${i % 20}`;
        const myTags = [tags[i % tags.length]!, tags[(i * 7) % tags.length]!].filter((t, k, a) => a.indexOf(t) === k);
        const description = `The ${word} API number ${i}, for ${words[(i * 3) % words.length]} integrations`;
        const id = newId();
        apis.push({
          id, tenant_id: SUPER_TENANT_ID, name, context: `/${word}/${i}`, version: `${1 + (i % 3)}.0.0`, provider, type: 'HTTP',
          lifecycle_status: statuses[i % statuses.length]!, description, visibility: 'PUBLIC', is_default_version: 0,
          body: JSON.stringify({ tags: myTags, operations: [{ target: '/*', verb: 'GET', authType: 'Any', throttlingPolicy: 'Unlimited', scopes: [] }] }),
          endpoint_security: null, search_text: [name, `/${word}/${i}`, provider, description, ...myTags].join(' ').toLowerCase(),
          created_at: now - i, updated_at: now - i, row_version: 1,
        });
        for (const tag of myTags) apiTags.push({ tenant_id: SUPER_TENANT_ID, api_id: id, tag });
      }
      await trx.insertInto('apis').values(apis).execute();
      await trx.insertInto('api_tags').values(apiTags).execute();
    }
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(label: string, fn: () => Promise<unknown>): Promise<string> {
  for (let i = 0; i < 10; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const p95 = percentile(times, 95);
  return `  ${label.padEnd(34)} p50 ${percentile(times, 50).toFixed(2).padStart(7)} ms   p95 ${p95.toFixed(2).padStart(7)} ms${p95 > 50 ? '   OVER TARGET' : ''}`;
}

async function run(dialect: string, options: { apim: DatabaseOptions; shared: DatabaseOptions }): Promise<void> {
  const dbs = await openDatabases(options);
  try {
    await dbs.migrate();
    const t0 = performance.now();
    await fill(dbs);
    console.log(`${dialect}: ${total} APIs stored in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    if (dialect === 'postgres') await sql`analyze`.execute(dbs.apim);
    const svc = createPublisherService({
      databases: dbs, repositories: createRepositories(dbs), keys: createServerKeys('bench-secret-0123456789abcdef-0123'), hub: createInProcessHub({}), clock: { now: () => Date.now() },
    });
    const page = { limit: 25, offset: 0 };
    const lines = [
      await measure('baseline: select … limit 25', () => dbs.apim.selectFrom('apis').selectAll().where('tenant_id', '=', SUPER_TENANT_ID).limit(25).execute()),
      await measure('list (no query), newest first', () => svc.search(SUPER_TENANT_ID, undefined, page)),
      await measure('list, offset 5000', () => svc.search(SUPER_TENANT_ID, undefined, { limit: 25, offset: 5000 })),
      await measure('name:pets', () => svc.search(SUPER_TENANT_ID, 'name:pets', page)),
      await measure('name:"pets-service-42" (exact)', () => svc.search(SUPER_TENANT_ID, 'name:"pets-service-42"', page)),
      await measure('tag:tag7', () => svc.search(SUPER_TENANT_ID, 'tag:tag7', page)),
      await measure('status:published', () => svc.search(SUPER_TENANT_ID, 'status:published', page)),
      await measure('provider:provider3', () => svc.search(SUPER_TENANT_ID, 'provider:provider3', page)),
      await measure('context:/weather', () => svc.search(SUPER_TENANT_ID, 'context:/weather', page)),
      await measure('free text "music integrations"', () => svc.search(SUPER_TENANT_ID, 'music integrations', page)),
      await measure('tag:tag7 status:published books', () => svc.search(SUPER_TENANT_ID, 'tag:tag7 status:published books', page)),
    ];
    console.log(lines.join('\n'));
  } finally {
    await dbs.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'gatehouse-bench-'));
try {
  await run('sqlite', { apim: { type: 'sqlite', path: join(dir, 'apim.db') }, shared: { type: 'sqlite', path: join(dir, 'shared.db') } });
} finally {
  await rm(dir, { recursive: true, force: true });
}

if ((await skipUnless('postgres')) === false) {
  const names = [uniqueName('gh_bench_apim'), uniqueName('gh_bench_shared')];
  const admin = async (text: string) => {
    const c = new pg.Client({ connectionString: postgresUrl('postgres') });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  };
  for (const n of names) await admin(`CREATE DATABASE "${n}"`);
  try {
    await run('postgres', { apim: { type: 'postgres', url: postgresUrl(names[0]!) }, shared: { type: 'postgres', url: postgresUrl(names[1]!) } });
  } finally {
    for (const n of names) await admin(`DROP DATABASE IF EXISTS "${n}" WITH (FORCE)`);
  }
}
