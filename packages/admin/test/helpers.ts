import { startTestNode } from '@gatehouse/cli';
import type { TestNode } from '@gatehouse/cli';
import { freePort, freshPostgresDatabases, httpCall, managementClient } from '@gatehouse/testing';
import type { FreshPostgresDatabases, SimpleResponse } from '@gatehouse/testing';

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

/**
 * A real control-plane node (Key Manager + Admin + ...) on OS-chosen ports; `postgres: true` puts
 * both databases on fresh PostgreSQL databases, dropped on close.
 */
export async function startAdminNode(options: { postgres?: boolean; argv?: string[] } = {}): Promise<AdminNode> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const argv = ['--profile', 'control-plane', '--server.http_port', String(port), '--server.public_url', base, '--security.secret', SECRET, ...(options.argv ?? [])];
  let pg: FreshPostgresDatabases | undefined;
  if (options.postgres) {
    pg = await freshPostgresDatabases('gh_admin');
    argv.push(...pg.databaseArgv);
  }
  const node = await startTestNode(argv);
  const mgmt = managementClient(base, node.adminPassword, { clientName: 'admin-tests' });
  const tokens = new Map<string, string>();

  const token = async (scopes: readonly string[] = ALL_ADMIN_SCOPES) => {
    const key = scopes.join(' ');
    const cached = tokens.get(key);
    if (cached) return cached;
    const accessToken = await mgmt.token('admin', node.adminPassword, key);
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
      await pg?.drop();
    },
  };
}
