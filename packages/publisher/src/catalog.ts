import type { Databases, Repositories, VirtualHost } from '@gatehouse/data';
import { apiStore } from './store/apis.ts';
import type { ApiRecord, ApiSearch } from './store/apis.ts';
import { deploymentStore } from './store/deployments.ts';
import { registryStore } from './store/registry.ts';
import type { DocumentRow } from './store/registry.ts';

/** An API as readers outside the Publisher see it: the stored record without sealed credentials or row version. */
export type CatalogApi = Omit<ApiRecord, 'endpointSecurity' | 'rowVersion'>;

/** Where a deployed API is served: the environment and its vhost's base URLs (no API path). */
export interface GatewayEndpoint {
  environmentName: string;
  environmentType: string;
  displayName: string;
  vhost: string;
  http?: string;
  https?: string;
}

const toCatalogApi = ({ endpointSecurity, rowVersion, ...api }: ApiRecord): CatalogApi => {
  void endpointSecurity;
  void rowVersion;
  return api;
};

/**
 * Read-only access to what the Publisher stores (APIs, tags, definitions, documents, deployments),
 * for other components such as the Developer Portal: the Publisher owns how its rows are read and
 * searched. Every call is scoped by tenant id.
 *
 * @example
 * ```ts
 * const catalog = createApiCatalog(databases, repositories);
 * const page = await catalog.search(tenantId, { ...parseQuery('tag:pets'), states: ['PUBLISHED'] }, { limit: 25, offset: 0 });
 * ```
 */
export function createApiCatalog(dbs: Pick<Databases, 'apim' | 'shared'>, repos: Pick<Repositories, 'gatewayEnvironments'>) {
  const list = async (tenantId: number, s: ApiSearch, accept: (api: CatalogApi) => boolean) =>
    (await apiStore.list(dbs.apim, tenantId, s)).map(toCatalogApi).filter(accept);
  return {
    async get(tenantId: number, id: string): Promise<CatalogApi | undefined> {
      const r = await apiStore.get(dbs.apim, tenantId, id);
      return r && toCatalogApi(r);
    },

    async getMany(tenantId: number, ids: readonly string[]): Promise<Map<string, CatalogApi>> {
      const found = await apiStore.getMany(dbs.apim, tenantId, ids);
      return new Map([...found].map(([id, r]) => [id, toCatalogApi(r)]));
    },

    /**
     * The APIs matching `s`, newest first. `accept` filters further on what SQL cannot see (e.g.
     * roles in the JSON body); paging then applies to the accepted APIs.
     */
    async search(tenantId: number, s: ApiSearch, page: { limit: number; offset: number }, accept?: (api: CatalogApi) => boolean): Promise<{ items: CatalogApi[]; total: number }> {
      if (!accept) {
        const { items, total } = await apiStore.search(dbs.apim, tenantId, s, page);
        return { items: items.map(toCatalogApi), total };
      }
      const all = await list(tenantId, s, accept);
      return { items: all.slice(page.offset, page.offset + page.limit), total: all.length };
    },

    /** The tags of the APIs matching `s` (and `accept`), with how many APIs carry each, by tag. */
    async tags(tenantId: number, s: ApiSearch, accept: (api: CatalogApi) => boolean = () => true): Promise<{ value: string; count: number }[]> {
      const counts = new Map<string, number>();
      for (const api of await list(tenantId, s, accept)) {
        for (const tag of new Set(api.tags)) counts.set(tag, (counts.get(tag) ?? 0) + 1);
      }
      return [...counts].sort((a, b) => a[0].localeCompare(b[0])).map(([value, count]) => ({ value, count }));
    },

    definition: (tenantId: number, apiId: string): Promise<string | undefined> => registryStore.getDefinition(dbs.shared, tenantId, apiId),

    /** `hidden` leaves out documents of those visibilities. */
    documents: (tenantId: number, apiId: string, page: { limit: number; offset: number }, hidden: readonly string[] = []): Promise<{ items: DocumentRow[]; total: number }> =>
      registryStore.listDocuments(dbs.shared, tenantId, apiId, page, hidden),

    document: (tenantId: number, apiId: string, id: string, hidden: readonly string[] = []): Promise<DocumentRow | undefined> =>
      registryStore.getDocument(dbs.shared, tenantId, apiId, id, hidden),

    /**
     * The environments the API is deployed to, by name, with their vhosts' gateway URLs; with
     * `onDevportal`, only the deployments marked to show on the Developer Portal.
     */
    async endpoints(tenantId: number, apiId: string, filter: { onDevportal?: boolean } = {}): Promise<GatewayEndpoint[]> {
      const out: GatewayEndpoint[] = [];
      for (const d of await deploymentStore.deployments(dbs.apim, tenantId, apiId, filter)) {
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

export type ApiCatalog = ReturnType<typeof createApiCatalog>;
