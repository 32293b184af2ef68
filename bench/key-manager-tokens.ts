/**
 * Token endpoint benchmark: client_credentials JWT access tokens (ES256, client_secret_basic),
 * Gatehouse's Key Manager against oidc-provider configured the same, both on this machine in the
 * same run, driven by wrk with N connections. Prints tokens/s, p50/p99 and the ratio.
 *
 *
 *   node_modules/.bin/node bench/key-manager-tokens.ts [connections=32] [seconds=5] [rounds=3]
 *
 * A third row, bare fastify + formbody answering a constant body, is the HTTP stack's ceiling here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '@gatehouse/testing';
import { runWrk, type WrkResult } from './wrk.ts';

const connections = Number(process.argv[2] ?? 32);
const seconds = Number(process.argv[3] ?? 5);
const rounds = Number(process.argv[4] ?? 3);
const dir = await mkdtemp(join(tmpdir(), 'gh-km-bench-'));
const children: ChildProcess[] = [];
const here = new URL('./key-manager/', import.meta.url).pathname;

function start(script: string, port: number): Promise<{ clientId: string; secret: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, script), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('ready '));
      if (line) {
        const [, clientId, secret] = line.trim().split(' ');
        resolve({ clientId: clientId!, secret: secret! });
      }
    });
    child.once('exit', (code) => reject(new Error(`${script} exited ${code}: ${out}`)));
  });
}

async function wrk(url: string, clientId: string, secret: string, secs: number): Promise<WrkResult> {
  const auth = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64');
  const script = join(dir, `post-${clientId}.lua`);
  await writeFile(
    script,
    `wrk.method = "POST"\nwrk.body = "grant_type=client_credentials"\nwrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\nwrk.headers["Authorization"] = "Basic ${auth}"\n`,
  );
  return runWrk(url, { connections, seconds: secs, script });
}

async function check(url: string, clientId: string, secret: string): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  const body = (await res.json()) as { access_token?: string };
  const header = JSON.parse(Buffer.from(String(body.access_token).split('.')[0]!, 'base64url').toString()) as { alg: string; typ: string };
  if (res.status !== 200 || header.alg !== 'ES256') throw new Error(`${url}: unexpected answer ${res.status} ${JSON.stringify(header)}`);
  process.stdout.write(`# ${url}: ${header.alg} ${header.typ}\n`);
}

try {
  const [ghPort, opPort, barePort] = await freePorts(3);
  const servers = [
    { name: 'gatehouse key-manager', script: 'gatehouse-server.ts', port: ghPort!, path: '/oauth2/token', check: true },
    { name: 'oidc-provider 9.13', script: 'oidc-provider-server.ts', port: opPort!, path: '/token', check: true },
    { name: 'bare fastify (ceiling)', script: 'bare-server.ts', port: barePort!, path: '/token', check: false },
  ];
  const started = [];
  for (const s of servers) {
    const creds = await start(s.script, s.port);
    const url = `http://127.0.0.1:${s.port}${s.path}`;
    if (s.check) await check(url, creds.clientId, creds.secret);
    await wrk(url, creds.clientId, creds.secret, 2); // warm-up (JIT)
    started.push({ ...s, url, ...creds, runs: [] as { rps: number; p50: number; p99: number }[] });
  }
  // Interleaved rounds, one server loaded at a time, medians reported: other load on the machine
  // then biases every server alike.
  for (let round = 0; round < rounds; round++) {
    for (const s of started) s.runs.push(await wrk(s.url, s.clientId, s.secret, seconds));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  process.stdout.write(`\nclient_credentials ES256 JWTs (client_secret_basic), ${connections} connections, ${rounds} interleaved rounds of ${seconds}s, medians\n`);
  process.stdout.write(`${'server'.padEnd(24)} ${'tokens/s'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}   rounds (tokens/s)\n`);
  for (const s of started) {
    const r = { rps: median(s.runs.map((x) => x.rps)), p50: median(s.runs.map((x) => x.p50)), p99: median(s.runs.map((x) => x.p99)) };
    process.stdout.write(`${s.name.padEnd(24)} ${r.rps.toFixed(0).padStart(10)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)}   ${s.runs.map((x) => x.rps.toFixed(0)).join(' ')}\n`);
  }
  const ratio = median(started[0]!.runs.map((x) => x.rps)) / median(started[1]!.runs.map((x) => x.rps));
  process.stdout.write(`ratio gatehouse / oidc-provider: ${ratio.toFixed(2)}x\n`);
} finally {
  for (const c of children) {
    c.removeAllListeners('exit');
    c.kill('SIGTERM');
  }
  await rm(dir, { recursive: true, force: true });
}
