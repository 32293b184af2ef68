import type { Kysely } from 'kysely';

/**
 * The Admin component's tables: throttling policies of every kind, blocking (deny) conditions,
 * key managers, workflows and registered gateways. Structured parts (limits, conditional groups,
 * endpoints) are JSON text, so both dialects store them alike.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('admin_throttle_policies')
    .addColumn('id', 'varchar(36)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('name', 'varchar(60)', (c) => c.notNull())
    .addColumn('display_name', 'varchar(512)')
    .addColumn('description', 'varchar(1024)')
    .addColumn('is_deployed', 'integer', (c) => c.notNull())
    .addColumn('default_limit', 'text')
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('admin_throttle_policies_tenant_kind_name_unique', ['tenant_id', 'kind', 'name'])
    .execute();

  await db.schema
    .createTable('admin_blocking_conditions')
    .addColumn('id', 'varchar(36)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('condition_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('condition_value', 'text', (c) => c.notNull())
    .addColumn('value_key', 'varchar(512)', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('admin_blocking_conditions_tenant_value_unique', ['tenant_id', 'condition_type', 'value_key'])
    .execute();

  await db.schema
    .createTable('admin_key_managers')
    .addColumn('id', 'varchar(36)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .addColumn('display_name', 'varchar(100)')
    .addColumn('type', 'varchar(45)', (c) => c.notNull())
    .addColumn('description', 'varchar(256)')
    .addColumn('issuer', 'varchar(1024)')
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('token_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('sealed_secrets', 'text')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('admin_key_managers_tenant_name_unique', ['tenant_id', 'name'])
    .execute();

  await db.schema
    .createTable('admin_workflows')
    .addColumn('id', 'varchar(36)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('reference_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('workflow_type', 'varchar(64)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('subject_ref', 'varchar(255)', (c) => c.notNull())
    .addColumn('created_by', 'varchar(255)')
    .addColumn('description', 'text')
    .addColumn('properties', 'text', (c) => c.notNull())
    .addColumn('attributes', 'text', (c) => c.notNull())
    .addColumn('decision_note', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('admin_workflows_tenant_reference_unique', ['tenant_id', 'reference_id'])
    .execute();
  await db.schema.createIndex('admin_workflows_tenant_status_idx').on('admin_workflows').columns(['tenant_id', 'status', 'workflow_type']).execute();

  await db.schema
    .createTable('admin_gateways')
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('gateway_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('labels', 'text', (c) => c.notNull())
    .addColumn('registered_at', 'bigint', (c) => c.notNull())
    .addColumn('last_heartbeat', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('admin_gateways_pk', ['tenant_id', 'gateway_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['admin_gateways', 'admin_workflows', 'admin_key_managers', 'admin_blocking_conditions', 'admin_throttle_policies']) {
    await db.schema.dropTable(table).execute();
  }
}
