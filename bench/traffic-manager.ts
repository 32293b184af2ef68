/**
 * Traffic Manager benchmark: lease requests per second one replica serves (window state in memory,
 * then in JetStream KV as replicas share it), and two replicas on one KV bucket, over NATS, against
 * a baseline of a no-op responder on the same subject and server. Each responder runs in a child
 * process; this process sends closed-loop requests from several connections (each case after a
 * warm-up pass of the same length).
 *
 *   node_modules/.bin/node bench/traffic-manager.ts [seconds=5] [connections=4] [inflight=64]
 */
import { spawn } from 'node:child_process';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { loadConfig } from '@gatehouse/config';
import { createNatsHub, type EventHub } from '@gatehouse/events';
import { natsUrl, uniqueName } from '@gatehouse/testing';
import { createTrafficManager, LeaseSubject, openKvWindowStore, type LeaseReply, type LeaseRequest } from '@gatehouse/traffic-manager';

const silent = { info() {}, warn() {}, error() {}, debug() {}, fatal() {}, trace() {}, child: () => silent } as never;

if (process.argv[2] === '--serve') {
  // Child: serve leases (`tm`) or answer at once (`noop`) until stdin closes.
  const [, , , mode, prefix] = process.argv;
  const hub = await createNatsHub({ servers: [natsUrl()], prefix, source: `bench-${mode}` });
  if (mode === 'tm' || mode === 'tm-kv') {
    const config = loadConfig({ argv: ['--traffic_manager.health_port', '0'], env: {} });
    const store = mode === 'tm-kv' ? await openKvWindowStore({ servers: [natsUrl()], bucket: `${prefix}_kv` }) : undefined;
    await createTrafficManager(config, { hub, logger: silent, store }).start();
  } else {
    await hub.respond<LeaseRequest, LeaseReply>(LeaseSubject, (r) => ({ granted: r.want, windowStart: r.windowStart, remaining: 0 }));
  }
  process.stdout.write('ready\n');
  process.stdin.resume().on('end', () => process.exit(0));
} else {
  const seconds = Number(process.argv[2] ?? 5);
  const connections = Number(process.argv[3] ?? 4);
  const inflight = Number(process.argv[4] ?? 64);
  const prefix = uniqueName('ghtmbench');

  const serve = (mode: string) =>
    new Promise<() => void>((resolve, reject) => {
      const child = spawn(process.execPath, [process.argv[1]!, '--serve', mode, prefix], { stdio: ['pipe', 'pipe', 'inherit'] });
      child.stdout.setEncoding('utf8').on('data', (d: string) => d.includes('ready') && resolve(() => child.stdin.end()));
      child.once('exit', (code) => reject(new Error(`responder exited ${code}`)));
    });

  const load = async (hubs: EventHub[], keys: number): Promise<number> => {
    const windowMs = 3_600_000;
    let done = 0;
    const until = Date.now() + seconds * 1000;
    await Promise.all(
      hubs.flatMap((hub, c) =>
        Array.from({ length: inflight }, async (_, i) => {
          let n = 0;
          while (Date.now() < until) {
            const now = Date.now();
            const req = { key: `k${(c * inflight + i + n++) % keys}`, limit: 1e12, windowMs, windowStart: now - (now % windowMs), want: 100, gatewayId: `gw-${c}`, used: 0 };
            await hub.request<LeaseRequest, LeaseReply>(LeaseSubject, req, { timeoutMs: 5000 });
            done += 1;
          }
        }),
      ),
    );
    return done / seconds;
  };

  const hubs = await Promise.all(Array.from({ length: connections }, (_, i) => createNatsHub({ servers: [natsUrl()], prefix, source: `bench-gw-${i}` })));
  const results: [string, number][] = [];
  for (const [mode, label, keys, replicas] of [
    ['noop', 'no-op responder (baseline)', 1000, 1],
    ['tm', 'Traffic Manager, 1000 keys', 1000, 1],
    ['tm', 'Traffic Manager, 1 hot key', 1, 1],
    ['tm-kv', 'TM on JetStream KV, 1000 keys', 1000, 1],
    ['tm-kv', 'TM on JetStream KV, 1 hot key', 1, 1],
    ['tm-kv', '2 TMs on one KV, 1000 keys', 1000, 2],
    ['tm-kv', '2 TMs on one KV, 1 hot key', 1, 2],
  ] as const) {
    const stops = await Promise.all(Array.from({ length: replicas }, () => serve(mode)));
    await load(hubs, keys); // warm-up: JIT, connections, the responder subscription
    results.push([label, await load(hubs, keys)]);
    for (const stop of stops) stop();
    await new Promise((r) => setTimeout(r, 300));
  }
  await Promise.all(hubs.map((h) => h.close()));
  const nc = await connect({ servers: [natsUrl()] });
  const jsm = await jetstreamManager(nc);
  for await (const name of jsm.streams.names()) if (name.startsWith(`${prefix.toUpperCase()}_`) || name.startsWith(`KV_${prefix}_kv`)) await jsm.streams.delete(name);
  await nc.close();

  const base = results[0]![1];
  process.stdout.write(`lease requests/s over NATS (${connections} connections x ${inflight} in flight, ${seconds} s each, ${natsUrl()}):\n`);
  for (const [label, rps] of results) process.stdout.write(`  ${label.padEnd(32)} ${Math.round(rps).toString().padStart(8)}  ${((rps / base) * 100).toFixed(0)}% of baseline\n`);
}
