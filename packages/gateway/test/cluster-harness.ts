import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestNode, type TestNode } from '@gatehouse/cli';
import { api, freePorts, managementClient, natsUrl, spawnNode, tempDir, uniqueName, type Spawned } from '@gatehouse/testing';
import { openKvWindowStore } from '@gatehouse/traffic-manager';
import { dropStreams, WindowTally } from './lease-harness.ts';

// The Traffic Manager's accuracy with real processes, for throttling-cluster.test.ts (windows of
// seconds) and bench/throttle-accuracy.ts (windows of a minute): a control plane, `gatehouse start
// --profile gateway` and `--profile traffic-manager` processes sharing NATS JetStream KV on the
// real NATS server, and an API whose API-level policy allows L calls per W-ms window.

const bin = new URL('../../cli/src/bin.ts', import.meta.url).pathname;

function childEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GATEHOUSE_') || k.startsWith('GATEHOUSE_TEST_')) env[k] = v;
  return env;
}

export interface Proc {
  readonly name: string;
  readonly port: number;
  readonly proc: Spawned;
}

export interface Driven {
  /** Every answered call, per window (keyed by the window's end, epoch ms), with the time to refuse. */
  readonly tally: WindowTally;
  readonly admitted: number;
  readonly refused: number;
  /** Neither 200 nor 429, or no answer. */
  readonly other: number;
}

export interface DriveOptions {
  /** Concurrent keep-alive clients per gateway. Default 12. */
  readonly clients?: number;
  /** Stop after this many calls in all. */
  readonly maxCalls?: number;
  /** Where to count the calls: several drives at once can share one. */
  readonly tally?: WindowTally;
}

export interface Cluster {
  readonly windowMs: number;
  readonly limit: number;
  readonly gateways: readonly Proc[];
  /** Every Traffic Manager started, in start order (a killed one stays in the list). */
  readonly tms: Proc[];
  /** How long the processes took to start and serve the API, ms. */
  readonly readyMs: number;
  /** Starts Traffic Manager `tm-<i>` (i up to 3) on the same bucket and waits until it runs. */
  spawnTm(i: number): Promise<Proc>;
  /**
   * Calls the API through `gateways`, each with `clients` concurrent keep-alive clients, until
   * `until` (epoch ms) or `maxCalls` calls in all. An admitted call counts in the window its
   * X-RateLimit-Reset ends (the gateway's window); a refused one too, unless the gateway gave up
   * waiting for a lease (X-RateLimit-Limit 0, reset a second on): then in the window of the
   * moment it was answered. Timed on this process's `performance.now()`: an admitted call when
   * the backend received it, a refused one when its 429 had been read.
   */
  drive(gateways: readonly Proc[], until: number, options?: DriveOptions): Promise<Driven>;
  /** The next window boundary at least `leadMs` from now. */
  nextBoundary(leadMs: number): number;
  close(): Promise<void>;
}

/**
 * The API's backend, in this process: answers at once, with the time it received the call
 * (`performance.now()`, so on the clients' clock) in `X-Backend-At`. A gateway forwards a call as
 * soon as it admits it, so that is the nearest this process sees to the moment it was admitted:
 * its answer comes later by the backend's answer and the gateway's response, which under load
 * take from one to tens of milliseconds.
 */
async function startBackend(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const at = String(performance.now());
    req.resume().on('end', () => res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2, 'x-backend-at': at }).end('ok'));
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sleeps until `t` (epoch ms). */
export const at = (t: number): Promise<void> => sleep(Math.max(0, t - Date.now()));

/**
 * Starts a control plane with an API (`GET /cluster/v1/hit`, no authentication) whose API-level
 * advanced policy allows `limit` calls per `windowMs`, then `trafficManagers` Traffic Managers on
 * one JetStream KV bucket and `gateways` gateways, and waits until every gateway serves the API.
 */
export async function startCluster(options: { windowMs: number; limit: number; gateways?: number; trafficManagers?: number }): Promise<Cluster> {
  const W = options.windowMs;
  const L = options.limit;
  // WSO2's policies count in whole seconds, and X-RateLimit-Reset is in seconds.
  if (W % 1000 !== 0) throw new Error(`windowMs ${W}: a whole number of seconds`);
  const prefix = uniqueName('ghcl');
  const bucket = uniqueName('ghcl_kv');
  const dir = await tempDir();
  const gateways: Proc[] = [];
  const tms: Proc[] = [];
  let backend: Awaited<ReturnType<typeof startBackend>> | undefined;
  let node: TestNode | undefined;

  const close = async () => {
    for (const p of [...gateways, ...tms]) p.proc.kill('SIGKILL');
    await Promise.all([...gateways, ...tms].map((p) => p.proc.exited));
    await node?.close();
    await backend?.close();
    await dir.remove();
    await dropStreams(prefix);
    const kv = await openKvWindowStore({ servers: [natsUrl()], bucket });
    await kv.destroy().finally(() => kv.close());
  };

  const drive = async (targets: readonly Proc[], until: number, o: DriveOptions = {}): Promise<Driven> => {
    const clients = o.clients ?? 12;
    const maxCalls = o.maxCalls ?? Number.POSITIVE_INFINITY;
    const tally = o.tally ?? new WindowTally();
    let calls = 0;
    let admitted = 0;
    let refused = 0;
    let other = 0;
    const agent = new Agent({ keepAlive: true, maxSockets: clients * targets.length });
    const once = (g: Proc) =>
      new Promise<void>((resolve) => {
        const req = request({ host: '127.0.0.1', port: g.port, path: '/cluster/v1/hit', agent }, (res) => {
          res.resume();
          res.on('end', () => {
            const t = performance.now();
            const reset = Number(res.headers['x-ratelimit-reset']) * 1000;
            if (res.statusCode === 200) {
              admitted += 1;
              tally.admit(g.name, reset, Number(res.headers['x-backend-at']));
            } else if (res.statusCode === 429) {
              refused += 1;
              let end = reset;
              if (res.headers['x-ratelimit-limit'] === '0') {
                const now = Date.now();
                end = now - (now % W) + W;
              }
              tally.refuse(g.name, end, t);
            } else other += 1;
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
      targets.flatMap((g) =>
        Array.from({ length: clients }, async () => {
          while (Date.now() < until && calls++ < maxCalls) await once(g);
        }),
      ),
    );
    agent.destroy();
    return { tally, admitted, refused, other };
  };

  const nextBoundary = (leadMs: number) => {
    const t = Date.now() + leadMs;
    return t - (t % W) + W;
  };

  try {
    backend = await startBackend();
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
    // Two ports (HTTP, HTTPS) per gateway, then a health port per Traffic Manager.
    const nGw = options.gateways ?? 4;
    const ports = await freePorts(2 * nGw + 4);
    const spawnTm = async (i: number) => {
      const port = ports[2 * nGw + i]!;
      const p: Proc = {
        name: `tm-${i}`,
        port,
        proc: spawnNode([bin, 'start', '--profile', 'traffic-manager', ...common, '--node.id', `tm-${i}`, '--data-dir', join(dir.path, `tm-${i}`),
          '--traffic_manager.health_port', String(port), '--traffic_manager.store', 'nats-kv', '--traffic_manager.kv_bucket', bucket], { env: childEnv() }),
      };
      tms.push(p);
      await p.proc.waitFor('Gatehouse is running', 30_000);
      return p;
    };
    const t0 = Date.now();
    await Promise.all([
      ...Array.from({ length: options.trafficManagers ?? 2 }, (_, i) => spawnTm(i)),
      ...Array.from({ length: nGw }, async (_, i) => {
        const p: Proc = {
          name: `gw-${i}`,
          port: ports[2 * i]!,
          proc: spawnNode([bin, 'start', '--profile', 'gateway', ...common, '--node.id', `gw-${i}`, '--data-dir', join(dir.path, `gw-${i}`),
            '--gateway.http_port', String(ports[2 * i]), '--gateway.https_port', String(ports[2 * i + 1])], { env: childEnv() }),
        };
        gateways[i] = p;
        await p.proc.waitFor('Gatehouse is running', 30_000);
      }),
    ]);
    // Each gateway serves the API (and has heard the others' heartbeats) before the windows count.
    for (const g of gateways) {
      for (;;) {
        const { admitted, refused } = await drive([g], Date.now() + 50, { clients: 1 });
        if (admitted + refused > 0) break;
        await sleep(100);
      }
    }
    return { windowMs: W, limit: L, gateways, tms, readyMs: Date.now() - t0, spawnTm, drive, nextBoundary, close };
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
}
