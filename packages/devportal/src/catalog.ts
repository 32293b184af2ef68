import { Roles } from '@gatehouse/core';
import type { Databases, Repositories } from '@gatehouse/data';
import { createApiCatalog, parseQuery as parsePublisherQuery } from '@gatehouse/publisher';
import type { ApiSearch, CatalogApi } from '@gatehouse/publisher';

export type { CatalogApi } from '@gatehouse/publisher';

/** Who is looking: undefined for an anonymous visitor. */
export interface Viewer {
  username: string;
  roles: readonly string[];
}

/** The lifecycle states the Developer Portal shows (WSO2 hides CREATED, BLOCKED and RETIRED APIs). */
export const VISIBLE_STATES: readonly string[] = ['PUBLISHED', 'PROTOTYPED', 'DEPRECATED'];

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

/** The Publisher's search syntax (`name:pet tag:x free text`), also taking WSO2 Developer Portal's `tags:`. */
export const parseQuery = (query: string | undefined): ApiSearch => parsePublisherQuery(query, { aliases: { tags: 'tag' } });

/** Document visibilities the Developer Portal never shows (the Publisher's own notes). */
const HIDDEN_DOCS: readonly string[] = ['OWNER_ONLY', 'PRIVATE'];

/**
 * What the Developer Portal reads of the Publisher's APIs, tags, definitions, documents and
 * deployments, through the Publisher's read-only catalog, narrowed to what a viewer may see.
 */
export function createCatalog(dbs: Pick<Databases, 'apim' | 'shared'>, repos: Pick<Repositories, 'gatewayEnvironments'>) {
  const apis = createApiCatalog(dbs, repos);
  // States (and PUBLIC for anonymous visitors) are narrowed in SQL; RESTRICTED roles live in the JSON body.
  const shown = (viewer: Viewer | undefined): ApiSearch => ({ states: VISIBLE_STATES, ...(viewer ? {} : { visibilities: ['PUBLIC'] }) });
  return {
    get: apis.get,
    getMany: apis.getMany,

    /** The APIs a viewer may see that match the query, newest first. */
    search: (tenantId: number, q: ApiSearch, viewer: Viewer | undefined, page: { limit: number; offset: number }) =>
      apis.search(tenantId, { ...q, ...shown(viewer) }, page, (a) => canSee(a, viewer)),

    /** Tags of the APIs a viewer may see, with how many APIs carry each. */
    tags: (tenantId: number, viewer: Viewer | undefined) => apis.tags(tenantId, shown(viewer), (a) => canSee(a, viewer)),

    definition: apis.definition,
    documents: (tenantId: number, apiId: string, page: { limit: number; offset: number }) => apis.documents(tenantId, apiId, page, HIDDEN_DOCS),
    document: (tenantId: number, apiId: string, id: string) => apis.document(tenantId, apiId, id, HIDDEN_DOCS),

    /** The environments the API is deployed to and shown on the portal, with their gateway URLs. */
    endpoints: (tenantId: number, apiId: string) => apis.endpoints(tenantId, apiId, { onDevportal: true }),
  };
}

export type Catalog = ReturnType<typeof createCatalog>;
