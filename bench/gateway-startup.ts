/**
 * Gateway start-up with 10,000 APIs deployed: `gatehouse start --profile gateway` from exec until
 * the last API answers through it, in front of a fake internal data API (in this process) that
 * serves the 10,000 runtime artifacts, and a backend answering 200.
 *
 *   1. baseline: one API, pulled from the control plane;
 *   2. cold: 10,000 APIs pulled from the control plane, on a fresh data directory (then saved as
 *      the local snapshot);
 *   3. snapshot: the same data directory with the control plane down: the 10,000 APIs come from
 *      the local store.
 *
 * Prints the median (and range) of each, the process's own `startupMs`, the time its last deploy
 * took (the route table of every API, from the gateway's log), the CPU time it used until then
 * (steadier than wall time on a shared machine), and its resident memory.
 *
 *   node_modules/.bin/node bench/gateway-startup.ts [runs=3] [apis=10000]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, httpCall } from '@gatehouse/testing';
import { benchArtifacts } from './gateway/artifacts.ts';

const runs = Number(process.argv[2] ?? 3);
const count = Number(process.argv[3] ?? 10_000);
const bin = new URL('../packages/cli/src/bin.ts', import.meta.url).pathname;
const [cpPort, backendPort, gwHttp, gwHttps] = await freePorts(4);
const backend = `http://127.0.0.1:${backendPort}`;

const artifacts = (n: number) => benchArtifacts(n, backend);

/** The internal data API a gateway pulls at start (token, artifacts, empty lists for the rest). */
function startControlPlane(apis: number): Promise<Server> {
  const list = JSON.stringify({ count: apis, list: artifacts(apis) });
  const empty = JSON.stringify({ count: 0, list: [] });
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    res.setHeader('content-type', 'application/json');
    req.resume();
    if (path === '/oauth2/token') return res.end(JSON.stringify({ access_token: 'bench', token_type: 'Bearer', expires_in: 3600 }));
    if (path === '/internal/data/v1/runtime-artifacts') return res.end(list);
    res.end(empty);
  });
  return new Promise((resolve) => server.listen({ host: '127.0.0.1', port: cpPort }, () => resolve(server)));
}

const close = (s: Server | undefined) => new Promise<void>((resolve) => (s ? (s.closeAllConnections(), s.close(() => resolve())) : resolve()));

/** CPU seconds (user + system) the process has used: steadier than wall time on a shared machine. */
function cpuSeconds(pid: number): number {
  // /proc/<pid>/stat: utime and stime are fields 14 and 15, in clock ticks (100 per second on Linux).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

/** Exec to the last API answering 200; the process's own startupMs; RSS once it answers. */
async function timeStart(dataDir: string, lastApi: number): Promise<Row> {
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [
      bin, 'start', '--profile', 'gateway',
      '--control-plane', `http://127.0.0.1:${cpPort}`,
      '--control_plane.client_id', 'bench', '--control_plane.client_secret', 'bench',
      '--gateway.http_port', String(gwHttp), '--gateway.https_port', String(gwHttps),
      '--gateway.throttling', 'local',
      '--data-dir', dataDir, '--log.level', 'info',
    ],
    { stdio: ['ignore', 'pipe', 'ignore'], env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GATEHOUSE_'))) },
  );
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  try {
    const url = `http://127.0.0.1:${gwHttp}/api${lastApi}/v1/items`;
    for (;;) {
      const res = await httpCall(url, { timeoutMs: 2_000 }).catch(() => undefined);
      if (res?.status === 200) break;
      if (performance.now() - t0 > 120_000) throw new Error(`not serving ${url} after 120 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const ms = performance.now() - t0;
    const cpu = cpuSeconds(child.pid as number);
    await new Promise((r) => setTimeout(r, 200)); // let it finish its start (banner, start-up GC)
    const startupMs = Number(/"startupMs":(\d+)/.exec(out)?.[1] ?? NaN);
    const deploys = [...out.matchAll(/"chains":\d+,"ms":(\d+)[^\n]*route table swapped/g)];
    const deployMs = Number(deploys.at(-1)?.[1] ?? NaN);
    return { ms, startupMs, deployMs, cpu, rss: rssMB(child.pid as number) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

interface Row {
  readonly ms: number;
  readonly startupMs: number;
  readonly deployMs: number;
  /** CPU seconds used until the last API answered. */
  readonly cpu: number;
  readonly rss: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)}`;

const backendServer = createServer((_req, res) => res.end('ok'));
await new Promise<void>((resolve) => backendServer.listen({ host: '127.0.0.1', port: backendPort }, resolve));
const results: [string, Row[]][] = [];
try {
  for (const [label, apis] of [['1 API, pulled from the control plane', 1], [`${count} APIs, pulled (cold data dir)`, count]] as const) {
    const cp = await startControlPlane(apis);
    const rows: Row[] = [];
    for (let r = 0; r < runs; r++) {
      const dir = await mkdtemp(join(tmpdir(), 'gh-bench-gws-'));
      try {
        rows.push(await timeStart(dir, apis - 1));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    await close(cp);
    results.push([label, rows]);
  }
  // The snapshot: one pull to fill the local store, then starts with the control plane down.
  const dir = await mkdtemp(join(tmpdir(), 'gh-bench-gws-'));
  try {
    const cp = await startControlPlane(count);
    await timeStart(dir, count - 1);
    await close(cp);
    const rows: Row[] = [];
    for (let r = 0; r < runs; r++) rows.push(await timeStart(dir, count - 1));
    results.push([`${count} APIs from the local snapshot, control plane down`, rows]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
} finally {
  await close(backendServer);
}

console.log(`gateway start-up, median of ${runs} (range), node ${process.version}, ${new Date().toISOString()}`);
console.log('case                                                    exec to last API 200   startupMs (log)   deploy (log)   CPU s   RSS MB');
for (const [label, rows] of results) {
  const ms = rows.map((r) => r.ms);
  console.log(
    `${label.padEnd(55)} ${`${median(ms).toFixed(0)} ms (${range(ms)})`.padStart(20)}   ${median(rows.map((r) => r.startupMs)).toFixed(0).padStart(12)} ms   ${median(rows.map((r) => r.deployMs)).toFixed(0).padStart(9)} ms   ${median(rows.map((r) => r.cpu)).toFixed(2).padStart(5)}   ${median(rows.map((r) => r.rss)).toFixed(0).padStart(6)}`,
  );
}
