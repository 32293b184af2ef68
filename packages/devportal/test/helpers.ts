import { startTestNode } from '@gatehouse/cli';
import type { TestNode } from '@gatehouse/cli';
import { createRepositories, openDatabases } from '@gatehouse/data';
import type { Databases, Repositories } from '@gatehouse/data';
import { Topics } from '@gatehouse/events';
import type { HubEvent } from '@gatehouse/events';
import { api, clientBasicAuth, freshMigratedDatabases, freshPostgresDatabases, managementClient } from '@gatehouse/testing';
import type { FreshPostgresDatabases } from '@gatehouse/testing';

export const DP = '/api/am/devportal/v3';
export const PUB = '/api/am/publisher/v4';
export const ADMIN = '/api/am/admin/v4';
export const PUBLISHER_SCOPES = 'apim:api_view apim:api_create apim:api_publish apim:api_manage apim:document_create apim:document_manage apim:admin apim:subscription_view apim:subscription_block apim:api_workflow_approve apim:api_workflow_view apim:tier_view';
export const CONSUMER_SCOPES = 'apim:subscribe apim:app_manage apim:sub_manage apim:api_key';
export const SECRET = 'devportal-test-secret-0123456789abcdef';

/** Two fresh PostgreSQL databases (apim, shared) and the flags for a node on them, dropped by `drop()`. */
export function freshPostgres(): Promise<FreshPostgresDatabases> {
  return freshPostgresDatabases('gh_dp', { secret: SECRET });
}

/** Two fresh, migrated databases of one dialect (temp SQLite files, or new PostgreSQL databases). */
export function freshDatabases(dialect: 'sqlite' | 'postgres'): Promise<{ dbs: Databases; close(): Promise<void> }> {
  return freshMigratedDatabases(openDatabases, dialect, { prefix: 'gh_dp', secret: SECRET });
}

export interface Harness {
  node: TestNode;
  /** Repositories over the node's databases. */
  repos: Repositories;
  events: HubEvent<Record<string, unknown>>[];
  /** A password-grant token for an existing user. */
  token(username: string, password: string, scope: string): Promise<string>;
  adminToken(): Promise<string>;
  call(token: string | undefined, method: string, path: string, body?: unknown): Promise<Response>;
  json<T = Record<string, unknown>>(token: string | undefined, method: string, path: string, body?: unknown, expect?: number): Promise<T>;
  signUp(username: string, password: string): Promise<Response>;
  /** Creates an API through the Publisher API; `publish` also deploys a revision to Default. */
  createApi(name: string, opts?: { publish?: boolean; visibility?: string; visibleRoles?: string[]; policies?: string[]; tags?: string[]; actions?: string[] }): Promise<string>;
  waitFor(pred: (e: HubEvent<Record<string, unknown>>) => boolean, ms?: number): Promise<HubEvent<Record<string, unknown>>>;
  close(): Promise<void>;
}

export async function startHarness(argv: readonly string[] = []): Promise<Harness> {
  const node = await startTestNode(['--profile', 'control-plane', ...argv], { logLevel: 'error' });
  const events: HubEvent<Record<string, unknown>>[] = [];
  const sub = await node.hub.subscribe<Record<string, unknown>>(Topics.Notification, (e) => void events.push(e));
  const revoked = await node.hub.subscribe<Record<string, unknown>>(Topics.TokenRevocation, (e) => void events.push(e));
  const mgmt = managementClient(node.baseUrl, node.adminPassword, { clientName: 'devportal-tests' });
  const token = (username: string, password: string, scope: string) => mgmt.token(username, password, scope);
  let adminTok: string | undefined;
  const call = (tok: string | undefined, method: string, path: string, body?: unknown) => api(node.baseUrl, tok).call(method, path, body);
  const json = <T>(tok: string | undefined, method: string, path: string, body?: unknown, expect?: number): Promise<T> => api(node.baseUrl, tok).json<T>(method, path, body, expect);
  const h: Harness = {
    node,
    repos: createRepositories(node.databases!),
    events,
    token,
    async adminToken() {
      adminTok ??= await token('admin', node.adminPassword, PUBLISHER_SCOPES);
      return adminTok;
    },
    call,
    json,
    signUp: (username, password) =>
      call(undefined, 'POST', '/api/identity/user/v1.0/me', { user: { username, realm: 'PRIMARY', password, claims: [{ uri: 'http://wso2.org/claims/emailaddress', value: `${username}@example.com` }] }, properties: [] }),
    async createApi(name, opts = {}) {
      const admin = await h.adminToken();
      const api = await json<{ id: string }>(admin, 'POST', `${PUB}/apis`, {
        name, context: `/${name.toLowerCase()}`, version: '1.0.0', policies: opts.policies ?? ['Gold', 'Unlimited'], tags: opts.tags ?? ['demo'],
        visibility: opts.visibility ?? 'PUBLIC', visibleRoles: opts.visibleRoles ?? [],
        endpointConfig: { endpoint_type: 'http', production_endpoints: { url: 'http://127.0.0.1:1/backend' } },
        operations: [{ target: '/items', verb: 'GET', authType: 'Application & Application User', throttlingPolicy: 'Unlimited', scopes: [] }],
      }, 201);
      if (opts.publish !== false) {
        const rev = await json<{ id: string }>(admin, 'POST', `${PUB}/apis/${api.id}/revisions`, { description: 'first' }, 201);
        await json(admin, 'POST', `${PUB}/apis/${api.id}/deploy-revision?revisionId=${rev.id}`, [{ name: 'Default', vhost: 'localhost', displayOnDevportal: true }], 200);
        await json(admin, 'POST', `${PUB}/apis/change-lifecycle?apiId=${api.id}&action=Publish`, undefined, 200);
      }
      for (const action of opts.actions ?? []) await json(admin, 'POST', `${PUB}/apis/change-lifecycle?apiId=${api.id}&action=${encodeURIComponent(action)}`, undefined, 200);
      return api.id;
    },
    async waitFor(pred, ms = 3000) {
      const until = Date.now() + ms;
      for (;;) {
        const e = events.find(pred);
        if (e) return e;
        if (Date.now() > until) throw new Error('the expected event was not published');
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      await sub.unsubscribe();
      await revoked.unsubscribe();
      await node.close();
    },
  };
  return h;
}

export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [hd, p] = token.split('.');
  return { header: JSON.parse(Buffer.from(hd!, 'base64url').toString()) as Record<string, unknown>, payload: JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown> };
}

/** A client_credentials token request with the application's consumer key and secret (HTTP Basic). */
export function clientCredentials(baseUrl: string, consumerKey: string, consumerSecret: string): Promise<Response> {
  return fetch(`${baseUrl}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: clientBasicAuth(consumerKey, consumerSecret), 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
}
