import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { INTERNAL_CLIENT_PREFIX } from '@gatehouse/key-manager';
import { api, freePort, freePorts, httpCall, managementClient, natsUrl, skipUnless, spawnNode, startMockUpstream, tempDir, uniqueName, type MockUpstream, type Spawned } from '@gatehouse/testing';
import { startTestNode, type TestNode } from '../src/index.ts';

// ARCHITECTURE.md's invariant: the Gateway and the Traffic Manager open no database connection.
// Both run here as real `gatehouse start` processes in front of a real control plane, once with
// database settings that point at a TCP listener of this test (which counts every connection)
// and at a SQLite file, and once with no database setting at all. Traffic goes through the
// gateway, quota leases through the traffic manager; no connection, no database file, and no
// module of the PostgreSQL driver or of a control-plane component may show up.

const repo = new URL('../../../', import.meta.url).pathname;
const bin = join(repo, 'packages/cli/src/bin.ts');
const bootstrapScript = join(repo, 'deploy/compose/bootstrap.ts');

/**
 * Preloaded into each child (`--import`): records the URL of every module the process resolves
 * (ESM and require alike) and writes them to $GATEHOUSE_TEST_MODULE_LOG when it exits.
 */
const moduleRecorder = `data:text/javascript,${encodeURIComponent(`
import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';
const seen = new Set();
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.add(r.url); return r; } });
process.on('exit', () => writeFileSync(process.env.GATEHOUSE_TEST_MODULE_LOG, [...seen].join('\\n')));
`)}`;

/** Modules a process without databases and without control-plane components must never load. */
const forbiddenModules: readonly RegExp[] = [
  /\/node_modules\/pg\//,
  /\/node_modules\/pg-pool\//,
  /\/packages\/data\/src\/dialects\/postgres\//,
  /\/packages\/(publisher|devportal|admin|key-manager|internal-data)\/src\//,
];

/** A TCP server standing in for PostgreSQL: it counts connections and closes each at once. */
async function connectionCounter(): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let count = 0;
  const server: Server = createServer((socket) => {
    count += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const port = (server.address() as { port: number }).port;
  return { port, connections: () => count, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => (s.destroy(), resolve(false)));
  });
}

/**
 * A NATS JetStream server for this test alone when nats-server is installed (nothing left on a
 * shared server), else the shared test server with a stream prefix of its own, else a skip.
 */
async function privateNats(dir: string): Promise<{ url: string; skip: false | string; stop(): Promise<void> }> {
  const binary = '/usr/sbin/nats-server';
  if (existsSync(binary)) {
    const port = await freePort();
    const child: ChildProcess = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, 'nats')], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !(await reachable(port)); i++) await sleep(50);
    return {
      url: `nats://127.0.0.1:${port}`,
      skip: false,
      stop: () => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM')))),
    };
  }
  const skip = await skipUnless('nats');
  return { url: natsUrl(), skip, stop: async () => {} };
}

/** The environment of a child: this one's, without the variables a developer may have set. */
function childEnv(extra: Record<string, string>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GATEHOUSE_') || k.startsWith('GATEHOUSE_TEST_')) env[k] = v;
  return { ...env, ...extra };
}

/** Reads a file deploy/compose/bootstrap.ts wrote (`export NAME='value'` lines). */
function sourced(file: string): Record<string, string> {
  return Object.fromEntries([...readFileSync(file, 'utf8').matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1] as string, m[2] as string]));
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The sum of a Prometheus counter's samples whose labels contain `labels`. */
function metric(text: string, name: string, labels: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(labels)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

let dir: Awaited<ReturnType<typeof tempDir>>;
let cp: TestNode;
let backend: MockUpstream;
let nats: Awaited<ReturnType<typeof privateNats>>;
let prefix: string;
const clients: Record<string, { id: string; secret: string }> = {};
const running: Spawned[] = [];

before(async () => {
  dir = await tempDir('gatehouse-nodb-');
  backend = await startMockUpstream('orders');
  nats = await privateNats(dir.path);
  prefix = uniqueName('gh_nodb');
  const hub = nats.skip ? [] : ['--event-hub', nats.url, '--event_hub.stream_prefix', prefix];
  cp = await startTestNode(['--profile', 'control-plane', '--server.public_url', 'https://gatehouse.test', ...hub], { logLevel: 'error' });

  // The OAuth clients, registered the way deploy/compose registers them.
  const names = ['gateway-1', 'gateway-2', 'traffic-manager-1', 'traffic-manager-2'];
  const boot = spawnNode([bootstrapScript], {
    env: childEnv({ BOOTSTRAP_CONTROL_PLANE_URL: cp.baseUrl, BOOTSTRAP_ADMIN_PASSWORD: cp.adminPassword, BOOTSTRAP_CLIENTS: names.join(','), BOOTSTRAP_DIR: dir.path }),
  });
  assert.equal(await boot.exited, 0, boot.stderr());
  for (const name of names) {
    const env = sourced(join(dir.path, `${name}.env`));
    clients[name] = { id: env.GATEHOUSE_CONTROL_PLANE_CLIENT_ID as string, secret: env.GATEHOUSE_CONTROL_PLANE_CLIENT_SECRET as string };
  }

  // An API whose resource has a limit (WSO2's 10KPerMin), so every call asks for quota.
  const token = await managementClient(cp.baseUrl, cp.adminPassword).token('admin', cp.adminPassword, 'apim:api_create apim:api_publish apim:api_view apim:api_manage');
  const publisher = api(cp.baseUrl, token);
  const created = await publisher.json<{ id: string }>('POST', '/api/am/publisher/v4/apis', {
    name: 'Orders',
    context: '/orders',
    version: 'v1',
    endpointConfig: { endpoint_type: 'http', production_endpoints: { url: backend.url } },
    operations: [{ target: '/list', verb: 'GET', authType: 'None', throttlingPolicy: '10KPerMin', scopes: [] }],
  });
  const rev = await publisher.json<{ id: string }>('POST', `/api/am/publisher/v4/apis/${created.id}/revisions`, { description: 'r1' });
  assert.ok(created.id && rev.id, 'an API and a revision');
  await publisher.json('POST', `/api/am/publisher/v4/apis/${created.id}/deploy-revision?revisionId=${rev.id}`, [{ name: 'Default', vhost: 'localhost' }]);
});

after(async () => {
  for (const p of running) p.kill('SIGKILL');
  await cp?.close();
  await backend?.close();
  await nats?.stop();
  await dir?.remove();
});

interface Started {
  readonly proc: Spawned;
  readonly dataDir: string;
  readonly moduleLog: string;
}

async function startProfile(name: string, profile: 'gateway' | 'traffic-manager', flags: string[]): Promise<Started> {
  const dataDir = join(dir.path, name, 'data');
  mkdirSync(join(dir.path, name), { recursive: true });
  const moduleLog = join(dir.path, name, 'modules.txt');
  const client = clients[profile === 'gateway' ? 'gateway-1' : 'traffic-manager-1'] as { id: string; secret: string };
  const proc = spawnNode(
    ['--import', moduleRecorder, bin, 'start', '--profile', profile, '--data-dir', dataDir, '--node.id', name, '--log.level', 'warn',
      '--control-plane', cp.baseUrl, '--control_plane.client_id', client.id, '--control_plane.client_secret', client.secret, ...flags],
    { env: childEnv({ GATEHOUSE_TEST_MODULE_LOG: moduleLog }), cwd: join(dir.path, name) },
  );
  running.push(proc);
  await proc.waitFor('Gatehouse is running', 30_000);
  return { proc, dataDir, moduleLog };
}

/** Stops a process the way systemd, compose and Kubernetes do, and checks what it left and loaded. */
async function stopAndCheck(s: Started, component: 'gateway' | 'traffic-manager', extraAbsent: string[] = []): Promise<void> {
  s.proc.kill('SIGTERM');
  assert.equal(await s.proc.exited, 0, s.proc.stderr());
  for (const f of ['apim.db', 'shared.db', ...extraAbsent]) assert.equal(existsSync(f.startsWith('/') ? f : join(s.dataDir, f)), false, `no ${f}`);
  assert.equal(existsSync(join(s.dataDir, 'local.db')), true, 'its own local store is there');
  const modules = readFileSync(s.moduleLog, 'utf8').split('\n');
  assert.ok(modules.some((m) => m.endsWith(`/packages/${component}/src/${component}.ts`)), `the recorder saw the ${component} load (${modules.length} modules)`);
  for (const pattern of forbiddenModules) {
    const loaded = modules.filter((m) => pattern.test(m));
    assert.deepEqual(loaded, [], `never loads ${pattern}`);
  }
}

async function callApi(gatewayHttp: number, n: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) statuses.push((await httpCall(`http://127.0.0.1:${gatewayHttp}/orders/v1/list`)).status);
  return statuses;
}

describe('gateway and traffic manager with database settings pointing at a connection counter', () => {
  let counter: Awaited<ReturnType<typeof connectionCounter>>;
  before(async () => {
    counter = await connectionCounter();
  });
  after(() => counter.close());

  it('serve traffic and leases on NATS and never connect to the database', async (t) => {
    if (nats.skip) return t.skip(nats.skip);
    const hub = ['--event-hub', nats.url, '--event_hub.stream_prefix', prefix];
    const elsewhere = join(dir.path, 'elsewhere');
    // apim on "PostgreSQL" (the counter), shared on a SQLite file outside the data directory.
    const dbFlags = (name: string) => [
      '--database.apim.type', 'postgres', '--database.apim.url', `postgres://gatehouse:pw@127.0.0.1:${counter.port}/gatehouse_apim`,
      '--database.shared.type', 'sqlite', '--database.shared.path', join(elsewhere, `${name}-shared.db`),
      '--security.secret', 'a-server-secret-that-no-gateway-should-need',
    ];
    const [tmPort, gwHttp, gwHttps] = await freePorts(3);
    const tm = await startProfile('tm-1', 'traffic-manager', ['--traffic_manager.health_port', String(tmPort), ...hub, ...dbFlags('tm-1')]);
    const gw = await startProfile('gw-1', 'gateway', ['--gateway.http_port', String(gwHttp), '--gateway.https_port', String(gwHttps), '--gateway.throttling', 'lease', ...hub, ...dbFlags('gw-1')]);

    // The gateway pulled the API from the control plane; leases come from the traffic manager.
    await until('the API on the gateway', async () => ((await httpCall(`http://127.0.0.1:${gwHttp}/orders/v1/list`)).status === 200 ? true : undefined));
    const statuses = await callApi(gwHttp, 20);
    assert.deepEqual(statuses, Array(20).fill(200), 'every call admitted');
    assert.equal(backend.requests.at(-1)?.url, '/list');
    const tmMetrics = (await httpCall(`http://127.0.0.1:${tmPort}/metrics`)).text;
    assert.ok(metric(tmMetrics, 'gatehouse_tm_lease_requests_total', 'result="granted"') > 0, 'the traffic manager granted leases');
    const gwMetrics = (await httpCall(`http://127.0.0.1:${gwHttp}/metrics`)).text;
    assert.ok(metric(gwMetrics, 'gatehouse_throttle_leases_total', 'result="granted"') > 0, 'the gateway counted on leases');
    for (const port of [gwHttp, tmPort]) assert.equal((await httpCall(`http://127.0.0.1:${port}/health/ready`)).status, 200, `ready on ${port}`);

    await stopAndCheck(gw, 'gateway', [join(elsewhere, 'gw-1-shared.db')]);
    await stopAndCheck(tm, 'traffic-manager', [join(elsewhere, 'tm-1-shared.db')]);
    assert.equal(existsSync(elsewhere), false, 'not even the directory of the SQLite file');
    assert.equal(counter.connections(), 0, 'no connection reached the database port');
  });
});

describe('gateway and traffic manager with no database setting at all', () => {
  it('start, serve traffic, and create no database file', async () => {
    // The in-process event hub: the gateway takes what it serves from the control plane's
    // internal data API alone, and counts limits locally (no traffic manager can reach it).
    const [tmPort, gwHttp, gwHttps] = await freePorts(3);
    const tm = await startProfile('tm-2', 'traffic-manager', ['--traffic_manager.health_port', String(tmPort)]);
    const gw = await startProfile('gw-2', 'gateway', ['--gateway.http_port', String(gwHttp), '--gateway.https_port', String(gwHttps), '--gateway.throttling', 'local']);
    await until('the API on the gateway', async () => ((await httpCall(`http://127.0.0.1:${gwHttp}/orders/v1/list`)).status === 200 ? true : undefined));
    assert.deepEqual(await callApi(gwHttp, 5), Array(5).fill(200));
    assert.equal((await httpCall(`http://127.0.0.1:${tmPort}/health/ready`)).status, 200);
    await stopAndCheck(gw, 'gateway');
    await stopAndCheck(tm, 'traffic-manager');
  });
});

describe('deploy/compose/bootstrap.ts', () => {
  it('registers internal clients, and leaves a registered one alone when run again', async () => {
    assert.match(readFileSync(bootstrapScript, 'utf8'), new RegExp(`clientName: \`${INTERNAL_CLIENT_PREFIX}\\$\\{name\\}\``), 'clients get the reserved internal name');
    const before = readFileSync(join(dir.path, 'gateway-1.env'), 'utf8');
    const again = spawnNode([bootstrapScript], {
      env: childEnv({ BOOTSTRAP_CONTROL_PLANE_URL: cp.baseUrl, BOOTSTRAP_ADMIN_PASSWORD: cp.adminPassword, BOOTSTRAP_CLIENTS: 'gateway-1', BOOTSTRAP_DIR: dir.path }),
    });
    assert.equal(await again.exited, 0, again.stderr());
    assert.match(again.stdout(), /gateway-1 already has its client/);
    assert.equal(readFileSync(join(dir.path, 'gateway-1.env'), 'utf8'), before, 'the secret in use is not rotated');
  });
});
