/**
 * Throttling accuracy across processes, with windows of a minute (issue #7's benchmark; the test
 * `packages/gateway/test/throttling-cluster.test.ts` runs the same harness with 2 s windows): a
 * control plane, 2 Traffic Managers on one JetStream KV bucket and 4 gateway processes on the
 * real NATS server, `clients` keep-alive clients per gateway calling as fast as they are answered
 * an API whose policy allows L calls per window. Five consecutive windows: N = 1, 2 and 4
 * gateways, then 4 with one Traffic Manager SIGKILLed once L / 2 calls of that window are
 * admitted, then 4 again. Per window: admitted calls against [L - 1%, L] (L + 5% for the window
 * that loses a Traffic Manager), when the limit was reached, and the time from then to every
 * gateway refusing (timed in this process: see cluster-harness.ts and WindowTally).
 *
 *   node_modules/.bin/node bench/throttle-accuracy.ts [window seconds=60] [L=20000] [clients=12]
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { at, startCluster } from '../packages/gateway/test/cluster-harness.ts';
import { WindowTally } from '../packages/gateway/test/lease-harness.ts';

const W = Number(process.argv[2] ?? 60) * 1000;
const L = Number(process.argv[3] ?? 20_000);
const clients = Number(process.argv[4] ?? 12);

const cluster = await startCluster({ windowMs: W, limit: L });
try {
  process.stdout.write(`cluster ready in ${cluster.readyMs} ms: control plane, 2 traffic managers on KV, 4 gateways; L=${L} per ${W / 1000} s, ${clients} clients per gateway\n`);
  const plan = [
    { n: 1, note: '' },
    { n: 2, note: '' },
    { n: 4, note: '' },
    { n: 4, note: 'kill' },
    { n: 4, note: 'after' },
  ];
  const tally = new WindowTally();
  const first = cluster.nextBoundary(1_000);
  let killedAt = Number.NaN;
  // One drive per window, to 200 ms after its end, so the next starts under load: the first
  // from 200 ms before its window, the others from their window's start (begun earlier, a larger
  // N's extra gateways would answer their first calls late in the window before, long after its
  // limit, and count as slow to refuse).
  await Promise.all(
    plan.map(async ({ n, note }, i) => {
      const b = first + i * W;
      await at(i === 0 ? b - 200 : b);
      const load = cluster.drive(cluster.gateways.slice(0, n), b + W + 200, { clients, tally });
      if (note === 'kill') {
        while (tally.admitted(b + W) < L / 2 && Date.now() < b + W) await sleep(1);
        cluster.tms[0]!.proc.kill('SIGKILL');
        killedAt = Date.now() - b;
      }
      await load;
    }),
  );

  const rows = plan.map(({ n, note }, i) => {
    const b = first + i * W;
    const admitted = tally.admitted(b + W);
    const calls = admitted + tally.refused(b + W);
    const r = tally.timeToRefuse(b + W);
    const reachedAt = r === undefined ? Number.NaN : r.limitAt + performance.timeOrigin - b;
    const within = note === 'kill' ? admitted <= L * 1.05 : admitted <= L && admitted >= L * 0.99;
    const check = note === 'kill' ? `<= L + 5%: ${within ? 'yes' : 'NO'}` : `[L - 1%, L]: ${within ? 'yes' : 'NO'}`;
    const what = note === 'kill' ? `one TM SIGKILLed at ${(killedAt / 1000).toFixed(2)} s` : note === 'after' ? 'the next window, 1 TM' : '';
    return [String(i + 1), String(n), String(calls), String(admitted), `${(((admitted - L) / L) * 100).toFixed(2)}%`, check, String(r?.refusedBefore ?? '-'), `${(reachedAt / 1000).toFixed(2)} s`, r === undefined ? '-' : `${r.ms.toFixed(1)} ms (${r.gateways})`, what];
  });
  const head = ['window', 'N', 'calls', 'admitted', 'vs L', 'check', '429 before', 'limit at', 'to refuse (gws)', ''];
  const widths = head.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k]!.length)));
  const line = (cells: string[]) => cells.map((c, k) => (k < 7 ? c.padStart(widths[k]!) : c.padEnd(widths[k]!))).join('  ').trimEnd();
  process.stdout.write(`\n${line(head)}\n${rows.map(line).join('\n')}\n`);
  process.stdout.write(
    `\n"limit at": when the window's last admitted call reached the backend (into the window); "429 before": calls refused before that; "to refuse": from then to the last gateway's first 429 read after it (the issue's target: under 50 ms)\nnode ${process.version}, ${new Date().toISOString()}\n`,
  );
} finally {
  await cluster.close();
}
