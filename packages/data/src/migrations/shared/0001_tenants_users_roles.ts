import { sql } from 'kysely';
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('tenants')
    .addColumn('id', 'integer', (c) => c.notNull().primaryKey())
    .addColumn('domain', 'varchar(255)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('tenants_domain_unique', ['domain'])
    .addCheckConstraint('tenants_status_check', sql`status in ('ACTIVE', 'INACTIVE')`)
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'varchar(36)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('username', 'varchar(255)', (c) => c.notNull())
    .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
    .addColumn('email', 'varchar(255)')
    .addColumn('given_name', 'varchar(255)')
    .addColumn('family_name', 'varchar(255)')
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('users_tenant_username_unique', ['tenant_id', 'username'])
    .addForeignKeyConstraint('users_tenant_fk', ['tenant_id'], 'tenants', ['id'])
    .addCheckConstraint('users_status_check', sql`status in ('ACTIVE', 'LOCKED', 'PENDING')`)
    .execute();

  await db.schema
    .createTable('roles')
    .addColumn('id', 'varchar(36)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('roles_tenant_name_unique', ['tenant_id', 'name'])
    .addForeignKeyConstraint('roles_tenant_fk', ['tenant_id'], 'tenants', ['id'])
    .execute();

  await db.schema
    .createTable('user_roles')
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('user_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('role_id', 'varchar(36)', (c) => c.notNull())
    .addPrimaryKeyConstraint('user_roles_pk', ['user_id', 'role_id'])
    .addForeignKeyConstraint('user_roles_user_fk', ['user_id'], 'users', ['id'], (fk) => fk.onDelete('cascade'))
    .addForeignKeyConstraint('user_roles_role_fk', ['role_id'], 'roles', ['id'], (fk) => fk.onDelete('cascade'))
    .execute();

  await db.schema.createIndex('user_roles_role_idx').on('user_roles').column('role_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('user_roles').execute();
  await db.schema.dropTable('roles').execute();
  await db.schema.dropTable('users').execute();
  await db.schema.dropTable('tenants').execute();
}
