import { sql } from 'kysely';
import type { Kysely, RawBuilder, Selectable } from 'kysely';
import type { ApimSchema } from '@gatehouse/data';

type ApisTable = ApimSchema['apis'];

/** An API as stored: the searchable columns, plus the rest of WSO2's `API` body as JSON. */
export interface ApiRecord {
  id: string;
  tenantId: number;
  name: string;
  context: string;
  version: string;
  provider: string;
  type: string;
  lifeCycleStatus: string;
  description: string | null;
  visibility: string;
  isDefaultVersion: boolean;
  tags: string[];
  /** Every other field of WSO2's `API` (operations, scopes, endpointConfig without credentials, ...). */
  body: Record<string, unknown>;
  /** Sealed JSON of `endpointConfig.endpoint_security`, or null. */
  endpointSecurity: string | null;
  createdAt: number;
  updatedAt: number;
  rowVersion: number;
}

/** A parsed WSO2 search query: `name:pet tag:x free text`. */
export interface ApiSearch {
  name?: string;
  context?: string;
  version?: string;
  provider?: string;
  status?: string;
  tag?: string;
  description?: string;
  /** Free text, matched against name, context, version, provider, description and tags. */
  text?: string;
  /** Exact (quoted) matches instead of contains. */
  exact?: ReadonlySet<string>;
  /** Only APIs in one of these lifecycle states (as stored, e.g. `PUBLISHED`). */
  states?: readonly string[];
  /** Only APIs with one of these visibilities (as stored, e.g. `PUBLIC`). */
  visibilities?: readonly string[];
}

/** The order of a search: newest first by default. */
export interface ApiOrder {
  by: 'name' | 'version' | 'created_at' | 'lifecycle_status';
  direction: 'asc' | 'desc';
}

const NEWEST_FIRST: ApiOrder = { by: 'created_at', direction: 'desc' };

export function searchText(r: Pick<ApiRecord, 'name' | 'context' | 'version' | 'provider' | 'description' | 'tags'>): string {
  return [r.name, r.context, r.version, r.provider, r.description ?? '', ...r.tags].join(' ').toLowerCase();
}

function toRow(r: ApiRecord): ApisTable {
  return {
    id: r.id,
    tenant_id: r.tenantId,
    name: r.name,
    context: r.context,
    version: r.version,
    provider: r.provider,
    type: r.type,
    lifecycle_status: r.lifeCycleStatus,
    description: r.description,
    visibility: r.visibility,
    is_default_version: r.isDefaultVersion ? 1 : 0,
    body: JSON.stringify({ ...r.body, tags: r.tags }),
    endpoint_security: r.endpointSecurity,
    search_text: searchText(r),
    created_at: r.createdAt,
    updated_at: r.updatedAt,
    row_version: r.rowVersion,
  };
}

function fromRow(row: Selectable<ApisTable>): ApiRecord {
  const { tags, ...body } = JSON.parse(row.body) as Record<string, unknown> & { tags?: string[] };
  return {
    id: row.id,
    tenantId: Number(row.tenant_id),
    name: row.name,
    context: row.context,
    version: row.version,
    provider: row.provider,
    type: row.type,
    lifeCycleStatus: row.lifecycle_status,
    description: row.description,
    visibility: row.visibility,
    isDefaultVersion: Number(row.is_default_version) === 1,
    tags: tags ?? [],
    body,
    endpointSecurity: row.endpoint_security,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    rowVersion: Number(row.row_version),
  };
}

// Both dialects honour an explicit ESCAPE; SQLite has no default escape character.
const contains = (expr: RawBuilder<unknown> | ReturnType<typeof sql.ref>, value: string) =>
  sql<boolean>`${expr} like ${`%${value.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`} escape '\\'`;

/**
 * The `apis` table and its tags (apim database). Every query is scoped by tenant id; writers take
 * the transaction they run in.
 *
 * @example
 * ```ts
 * await dbs.apim.transaction().execute((trx) => apiStore.insert(trx, record));
 * const page = await apiStore.search(dbs.apim, tenantId, { tag: 'pets' }, { limit: 25, offset: 0 });
 * ```
 */
export const apiStore = {
  async insert(db: Kysely<ApimSchema>, r: ApiRecord): Promise<void> {
    await db.insertInto('apis').values(toRow(r)).execute();
    await writeTags(db, r);
  },

  /** Writes `r` if the stored row is still at `expectedRowVersion`; false otherwise. */
  async update(db: Kysely<ApimSchema>, r: ApiRecord, expectedRowVersion: number): Promise<boolean> {
    const { id, tenant_id, created_at, ...set } = toRow(r);
    void created_at;
    const res = await db
      .updateTable('apis')
      .set(set)
      .where('tenant_id', '=', tenant_id)
      .where('id', '=', id)
      .where('row_version', '=', expectedRowVersion)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) return false;
    await db.deleteFrom('api_tags').where('tenant_id', '=', tenant_id).where('api_id', '=', id).execute();
    await writeTags(db, r);
    return true;
  },

  async get(db: Kysely<ApimSchema>, tenantId: number, id: string): Promise<ApiRecord | undefined> {
    const row = await db.selectFrom('apis').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return row && fromRow(row);
  },

  /** Other versions of the same API (same name and provider). */
  async versionsOf(db: Kysely<ApimSchema>, tenantId: number, name: string, provider: string): Promise<ApiRecord[]> {
    const rows = await db.selectFrom('apis').selectAll().where('tenant_id', '=', tenantId).where('name', '=', name).where('provider', '=', provider).execute();
    return rows.map(fromRow);
  },

  /** Whether another API of the tenant uses the context (or claims it as its `/{version}` template). */
  async contextTaken(db: Kysely<ApimSchema>, tenantId: number, context: string, version: string, exceptId?: string): Promise<boolean> {
    let q = db.selectFrom('apis').select('id').where('tenant_id', '=', tenantId).where('context', '=', context).where('version', '=', version);
    if (exceptId) q = q.where('id', '!=', exceptId);
    return (await q.executeTakeFirst()) !== undefined;
  },

  async delete(db: Kysely<ApimSchema>, tenantId: number, id: string): Promise<boolean> {
    await db.deleteFrom('api_tags').where('tenant_id', '=', tenantId).where('api_id', '=', id).execute();
    const res = await db.deleteFrom('apis').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) === 1;
  },

  /** The APIs with these ids (missing ones are left out), by id. */
  async getMany(db: Kysely<ApimSchema>, tenantId: number, ids: readonly string[]): Promise<Map<string, ApiRecord>> {
    if (ids.length === 0) return new Map();
    const rows = await db.selectFrom('apis').selectAll().where('tenant_id', '=', tenantId).where('id', 'in', [...new Set(ids)]).execute();
    return new Map(rows.map((r) => [r.id, fromRow(r)]));
  },

  /** Newest first unless `order` says otherwise. */
  async search(db: Kysely<ApimSchema>, tenantId: number, s: ApiSearch, page: { limit: number; offset: number }, order: ApiOrder = NEWEST_FIRST): Promise<{ items: ApiRecord[]; total: number }> {
    const q = matching(db, tenantId, s);
    const [rows, count] = await Promise.all([
      q.selectAll('apis').orderBy(`apis.${order.by}`, order.direction).orderBy('apis.id').limit(page.limit).offset(page.offset).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(fromRow), total: Number(count.n) };
  },

  /** Every API matching `s`, unpaged (for callers that filter further on the JSON body). */
  async list(db: Kysely<ApimSchema>, tenantId: number, s: ApiSearch, order: ApiOrder = NEWEST_FIRST): Promise<ApiRecord[]> {
    const rows = await matching(db, tenantId, s).selectAll('apis').orderBy(`apis.${order.by}`, order.direction).orderBy('apis.id').execute();
    return rows.map(fromRow);
  },
};

/** The tenant's APIs matching a search: contains (or exact) on columns, tag, free text, states, visibilities. */
function matching(db: Kysely<ApimSchema>, tenantId: number, s: ApiSearch) {
  let q = db.selectFrom('apis').where('apis.tenant_id', '=', tenantId);
  const exact = s.exact ?? new Set<string>();
  const column = (field: 'name' | 'context' | 'version' | 'provider' | 'description', value: string) => {
    q = exact.has(field)
      ? q.where(`apis.${field}`, '=', value)
      : q.where(contains(sql`lower(${sql.ref(`apis.${field}`)})`, value));
  };
  if (s.name !== undefined) column('name', s.name);
  if (s.context !== undefined) column('context', s.context);
  if (s.version !== undefined) column('version', s.version);
  if (s.provider !== undefined) column('provider', s.provider);
  if (s.description !== undefined) column('description', s.description);
  if (s.status !== undefined) q = q.where(sql<string>`upper(apis.lifecycle_status)`, '=', s.status.toUpperCase());
  if (s.states !== undefined) q = s.states.length > 0 ? q.where('apis.lifecycle_status', 'in', [...s.states]) : q.where(sql<boolean>`1 = 0`);
  if (s.visibilities !== undefined) q = s.visibilities.length > 0 ? q.where('apis.visibility', 'in', [...s.visibilities]) : q.where(sql<boolean>`1 = 0`);
  if (s.tag !== undefined) {
    const tag = s.tag;
    q = q.where((eb) =>
      eb.exists(eb.selectFrom('api_tags').select('api_tags.api_id').whereRef('api_tags.api_id', '=', 'apis.id').where('api_tags.tenant_id', '=', tenantId).where('api_tags.tag', '=', tag)),
    );
  }
  if (s.text) {
    for (const word of s.text.split(/\s+/).filter(Boolean)) q = q.where(contains(sql.ref('apis.search_text'), word));
  }
  return q;
}

async function writeTags(db: Kysely<ApimSchema>, r: ApiRecord): Promise<void> {
  const tags = [...new Set(r.tags)];
  if (tags.length > 0) await db.insertInto('api_tags').values(tags.map((tag) => ({ tenant_id: r.tenantId, api_id: r.id, tag }))).execute();
}
