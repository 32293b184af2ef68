/**
 * Gateway benchmark (issue: "Gateway: secure, fast, never down"): wrk against, in one run,
 *   1. the backend directly (nginx `return 200`),
 *   2. nginx as a plain reverse proxy,
 *   3. a bare Node proxy (node:http + undici's `pool.stream()`, no policies) — the baseline,
 *   4. the Gateway, (a) no security, (b) JWT + subscription + scope,
 *   5. a bare Node proxy forwarding as the Gateway does (undici's dispatch with a handler of its
 *      own) — the stricter baseline: the Gateway outdoes (3) in its forwarding, and (5) shows
 *      what its policies and checks alone cost.
 * Prints requests/s, p50/p99 and each ratio to the bare Node proxy, with the CPU time each proxy
 * process spent per call; then the p99 of the Node proxies at one rate, half the Gateway's lower peak (wrk paced with a
 * per-connection delay calibrated in short runs: wrk2 is not packaged, so this is a closed loop
 * with think time, close to a fixed rate while latency stays well below the delay).
 *
 *   apt-get install wrk nginx-light
 *   node_modules/.bin/node bench/gateway.ts [seconds=10] [connections=50] [rounds=3]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '@gatehouse/testing';
import { runWrk, type WrkResult } from './wrk.ts';

const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 50);
const rounds = Number(process.argv[4] ?? 3);
const dir = await mkdtemp(join(tmpdir(), 'gh-bench-'));
const children: ChildProcess[] = [];
const [backendPort, nginxProxyPort, bareProxyPort, gwOpenPort, gwSecuredPort, bareDispatchPort] = await freePorts(6);

function start(cmd: string, args: string[], readyText?: string, onChild?: (child: ChildProcess) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    onChild?.(child);
    if (!readyText) return setTimeout(() => resolve(''), 500);
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith(readyText));
      if (line) resolve(line.slice(readyText.length).trim());
    });
    child.once('exit', (code) => reject(new Error(`${cmd} exited ${code}: ${out}`)));
  });
}

interface Measured extends WrkResult {
  readonly cpuUsPerCall: number;
}

/** CPU time (user + system) a process has used, in ms, from /proc (Linux). */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime; USER_HZ = 100
}

const wrk = (url: string, headers: string[] = []) => runWrk(url, { connections, seconds, headers });

/**
 * wrk against a proxy, with the CPU time that proxy's process spent per call (system time
 * included: on loopback the socket writes are most of it, and they slow down with the machine's
 * other work too, so compare it within one run only).
 */
async function measured(url: string, pid: number | undefined, headers: string[] = []): Promise<Measured> {
  if (pid === undefined) throw new Error(`no process for ${url}`);
  const before = await cpuMs(pid);
  const r = await wrk(url, headers);
  return { ...r, cpuUsPerCall: ((await cpuMs(pid)) - before) * 1000 / (r.rps * seconds) };
}

try {
  const nginxConf = join(dir, 'nginx.conf');
  await writeFile(
    nginxConf,
    `worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 1024; }
http { access_log off;
  upstream backend { server 127.0.0.1:${backendPort}; keepalive 64; }
  server { listen 127.0.0.1:${backendPort}; location / { return 200 "ok"; } }
  server { listen 127.0.0.1:${nginxProxyPort}; location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}`,
  );
  await start('nginx', ['-c', nginxConf, '-p', dir]);
  const node = process.execPath;
  const here = new URL('./gateway/', import.meta.url).pathname;
  const backend = `http://127.0.0.1:${backendPort}`;
  const pids: Record<'bare' | 'bareDispatch' | 'open' | 'secured', number | undefined> = { bare: undefined, bareDispatch: undefined, open: undefined, secured: undefined };
  await start(node, [join(here, 'bare-proxy.ts'), String(bareProxyPort), backend], 'ready', (c) => (pids.bare = c.pid));
  await start(node, [join(here, 'bare-proxy.ts'), String(bareDispatchPort), backend, 'dispatch'], 'ready', (c) => (pids.bareDispatch = c.pid));
  await start(node, [join(here, 'gateway-server.ts'), String(gwOpenPort), backend, 'open'], 'ready', (c) => (pids.open = c.pid));
  const token = await start(node, [join(here, 'gateway-server.ts'), String(gwSecuredPort), backend, 'secured'], 'ready ', (c) => (pids.secured = c.pid));

  const rows: [string, WrkResult & { cpuUsPerCall?: number }][] = [];
  // A short warm-up of each, so JIT and pools are settled before measuring.
  for (const [url, h] of [
    [`http://127.0.0.1:${bareProxyPort}/bench/1.0.0/hello`, []],
    [`http://127.0.0.1:${bareDispatchPort}/bench/1.0.0/hello`, []],
    [`http://127.0.0.1:${gwOpenPort}/bench/1.0.0/hello`, []],
    [`http://127.0.0.1:${gwSecuredPort}/bench/1.0.0/hello`, [`Authorization: Bearer ${token}`]],
  ] as [string, string[]][]) {
    await runWrk(url, { connections: 10, seconds: 2, headers: h });
  }
  rows.push(['backend directly (nginx return 200)', await wrk(`http://127.0.0.1:${backendPort}/bench/1.0.0/hello`)]);
  rows.push(['nginx reverse proxy', await wrk(`http://127.0.0.1:${nginxProxyPort}/bench/1.0.0/hello`)]);
  // The three Node proxies in turn, `rounds` times: a neighbour's burst then costs one run of one of
  // them, and the median of each leaves it out (ratios are of those medians).
  const proxies = [
    ['bare Node proxy (node:http + undici)', `http://127.0.0.1:${bareProxyPort}/bench/1.0.0/hello`, pids.bare, []],
    ['Gateway (a) no security', `http://127.0.0.1:${gwOpenPort}/bench/1.0.0/hello`, pids.open, []],
    ['Gateway (b) JWT + subscription + scope', `http://127.0.0.1:${gwSecuredPort}/bench/1.0.0/hello`, pids.secured, [`Authorization: Bearer ${token}`]],
    // The stricter baseline: forwarding as the Gateway does (undici's dispatch), nothing else.
    ['bare Node proxy on undici dispatch', `http://127.0.0.1:${bareDispatchPort}/bench/1.0.0/hello`, pids.bareDispatch, []],
  ] as const;
  const runs: Measured[][] = proxies.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [i, [, url, pid, headers]] of proxies.entries()) runs[i]!.push(await measured(url, pid, [...headers]));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const [i, [name]] of proxies.entries()) {
    const mine = runs[i]!;
    rows.push([name, { rps: median(mine.map((r) => r.rps)), p50: median(mine.map((r) => r.p50)), p99: median(mine.map((r) => r.p99)), cpuUsPerCall: median(mine.map((r) => r.cpuUsPerCall)) }]);
  }

  // Half load: each connection waits `delay` ms after each answer, so that together they send
  // about half the peak rate (wrk's delay is whole milliseconds).
  const pacer = async (url: string, target: number, headers: readonly string[]) => {
    const script = join(dir, `paced-${Math.random().toString(36).slice(2)}.lua`);
    const run = async (delayMs: number, secs: number) => {
      await writeFile(script, `function delay() return ${Math.max(0, Math.round(delayMs))} end\n`);
      return runWrk(url, { connections, seconds: secs, headers: [...headers], script });
    };
    // Per-connection period wanted, in ms; what a paced call takes on top of its delay (latency,
    // wrk's timer) is found by short runs, adjusting the delay until the rate is within 10%.
    const cycle = (1000 * connections) / target;
    let delay = cycle;
    for (let k = 0; k < 4; k++) {
      const r = await run(delay, 2);
      if (Math.abs(r.rps - target) / target < 0.1) break;
      delay = Math.max(0, delay + cycle - (1000 * connections) / r.rps);
    }
    return () => run(delay, seconds);
  };
  // One rate for all, half the gateway's lower peak, so the p99s compare at equal load; each
  // proxy calibrated once, then the three in turn `rounds` times, medians as above.
  const halfRate = Math.min(rows[3][1].rps, rows[4][1].rps) / 2;
  const pacers: (() => Promise<WrkResult>)[] = [];
  for (const [, url, , headers] of proxies) pacers.push(await pacer(url, halfRate, headers)); // one at a time
  const halfRuns: WrkResult[][] = proxies.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (const [i, run] of pacers.entries()) halfRuns[i]!.push(await run());
  }
  const half: [string, WrkResult & { target: number }][] = proxies.map(([name], i) => {
    const mine = halfRuns[i]!;
    return [name, { target: halfRate, rps: median(mine.map((r) => r.rps)), p50: median(mine.map((r) => r.p50)), p99: median(mine.map((r) => r.p99)) }];
  });

  const baseline = rows[2][1];
  console.log(`wrk -t1 -c${connections} -d${seconds}s, node ${process.version}, ${new Date().toISOString()}; the Node proxies: median of ${rounds} interleaved runs each`);
  console.log('target                                   req/s     p50 ms   p99 ms   vs bare proxy   p99 added   CPU µs/call   bare/this CPU');
  for (const [name, r] of rows) {
    const cpu = r.cpuUsPerCall === undefined ? '' : `${r.cpuUsPerCall.toFixed(1).padStart(11)}   ${(baseline.cpuUsPerCall! / r.cpuUsPerCall).toFixed(2).padStart(12)}x`;
    console.log(
      `${name.padEnd(40)} ${r.rps.toFixed(0).padStart(7)}  ${r.p50.toFixed(2).padStart(7)}  ${r.p99.toFixed(2).padStart(7)}   ${(r.rps / baseline.rps).toFixed(2).padStart(8)}x   ${(r.p99 - baseline.p99).toFixed(2).padStart(7)} ms ${cpu}`,
    );
  }
  const strict = rows[5][1];
  console.log(
    `against the bare proxy on undici dispatch: (a) ${(rows[3][1].rps / strict.rps).toFixed(2)}x, (b) ${(rows[4][1].rps / strict.rps).toFixed(2)}x req/s; CPU per call ${(strict.cpuUsPerCall! / rows[3][1].cpuUsPerCall!).toFixed(2)}x, ${(strict.cpuUsPerCall! / rows[4][1].cpuUsPerCall!).toFixed(2)}x`,
  );
  console.log('\nat half the gateway\'s peak (one rate for all) target/s  achieved/s  p50 ms   p99 ms   p99 added');
  for (const [name, r] of half) {
    console.log(
      `${name.padEnd(40)} ${r.target.toFixed(0).padStart(8)}  ${r.rps.toFixed(0).padStart(10)}  ${r.p50.toFixed(2).padStart(6)}  ${r.p99.toFixed(2).padStart(7)}   ${(r.p99 - half[0][1].p99).toFixed(2).padStart(7)} ms`,
    );
  }
} finally {
  for (const c of children) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  await rm(dir, { recursive: true, force: true });
}

