import { sql } from 'kysely';
import type { Kysely, Selectable } from 'kysely';
import { Roles } from '@gatehouse/core';
import type { ApimSchema, Databases, Repositories, SharedSchema, VirtualHost } from '@gatehouse/data';

/** A published API as the Developer Portal reads it from the Publisher's tables. */
export interface CatalogApi {
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
  body: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

/** Who is looking: undefined for an anonymous visitor. */
export interface Viewer {
  username: string;
  roles: readonly string[];
}

/** The lifecycle states the Developer Portal shows (WSO2 hides CREATED, BLOCKED and RETIRED APIs). */
export const VISIBLE_STATES: readonly string[] = ['PUBLISHED', 'PROTOTYPED', 'DEPRECATED'];

function fromRow(row: Selectable<ApimSchema['apis']>): CatalogApi {
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
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** `/pets/{version}` with 1.0 → `/pets/1.0`; `/pets` → `/pets/1.0` (the path a gateway serves). */
export function effectiveContext(context: string, version: string): string {
  return context.includes('{version}') ? context.replace('{version}', version) : `${context}/${version}`;
}

/**
 * Whether a viewer may see an API (WSO2's store visibility): PUBLIC to everyone, PRIVATE to any
 * signed-in user of the tenant, RESTRICTED to users holding one of `visibleRoles`; admins see all.
 */
export function canSee(api: CatalogApi, viewer: Viewer | undefined): boolean {
  if (!VISIBLE_STATES.includes(api.lifeCycleStatus)) return false;
  const v = api.visibility.toUpperCase();
  if (v === 'PUBLIC') return true;
  if (!viewer) return false;
  if (viewer.roles.includes(Roles.Admin)) return true;
  if (v === 'PRIVATE') return true;
  if (v === 'RESTRICTED') {
    const allowed = ((api.body.visibleRoles as string[] | undefined) ?? []).map((r) => r.toLowerCase());
    return viewer.roles.some((r) => allowed.includes(r.toLowerCase()));
  }
  return false;
}

/** A parsed WSO2 search query: `name:pet tag:x provider:admin free text`. */
export interface CatalogQuery {
  name?: string;
  context?: string;
  version?: string;
  provider?: string;
  tag?: string;
  description?: string;
  text?: string;
}

export function parseQuery(query: string | undefined): CatalogQuery {
  const out: CatalogQuery = {};
  const free: string[] = [];
  const known = new Set(['name', 'context', 'version', 'provider', 'tag', 'tags', 'description']);
  for (const m of (query ?? '').matchAll(/(\w+):("([^"]*)"|\S+)|"([^"]*)"|(\S+)/g)) {
    const key = m[1]?.toLowerCase();
    if (key && known.has(key)) {
      const k = (key === 'tags' ? 'tag' : key) as keyof Omit<CatalogQuery, 'text'>;
      out[k] = m[3] ?? m[2]!;
    } else {
      free.push(m[4] ?? m[5] ?? m[0]);
    }
  }
  if (free.length > 0) out.text = free.join(' ');
  return out;
}

/** Document visibilities the Developer Portal never shows (the Publisher's own notes). */
const HIDDEN_DOCS = ['OWNER_ONLY', 'PRIVATE'];

const like = (value: string) => `%${value.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * Read access to what the Publisher stores (APIs, tags, definitions, documents, deployments),
 * through the tables' schema in @gatehouse/data: the Developer Portal never writes them.
 */
export function createCatalog(dbs: Pick<Databases, 'apim' | 'shared'>, repos: Pick<Repositories, 'gatewayEnvironments'>) {
  const apim: Kysely<ApimSchema> = dbs.apim;
  const shared: Kysely<SharedSchema> = dbs.shared;
  return {
    async get(tenantId: number, id: string): Promise<CatalogApi | undefined> {
      const row = await apim.selectFrom('apis').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row && fromRow(row);
    },

    async getMany(tenantId: number, ids: readonly string[]): Promise<Map<string, CatalogApi>> {
      if (ids.length === 0) return new Map();
      const rows = await apim.selectFrom('apis').selectAll().where('tenant_id', '=', tenantId).where('id', 'in', [...new Set(ids)]).execute();
      return new Map(rows.map((r) => [r.id, fromRow(r)]));
    },

    /** The APIs a viewer may see that match the query, newest first. */
    async search(tenantId: number, q: CatalogQuery, viewer: Viewer | undefined, page: { limit: number; offset: number }): Promise<{ items: CatalogApi[]; total: number }> {
      let query = apim.selectFrom('apis').selectAll('apis').where('apis.tenant_id', '=', tenantId).where('apis.lifecycle_status', 'in', [...VISIBLE_STATES]);
      if (!viewer) query = query.where('apis.visibility', '=', 'PUBLIC');
      for (const field of ['name', 'context', 'version', 'provider', 'description'] as const) {
        const v = q[field];
        if (v !== undefined) query = query.where(sql<boolean>`lower(${sql.ref(`apis.${field}`)}) like ${like(v)} escape '\\'`);
      }
      if (q.tag !== undefined) {
        const tag = q.tag;
        query = query.where((eb) =>
          eb.exists(eb.selectFrom('api_tags').select('api_tags.api_id').whereRef('api_tags.api_id', '=', 'apis.id').where('api_tags.tenant_id', '=', tenantId).where('api_tags.tag', '=', tag)),
        );
      }
      for (const word of (q.text ?? '').split(/\s+/).filter(Boolean)) query = query.where(sql<boolean>`apis.search_text like ${like(word)} escape '\\'`);
      // Visibility of RESTRICTED APIs depends on roles kept in the JSON body: filtered here.
      const visible = (await query.orderBy('apis.created_at', 'desc').orderBy('apis.id').execute()).map(fromRow).filter((a) => canSee(a, viewer));
      return { items: visible.slice(page.offset, page.offset + page.limit), total: visible.length };
    },

    /** Tags of the APIs a viewer may see, with how many APIs carry each. */
    async tags(tenantId: number, viewer: Viewer | undefined): Promise<{ value: string; count: number }[]> {
      const rows = await apim
        .selectFrom('api_tags')
        .innerJoin('apis', 'apis.id', 'api_tags.api_id')
        .selectAll('apis')
        .select('api_tags.tag as tag_value')
        .where('api_tags.tenant_id', '=', tenantId)
        .where('apis.tenant_id', '=', tenantId)
        .where('apis.lifecycle_status', 'in', [...VISIBLE_STATES])
        .execute();
      const counts = new Map<string, number>();
      for (const r of rows) {
        const { tag_value, ...api } = r;
        if (canSee(fromRow(api), viewer)) counts.set(tag_value, (counts.get(tag_value) ?? 0) + 1);
      }
      return [...counts].sort((a, b) => a[0].localeCompare(b[0])).map(([value, count]) => ({ value, count }));
    },

    async definition(tenantId: number, apiId: string): Promise<string | undefined> {
      const row = await shared.selectFrom('api_definitions').select('content').where('tenant_id', '=', tenantId).where('api_id', '=', apiId).executeTakeFirst();
      return row?.content;
    },

    async documents(tenantId: number, apiId: string, page: { limit: number; offset: number }) {
      const q = shared.selectFrom('api_documents').where('tenant_id', '=', tenantId).where('api_id', '=', apiId).where('visibility', 'not in', HIDDEN_DOCS);
      const [items, count] = await Promise.all([
        q.selectAll().orderBy('created_at').orderBy('id').limit(page.limit).offset(page.offset).execute(),
        q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      ]);
      return { items, total: Number(count.n) };
    },

    async document(tenantId: number, apiId: string, id: string) {
      return shared.selectFrom('api_documents').selectAll().where('tenant_id', '=', tenantId).where('api_id', '=', apiId).where('id', '=', id).where('visibility', 'not in', HIDDEN_DOCS).executeTakeFirst();
    },

    /** The environments the API is deployed to (shown on the portal), with their vhosts' gateway URLs. */
    async endpoints(tenantId: number, apiId: string): Promise<{ environmentName: string; environmentType: string; displayName: string; vhost: string; http?: string; https?: string }[]> {
      const deployments = await apim
        .selectFrom('api_deployments')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('api_id', '=', apiId)
        .where('display_on_devportal', '=', 1)
        .orderBy('environment')
        .execute();
      const out = [];
      for (const d of deployments) {
        const env = await repos.gatewayEnvironments.getByName(tenantId, d.environment);
        const vhost: VirtualHost | undefined = env?.vhosts.find((v) => v.host === d.vhost) ?? env?.vhosts[0];
        const host = vhost?.host ?? d.vhost;
        const ctx = (vhost?.httpContext ?? '').replace(/\/+$/, '');
        const url = (scheme: 'http' | 'https', port: number | undefined) => {
          const dflt = scheme === 'https' ? 443 : 80;
          return `${scheme}://${host}${port === undefined || port === dflt ? '' : `:${port}`}${ctx}`;
        };
        out.push({
          environmentName: d.environment,
          environmentType: env?.type ?? 'hybrid',
          displayName: env?.displayName ?? d.environment,
          vhost: host,
          http: url('http', vhost?.httpPort),
          https: url('https', vhost?.httpsPort),
        });
      }
      return out;
    },
  };
}

export type Catalog = ReturnType<typeof createCatalog>;
