import type { Kysely } from 'kysely';
import type { SharedSchema } from '@gatehouse/data';

export type DocumentRow = SharedSchema['api_documents'];

/**
 * The API metadata registry in the shared database: OpenAPI definitions (one per API) and
 * documents. Every query is scoped by tenant id.
 */
export const registryStore = {
  async getDefinition(db: Kysely<SharedSchema>, tenantId: number, apiId: string): Promise<string | undefined> {
    const row = await db.selectFrom('api_definitions').select('content').where('tenant_id', '=', tenantId).where('api_id', '=', apiId).executeTakeFirst();
    return row?.content;
  },

  async putDefinition(db: Kysely<SharedSchema>, tenantId: number, apiId: string, content: string, now: number): Promise<void> {
    const res = await db.updateTable('api_definitions').set({ content, updated_at: now }).where('tenant_id', '=', tenantId).where('api_id', '=', apiId).executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) await db.insertInto('api_definitions').values({ api_id: apiId, tenant_id: tenantId, content, updated_at: now }).execute();
  },

  /** Removes the API's definition and documents. */
  async deleteApi(db: Kysely<SharedSchema>, tenantId: number, apiId: string): Promise<void> {
    await db.deleteFrom('api_definitions').where('tenant_id', '=', tenantId).where('api_id', '=', apiId).execute();
    await db.deleteFrom('api_documents').where('tenant_id', '=', tenantId).where('api_id', '=', apiId).execute();
  },

  /** By creation; `hidden` leaves out documents of those visibilities (e.g. the Publisher's own notes). */
  async listDocuments(
    db: Kysely<SharedSchema>,
    tenantId: number,
    apiId: string,
    page: { limit: number; offset: number },
    hidden: readonly string[] = [],
  ): Promise<{ items: DocumentRow[]; total: number }> {
    let q = db.selectFrom('api_documents').where('tenant_id', '=', tenantId).where('api_id', '=', apiId);
    if (hidden.length > 0) q = q.where('visibility', 'not in', [...hidden]);
    const [items, count] = await Promise.all([
      q.selectAll().orderBy('created_at').orderBy('id').limit(page.limit).offset(page.offset).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(count.n) };
  },

  async getDocument(db: Kysely<SharedSchema>, tenantId: number, apiId: string, id: string, hidden: readonly string[] = []): Promise<DocumentRow | undefined> {
    let q = db.selectFrom('api_documents').selectAll().where('tenant_id', '=', tenantId).where('api_id', '=', apiId).where('id', '=', id);
    if (hidden.length > 0) q = q.where('visibility', 'not in', [...hidden]);
    return q.executeTakeFirst();
  },

  async insertDocument(db: Kysely<SharedSchema>, row: DocumentRow): Promise<void> {
    await db.insertInto('api_documents').values(row).execute();
  },

  async updateDocument(db: Kysely<SharedSchema>, row: DocumentRow): Promise<void> {
    const { id, tenant_id, api_id, created_at, created_by, ...set } = row;
    void created_at;
    void created_by;
    await db.updateTable('api_documents').set(set).where('tenant_id', '=', tenant_id).where('api_id', '=', api_id).where('id', '=', id).execute();
  },

  async deleteDocument(db: Kysely<SharedSchema>, tenantId: number, apiId: string, id: string): Promise<boolean> {
    const res = await db.deleteFrom('api_documents').where('tenant_id', '=', tenantId).where('api_id', '=', apiId).where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) === 1;
  },
};
