import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { createServerKeys, systemClock, type ProfileName, type ServerKeys } from '@gatehouse/core';
import type { GatehouseConfig } from '@gatehouse/config';
import { createRepositories, openDatabases, openLocalStore, seedDefaults, type Databases, type DatabaseOptions, type LocalStore, type Repositories } from '@gatehouse/data';
import { createEventHub, createQueuedHub, type EventHub, type QueuedEventHub } from '@gatehouse/events';
import { profileComponents, profileUsesDatabases, type Component, type ComponentDeps } from './components.ts';
import { createControlPlane, type ControlPlaneServer } from './control-plane.ts';
import { Health, createLogger, type Logger, componentGauges, createMetrics, loadOrCreateServerSecret, loadOrCreateTls, releaseStartupMemory, scrapedGauges } from '@gatehouse/runtime';
import { componentLoaders } from './loaders.ts';

/** A problem found before anything was written: reported like a config problem, exit code 2. */
export class StartupError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Gatehouse cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'StartupError';
    this.problems = problems;
  }
}

export interface RunningNode {
  readonly nodeId: string;
  readonly profile: ProfileName;
  readonly logger: Logger;
  readonly urls: readonly string[];
  /** The control plane's base URLs (actual ports, also when configured as 0), when this profile has one. */
  readonly controlPlaneUrls: { readonly https: string; readonly http: string } | undefined;
  /** Set when this start created the first admin with a generated password (printed once). */
  readonly generatedAdminPassword: string | undefined;
  readonly startupMs: number;
  readonly databases: Databases | undefined;
  readonly hub: EventHub;
  readonly controlPlane: ControlPlaneServer | undefined;
  /** Graceful stop: not ready, stop accepting, drain within the deadline, close pools. */
  stop(): Promise<void>;
}

export function resolveDataPath(config: GatehouseConfig, cwd: string, path: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}

export function databaseOptions(config: GatehouseConfig, cwd: string): { apim: DatabaseOptions; shared: DatabaseOptions } {
  const dataDir = resolveDataPath(config, cwd, config.data_dir);
  const one = (name: 'apim' | 'shared'): DatabaseOptions => {
    const db = config.database[name];
    return db.type === 'postgres'
      ? { type: 'postgres', url: db.url, poolMax: db.pool_max, connectTimeoutMs: db.connect_timeout_ms }
      : { type: 'sqlite', path: db.path ? resolveDataPath(config, cwd, db.path) : resolve(dataDir, `${name}.db`) };
  };
  return { apim: one('apim'), shared: one('shared') };
}

export interface StartNodeOptions {
  readonly cwd?: string;
  /** When the process started (epoch ms), for the start-up time; the process's own start by default. */
  readonly startedAt?: number;
  /** Collect start-up garbage and shrink V8's young generation once started (runtime `releaseStartupMemory`); default true. */
  readonly releaseMemory?: boolean;
  /** This process's node id, in place of `node.id` (gateway workers: `<node>-w<n>`). */
  readonly nodeId?: string;
}

/**
 * Starts one Gatehouse process for its profile. Order matters: every external dependency
 * (PostgreSQL, NATS) is reached before anything is written to the data directory, so a bad
 * config leaves no trace; then migrations, seeding, components, and listeners last.
 */
export async function startNode(config: GatehouseConfig, options: StartNodeOptions = {}): Promise<RunningNode> {
  const startedAt = options.startedAt ?? performance.timeOrigin;
  const cwd = options.cwd ?? process.cwd();
  const profile = config.profile;
  const nodeId = options.nodeId ?? (config.node.id || `${hostname()}-${process.pid}`);
  const logger = createLogger({ level: config.log.level, nodeId, profile });
  const metrics = createMetrics({ node: nodeId, profile });
  const gauges = componentGauges(metrics);
  const health = new Health();
  const usesDatabases = profileUsesDatabases(profile);
  const dbOptions = databaseOptions(config, cwd);

  // 1. Reach the servers this profile needs; nothing is written yet.
  const problems: string[] = [];
  let databases: Databases | undefined;
  let hub: EventHub | undefined;
  let localStore: LocalStore | undefined;
  if (usesDatabases) {
    // openDatabases reaches a PostgreSQL server before it creates any SQLite file.
    try {
      databases = await openDatabases({ ...dbOptions, logger });
    } catch (err) {
      problems.push(`database: ${describe(err)}`);
    }
  }
  // A gateway or traffic manager restarted during a NATS outage serves on what it has (the
  // gateway's local snapshot, or a pull from the control plane) and connects in the background;
  // a refusal (credentials, URL, creds file) is still a config problem. The control plane fails fast.
  const waitOnFirstConnect = profile === 'gateway' || profile === 'traffic-manager';
  try {
    hub = await createEventHub(config.event_hub, { source: nodeId, logger: logger.child({ component: 'event-hub' }), waitOnFirstConnect });
    if (!hub.isConnected()) logger.warn({ profile }, 'NATS is unreachable: starting without the event hub, connecting in the background');
  } catch (err) {
    problems.push(`event_hub: ${describe(err)}`);
  }
  if (problems.length > 0) {
    await Promise.allSettled([databases?.close(), hub?.close()]);
    throw new StartupError(problems);
  }

  try {
    // 2. The data directory: local stores, SQLite files, the generated certificate.
    const dataDir = resolveDataPath(config, cwd, config.data_dir);
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const tls = await loadOrCreateTls({
      certFile: config.tls.cert_file && resolveDataPath(config, cwd, config.tls.cert_file),
      keyFile: config.tls.key_file && resolveDataPath(config, cwd, config.tls.key_file),
      dataDir,
    });
    // The node's own store: never shared, no network connection, in every profile.
    localStore = await openLocalStore({ path: resolve(dataDir, 'local.db') });
    if (tls.source === 'generated') logger.warn({ dir: `${dataDir}/tls` }, 'generated a self-signed certificate; configure tls.cert_file and tls.key_file for production');

    // 3. Schema, secrets and first-start data.
    let keys: ServerKeys | undefined;
    let repositories: Repositories | undefined;
    let generatedAdminPassword: string | undefined;
    if (databases) {
      const dbs = databases;
      keys = createServerKeys(config.security.secret || (await loadOrCreateServerSecret(dataDir)));
      await dbs.migrate(); // logs what it applied
      repositories = createRepositories(dbs);
      const seeded = await seedDefaults(repositories, { adminPassword: config.admin.password || undefined });
      generatedAdminPassword = seeded.generatedPassword;
      if (seeded.adminCreated) logger.info({ user: 'admin' }, 'created the first admin user');
      health.add({ name: 'databases', check: () => dbs.ping() });
    }
    const eventHub = hub as EventHub;
    // The control plane's publishes go through a queue, so a hub outage never holds a management
    // call: the change is stored, its event follows when the hub is back (events/src/outbox.ts).
    // The control plane then serves without the hub, so it is reported but not a readiness check.
    let queued: QueuedEventHub | undefined;
    if (usesDatabases) {
      const q = createQueuedHub(eventHub, { logger: logger.child({ component: 'event-hub' }) });
      queued = q;
      health.addDetails('event-publish-queue', () => q.queue.stats());
      scrapedGauges(metrics, {
        gatehouse_event_publish_queue_depth: { help: 'Control-plane events waiting to be stored by the event hub', read: () => q.queue.stats().depth },
        gatehouse_event_publish_queue_oldest_seconds: { help: 'Age of the oldest waiting event', read: () => q.queue.stats().oldestAgeMs / 1000 },
        gatehouse_event_publish_failures_total: { help: 'Failed publish attempts (each retried)', read: () => q.queue.stats().failures },
        gatehouse_event_publish_dropped_total: { help: 'Events given up: the publish queue was full, or the hub kept refusing one', read: () => q.queue.stats().dropped },
        gatehouse_event_published_total: { help: 'Control-plane events stored by the event hub', read: () => q.queue.stats().published },
      });
    }
    health.add({ name: 'event-hub', check: () => eventHub.ping(), ...(queued ? { critical: false } : {}) });

    // 4. Components, loaded lazily by profile.
    let controlPlaneUrls: RunningNode['controlPlaneUrls'];
    const deps: ComponentDeps = {
      nodeId,
      logger,
      metrics,
      clock: systemClock,
      hub: eventHub,
      tls,
      keys,
      localStore,
      databases,
      repositories,
      ownControlPlaneUrl: () => controlPlaneUrls?.http,
    };
    const components: Component[] = [];
    for (const name of profileComponents[profile]) {
      const factory = await componentLoaders[name]();
      const componentHub = queued && name !== 'gateway' && name !== 'traffic-manager' ? queued : eventHub;
      components.push(await factory(config, { ...deps, hub: componentHub, logger: logger.child({ component: name }) }));
    }
    for (const component of components) {
      if (component.ready) health.add({ name: component.name, check: () => component.ready?.() ?? Promise.resolve() });
    }

    // 5. Listeners last: a ready port means a ready process.
    let controlPlane: ControlPlaneServer | undefined;
    const urls: string[] = [];
    if (usesDatabases) {
      controlPlane = await createControlPlane({
        host: config.server.host,
        httpsPort: config.server.https_port,
        httpPort: config.server.http_port,
        tls,
        logger,
        metrics,
        health,
        components,
      });
      const [https, http] = await controlPlane.start();
      controlPlaneUrls = { https: https.url, http: http.url };
      urls.push(`control plane ${https.url}`, `control plane ${http.url}`);
    }
    for (const component of components) {
      await component.start?.();
      gauges.up.set({ component: component.name }, 1);
      urls.push(...(component.urls?.() ?? []));
    }
    const startupMs = Math.round(performance.timeOrigin + performance.now() - startedAt);
    gauges.startSeconds.set(startupMs / 1000);
    // Start-up garbage filled V8's young generation, which an idle process would keep (~60 MB).
    if (options.releaseMemory !== false) releaseStartupMemory();
    logger.info({ startupMs, urls, rssMB: Math.round(process.memoryUsage().rss / 1048576) }, 'gatehouse started');

    let stopping: Promise<void> | undefined;
    return {
      nodeId,
      profile,
      logger,
      urls,
      controlPlaneUrls,
      generatedAdminPassword,
      startupMs,
      databases,
      hub: eventHub,
      controlPlane,
      stop() {
        stopping ??= (async () => {
          const deadline = config.shutdown.timeout_ms;
          health.startDraining();
          logger.info({ deadlineMs: deadline }, 'shutting down');
          await Promise.allSettled([controlPlane?.stop(deadline), ...components.map((c) => c.stop?.())]);
          for (const c of components) gauges.up.set({ component: c.name }, 0);
          // The queue first gets a few seconds to hand over what is still waiting (then closes the hub).
          await Promise.allSettled([(queued ?? eventHub).close(), databases?.close(), localStore?.close()]);
          logger.info('stopped');
        })();
        return stopping;
      },
    };
  } catch (err) {
    await Promise.allSettled([hub?.close(), databases?.close(), localStore?.close()]);
    throw err;
  }
}

/** A dependency's error as one line: the message and, for registry errors, what was tried. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const description = (err as { description?: string }).description;
  return description && description !== err.message ? `${err.message}: ${description}` : err.message;
}
