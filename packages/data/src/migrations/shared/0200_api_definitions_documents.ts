import type { Kysely } from 'kysely';

/** The API metadata registry: OpenAPI definitions and documents (WSO2 keeps both in its registry, WSO2_SHARED_DB). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('api_definitions')
    .addColumn('api_id', 'varchar(36)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('api_documents')
    .addColumn('id', 'varchar(36)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('api_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('type', 'varchar(32)', (c) => c.notNull())
    .addColumn('other_type_name', 'varchar(255)')
    .addColumn('summary', 'text')
    .addColumn('source_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('source_url', 'text')
    .addColumn('visibility', 'varchar(16)', (c) => c.notNull())
    .addColumn('inline_content', 'text')
    .addColumn('file_name', 'varchar(255)')
    .addColumn('file_media_type', 'varchar(255)')
    // base64, so both dialects store it the same way; bounded by publisher.max_document_bytes.
    .addColumn('file_content', 'text')
    .addColumn('created_by', 'varchar(255)', (c) => c.notNull())
    .addColumn('updated_by', 'varchar(255)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('api_documents_api_name_unique', ['tenant_id', 'api_id', 'name'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('api_documents').execute();
  await db.schema.dropTable('api_definitions').execute();
}
