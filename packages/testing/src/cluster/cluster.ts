import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { freePorts } from '../ports.ts';
import { dcrRequest } from '../management.ts';
import { GATEHOUSE_BIN, PrivateNginx, type LoadBalancerPorts } from './nginx.ts';
import { PrivateNats } from './nats.ts';
import { PrivatePostgres } from './postgres.ts';
import { installExitHook, killAllGroups, ManagedProcess, startWatchdog, stopWatchdog, until } from './processes.ts';

export type ClusterProfile = 'control-plane' | 'gateway' | 'traffic-manager';

export interface NodePorts {
  /** Control plane: HTTPS and HTTP; gateway: API traffic HTTPS and HTTP; traffic manager: `http` is the health port. */
  readonly https?: number;
  readonly http: number;
}

/** One `gatehouse start --profile …` process of the cluster. */
export interface ClusterNode {
  readonly name: string;
  readonly profile: ClusterProfile;
  readonly ports: NodePorts;
  readonly dataDir: string;
  readonly process: ManagedProcess;
  /** `http://127.0.0.1:<port>`: the node itself, bypassing nginx. */
  readonly directUrl: string;
  readonly running: boolean;
  /** Starts it (again) and waits until `/health/live` answers. */
  start(): Promise<void>;
  /** SIGTERM: drains within `shutdown.timeout_ms`, then exits. */
  stop(): Promise<void>;
  /** `kill -9` of its process group. */
  kill(): Promise<void>;
  /** `/health/ready` answers 200. */
  ready(): Promise<boolean>;
}

export interface LocalClusterOptions {
  /** Root directory (created when missing). Default: a fresh temporary directory, removed by `close()`. */
  readonly dir?: string;
  /** Keep the directory (logs, configs, data) after `close()`. Default: `GATEHOUSE_TEST_CLUSTER_KEEP=1`. */
  readonly keep?: boolean;
  readonly controlPlanes?: number;
  readonly gateways?: number;
  readonly trafficManagers?: number;
  /** nginx's listeners; spare ports when not given. */
  readonly lbPorts?: Partial<LoadBalancerPorts>;
  /** Default: a random one. */
  readonly adminPassword?: string;
  /** Log level of the Gatehouse processes (default `warn`). */
  readonly logLevel?: string;
  /** `gateway.throttling` (default `lease`: the Traffic Managers count). */
  readonly gatewayThrottling?: 'local' | 'lease';
  /** `shutdown.timeout_ms` of every Gatehouse process (default 5000). */
  readonly shutdownTimeoutMs?: number;
  /** Turn SIGINT/SIGTERM/SIGHUP into cleanup + exit (default true; the CLI handles them itself). */
  readonly handleSignals?: boolean;
  /** Progress lines while starting. */
  readonly onProgress?: (line: string) => void;
}

export interface LocalCluster {
  readonly dir: string;
  readonly logsDir: string;
  readonly adminPassword: string;
  /** The OAuth client the gateways and traffic managers authenticate to the control plane with. */
  readonly internalClient: { readonly clientId: string; readonly clientSecret: string };
  /** Through nginx. */
  readonly urls: {
    readonly controlPlaneHttps: string;
    readonly controlPlaneHttp: string;
    readonly gatewayHttps: string;
    readonly gatewayHttp: string;
    /** `server.public_url` of every control-plane replica (the tokens' issuer base). */
    readonly publicUrl: string;
  };
  readonly postgres: PrivatePostgres;
  readonly nats: PrivateNats;
  readonly nginx: PrivateNginx;
  readonly controlPlanes: readonly ClusterNode[];
  readonly gateways: readonly ClusterNode[];
  readonly trafficManagers: readonly ClusterNode[];
  /** The environment every Gatehouse process of this cluster shares (secrets included). */
  readonly sharedEnv: Readonly<Record<string, string>>;
  /** Every Gatehouse process, control planes first. */
  nodes(): ClusterNode[];
  /** Stops everything (Gatehouse processes gracefully, then nginx, NATS, PostgreSQL) and removes `dir` unless `keep`. */
  close(): Promise<void>;
}

const secret = (bytes = 24) => randomBytes(bytes).toString('base64url');

/** This process's environment without any Gatehouse setting a developer may have exported. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('GATEHOUSE_')) env[k] = v;
  return env;
}

async function get(url: string, timeoutMs = 2000): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/**
 * A whole distributed deployment on loopback, from throwaway infrastructure: a private PostgreSQL
 * (the apim and shared databases), a private NATS with JetStream and credentials, N control planes,
 * N gateways and N traffic managers (real `gatehouse start --profile …` processes), and nginx in
 * front with the config `gatehouse lb-config nginx` renders. Every piece can be stopped, killed
 * and started again (fault tests); everything is killed when this process exits, and a watchdog
 * cleans up even after a `kill -9` of this process.
 *
 * @example
 * ```ts
 * const cluster = await startLocalCluster();
 * after(() => cluster.close());
 * await cluster.gateways[0].kill();
 * const res = await fetch(`${cluster.urls.gatewayHttp}/petstore/1.0.0/pets`);
 * ```
 */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const progress = options.onProgress ?? (() => undefined);
  installExitHook({ signals: options.handleSignals !== false });
  const ownDir = options.dir === undefined;
  const keep = options.keep ?? process.env.GATEHOUSE_TEST_CLUSTER_KEEP === '1';
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'gatehouse-cluster-')));
  await mkdir(dir, { recursive: true });
  // PostgreSQL runs as its own user: it must be able to traverse to its directory.
  await chmod(dir, 0o711);
  const logsDir = join(dir, 'logs');
  await mkdir(logsDir, { recursive: true, mode: 0o700 });
  let watchdog: ChildProcess | undefined = startWatchdog(join(dir, 'process-groups'), keep || !ownDir ? '' : dir);

  const nCp = options.controlPlanes ?? 2;
  const nGw = options.gateways ?? 2;
  const nTm = options.trafficManagers ?? 2;
  const spare = await freePorts(2 + 4 + nCp * 2 + nGw * 2 + nTm);
  const take = () => spare.shift() as number;
  const pgPort = take();
  const natsPort = take();
  const lbPorts: LoadBalancerPorts = {
    controlPlaneHttps: options.lbPorts?.controlPlaneHttps ?? take(),
    controlPlaneHttp: options.lbPorts?.controlPlaneHttp ?? take(),
    gatewayHttps: options.lbPorts?.gatewayHttps ?? take(),
    gatewayHttp: options.lbPorts?.gatewayHttp ?? take(),
  };
  const cpPorts = Array.from({ length: nCp }, () => ({ https: take(), http: take() }));
  const gwPorts = Array.from({ length: nGw }, () => ({ https: take(), http: take() }));
  const tmPorts = Array.from({ length: nTm }, () => ({ http: take() }));

  const adminPassword = options.adminPassword ?? secret(18);
  const publicUrl = `https://localhost:${lbPorts.controlPlaneHttps}`;
  const urls = {
    controlPlaneHttps: `https://127.0.0.1:${lbPorts.controlPlaneHttps}`,
    controlPlaneHttp: `http://127.0.0.1:${lbPorts.controlPlaneHttp}`,
    gatewayHttps: `https://127.0.0.1:${lbPorts.gatewayHttps}`,
    gatewayHttp: `http://127.0.0.1:${lbPorts.gatewayHttp}`,
    publicUrl,
  };

  const postgres = new PrivatePostgres({ dir: join(dir, 'postgres'), port: pgPort, logFile: join(logsDir, 'postgres.log') });
  const nats = new PrivateNats({ dir: join(dir, 'nats'), port: natsPort, logFile: join(logsDir, 'nats.log') });
  const nginx = new PrivateNginx({
    dir: join(dir, 'nginx'),
    ports: lbPorts,
    controlPlane: cpPorts.map((p) => ({ host: '127.0.0.1', httpsPort: p.https, httpPort: p.http })),
    gateways: gwPorts.map((p) => ({ host: '127.0.0.1', httpsPort: p.https, httpPort: p.http })),
    logFile: join(logsDir, 'nginx.log'),
    accessLog: join(logsDir, 'nginx-access.log'),
  });

  const sharedEnv: Record<string, string> = {
    GATEHOUSE_EVENT_HUB_TYPE: 'nats',
    GATEHOUSE_EVENT_HUB_SERVERS: nats.url,
    GATEHOUSE_EVENT_HUB_USER: nats.platform.user,
    GATEHOUSE_EVENT_HUB_PASSWORD: nats.platform.password,
    GATEHOUSE_LOG_LEVEL: options.logLevel ?? 'warn',
    GATEHOUSE_SHUTDOWN_TIMEOUT_MS: String(options.shutdownTimeoutMs ?? 5000),
  };
  const controlPlaneEnv: Record<string, string> = {
    GATEHOUSE_DATABASE_APIM_TYPE: 'postgres',
    GATEHOUSE_DATABASE_APIM_URL: postgres.url('gatehouse_apim'),
    GATEHOUSE_DATABASE_SHARED_TYPE: 'postgres',
    GATEHOUSE_DATABASE_SHARED_URL: postgres.url('gatehouse_shared'),
    GATEHOUSE_SECURITY_SECRET: secret(36),
    GATEHOUSE_ADMIN_PASSWORD: adminPassword,
    GATEHOUSE_SERVER_PUBLIC_URL: publicUrl,
  };
  const internalClient = { clientId: '', clientSecret: '' };

  const node = (profile: ClusterProfile, index: number, ports: NodePorts): ClusterNode => {
    const name = `${profile === 'control-plane' ? 'cp' : profile === 'gateway' ? 'gw' : 'tm'}-${index + 1}`;
    const dataDir = join(dir, 'nodes', name);
    const flags = ['--profile', profile, '--node.id', name, '--data-dir', dataDir];
    if (profile === 'control-plane') {
      flags.push('--server.https_port', String(ports.https), '--server.http_port', String(ports.http));
    } else if (profile === 'gateway') {
      flags.push('--gateway.https_port', String(ports.https), '--gateway.http_port', String(ports.http),
        '--gateway.trust_forwarded_for', 'true', '--gateway.throttling', options.gatewayThrottling ?? 'lease');
    } else {
      flags.push('--traffic_manager.health_port', String(ports.http));
    }
    const proc = new ManagedProcess({
      name,
      command: process.execPath,
      args: [GATEHOUSE_BIN, 'start', ...flags],
      // The secrets go in the environment, not on the command line (`ps` shows that to everyone).
      get env() {
        const own: Record<string, string> =
          profile === 'control-plane'
            ? { ...controlPlaneEnv }
            : {
                GATEHOUSE_CONTROL_PLANE_URL: urls.controlPlaneHttp,
                GATEHOUSE_CONTROL_PLANE_CLIENT_ID: internalClient.clientId,
                GATEHOUSE_CONTROL_PLANE_CLIENT_SECRET: internalClient.clientSecret,
              };
        // Several traffic managers count each limit once only in a shared store.
        if (profile === 'traffic-manager') own.GATEHOUSE_TRAFFIC_MANAGER_STORE = nTm > 1 ? 'nats-kv' : 'memory';
        return { ...baseEnv(), ...sharedEnv, ...own };
      },
      cwd: dir,
      logFile: join(logsDir, `${name}.log`),
    });
    const directUrl = `http://127.0.0.1:${ports.http}`;
    return {
      name,
      profile,
      ports,
      dataDir,
      process: proc,
      directUrl,
      get running() {
        return proc.running;
      },
      async start() {
        proc.start();
        await proc.waitFor('Gatehouse is running', 60_000);
        await until(async () => {
          if (!proc.running) throw new Error(`${name} exited: ${proc.output.slice(-3000)}`);
          return (await get(`${directUrl}/health/live`)) === 200;
        }, `${name} /health/live`, 30_000);
      },
      async stop() {
        await proc.stop('SIGTERM', (options.shutdownTimeoutMs ?? 5000) + 5000);
      },
      async kill() {
        await proc.kill();
      },
      async ready() {
        return (await get(`${directUrl}/health/ready`)) === 200;
      },
    };
  };
  const controlPlanes = cpPorts.map((p, i) => node('control-plane', i, p));
  const gateways = gwPorts.map((p, i) => node('gateway', i, p));
  const trafficManagers = tmPorts.map((p, i) => node('traffic-manager', i, p));
  const nodes = () => [...controlPlanes, ...gateways, ...trafficManagers];

  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await Promise.allSettled(nodes().map((n) => n.stop()));
    await Promise.allSettled([nginx.close(), nats.close(), postgres.close()]);
    await Promise.allSettled(nodes().map((n) => n.process.close()));
    killAllGroups();
    stopWatchdog(watchdog);
    watchdog = undefined;
    if (ownDir && !keep) await rm(dir, { recursive: true, force: true });
  };

  try {
    const t0 = Date.now();
    progress(`starting PostgreSQL on ${pgPort}, NATS on ${natsPort}, nginx on ${Object.values(lbPorts).join('/')}`);
    await Promise.all([postgres.start(), nats.start(), nginx.start()]);
    progress(`infrastructure up in ${Date.now() - t0} ms; starting ${nCp} control plane(s)`);
    // The first replica migrates and seeds (the admin user, WSO2's tiers); the others find it done.
    await controlPlanes[0]?.start();
    await Promise.all(controlPlanes.slice(1).map((n) => n.start()));
    progress(`control planes up at ${Date.now() - t0} ms; registering the internal client`);
    const res = await dcrRequest(urls.controlPlaneHttp, 'admin', adminPassword, {
      clientName: 'gatehouse-cluster-internal',
      owner: 'admin',
      grantType: 'client_credentials',
      saasApp: true,
    });
    if (res.status !== 200) throw new Error(`registering the internal client failed: ${res.status} ${await res.text()}`);
    Object.assign(internalClient, (await res.json()) as { clientId: string; clientSecret: string });
    progress(`starting ${nGw} gateway(s) and ${nTm} traffic manager(s)`);
    await Promise.all([...gateways, ...trafficManagers].map((n) => n.start()));
    progress(`cluster up in ${Date.now() - t0} ms`);
  } catch (err) {
    await close();
    throw err;
  }

  return {
    dir,
    logsDir,
    adminPassword,
    internalClient,
    urls,
    postgres,
    nats,
    nginx,
    controlPlanes,
    gateways,
    trafficManagers,
    sharedEnv,
    nodes,
    close,
  };
}
