import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startTestNode, type TestNode } from '@gatehouse/cli';
import { api, freePorts, httpCall, managementClient, spawnNode, startMockUpstream, tempDir, userBasicAuth, type MockUpstream, type Spawned } from '@gatehouse/testing';

// `gatehouse start --profile gateway --workers 2`: a primary and two gateway worker processes on
// shared ports, in front of a control plane (in this process) with one API deployed.
const bin = new URL('../../cli/src/bin.ts', import.meta.url).pathname;
let node: TestNode;
let backend: MockUpstream;
let dir: Awaited<ReturnType<typeof tempDir>>;
let proc: Spawned | undefined;
let gateway: string;

function childEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GATEHOUSE_') || k.startsWith('GATEHOUSE_TEST_')) env[k] = v;
  return env;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** `n` calls, each on a new connection (so the cluster spreads them), and their statuses. */
async function calls(n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await httpCall(`${gateway}/orders/v1/list`, { headers: { connection: 'close' } })).status);
  return out;
}

before(async () => {
  dir = await tempDir();
  backend = await startMockUpstream('orders');
  node = await startTestNode(['--profile', 'control-plane']);
  const token = await managementClient(node.baseUrl, node.adminPassword).token('admin', node.adminPassword, 'apim:api_create apim:api_publish apim:api_view apim:api_manage');
  const pub = api(`${node.baseUrl}/api/am/publisher/v4`, token);
  const created = await pub.json<{ id: string }>(
    'POST',
    '/apis',
    {
      name: 'Orders',
      context: '/orders',
      version: 'v1',
      endpointConfig: { endpoint_type: 'http', production_endpoints: { url: backend.url } },
      operations: [{ target: '/list', verb: 'GET', authType: 'None', throttlingPolicy: 'Unlimited' }],
    },
    201,
  );
  const revision = await pub.json<{ id: string }>('POST', `/apis/${created.id}/revisions`, { description: 'r1' }, 201);
  await pub.json('POST', `/apis/${created.id}/deploy-revision?revisionId=${revision.id}`, [{ name: 'Default', vhost: 'localhost' }], 200);
  const dcr = await fetch(`${node.baseUrl}/client-registration/v0.17/register`, {
    method: 'POST',
    headers: { authorization: userBasicAuth('admin', node.adminPassword), 'content-type': 'application/json' },
    body: JSON.stringify({ clientName: 'gw-workers', owner: 'admin', grantType: 'client_credentials' }),
  });
  const client = (await dcr.json()) as { clientId: string; clientSecret: string };
  const [http, https] = await freePorts(2);
  gateway = `http://127.0.0.1:${http}`;
  proc = spawnNode(
    [
      bin, 'start', '--profile', 'gateway', '--workers', '2',
      '--control-plane', node.baseUrl,
      '--control_plane.client_id', client.clientId,
      '--control_plane.client_secret', client.clientSecret,
      '--gateway.http_port', String(http), '--gateway.https_port', String(https),
      '--data-dir', join(dir.path, 'data'),
      '--log.level', 'info',
    ],
    { env: childEnv() },
  );
});
after(async () => {
  proc?.kill('SIGKILL');
  await node.close();
  await backend.close();
  await dir.remove();
});

it('serves with 2 workers, replaces one that dies while the other keeps serving, and drains them all on SIGTERM', async () => {
  const running = proc as Spawned;
  const banner = await running.waitFor(/workers: \d+, \d+/, 30_000);
  assert.match(banner, /Gatehouse is running \(profile gateway, 2 workers/);
  const pids = (/workers: (\d+), (\d+)/.exec(banner) as RegExpExecArray).slice(1).map(Number);
  assert.equal(new Set(pids).size, 2);
  assert.ok(pids.every(alive));
  assert.ok(!pids.includes(running.child.pid as number), 'the primary serves nothing itself');

  assert.deepEqual(await calls(6), [200, 200, 200, 200, 200, 200]);
  const served = backend.requests.length;
  assert.equal(served, 6);

  // A worker crashes: the other serves on, and the primary forks a replacement.
  process.kill(pids[0], 'SIGKILL');
  await running.waitFor('gateway worker exited; replacing it');
  assert.deepEqual(await calls(4), [200, 200, 200, 200], 'the surviving worker serves');
  // Cluster worker ids only grow: the replacement is worker 3.
  const line = await running.waitFor(/"worker":3,"pid":\d+,[^\n]*"msg":"gateway worker ready"/, 30_000);
  const replacement = Number((/"worker":3,"pid":(\d+)/.exec(line) as RegExpExecArray)[1]);
  assert.ok(!pids.includes(replacement) && alive(replacement), 'a new worker process');
  assert.deepEqual(await calls(6), [200, 200, 200, 200, 200, 200]);

  // SIGTERM while a call is in flight: it completes, every worker exits, then the primary, with 0.
  let release: (() => void) | undefined;
  const arrived = new Promise<void>((resolve) => {
    backend.respond((_req, res) => {
      release = () => res.end('late');
      resolve();
    });
  });
  const inFlight = httpCall(`${gateway}/orders/v1/list`);
  await arrived;
  running.kill('SIGTERM');
  await running.waitFor(/shutting down[\s\S]*shutting down/); // both workers drain
  (release as () => void)();
  const res = await inFlight;
  assert.equal(res.status, 200);
  assert.equal(res.text, 'late');
  assert.equal(await running.exited, 0);
  assert.ok(![pids[1], replacement].some(alive), 'no worker left behind');
});

it('refuses --workers outside the gateway profile, before writing anything', async () => {
  const dataDir = join(dir.path, 'aio');
  const child = spawnNode([bin, 'start', '--workers', '2', '--data-dir', dataDir], { env: childEnv() });
  assert.equal(await child.exited, 2);
  assert.match(child.stderr(), /gateway\.workers \(2\) applies to the gateway profile only/);
  assert.equal(existsSync(dataDir), false);
});
