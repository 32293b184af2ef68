import type { Kysely } from 'kysely';

/**
 * The Developer Portal's tables: applications and their attributes, subscriptions, key mappings
 * (application ↔ OAuth client per key type and key manager), issued API keys, ratings, comments.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('dp_applications')
    .addColumn('id', 'varchar(36)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .addColumn('owner', 'varchar(255)', (c) => c.notNull())
    .addColumn('throttling_policy', 'varchar(60)', (c) => c.notNull())
    .addColumn('description', 'varchar(1024)')
    .addColumn('token_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('groups', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('dp_applications_tenant_owner_name_unique', ['tenant_id', 'owner', 'name'])
    .execute();

  await db.schema
    .createTable('dp_application_attributes')
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('application_id', 'varchar(36)', (c) => c.notNull().references('dp_applications.id').onDelete('cascade'))
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('value', 'varchar(1024)', (c) => c.notNull())
    .addPrimaryKeyConstraint('dp_application_attributes_pk', ['application_id', 'name'])
    .execute();

  await db.schema
    .createTable('dp_subscriptions')
    .addColumn('id', 'varchar(36)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('application_id', 'varchar(36)', (c) => c.notNull().references('dp_applications.id').onDelete('cascade'))
    .addColumn('api_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('throttling_policy', 'varchar(60)', (c) => c.notNull())
    .addColumn('requested_policy', 'varchar(60)')
    .addColumn('status', 'varchar(32)', (c) => c.notNull())
    .addColumn('created_by', 'varchar(255)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('dp_subscriptions_tenant_app_api_unique', ['tenant_id', 'application_id', 'api_id'])
    .execute();
  await db.schema.createIndex('dp_subscriptions_tenant_api_idx').on('dp_subscriptions').columns(['tenant_id', 'api_id']).execute();

  await db.schema
    .createTable('dp_key_mappings')
    .addColumn('id', 'varchar(36)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('application_id', 'varchar(36)', (c) => c.notNull().references('dp_applications.id').onDelete('cascade'))
    .addColumn('key_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('key_manager', 'varchar(100)', (c) => c.notNull())
    .addColumn('consumer_key', 'varchar(255)', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('dp_key_mappings_app_type_km_unique', ['tenant_id', 'application_id', 'key_type', 'key_manager'])
    .addUniqueConstraint('dp_key_mappings_consumer_key_unique', ['key_manager', 'consumer_key'])
    .execute();

  await db.schema
    .createTable('dp_api_keys')
    .addColumn('jti', 'varchar(64)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('application_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('key_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('issued_by', 'varchar(255)', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('dp_api_keys_tenant_app_idx').on('dp_api_keys').columns(['tenant_id', 'application_id']).execute();

  await db.schema
    .createTable('dp_ratings')
    .addColumn('id', 'varchar(36)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('api_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('username', 'varchar(255)', (c) => c.notNull())
    .addColumn('rating', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('dp_ratings_tenant_api_user_unique', ['tenant_id', 'api_id', 'username'])
    .execute();

  await db.schema
    .createTable('dp_comments')
    .addColumn('id', 'varchar(36)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('api_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('username', 'varchar(255)', (c) => c.notNull())
    .addColumn('content', 'varchar(4096)', (c) => c.notNull())
    .addColumn('category', 'varchar(32)', (c) => c.notNull())
    .addColumn('parent_id', 'varchar(36)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('dp_comments_tenant_api_idx').on('dp_comments').columns(['tenant_id', 'api_id', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['dp_comments', 'dp_ratings', 'dp_api_keys', 'dp_key_mappings', 'dp_subscriptions', 'dp_application_attributes', 'dp_applications']) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
