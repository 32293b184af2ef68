import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import type { Io } from './start.ts';

const USAGE = `usage: gatehouse dev cluster [--control-planes <n>] [--gateways <n>] [--traffic-managers <n>]
                             [--spare-ports] [--admin-password <password>] [--keep] [--log-level <level>]`;

/** WSO2's ports, which nginx takes unless one is busy (or --spare-ports). */
const WSO2_PORTS = { controlPlaneHttps: 9443, controlPlaneHttp: 9763, gatewayHttps: 8243, gatewayHttp: 8280 } as const;

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port }, () => server.close(() => resolve(true)));
  });
}

function count(value: string | undefined, name: string, problems: string[]): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 8) problems.push(`--${name} must be an integer from 1 to 8, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * `gatehouse dev cluster`: a whole distributed deployment on loopback, for development and demos:
 * a private PostgreSQL and NATS (with credentials), 2 control planes, 2 gateways and 2 traffic
 * managers (`gatehouse start --profile …` processes), and nginx in front with the config
 * `gatehouse lb-config nginx` renders. Prints the URLs and the admin credentials, and stops
 * everything on Ctrl-C (a second Ctrl-C kills at once). Everything lives in a temporary directory,
 * removed at the end unless `--keep`.
 */
export async function runDevCluster(argv: readonly string[], io: Io): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        'control-planes': { type: 'string' },
        gateways: { type: 'string' },
        'traffic-managers': { type: 'string' },
        'spare-ports': { type: 'boolean' },
        'admin-password': { type: 'string' },
        keep: { type: 'boolean' },
        'log-level': { type: 'string' },
      },
      strict: true,
    }));
  } catch (err) {
    io.err(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const problems: string[] = [];
  const controlPlanes = count(values['control-planes'] as string | undefined, 'control-planes', problems);
  const gateways = count(values.gateways as string | undefined, 'gateways', problems);
  const trafficManagers = count(values['traffic-managers'] as string | undefined, 'traffic-managers', problems);
  const adminPassword = values['admin-password'] as string | undefined;
  if (adminPassword !== undefined && adminPassword.length < 8) problems.push('--admin-password must be at least 8 characters');
  if (problems.length > 0) {
    io.err([...problems, USAGE].join('\n'));
    return 2;
  }

  let lbPorts: Partial<typeof WSO2_PORTS> | undefined;
  if (values['spare-ports'] !== true) {
    const busy = [];
    for (const port of Object.values(WSO2_PORTS)) if (!(await portFree(port))) busy.push(port);
    if (busy.length === 0) lbPorts = WSO2_PORTS;
    else io.err(`port${busy.length > 1 ? 's' : ''} ${busy.join(', ')} in use: nginx listens on spare ports instead`);
  }

  // The harness is development tooling (in @gatehouse/testing), loaded only for this command.
  const { startLocalCluster, killAllGroups } = await import('@gatehouse/testing/cluster');
  const t0 = Date.now();
  const cluster = await startLocalCluster({
    controlPlanes,
    gateways,
    trafficManagers,
    lbPorts,
    adminPassword,
    keep: values.keep === true,
    logLevel: (values['log-level'] as string | undefined) ?? 'info',
    handleSignals: false,
    onProgress: (line) => io.err(`  ${line}`),
  });

  let closing = false;
  for (const node of cluster.nodes()) {
    void node.process.exited.then((code) => {
      if (!closing) io.err(`! ${node.name} exited (${code}); its log: ${cluster.logsDir}/${node.name}.log`);
    });
  }

  const { urls } = cluster;
  const cpHttps = urls.controlPlaneHttps.replace('127.0.0.1', 'localhost');
  const cpHttp = urls.controlPlaneHttp.replace('127.0.0.1', 'localhost');
  const row = (name: string, profile: string, text: string) => `    ${name.padEnd(6)} ${profile.padEnd(16)} ${text}`;
  const lines = [
    '',
    `Gatehouse local cluster is running (started in ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    '',
    '  Through nginx:',
    `    control plane   ${cpHttps}  ${cpHttp}`,
    `      Publisher UI  ${cpHttps}/publisher     Developer Portal UI  ${cpHttps}/devportal     Admin UI  ${cpHttps}/admin`,
    `      REST APIs     ${cpHttps}/api/am/publisher/v4  /api/am/devportal/v3  /api/am/admin/v4`,
    `      OAuth         ${cpHttps}/oauth2/token  (DCR: /client-registration/v0.17/register)`,
    `    gateway         ${urls.gatewayHttps.replace('127.0.0.1', 'localhost')}  ${urls.gatewayHttp.replace('127.0.0.1', 'localhost')}`,
    `    (nginx's self-signed certificate: ${cluster.nginx.certFile})`,
    '',
    `  Admin user: admin / ${cluster.adminPassword}`,
    '',
    '  Processes:',
    ...cluster.controlPlanes.map((n) => row(n.name, n.profile, `https://127.0.0.1:${n.ports.https}  http://127.0.0.1:${n.ports.http}`)),
    ...cluster.gateways.map((n) => row(n.name, n.profile, `https://127.0.0.1:${n.ports.https}  http://127.0.0.1:${n.ports.http}`)),
    ...cluster.trafficManagers.map((n) => row(n.name, n.profile, `http://127.0.0.1:${n.ports.http}/health/ready`)),
    row('pg', 'postgresql', `${cluster.postgres.url('gatehouse_apim')}, …/gatehouse_shared`),
    row('nats', 'nats-server', `${cluster.nats.url} (user ${cluster.nats.platform.user}; password in ${cluster.nats.configFile})`),
    row('nginx', 'load balancer', cluster.nginx.configFile),
    '',
    `  Logs: ${cluster.logsDir}${values.keep === true ? ' (kept)' : ' (removed on exit: --keep keeps them)'}`,
    '',
    'Ctrl-C stops everything.',
    '',
  ];
  io.out(lines.join('\n'));

  const stop = (signal: NodeJS.Signals) => {
    if (closing) {
      io.err('second signal: killing everything');
      killAllGroups();
      process.exit(1);
    }
    closing = true;
    io.err(`\n${signal}: stopping the cluster…`);
    cluster.close().then(
      () => {
        io.err('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        io.err(`stopping failed: ${String(err)}`);
        killAllGroups();
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', stop);
  return -1; // runs until a signal
}
