/**
 * Start-up benchmark: how long the all-in-one process takes from exec to answering
 * /health/ready, cold (fresh data directory: migrations, admin seeding, certificate) and warm
 * (same data again), and its resident memory once started. Baseline, measured in the same run:
 * a bare Node process that starts an HTTP server and answers one request.
 *
 *   node_modules/.bin/node bench/startup.ts [runs=5]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts, httpCall } from '@gatehouse/testing';

const runs = Number(process.argv[2] ?? 5);
const bin = new URL('../packages/cli/src/bin.ts', import.meta.url).pathname;

async function waitReady(url: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      if ((await httpCall(url, { timeoutMs: 1000 })).status === 200) return;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`not ready: ${url}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function rssMB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

async function timeStart(args: string[], readyUrl: string, env: NodeJS.ProcessEnv): Promise<{ ms: number; rss: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: 'ignore', env });
  try {
    await waitReady(readyUrl, t0 + 30_000);
    const ms = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 300)); // let start-up garbage settle before reading RSS
    return { ms, rss: rssMB(child.pid as number) };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)].toFixed(0)}  min ${s[0].toFixed(0)}  max ${s[s.length - 1].toFixed(0)}`;
}

const env: NodeJS.ProcessEnv = {};
for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GATEHOUSE_')) env[k] = v;
env.GATEHOUSE_ADMIN_PASSWORD = 'bench-password-not-secret';
env.GATEHOUSE_LOG_LEVEL = 'warn';

const baselineScript = join(await mkdtemp(join(tmpdir(), 'gh-bench-')), 'baseline.mjs');
await writeFile(baselineScript, "import { createServer } from 'node:http'; createServer((q, s) => s.end('ok')).listen(Number(process.argv[2]), '127.0.0.1');");

const base: number[] = [];
const cold: number[] = [];
const warm: number[] = [];
const rss: number[] = [];
for (let i = 0; i < runs; i++) {
  const [p] = await freePorts(1);
  base.push((await timeStart([baselineScript, String(p)], `http://127.0.0.1:${p}/`, env)).ms);

  const dir = await mkdtemp(join(tmpdir(), 'gh-bench-'));
  const [https, http, gw, gws, tm] = await freePorts(5);
  const args = [bin, 'start', '--data-dir', join(dir, 'data'), '--server.https_port', String(https), '--server.http_port', String(http),
    '--gateway.http_port', String(gw), '--gateway.https_port', String(gws), '--traffic_manager.health_port', String(tm)];
  const ready = `http://127.0.0.1:${http}/health/ready`;
  const c = await timeStart(args, ready, env);
  cold.push(c.ms);
  const w = await timeStart(args, ready, env);
  warm.push(w.ms);
  rss.push(w.rss);
  await rm(dir, { recursive: true, force: true });
}
await rm(join(baselineScript, '..'), { recursive: true, force: true });

const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`runs: ${runs}   node ${process.version}`);
console.log(`baseline (bare node:http server)  ms: ${stats(base)}`);
console.log(`all-in-one cold start to ready    ms: ${stats(cold)}   ratio to baseline ${(med(cold) / med(base)).toFixed(1)}x`);
console.log(`all-in-one warm start to ready    ms: ${stats(warm)}   ratio to baseline ${(med(warm) / med(base)).toFixed(1)}x`);
console.log(`all-in-one RSS after start        MB: ${stats(rss)}`);
