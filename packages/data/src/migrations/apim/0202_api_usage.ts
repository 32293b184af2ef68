import type { Kysely } from 'kysely';

/**
 * Usage analytics (WSO2 delegates them to Choreo; Gatehouse keeps its own roll-ups): per API,
 * minute, operation and application, what the gateways' `analytics` events add up to; and the
 * hub batches already folded in, so control-plane replicas that all receive every batch count
 * each once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('api_usage_minutes')
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    // No foreign key: calls to an API deleted since still happened, and a late batch must not fail.
    .addColumn('api_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('minute_start', 'bigint', (c) => c.notNull())
    // `GET /pets/{petId}`; '' when the gateway did not say.
    .addColumn('operation', 'varchar(512)', (c) => c.notNull())
    // '' for calls without an application (unsecured resources, refused credentials).
    .addColumn('application_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('application_name', 'varchar(255)')
    .addColumn('calls', 'integer', (c) => c.notNull())
    // 4xx other than 429.
    .addColumn('errors_4xx', 'integer', (c) => c.notNull())
    .addColumn('errors_5xx', 'integer', (c) => c.notNull())
    .addColumn('throttled', 'integer', (c) => c.notNull())
    .addColumn('latency_sum_ms', 'bigint', (c) => c.notNull())
    .addColumn('latency_max_ms', 'integer', (c) => c.notNull())
    .addColumn('response_bytes', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('api_usage_minutes_pk', ['tenant_id', 'api_id', 'minute_start', 'operation', 'application_id'])
    .execute();
  await db.schema.createIndex('api_usage_minutes_minute_idx').on('api_usage_minutes').column('minute_start').execute();

  await db.schema
    .createTable('analytics_batches')
    // The batch's tenant (a hub event has one); the key below is the hub's, across tenants.
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    // The hub's per-topic sequence and publish time: together unique across hub restarts (an
    // in-process hub numbers from 1 again at every start; its events then carry a later time).
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('published_at', 'bigint', (c) => c.notNull())
    .addColumn('source', 'varchar(255)', (c) => c.notNull())
    .addColumn('events', 'integer', (c) => c.notNull())
    .addColumn('skipped', 'integer', (c) => c.notNull())
    .addColumn('recorded_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('analytics_batches_pk', ['seq', 'published_at'])
    .execute();
  await db.schema.createIndex('analytics_batches_published_idx').on('analytics_batches').column('published_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['analytics_batches', 'api_usage_minutes']) await db.schema.dropTable(t).execute();
}
