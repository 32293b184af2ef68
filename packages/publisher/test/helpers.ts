import { readFileSync } from 'node:fs';
import { startTestNode } from '@gatehouse/cli';
import type { TestNode } from '@gatehouse/cli';
import { createRepositories } from '@gatehouse/data';
import type { Databases } from '@gatehouse/data';

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

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

export async function startPublisher(argv: readonly string[] = []): Promise<PublisherHarness> {
  const node = await startTestNode(['--profile', 'control-plane', ...argv], { logLevel: 'error' });
  const repos = createRepositories(node.databases!, { passwordParams: { N: 1024, r: 8, p: 1 } });
  const password = 'user-password-0123456789';
  let client: { clientId: string; clientSecret: string } | undefined;
  const registered = async () => {
    if (client) return client;
    const res = await fetch(`${node.baseUrl}/client-registration/v0.17/register`, {
      method: 'POST',
      headers: { authorization: basic('admin', node.adminPassword), 'content-type': 'application/json' },
      body: JSON.stringify({ clientName: 'publisher-tests', owner: 'admin', grantType: 'client_credentials password refresh_token', saasApp: true, callbackUrl: 'https://localhost' }),
    });
    if (!res.ok) throw new Error(`client registration failed: ${res.status} ${await res.text()}`);
    client = (await res.json()) as { clientId: string; clientSecret: string };
    return client;
  };
  return {
    node,
    async token(username, scope = ALL_SCOPES, roles) {
      const pw = username === 'admin' ? node.adminPassword : password;
      if (roles && !(await repos.users.findByUsername(-1234, username))) await repos.users.create(-1234, { username, password: pw, roles });
      const c = await registered();
      const res = await fetch(`${node.baseUrl}/oauth2/token`, {
        method: 'POST',
        headers: { authorization: basic(c.clientId, c.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password', username, password: pw, scope }),
      });
      if (!res.ok) throw new Error(`token request failed: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { access_token: string }).access_token;
    },
    call(token, method, path, body, headers = {}) {
      return fetch(`${node.baseUrl}${path.startsWith('/internal') ? '' : BASE}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
    },
    form(token, method, path, form, headers = {}) {
      return fetch(`${node.baseUrl}${BASE}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...headers }, body: form });
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

/**
 * Flags for a node on two fresh PostgreSQL databases (dropped by `drop()`), as
 * packages/data/test/dialects.ts makes them.
 */
export async function freshPostgres(): Promise<{ argv: string[]; drop(): Promise<void> }> {
  const { default: pg } = await import('pg');
  const { postgresUrl, uniqueName } = await import('@gatehouse/testing');
  const admin = async (text: string) => {
    const c = new pg.Client({ connectionString: postgresUrl('postgres') });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  };
  const base = uniqueName('gh_pub');
  const names = [`${base}_apim`, `${base}_shared`];
  for (const n of names) await admin(`CREATE DATABASE "${n}"`);
  return {
    argv: [
      '--database.apim.type', 'postgres', '--database.apim.url', postgresUrl(names[0]!),
      '--database.shared.type', 'postgres', '--database.shared.url', postgresUrl(names[1]!),
      '--security.secret', 'publisher-test-secret-0123456789abcdef',
    ],
    async drop() {
      for (const n of names) await admin(`DROP DATABASE IF EXISTS "${n}" WITH (FORCE)`);
    },
  };
}

/** Two fresh, migrated databases of one dialect (temp SQLite files, or new PostgreSQL databases). */
export async function freshDatabases(dialect: 'sqlite' | 'postgres'): Promise<{ dbs: Databases; close(): Promise<void> }> {
  const { openDatabases } = await import('@gatehouse/data');
  const { tempDir } = await import('@gatehouse/testing');
  if (dialect === 'sqlite') {
    const dir = await tempDir('gatehouse-pub-');
    const dbs = await openDatabases({ apim: { type: 'sqlite', path: `${dir.path}/apim.db` }, shared: { type: 'sqlite', path: `${dir.path}/shared.db` } });
    await dbs.migrate();
    return { dbs, close: async () => { await dbs.close(); await dir.remove(); } };
  }
  const pg = await freshPostgres();
  const url = (i: number) => pg.argv[i]!; // the apim and shared URLs among the flags
  const dbs = await openDatabases({ apim: { type: 'postgres', url: url(3), poolMax: 4 }, shared: { type: 'postgres', url: url(7), poolMax: 4 } });
  await dbs.migrate();
  return { dbs, close: async () => { await dbs.close(); await pg.drop(); } };
}
