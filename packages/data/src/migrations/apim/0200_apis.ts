import type { Kysely } from 'kysely';

/** The Publisher's APIs (WSO2's AM_API), their tags, lifecycle history and shared scopes. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('apis')
    .addColumn('id', 'varchar(36)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('context', 'varchar(255)', (c) => c.notNull())
    .addColumn('version', 'varchar(64)', (c) => c.notNull())
    .addColumn('provider', 'varchar(255)', (c) => c.notNull())
    .addColumn('type', 'varchar(32)', (c) => c.notNull())
    .addColumn('lifecycle_status', 'varchar(32)', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('visibility', 'varchar(16)', (c) => c.notNull())
    .addColumn('is_default_version', 'integer', (c) => c.notNull())
    // Everything else of WSO2's `API` body, as JSON (endpoint credentials removed: see endpoint_security).
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('endpoint_security', 'text')
    // Lower-cased name, context, version, provider, description and tags for free-text search.
    .addColumn('search_text', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('row_version', 'integer', (c) => c.notNull())
    .addUniqueConstraint('apis_tenant_context_version_unique', ['tenant_id', 'context', 'version'])
    .addUniqueConstraint('apis_tenant_name_version_unique', ['tenant_id', 'name', 'version'])
    .execute();
  await db.schema.createIndex('apis_tenant_created_idx').on('apis').columns(['tenant_id', 'created_at']).execute();
  await db.schema.createIndex('apis_tenant_status_idx').on('apis').columns(['tenant_id', 'lifecycle_status']).execute();
  await db.schema.createIndex('apis_tenant_provider_idx').on('apis').columns(['tenant_id', 'provider']).execute();

  await db.schema
    .createTable('api_tags')
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('api_id', 'varchar(36)', (c) => c.notNull().references('apis.id').onDelete('cascade'))
    .addColumn('tag', 'varchar(255)', (c) => c.notNull())
    .addPrimaryKeyConstraint('api_tags_pk', ['api_id', 'tag'])
    .execute();
  await db.schema.createIndex('api_tags_tenant_tag_idx').on('api_tags').columns(['tenant_id', 'tag']).execute();

  await db.schema
    .createTable('api_lifecycle_history')
    .addColumn('id', 'varchar(36)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('api_id', 'varchar(36)', (c) => c.notNull().references('apis.id').onDelete('cascade'))
    .addColumn('previous_state', 'varchar(32)')
    .addColumn('post_state', 'varchar(32)', (c) => c.notNull())
    .addColumn('username', 'varchar(255)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('api_lifecycle_history_api_idx').on('api_lifecycle_history').columns(['tenant_id', 'api_id', 'created_at']).execute();

  await db.schema
    .createTable('shared_scopes')
    .addColumn('id', 'varchar(36)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('display_name', 'varchar(255)')
    .addColumn('description', 'text')
    .addColumn('bindings', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('shared_scopes_tenant_name_unique', ['tenant_id', 'name'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['shared_scopes', 'api_lifecycle_history', 'api_tags', 'apis']) await db.schema.dropTable(t).execute();
}
