import pg from 'pg';
import { startTestNode } from '@gatehouse/cli';
import type { TestNode } from '@gatehouse/cli';
import { freePort, httpCall, postgresUrl, uniqueName } from '@gatehouse/testing';
import type { SimpleResponse } from '@gatehouse/testing';

export const SECRET = 'admin-test-secret-0123456789abcdef-xyz';

/** Every scope the Admin API checks. */
export const ALL_ADMIN_SCOPES = [
  'apim:admin',
  'apim:tier_view',
  'apim:tier_manage',
  'apim:bl_view',
  'apim:bl_manage',
  'apim:environment_read',
  'apim:environment_manage',
  'apim:admin_operations',
  'apim:api_workflow_view',
  'apim:api_workflow_approve',
  'apim:scope_manage',
];

export interface AdminNode {
  node: TestNode;
  base: string;
  /** A real access token from the node's Key Manager (password grant as admin), cached per scope list. */
  token(scopes?: readonly string[]): Promise<string>;
  /** Calls `/api/am/admin/v4<path>` with a token (default: every admin scope). */
  call(method: string, path: string, options?: { body?: unknown; token?: string | null; raw?: string }): Promise<SimpleResponse>;
  close(): Promise<void>;
}

async function pgAdmin(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl('postgres') });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * A real control-plane node (Key Manager + Admin + ...) on OS-chosen ports; `postgres: true` puts
 * both databases on fresh PostgreSQL databases, dropped on close.
 */
export async function startAdminNode(options: { postgres?: boolean; argv?: string[] } = {}): Promise<AdminNode> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const argv = ['--profile', 'control-plane', '--server.http_port', String(port), '--server.public_url', base, '--security.secret', SECRET, ...(options.argv ?? [])];
  const dbs: string[] = [];
  if (options.postgres) {
    const name = uniqueName('gh_admin');
    dbs.push(`${name}_apim`, `${name}_shared`);
    for (const d of dbs) await pgAdmin(`CREATE DATABASE "${d}"`);
    argv.push('--database.apim.type', 'postgres', '--database.apim.url', postgresUrl(dbs[0]!), '--database.shared.type', 'postgres', '--database.shared.url', postgresUrl(dbs[1]!));
  }
  const node = await startTestNode(argv);
  const basic = (u: string, p: string) => `Basic ${Buffer.from(`${encodeURIComponent(u).replaceAll('%20', '+')}:${encodeURIComponent(p).replaceAll('%20', '+')}`).toString('base64')}`;
  let client: { clientId: string; clientSecret: string } | undefined;
  const tokens = new Map<string, string>();

  const token = async (scopes: readonly string[] = ALL_ADMIN_SCOPES) => {
    const key = scopes.join(' ');
    const cached = tokens.get(key);
    if (cached) return cached;
    if (!client) {
      const res = await httpCall(`${base}/client-registration/v0.17/register`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`admin:${node.adminPassword}`).toString('base64')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ clientName: 'admin-tests', owner: 'admin', grantType: 'client_credentials password refresh_token', saasApp: true, callbackUrl: 'https://localhost' }),
      });
      if (res.status !== 200 && res.status !== 201) throw new Error(`client registration failed: ${res.status} ${res.text}`);
      client = res.json<{ clientId: string; clientSecret: string }>();
    }
    const form = new URLSearchParams({ grant_type: 'password', username: 'admin', password: node.adminPassword, scope: key });
    const res = await httpCall(`${base}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: basic(client.clientId, client.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${res.text}`);
    const accessToken = res.json<{ access_token: string }>().access_token;
    tokens.set(key, accessToken);
    return accessToken;
  };

  return {
    node,
    base,
    token,
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = {};
      const bearer = opts.token === undefined ? await token() : opts.token;
      if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
      let body: string | undefined;
      if (opts.raw !== undefined || opts.body !== undefined) {
        headers['content-type'] = 'application/json';
        body = opts.raw ?? JSON.stringify(opts.body);
      }
      return httpCall(`${base}/api/am/admin/v4${path}`, { method, headers, body });
    },
    async close() {
      await node.close();
      for (const d of dbs) await pgAdmin(`DROP DATABASE IF EXISTS "${d}" WITH (FORCE)`);
    },
  };
}
