import { startTestNode, type TestNode } from '@gatehouse/cli';
import { SUPER_TENANT_ID } from '@gatehouse/core';
import { createRepositories } from '@gatehouse/data';
import { api, httpCall, managementClient, type ApiCaller } from '@gatehouse/testing';

// The whole platform for the gateway's authentication tests: a real node (Publisher, Developer
// Portal, Key Manager, internal data API, and in all-in-one the gateway), driven through its
// REST APIs the way WSO2's scripts drive WSO2.

const PUBLISHER = 'apim:api_view apim:api_create apim:api_publish apim:api_manage apim:admin apim:tier_view';
const CONSUMER = 'apim:subscribe apim:app_manage apim:sub_manage';
export const PUB = '/api/am/publisher/v4';
export const DP = '/api/am/devportal/v3';
export const ADMIN = '/api/am/admin/v4';

export interface Platform {
  readonly node: TestNode;
  /** The in-process gateway's HTTP URL (all-in-one), or ''. */
  readonly gateway: string;
  /** The Publisher and Admin APIs as admin. */
  readonly admin: ApiCaller;
  /** Creates a user with roles (cheap hashing is not needed: few users). */
  createUser(username: string, password: string, roles: string[]): Promise<void>;
  /** A consumer's Developer Portal caller (password grant with the consumer scopes). */
  consumer(username: string, password: string): Promise<ApiCaller>;
  close(): Promise<void>;
}

/** A node of the profile (all-in-one by default) with `server.public_url` set, so token issuers are stable. */
export async function startPlatform(argv: readonly string[] = []): Promise<Platform> {
  const node = await startTestNode(['--server.public_url', 'https://gatehouse.test', ...argv], { logLevel: 'error' });
  const mgmt = managementClient(node.baseUrl, node.adminPassword, { clientName: 'auth-tests' });
  const admin = api(node.baseUrl, await mgmt.token('admin', node.adminPassword, PUBLISHER));
  const repos = createRepositories(node.databases!);
  return {
    node,
    gateway: (node.urls.find((u) => u.startsWith('gateway http://')) ?? '').slice('gateway '.length),
    admin,
    async createUser(username, password, roles) {
      await repos.users.create(SUPER_TENANT_ID, { username, password, roles });
    },
    async consumer(username, password) {
      return api(node.baseUrl, await mgmt.token(username, password, CONSUMER));
    },
    close: () => node.close(),
  };
}

/**
 * Creates an API (WSO2's `API` body), cuts a revision, deploys it to Default, publishes it, and
 * waits until the gateway at `gateway` routes `probe` (anything but 404).
 */
export async function publishApi(p: Platform, body: Record<string, unknown>, gateway: string, probe: string): Promise<string> {
  const created = await p.admin.json<{ id: string }>('POST', `${PUB}/apis`, body, 201);
  const rev = await p.admin.json<{ id: string }>('POST', `${PUB}/apis/${created.id}/revisions`, { description: 'r1' }, 201);
  await p.admin.json('POST', `${PUB}/apis/${created.id}/deploy-revision?revisionId=${rev.id}`, [{ name: 'Default', vhost: 'localhost' }], 200);
  await p.admin.json('POST', `${PUB}/apis/change-lifecycle?apiId=${created.id}&action=Publish`, undefined, 200);
  await until(async () => (await httpCall(`${gateway}${probe}`)).status !== 404, `the gateway to serve ${probe}`);
  return created.id;
}

export interface AppKeys {
  readonly appId: string;
  readonly consumerKey: string;
  readonly consumerSecret: string;
  /** The access token generate-keys returned (client_credentials). */
  readonly token: string;
}

/** An application (JWT or OAUTH tokens), subscribed to `apiId` when given, with keys of `keyType`. */
export async function appWithKeys(dp: ApiCaller, name: string, options: { tokenType?: 'JWT' | 'OAUTH'; apiId?: string; keyType?: 'PRODUCTION' | 'SANDBOX' } = {}): Promise<AppKeys> {
  const app = await dp.json<{ applicationId: string }>('POST', `${DP}/applications`, { name, throttlingPolicy: 'Unlimited', tokenType: options.tokenType ?? 'JWT' }, 201);
  if (options.apiId) await dp.json('POST', `${DP}/subscriptions`, { applicationId: app.applicationId, apiId: options.apiId, throttlingPolicy: 'Unlimited' }, 201);
  const keys = await dp.json<{ consumerKey: string; consumerSecret: string; token: { accessToken: string } }>(
    'POST',
    `${DP}/applications/${app.applicationId}/generate-keys`,
    { keyType: options.keyType ?? 'PRODUCTION', grantTypesToBeSupported: ['client_credentials'] },
    200,
  );
  return { appId: app.applicationId, consumerKey: keys.consumerKey, consumerSecret: keys.consumerSecret, token: keys.token.accessToken };
}

/** Polls until `check` holds (every 20 ms, 5 s at most). */
export async function until(check: () => Promise<boolean>, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Polls a gateway URL until it answers `status` (events reach the gateway asynchronously). */
export async function untilStatus(url: string, headers: Record<string, string>, status: number): Promise<number> {
  let last = 0;
  await until(async () => {
    last = (await httpCall(url, { headers })).status;
    return last === status;
  }, `${url} to answer ${status}`).catch(() => undefined);
  return last;
}
