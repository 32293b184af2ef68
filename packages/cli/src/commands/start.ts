import cluster, { type Worker } from 'node:cluster';
import { availableParallelism, hostname } from 'node:os';
import type { GatehouseConfig } from '@gatehouse/config';
import { createLogger, type Logger } from '@gatehouse/runtime';
import { startNode, StartupError, type RunningNode } from '../runtime/node.ts';

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

/** Messages between the primary and its gateway workers (over the cluster's IPC channel). */
type WorkerMessage = { readonly cmd: 'gatehouse:ready'; readonly urls: readonly string[]; readonly startupMs: number } | { readonly cmd: 'gatehouse:drain' };

/** How many gateway worker processes `gateway.workers` asks for: `0` is one per core. */
export function workerCount(config: GatehouseConfig): number {
  return config.gateway.workers === 0 ? availableParallelism() : config.gateway.workers;
}

/**
 * `gatehouse start`: runs the profile until SIGTERM or SIGINT, then drains within
 * `shutdown.timeout_ms`. A second signal exits at once. With the gateway profile and
 * `gateway.workers` other than 1, this process becomes the primary of that many workers.
 */
export async function runStart(config: GatehouseConfig, io: Io): Promise<RunningNode | undefined> {
  const workers = workerCount(config);
  if (config.gateway.workers !== 1 && config.profile !== 'gateway') {
    throw new StartupError([`gateway.workers (${config.gateway.workers}) applies to the gateway profile only; the ${config.profile} profile runs in one process`]);
  }
  if (cluster.isWorker) return runWorker(config);
  if (workers > 1) {
    await runPrimary(config, io, workers);
    return undefined;
  }
  const node = await startNode(config);
  // One write, so whoever reads the console (or a test) sees the whole banner at once.
  const banner = ['', `Gatehouse is running (profile ${node.profile}, node ${node.nodeId}, started in ${node.startupMs} ms)`];
  for (const url of node.urls) banner.push(`  ${url}`);
  if (node.generatedAdminPassword) {
    banner.push(
      '',
      '  First start: created user "admin" with this generated password (shown once, not stored):',
      `    ${node.generatedAdminPassword}`,
      '  Set GATEHOUSE_ADMIN_PASSWORD before the first start to choose it instead.',
    );
  }
  io.err(`${banner.join('\n')}\n`);
  onSignals(node.logger, () => node.stop());
  return node;
}

/** First signal: `stop`, then exit 0 (1 if it failed); a second signal exits at once. */
function onSignals(logger: Logger, stop: () => Promise<void>): () => void {
  let signals = 0;
  let stopping: Promise<void> | undefined;
  const stopOnce = () => {
    stopping ??= stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without draining');
      process.exit(1);
    }
    logger.info({ signal }, 'signal received');
    stopOnce();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return stopOnce;
}

/**
 * A gateway worker: an ordinary gateway node whose listeners share the primary's ports (the
 * cluster hands each connection to one worker). It drains on the primary's word, on its own
 * signal (Ctrl-C reaches the whole process group), or when the primary is gone.
 */
async function runWorker(config: GatehouseConfig): Promise<RunningNode> {
  const id = cluster.worker?.id ?? 0;
  // Each worker is a gateway of its own for the control plane: its own id for heartbeats and acks.
  const node = await startNode(config, { nodeId: `${config.node.id || `${hostname()}-${process.ppid}`}-w${id}` });
  const stop = onSignals(node.logger, () => node.stop());
  process.on('message', (m: WorkerMessage) => {
    if (m?.cmd === 'gatehouse:drain') stop();
  });
  process.on('disconnect', stop);
  process.send?.({ cmd: 'gatehouse:ready', urls: node.urls, startupMs: node.startupMs } satisfies WorkerMessage);
  return node;
}

/**
 * The primary of `workers` gateway workers (node:cluster). It serves nothing itself: it forks the
 * first worker and waits for it (so a bad configuration fails once, with the worker's message and
 * exit code, and the first start's files are made once), then the others; replaces a worker that
 * dies (backing off when they keep dying); and on SIGTERM or SIGINT has every worker drain, then
 * exits 0. Workers share the data directory: the local store is SQLite in WAL mode with a busy
 * timeout, so their snapshot writes (the same artifacts, on deploys only) serialize safely.
 */
async function runPrimary(config: GatehouseConfig, io: Io, workers: number): Promise<void> {
  const startedAt = performance.timeOrigin;
  const nodeId = config.node.id || `${hostname()}-${process.pid}`;
  const logger = createLogger({ level: config.log.level, nodeId, profile: config.profile });
  const live = new Set<Worker>();
  const bornAt = new Map<Worker, number>();
  let stopping = false;
  let backoffMs = 0;
  let urls: readonly string[] = [];

  const fork = (): Promise<Worker> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork();
      live.add(worker);
      bornAt.set(worker, Date.now());
      const onExit = (code: number | null, signal: string | null) => reject(Object.assign(new Error(`worker exited (${code ?? signal}) before it was ready`), { exitCode: code ?? 1 }));
      worker.once('exit', onExit);
      worker.on('message', (m: WorkerMessage) => {
        if (m?.cmd !== 'gatehouse:ready') return;
        worker.off('exit', onExit);
        urls = m.urls;
        logger.info({ worker: worker.id, pid: worker.process.pid, startupMs: m.startupMs }, 'gateway worker ready');
        resolve(worker);
      });
    });

  cluster.on('exit', (worker, code, signal) => {
    live.delete(worker);
    const lived = Date.now() - (bornAt.get(worker) ?? 0);
    bornAt.delete(worker);
    if (stopping) return;
    // A worker that dies soon after its start is likely to die again: wait longer each time.
    backoffMs = lived < 5_000 ? Math.min(Math.max(backoffMs * 2, 250), 30_000) : 0;
    logger.error({ worker: worker.id, pid: worker.process.pid, code, signal, replaceInMs: backoffMs }, 'gateway worker exited; replacing it');
    setTimeout(() => {
      if (!stopping) fork().catch((err: unknown) => logger.error({ err: (err as Error).message }, 'replacement worker failed to start'));
    }, backoffMs).unref();
  });

  let first: Worker;
  try {
    first = await fork();
    await Promise.all(Array.from({ length: workers - 1 }, () => fork()));
  } catch (err) {
    stopping = true;
    for (const w of live) w.process.kill('SIGKILL');
    process.exit((err as { exitCode?: number }).exitCode || 1);
  }
  const startupMs = Math.round(performance.timeOrigin + performance.now() - startedAt);
  const pids = [...live].map((w) => w.process.pid);
  const banner = ['', `Gatehouse is running (profile ${config.profile}, ${workers} workers, node ${nodeId}, started in ${startupMs} ms)`];
  for (const url of urls) banner.push(`  ${url}`);
  banner.push(`  workers: ${pids.join(', ')} (first ${first.process.pid})`);
  io.err(`${banner.join('\n')}\n`);

  onSignals(logger, async () => {
    stopping = true;
    const all = [...live];
    const exited = all.map((w) => new Promise<number>((resolve) => (w.isDead() ? resolve(w.process.exitCode ?? 0) : w.once('exit', (code: number | null) => resolve(code ?? 1)))));
    for (const w of all) if (w.isConnected()) w.send({ cmd: 'gatehouse:drain' } satisfies WorkerMessage);
    // Past the workers' own drain deadline, whatever still runs is cut.
    const kill = setTimeout(() => {
      for (const w of all) if (!w.isDead()) w.process.kill('SIGKILL');
    }, config.shutdown.timeout_ms + 5_000);
    kill.unref();
    const codes = await Promise.all(exited);
    clearTimeout(kill);
    logger.info({ workers: all.length, codes }, 'stopped');
    if (codes.some((c) => c !== 0)) throw new Error(`workers exited with ${codes.join(', ')}`);
  });
}
