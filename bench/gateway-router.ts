/**
 * The gateway's route table with 10 and with 10,000 APIs deployed (issue #6: "route match cost
 * unchanged"): ns per `RouteTable.match` for a versioned path, a path parameter, a default
 * version's unversioned alias and a miss, median of 7 rounds; then, in this process, what a
 * deploy of each costs with every default policy: time (median of 3) and the heap the table
 * keeps. Run with --expose-gc for the heap figure.
 *
 *   node_modules/.bin/node --expose-gc bench/gateway-router.ts [apis=10000]
 */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { loadConfig } from '@gatehouse/config';
import { createInProcessHub } from '@gatehouse/events';
import { createGateway, RouteTable, toRuntimeApis, type RuntimeApi } from '@gatehouse/gateway';
import { benchArtifacts } from './gateway/artifacts.ts';

const large = Number(process.argv[2] ?? 10_000);

const artifacts = (n: number) => benchArtifacts(n, 'http://127.0.0.1:9');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
let sink = 0;

/** ns per match of `path`, median of 7 rounds of 200,000. */
function matchNs(table: RouteTable<number>, path: string, method: string): number {
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) {
    const n = 200_000;
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) if (table.match('localhost', path, method).kind === 'found') sink++;
    rounds.push(Number(process.hrtime.bigint() - t) / n);
  }
  return median(rounds);
}

const gc = (globalThis as { gc?: () => void }).gc;
const heap = () => {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
};

const sizes = [10, large];
const apis = new Map<number, RuntimeApi[]>(sizes.map((n) => [n, toRuntimeApis(artifacts(n))]));
console.log(`gateway route table, node ${process.version}, ${new Date().toISOString()}`);
console.log('\nRouteTable.match, ns (median of 7 x 200,000)');
const cases: [string, (n: number) => string, string][] = [
  ['GET /api{last}/v1/items', (n) => `/api${n - 1}/v1/items`, 'GET'],
  ['GET /api{last}/v1/items/42 (parameter)', (n) => `/api${n - 1}/v1/items/42`, 'GET'],
  ['GET /api{last-even}/items (default version)', (n) => `/api${n - 2}/items`, 'GET'],
  ['GET /nothing/here (not found)', () => '/nothing/here/at/all', 'GET'],
];
const tables = new Map(sizes.map((n) => [n, RouteTable.build<number>(apis.get(n) as RuntimeApi[], () => 0)]));
// One warm-up pass over every case, so neither size is measured while the JIT settles.
for (const [, path, method] of cases) for (const n of sizes) matchNs(tables.get(n) as RouteTable<number>, path(n), method);
console.log(`${'path'.padEnd(46)} ${sizes.map((n) => `${n} APIs`.padStart(12)).join('')}`);
for (const [label, path, method] of cases) {
  console.log(`${label.padEnd(46)} ${sizes.map((n) => matchNs(tables.get(n) as RouteTable<number>, path(n), method).toFixed(0).padStart(12)).join('')}`);
}

console.log('\ndeploy with every default policy (in process)');
console.log(`${'APIs'.padStart(8)} ${'routes'.padStart(8)} ${'deploy ms (median of 3)'.padStart(24)} ${'table heap MB'.padStart(14)} ${'bytes/route'.padStart(12)}`);
const config = loadConfig({ argv: ['--gateway.http_port', '0', '--gateway.https_port', '0'], env: {} });
for (const n of sizes) {
  const list = apis.get(n) as RuntimeApi[];
  const gw = createGateway(config, { logger: pino({ level: 'silent' }), hub: createInProcessHub(), tls: { cert: '', key: '', source: 'configured' }, metrics: new Registry() }, { throttle: { mode: 'local' } });
  const before = heap();
  const times: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    gw.deploy(list);
    times.push(performance.now() - t);
  }
  const kept = heap() - before;
  const routes = list.reduce((s, a) => s + a.operations.length, 0);
  console.log(
    `${String(n).padStart(8)} ${String(routes).padStart(8)} ${median(times).toFixed(1).padStart(24)} ${gc ? (kept / 1048576).toFixed(1).padStart(14) : 'n/a'.padStart(14)} ${gc ? (kept / routes).toFixed(0).padStart(12) : 'n/a'.padStart(12)}`,
  );
  gw.deploy([]);
  await gw.stop();
}
if (sink < 0) console.log(sink);
process.exit(0);
