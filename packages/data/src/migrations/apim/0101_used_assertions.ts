import type { Kysely } from 'kysely';

/** JWT bearer assertions (RFC 7523 §3 item 7) already redeemed, kept until they expire. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('km_used_assertions')
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('issuer', 'varchar(512)', (c) => c.notNull())
    .addColumn('jti', 'varchar(255)', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('km_used_assertions_pk', ['tenant_id', 'issuer', 'jti'])
    .execute();
  await db.schema.createIndex('km_used_assertions_expires_idx').on('km_used_assertions').column('expires_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('km_used_assertions').execute();
}
