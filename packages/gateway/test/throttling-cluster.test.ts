import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestNode, type TestNode } from '@gatehouse/cli';
import { api, freePorts, managementClient, natsUrl, skipUnless, spawnNode, startMockUpstream, tempDir, uniqueName, type MockUpstream, type Spawned } from '@gatehouse/testing';
import { openKvWindowStore } from '@gatehouse/traffic-manager';
import { dropStreams } from './lease-harness.ts';

// The Traffic Manager's accuracy with real processes: a control plane, four `gatehouse start
// --profile gateway` and two `--profile traffic-manager` sharing NATS JetStream KV, on the real
// NATS server; many clients call an API whose API-level policy allows L calls per W-ms window.
// Admitted calls are counted per window by their X-RateLimit-Reset (the window's end).

const W = 2_000;
const L = 400;
const bin = new URL('../../cli/src/bin.ts', import.meta.url).pathname;
const skip = await skipUnless('nats');

function childEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GATEHOUSE_') || k.startsWith('GATEHOUSE_TEST_')) env[k] = v;
  return env;
}

interface Proc {
  readonly name: string;
  readonly port: number;
  proc: Spawned;
}

/** Calls the API through the given gateways with `clients` concurrent keep-alive clients each until `until` (or `maxCalls` calls in all). */
async function drive(gateways: readonly Proc[], until: number, clients = 12, maxCalls = Number.POSITIVE_INFINITY): Promise<{ admitted: Map<number, number>; refused: Map<number, number>; other: number }> {
  let calls = 0;
  const admitted = new Map<number, number>();
  const refused = new Map<number, number>();
  let other = 0;
  const agent = new Agent({ keepAlive: true, maxSockets: clients * gateways.length });
  const once = (port: number) =>
    new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/cluster/v1/hit', agent }, (res) => {
        res.resume();
        res.on('end', () => {
          // An admitted call's window ends at X-RateLimit-Reset; a refused one says when it may retry.
          const reset = Number(res.headers['x-ratelimit-reset']);
          if (res.statusCode === 200) admitted.set(reset, (admitted.get(reset) ?? 0) + 1);
          else if (res.statusCode === 429) refused.set(reset, (refused.get(reset) ?? 0) + 1);
          else other += 1;
          resolve();
        });
      });
      req.on('error', () => {
        other += 1;
        resolve();
      });
      req.end();
    });
  await Promise.all(
    gateways.flatMap((g) =>
      Array.from({ length: clients }, async () => {
        while (Date.now() < until && calls++ < maxCalls) await once(g.port);
      }),
    ),
  );
  agent.destroy();
  return { admitted, refused, other };
}

/** The next window boundary at least `leadMs` from now. */
function nextBoundary(leadMs: number): number {
  const t = Date.now() + leadMs;
  return t - (t % W) + W;
}

const at = (t: number) => sleep(Math.max(0, t - Date.now()));

describe('throttling across processes: 4 gateways, 2 Traffic Managers, NATS', { skip }, () => {
  const prefix = uniqueName('ghcl');
  const bucket = uniqueName('ghcl_kv');
  let node: TestNode;
  let backend: MockUpstream;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const gateways: Proc[] = [];
  const tms: Proc[] = [];
  let spawnTm: (i: number) => Promise<Proc>;

  before(async () => {
    dir = await tempDir();
    backend = await startMockUpstream('cluster');
    node = await startTestNode(['--profile', 'control-plane', '--event-hub', natsUrl(), '--event_hub.stream_prefix', prefix]);
    const mgmt = managementClient(node.baseUrl, node.adminPassword, { clientName: 'cluster-tests' });
    const token = await mgmt.token('admin', node.adminPassword, 'apim:admin apim:tier_manage apim:api_create apim:api_publish apim:api_view apim:api_manage');
    const cp = api(node.baseUrl, token);
    await cp.json('POST', '/api/am/admin/v4/throttling/policies/advanced', { policyName: 'Cluster', defaultLimit: { type: 'REQUESTCOUNTLIMIT', requestCount: { timeUnit: 'sec', unitTime: W / 1000, requestCount: L } } }, 201);
    const created = await cp.json<{ id: string }>('POST', '/api/am/publisher/v4/apis', {
      name: 'Cluster', context: '/cluster', version: 'v1', apiThrottlingPolicy: 'Cluster',
      endpointConfig: { endpoint_type: 'http', production_endpoints: { url: backend.url } },
      operations: [{ target: '/hit', verb: 'GET', authType: 'None', throttlingPolicy: 'Unlimited', scopes: [] }],
    }, 201);
    const rev = await cp.json<{ id: string }>('POST', `/api/am/publisher/v4/apis/${created.id}/revisions`, { description: 'r1' }, 201);
    await cp.json('POST', `/api/am/publisher/v4/apis/${created.id}/deploy-revision?revisionId=${rev.id}`, [{ name: 'Default', vhost: 'localhost' }], 200);
    const client = await mgmt.register({ clientName: 'cluster-gateways', grantType: 'client_credentials' });
    const common = [
      '--control-plane', node.baseUrl, '--control_plane.client_id', client.clientId, '--control_plane.client_secret', client.clientSecret,
      '--event-hub', natsUrl(), '--event_hub.stream_prefix', prefix, '--log.level', 'warn',
    ];
    const ports = await freePorts(12);
    spawnTm = async (i: number) => {
      const p: Proc = {
        name: `tm-${i}`,
        port: ports[8 + i]!,
        proc: spawnNode([bin, 'start', '--profile', 'traffic-manager', ...common, '--node.id', `tm-${i}`, '--data-dir', join(dir.path, `tm-${i}`),
          '--traffic_manager.health_port', String(ports[8 + i]), '--traffic_manager.store', 'nats-kv', '--traffic_manager.kv_bucket', bucket], { env: childEnv() }),
      };
      await p.proc.waitFor('Gatehouse is running', 30_000);
      return p;
    };
    const t0 = Date.now();
    const started = await Promise.all([
      ...[0, 1].map((i) => spawnTm(i)),
      ...[0, 1, 2, 3].map(async (i) => {
        const p: Proc = {
          name: `gw-${i}`,
          port: ports[2 * i]!,
          proc: spawnNode([bin, 'start', '--profile', 'gateway', ...common, '--node.id', `gw-${i}`, '--data-dir', join(dir.path, `gw-${i}`),
            '--gateway.http_port', String(ports[2 * i]), '--gateway.https_port', String(ports[2 * i + 1])], { env: childEnv() }),
        };
        await p.proc.waitFor('Gatehouse is running', 30_000);
        return p;
      }),
    ]);
    tms.push(...started.slice(0, 2));
    gateways.push(...started.slice(2));
    // Each gateway serves the API (and has heard the others' heartbeats) before the windows count.
    for (const g of gateways) {
      for (;;) {
        const { admitted, refused } = await drive([g], Date.now() + 50, 1);
        if (admitted.size + refused.size > 0) break;
        await sleep(100);
      }
    }
    process.stderr.write(`# cluster: control plane, 2 traffic managers and 4 gateways ready in ${Date.now() - t0} ms (processes)\n`);
  });

  after(async () => {
    for (const p of [...gateways, ...tms]) p.proc.kill('SIGKILL');
    await Promise.all([...gateways, ...tms].map((p) => p.proc.exited));
    await node?.close();
    await backend?.close();
    await dir?.remove();
    await dropStreams(prefix);
    const kv = await openKvWindowStore({ servers: [natsUrl()], bucket });
    await kv.destroy().finally(() => kv.close());
  });

  it('answers no 429 under the limit, also for a key\'s first calls in a window', async () => {
    const b = nextBoundary(300);
    await at(b + 50);
    // L / 2 calls from a standing start, spread over the gateways, inside one window.
    const { admitted, refused, other } = await drive(gateways, b + W - 100, 2, L / 2);
    const inWindow = admitted.get((b + W) / 1000) ?? 0;
    process.stderr.write(`# cluster, under the limit: ${inWindow} admitted, ${[...refused.values()].reduce((a, n) => a + n, 0)} refused\n`);
    assert.equal(refused.size, 0, 'no call refused');
    assert.equal(other, 0);
    assert.equal(inWindow, L / 2, 'every call admitted, in that window');
  });

  it('admits within [L - 1%, L] per window with 1, 2 and 4 gateway processes (strict)', async () => {
    const figures: string[] = [];
    for (const n of [1, 2, 4]) {
      const b = nextBoundary(300);
      await at(b - 200);
      const { admitted } = await drive(gateways.slice(0, n), b + W + 200);
      const got = admitted.get((b + W) / 1000) ?? 0;
      figures.push(`N=${n}: ${got}`);
      assert.ok(got <= L && got >= L * 0.99, `N=${n}: ${got} admitted, expected within [${L * 0.99}, ${L}]`);
    }
    process.stderr.write(`# cluster accuracy, L=${L} per ${W} ms, 2 TMs on KV, 12 clients per gateway: ${figures.join(', ')}\n`);
  });

  it('losing one of two Traffic Managers (SIGKILL) mid-window stays within L + 5%, exact in the next window', async () => {
    const b = nextBoundary(300);
    await at(b - 200);
    const load = drive(gateways, b + 2 * W + 200);
    await at(b + 100);
    tms[0]!.proc.kill('SIGKILL');
    const { admitted } = await load;
    const lost = admitted.get((b + W) / 1000) ?? 0;
    const next = admitted.get((b + 2 * W) / 1000) ?? 0;
    process.stderr.write(`# cluster, one TM SIGKILLed ${100} ms into a window: ${lost} admitted in that window, ${next} in the next (L=${L})\n`);
    assert.ok(lost <= L * 1.05, `window with a TM lost: ${lost}`);
    assert.ok(next <= L && next >= L * 0.99, `next window: ${next}`);
  });

  it('with no Traffic Manager, falls back to L / live gateways, says so in logs and /metrics, and recovers when one returns', async () => {
    tms[1]!.proc.kill('SIGKILL');
    await tms[1]!.proc.exited;
    let b = nextBoundary(300);
    await at(b - 200);
    const { admitted } = await drive(gateways, b + W + 200);
    const fallback = admitted.get((b + W) / 1000) ?? 0;
    for (const g of gateways) {
      const metrics = await (await fetch(`http://127.0.0.1:${g.port}/metrics`)).text();
      assert.match(metrics, /gatehouse_throttle_lease_fallback(\{[^}]*\})? 1/, `${g.name} reports its fallback`);
      assert.match(g.proc.stdout(), /traffic manager unreachable: throttling on local limits/, `${g.name} logs it`);
    }
    // Each gateway admits floor(L / 4) on its own: together the limit, give or take a call each.
    assert.ok(fallback >= L * 0.95 && fallback <= L * 1.05, `fallback window: ${fallback}`);
    const back = await spawnTm(2);
    tms.push(back);
    // Calls keep coming: the next probe (at most a second later) finds it, and the window after
    // that is exact again.
    await drive(gateways, Date.now() + 1_200, 1);
    b = nextBoundary(300);
    await at(b - 200);
    const again = (await drive(gateways, b + W + 200)).admitted.get((b + W) / 1000) ?? 0;
    for (const g of gateways) {
      const metrics = await (await fetch(`http://127.0.0.1:${g.port}/metrics`)).text();
      assert.match(metrics, /gatehouse_throttle_lease_fallback(\{[^}]*\})? 0/, `${g.name} is back on leases`);
    }
    process.stderr.write(`# cluster, no TM: ${fallback} admitted on local limits (L / 4 each); TM back: ${again} in a window\n`);
    assert.ok(again <= L && again >= L * 0.99, `after recovery: ${again}`);
  });
});
