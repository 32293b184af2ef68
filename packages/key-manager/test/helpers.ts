import * as oidc from 'openid-client';
import { startTestNode } from '@gatehouse/cli';
import type { TestNode } from '@gatehouse/cli';
import { loadConfig } from '@gatehouse/config';
import { createServerKeys } from '@gatehouse/core';
import { createRepositories } from '@gatehouse/data';
import { createManagementAuth } from '@gatehouse/key-manager';
import type { ManagementAuth } from '@gatehouse/key-manager';
import { clientBasicAuth, dcrRequest, freePort, freshPostgresDatabases, managementClient } from '@gatehouse/testing';
import type { FreshPostgresDatabases, RegisteredClient } from '@gatehouse/testing';

/** Cheap scrypt for users the tests create; the seeded admin keeps the production cost. */
export const TEST_SECRET = 'key-manager-test-secret-0123456789abcdef';
const TEST_PASSWORD_PARAMS = { N: 1024, r: 8, p: 1 } as const;

export interface KmNode {
  node: TestNode;
  /** http://127.0.0.1:<port>, also `server.public_url`. */
  base: string;
  issuer: string;
  adminPassword: string;
  createUser(username: string, password: string, roles: string[]): Promise<void>;
  /** The management auth another component of this node would build. */
  managementAuth(): ManagementAuth;
  close(): Promise<void>;
}

/**
 * A real node running the key-manager profile on a pre-chosen HTTP port, so `server.public_url`
 * (the issuer base) is the URL clients use. `postgres: true` puts both databases on fresh
 * PostgreSQL databases, dropped on close.
 */
export async function startKm(options: { postgres?: boolean; argv?: string[] } = {}): Promise<KmNode> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const argv = ['--profile', 'key-manager', '--server.http_port', String(port), '--server.public_url', base, '--security.secret', TEST_SECRET, ...(options.argv ?? [])];
  let pg: FreshPostgresDatabases | undefined;
  if (options.postgres) {
    pg = await freshPostgresDatabases('gh_km');
    argv.push(...pg.databaseArgv);
  }
  const node = await startTestNode(argv);
  const repos = createRepositories(node.databases!, { passwordParams: TEST_PASSWORD_PARAMS });
  return {
    node,
    base,
    issuer: `${base}/oauth2/token`,
    adminPassword: node.adminPassword,
    async createUser(username, password, roles) {
      await repos.users.create(-1234, { username, password, roles });
    },
    managementAuth() {
      const config = loadConfig({ argv, env: {}, cwd: node.dataDir });
      const clock = { now: () => Date.now() };
      return createManagementAuth(config, { databases: node.databases!, repositories: repos, keys: createServerKeys(TEST_SECRET), hub: node.hub, logger: node.logger, clock });
    },
    async close() {
      await node.close();
      await pg?.drop();
    },
  };
}

/** RFC 6749 §2.3.1 client credentials: form-urlencoded, then base64. */
export const basic = clientBasicAuth;

export type Registered = RegisteredClient;

/** WSO2 DCR with a user's Basic credentials. */
export function dcr(km: KmNode, user: string, password: string, body: Record<string, unknown>): Promise<Response> {
  return dcrRequest(km.base, user, password, body);
}

/** A fresh WSO2 DCR registration as admin (`rest_api_publisher` unless named). */
export function registerAdminClient(km: KmNode, clientName = 'rest_api_publisher'): Promise<Registered> {
  return managementClient(km.base, km.adminPassword, { clientName }).register({ callbackUrl: 'https://localhost/cb' });
}

/** POST a form to an endpoint, with optional Authorization header. */
export async function form(url: string, params: Record<string, string>, authorization?: string): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (authorization) headers.authorization = authorization;
  return fetch(url, { method: 'POST', headers, body: new URLSearchParams(params).toString() });
}

export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = token.split('.');
  return { header: JSON.parse(Buffer.from(h!, 'base64url').toString()) as Record<string, unknown>, payload: JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown> };
}

/** An openid-client configuration found by discovery from the issuer (RFC 8414 §3.3 equality checked by the client). */
export async function oidcClient(km: KmNode, clientId: string, secret: string | undefined, method: 'basic' | 'post' | 'none' = 'basic'): Promise<oidc.Configuration> {
  const auth = method === 'none' ? oidc.None() : method === 'post' ? oidc.ClientSecretPost(secret!) : oidc.ClientSecretBasic(secret!);
  return oidc.discovery(new URL(km.issuer), clientId, undefined, auth, { execute: [oidc.allowInsecureRequests] });
}

/** A management token for admin with the given scopes (password grant on a new WSO2 DCR client). */
export function adminToken(km: KmNode, scope = 'apim:admin'): Promise<string> {
  return managementClient(km.base, km.adminPassword, { clientName: 'test_admin_tool' }).token('admin', km.adminPassword, scope);
}

/** RFC 7591 registration with an admin management token. */
export async function registerClient(km: KmNode, metadata: Record<string, unknown>, token?: string): Promise<Response> {
  return fetch(`${km.base}/oauth2/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token ?? (await adminToken(km))}` },
    body: JSON.stringify(metadata),
  });
}

export async function newClient(km: KmNode, metadata: Record<string, unknown>, token?: string): Promise<{ client_id: string; client_secret?: string }> {
  const res = await registerClient(km, metadata, token);
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as { client_id: string; client_secret?: string };
}

/**
 * Drives the sign-in page like a browser: GET the authorization URL, then POST the form with the
 * CSRF cookie. Returns the answer (a 303 with Location on success).
 */
export async function signIn(url: URL | string, username: string, password: string, decision = 'approve'): Promise<Response> {
  const page = await fetch(url, { redirect: 'manual' });
  if (page.status !== 200) return page;
  const html = await page.text();
  const cookie = page.headers.get('set-cookie')?.split(';')[0] ?? '';
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[m[1]!] = m[2]!.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
  const target = new URL('/oauth2/authorize', url);
  return fetch(target, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams({ ...fields, username, password, decision }).toString(),
  });
}
