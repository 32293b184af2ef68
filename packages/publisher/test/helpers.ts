import { readFileSync } from 'node:fs';
import { startTestNode } from '@gatehouse/cli';
import type { TestNode } from '@gatehouse/cli';
import { createRepositories, openDatabases } from '@gatehouse/data';
import type { Databases } from '@gatehouse/data';
import { api, freshMigratedDatabases, freshPostgresDatabases, managementClient } from '@gatehouse/testing';
import type { FreshPostgresDatabases } from '@gatehouse/testing';

export const BASE = '/api/am/publisher/v4';

export const ALL_SCOPES = [
  'apim:api_view', 'apim:api_create', 'apim:api_publish', 'apim:api_manage', 'apim:api_delete', 'apim:document_create',
  'apim:document_manage', 'apim:shared_scope_manage', 'apim:api_import_export', 'apim:admin',
].join(' ');

export const petstore = readFileSync(new URL('./fixtures/petstore.yaml', import.meta.url), 'utf8');

/** A control-plane node plus helpers that talk to it as real clients do. */
export interface PublisherHarness {
  node: TestNode;
  /** A password-grant access token for `username` (created with `roles` if given). */
  token(username: string, scope?: string, roles?: string[]): Promise<string>;
  call(token: string, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  form(token: string, method: string, path: string, form: FormData, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export async function startPublisher(argv: readonly string[] = []): Promise<PublisherHarness> {
  const node = await startTestNode(['--profile', 'control-plane', ...argv], { logLevel: 'error' });
  const repos = createRepositories(node.databases!, { passwordParams: { N: 1024, r: 8, p: 1 } });
  const password = 'user-password-0123456789';
  const mgmt = managementClient(node.baseUrl, node.adminPassword, { clientName: 'publisher-tests' });
  return {
    node,
    async token(username, scope = ALL_SCOPES, roles) {
      const pw = username === 'admin' ? node.adminPassword : password;
      if (roles && !(await repos.users.findByUsername(-1234, username))) await repos.users.create(-1234, { username, password: pw, roles });
      return mgmt.token(username, pw, scope);
    },
    call(token, method, path, body, headers = {}) {
      return api(`${node.baseUrl}${path.startsWith('/internal') ? '' : BASE}`, token).call(method, path, body, headers);
    },
    form(token, method, path, form, headers = {}) {
      return api(`${node.baseUrl}${BASE}`, token).call(method, path, form, headers);
    },
    close: () => node.close(),
  };
}

/** `FormData` with an OpenAPI file part and optional additionalProperties. */
export function importForm(definition: string, props?: object, filename = 'petstore.yaml'): FormData {
  const f = new FormData();
  f.append('file', new Blob([definition], { type: 'application/yaml' }), filename);
  if (props) f.append('additionalProperties', JSON.stringify(props));
  return f;
}

/** Flags for a node on two fresh PostgreSQL databases, dropped by `drop()`. */
export function freshPostgres(): Promise<FreshPostgresDatabases> {
  return freshPostgresDatabases('gh_pub', { secret: 'publisher-test-secret-0123456789abcdef' });
}

/** Two fresh, migrated databases of one dialect (temp SQLite files, or new PostgreSQL databases). */
export function freshDatabases(dialect: 'sqlite' | 'postgres'): Promise<{ dbs: Databases; close(): Promise<void> }> {
  return freshMigratedDatabases(openDatabases, dialect, { prefix: 'gh_pub', secret: 'publisher-test-secret-0123456789abcdef' });
}
