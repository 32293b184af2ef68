import type { Kysely } from 'kysely';

/** Revisions (WSO2's AM_REVISION), deployments (AM_DEPLOYMENT_REVISION_MAPPING) and runtime artifacts (AM_GW_API_ARTIFACTS). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('api_revisions')
    .addColumn('id', 'varchar(36)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('api_id', 'varchar(36)', (c) => c.notNull().references('apis.id').onDelete('cascade'))
    .addColumn('revision_number', 'integer', (c) => c.notNull())
    .addColumn('description', 'text')
    // JSON: the API row, its sealed endpoint security and its definition, as they were.
    .addColumn('snapshot', 'text', (c) => c.notNull())
    .addColumn('created_by', 'varchar(255)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('api_revisions_api_number_unique', ['api_id', 'revision_number'])
    .execute();

  await db.schema
    .createTable('api_deployments')
    .addColumn('id', 'varchar(36)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('api_id', 'varchar(36)', (c) => c.notNull().references('apis.id').onDelete('cascade'))
    .addColumn('revision_id', 'varchar(36)', (c) => c.notNull().references('api_revisions.id').onDelete('cascade'))
    .addColumn('environment', 'varchar(255)', (c) => c.notNull())
    .addColumn('vhost', 'varchar(255)', (c) => c.notNull())
    .addColumn('display_on_devportal', 'integer', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('deployed_at', 'bigint', (c) => c.notNull())
    .addColumn('success_deployed_at', 'bigint')
    .addUniqueConstraint('api_deployments_api_environment_unique', ['api_id', 'environment'])
    .execute();
  await db.schema.createIndex('api_deployments_tenant_env_idx').on('api_deployments').columns(['tenant_id', 'environment']).execute();

  await db.schema
    .createTable('api_deployment_acks')
    .addColumn('deployment_id', 'varchar(36)', (c) => c.notNull().references('api_deployments.id').onDelete('cascade'))
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('gateway_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('message', 'text')
    .addColumn('acked_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('api_deployment_acks_pk', ['deployment_id', 'gateway_id'])
    .execute();

  await db.schema
    .createTable('runtime_artifacts')
    .addColumn('revision_id', 'varchar(36)', (c) => c.notNull().primaryKey().references('api_revisions.id').onDelete('cascade'))
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('api_id', 'varchar(36)', (c) => c.notNull().references('apis.id').onDelete('cascade'))
    .addColumn('schema_version', 'integer', (c) => c.notNull())
    .addColumn('artifact', 'text', (c) => c.notNull())
    .addColumn('checksum', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['runtime_artifacts', 'api_deployment_acks', 'api_deployments', 'api_revisions']) await db.schema.dropTable(t).execute();
}
