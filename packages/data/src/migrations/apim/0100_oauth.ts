import { sql } from 'kysely';
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('km_oauth_clients')
    .addColumn('client_id', 'varchar(128)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('name', 'varchar(255)', (c) => c.notNull())
    .addColumn('owner', 'varchar(255)', (c) => c.notNull())
    .addColumn('secret_hash', 'varchar(128)')
    .addColumn('token_endpoint_auth_method', 'varchar(64)', (c) => c.notNull())
    .addColumn('grant_types', 'text', (c) => c.notNull())
    .addColumn('redirect_uris', 'text', (c) => c.notNull())
    .addColumn('token_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('access_token_ttl_ms', 'bigint', (c) => c.notNull())
    .addColumn('refresh_token_ttl_ms', 'bigint', (c) => c.notNull())
    .addColumn('id_token_ttl_ms', 'bigint', (c) => c.notNull())
    .addColumn('password_grant_enabled', 'integer', (c) => c.notNull())
    .addColumn('source', 'varchar(32)', (c) => c.notNull())
    .addColumn('dcr_key', 'varchar(600)')
    .addColumn('saas', 'integer', (c) => c.notNull())
    .addColumn('application_id', 'varchar(64)')
    .addColumn('application_name', 'varchar(255)')
    .addColumn('application_owner', 'varchar(255)')
    .addColumn('application_tier', 'varchar(255)')
    .addColumn('key_type', 'varchar(16)')
    .addColumn('key_manager', 'varchar(255)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('km_oauth_clients_dcr_unique', ['tenant_id', 'dcr_key'])
    .addCheckConstraint('km_oauth_clients_token_type_check', sql`token_type in ('JWT', 'OPAQUE')`)
    .addCheckConstraint('km_oauth_clients_key_type_check', sql`key_type is null or key_type in ('PRODUCTION', 'SANDBOX')`)
    .execute();
  await db.schema.createIndex('km_oauth_clients_application_idx').on('km_oauth_clients').columns(['tenant_id', 'application_id']).execute();

  await db.schema
    .createTable('km_signing_keys')
    .addColumn('kid', 'varchar(64)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('purpose', 'varchar(16)', (c) => c.notNull())
    .addColumn('alg', 'varchar(16)', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('private_jwk', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('rotated_at', 'bigint')
    .addCheckConstraint('km_signing_keys_status_check', sql`status in ('current', 'previous', 'retired')`)
    .execute();
  // However many replicas start at once, one current key per purpose.
  await db.schema
    .createIndex('km_signing_keys_current_unique')
    .on('km_signing_keys')
    .columns(['tenant_id', 'purpose'])
    .unique()
    .where(sql.ref('status'), '=', 'current')
    .execute();

  await db.schema
    .createTable('km_grants')
    .addColumn('grant_id', 'varchar(64)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('client_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('username', 'varchar(255)')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('km_grants_expires_idx').on('km_grants').column('expires_at').execute();

  await db.schema
    .createTable('km_authorization_codes')
    .addColumn('code_hash', 'varchar(128)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('client_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('username', 'varchar(255)', (c) => c.notNull())
    .addColumn('redirect_uri', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('code_challenge', 'varchar(128)')
    .addColumn('nonce', 'text')
    .addColumn('grant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('auth_time', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('consumed_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('km_authorization_codes_expires_idx').on('km_authorization_codes').column('expires_at').execute();

  await db.schema
    .createTable('km_refresh_tokens')
    .addColumn('token_hash', 'varchar(128)', (c) => c.notNull().primaryKey())
    .addColumn('grant_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('client_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('username', 'varchar(255)')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('auth_time', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('consumed_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('km_refresh_tokens_grant_idx').on('km_refresh_tokens').column('grant_id').execute();
  await db.schema.createIndex('km_refresh_tokens_expires_idx').on('km_refresh_tokens').column('expires_at').execute();

  await db.schema
    .createTable('km_access_tokens')
    .addColumn('jti', 'varchar(64)', (c) => c.notNull().primaryKey())
    .addColumn('token_hash', 'varchar(128)')
    .addColumn('grant_id', 'varchar(64)')
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('client_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('subject', 'varchar(255)', (c) => c.notNull())
    .addColumn('username', 'varchar(255)')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('claims', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('km_access_tokens_hash_unique', ['token_hash'])
    .execute();
  await db.schema.createIndex('km_access_tokens_grant_idx').on('km_access_tokens').column('grant_id').execute();
  await db.schema.createIndex('km_access_tokens_expires_idx').on('km_access_tokens').column('expires_at').execute();

  await db.schema
    .createTable('km_revoked_tokens')
    .addColumn('jti', 'varchar(64)', (c) => c.notNull().primaryKey())
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('client_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('km_revoked_tokens_expires_idx').on('km_revoked_tokens').column('expires_at').execute();

  await db.schema
    .createTable('km_failed_attempts')
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('key', 'varchar(600)', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('locked_until', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('km_failed_attempts_pk', ['tenant_id', 'key'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['km_failed_attempts', 'km_revoked_tokens', 'km_access_tokens', 'km_refresh_tokens', 'km_authorization_codes', 'km_grants', 'km_signing_keys', 'km_oauth_clients']) {
    await db.schema.dropTable(table).execute();
  }
}
