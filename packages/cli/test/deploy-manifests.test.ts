import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { configKeys, loadConfig, type GatehouseConfig } from '@gatehouse/config';
import { createLogger, createMetrics, Health, loadOrCreateTls, serveOps } from '@gatehouse/runtime';
import { spawnNode } from '@gatehouse/testing';
import { renderLbConfig } from '../src/lb-config/command.ts';
import { loadTopology } from '../src/lb-config/topology.ts';
import { profileComponents, profileUsesDatabases } from '../src/runtime/components.ts';
import { createControlPlane } from '../src/runtime/control-plane.ts';

// Every deployment manifest in deploy/ (systemd, compose, Kubernetes) is read here as the
// processes would read it, and checked against what they expect: the config schema's variable
// names, the CLI's profiles, the default ports, the paths the health servers answer, and the
// seed's table of which component uses which database. Each process's environment also goes
// through the real `gatehouse config check`.

const repo = new URL('../../../', import.meta.url).pathname;
const deploy = join(repo, 'deploy');
const bin = join(repo, 'packages/cli/src/bin.ts');

type Profile = keyof typeof profileComponents;
type Component = (typeof profileComponents)[Profile][number];
type Db = 'apim' | 'shared';

/**
 * The seed's table (reference/seed-distributed-deployment.txt): Publisher, Developer Portal and
 * Key Manager use WSO2_AM_DB and WSO2_SHARED_DB; the Traffic Manager neither. The seed's Gateway
 * reads the shared database only for multi-tenancy or Google Analytics; Gatehouse's gateway
 * never does (ARCHITECTURE.md's invariant). Admin and the internal data API are Publisher code.
 */
const seedDatabases: Readonly<Record<Component, readonly Db[]>> = {
  publisher: ['apim', 'shared'],
  devportal: ['apim', 'shared'],
  'key-manager': ['apim', 'shared'],
  admin: ['apim', 'shared'],
  'internal-data': ['apim', 'shared'],
  gateway: [],
  'traffic-manager': [],
};

const envNames = new Set(configKeys.map((k) => k.env));
const defaultOf = (path: string): unknown => configKeys.find((k) => k.path === path)?.setting.default;
const isProfile = (p: string): p is Profile => Object.hasOwn(profileComponents, p);

/** One Gatehouse process as a manifest describes it. */
interface Process {
  readonly where: string;
  readonly profile: string;
  /** Its environment: GATEHOUSE_* and anything else the manifest sets. */
  readonly env: Record<string, string>;
  /** Arguments after `start`. */
  readonly args: readonly string[];
  /** The gatehouse.toml it reads (GATEHOUSE_CONFIG), if any. */
  readonly configFile?: { readonly path: string; readonly text: string };
  /** HTTP probes: container-side port and path. */
  readonly probes: readonly { readonly kind: string; readonly port: number; readonly path: string }[];
  /** Ports the manifest declares for the process (container ports), by name when named. */
  readonly ports: readonly { readonly name?: string; readonly port: number }[];
}

// ------------------------------------------------------------------ reading the manifests

function envFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    assert.ok(eq > 0, `not KEY=VALUE: ${line}`);
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

/** A systemd unit: section -> key -> every value, in order. */
function unitFile(text: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1];
      out[section] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(section !== '' && eq > 0, `unit line outside a section or not Key=Value: ${line}`);
    ((out[section] as Record<string, string[]>)[line.slice(0, eq)] ??= []).push(line.slice(eq + 1));
  }
  return out;
}

/** Compose's interpolation: `${VAR}`, `${VAR:-default}`, `${VAR:?error}`, `$$` for `$`. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-?])([^}]*))?\}/g, (all, name: string | undefined, op: string | undefined, arg: string | undefined) => {
    if (name === undefined) return '$';
    const v = vars[name];
    if (v !== undefined && v !== '') return v;
    if (op === '-') return arg ?? '';
    throw new Error(`compose variable ${name} is not set (${all})`);
  });
}

function yamlDocs(file: string): Record<string, unknown>[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => {
    assert.deepEqual(d.errors, [], `${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as Record<string, unknown>;
  });
}

/** `start` and what follows it, from an argument list; the profile from `--profile`. */
function startArgs(argv: readonly string[], where: string): string[] {
  const i = argv.indexOf('start');
  assert.ok(i >= 0, `${where}: runs \`gatehouse start\` (${argv.join(' ')})`);
  return argv.slice(i + 1);
}

function profileOf(args: readonly string[], env: Record<string, string>): string {
  const i = args.indexOf('--profile');
  return i >= 0 ? (args[i + 1] as string) : (env.GATEHOUSE_PROFILE ?? 'all-in-one');
}

// systemd ----------------------------------------------------------------------------------

const unitPath = join(deploy, 'systemd/gatehouse@.service');
const unit = unitFile(readFileSync(unitPath, 'utf8'));
const service = unit.Service ?? {};

function systemdProcesses(): Process[] {
  const files = readdirSync(join(deploy, 'systemd')).filter((f) => f.endsWith('.env.example'));
  assert.ok(files.length >= 3, 'an env file example per kind of process');
  return files.map((f) => {
    const instance = basename(f, '.env.example');
    const expand = (s: string) => s.replaceAll('%i', instance);
    const env: Record<string, string> = {};
    for (const e of service.Environment ?? []) {
      const eq = e.indexOf('=');
      env[e.slice(0, eq)] = expand(e.slice(eq + 1));
    }
    Object.assign(env, envFile(readFileSync(join(deploy, 'systemd', f), 'utf8')));
    const exec = (service.ExecStart ?? [''])[0].split(/\s+/);
    const args = startArgs(exec, `systemd ${instance}`);
    return { where: `systemd gatehouse@${instance} (${f})`, profile: profileOf(args, env), env, args, probes: [], ports: [] };
  });
}

// compose ----------------------------------------------------------------------------------

const composeDir = join(deploy, 'compose');
const composeVars = envFile(readFileSync(join(composeDir, '.env.example'), 'utf8'));
const compose = parseYaml(readFileSync(join(composeDir, 'compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  ports?: string[];
  stop_grace_period?: string;
  networks?: Record<string, { aliases?: string[] }>;
}

const composeEnv = (s: ComposeService): Record<string, string> =>
  Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), composeVars)]));

/** Services that run `gatehouse start` (directly, or through the entrypoint that sources the bootstrap file). */
function composeProcesses(): Process[] {
  const out: Process[] = [];
  for (const [name, s] of Object.entries(compose.services)) {
    const env = composeEnv(s);
    if (!(s.command ?? []).includes('start')) continue;
    const sourcesBootstrap = (s.entrypoint ?? []).some((e) => e.includes('/var/lib/gatehouse-bootstrap/'));
    if (sourcesBootstrap) {
      // What deploy/compose/bootstrap.ts writes for this node.
      env.GATEHOUSE_CONTROL_PLANE_CLIENT_ID = `client-of-${name}`;
      env.GATEHOUSE_CONTROL_PLANE_CLIENT_SECRET = `secret-of-${name}`;
    }
    const args = startArgs(s.command ?? [], `compose ${name}`);
    const probes = (s.healthcheck?.test ?? []).flatMap((t) => [...t.matchAll(/http:\/\/127\.0\.0\.1:(\d+)(\/[\w/]+)/g)].map((m) => ({ kind: 'healthcheck', port: Number(m[1]), path: m[2] as string })));
    out.push({ where: `compose ${name}`, profile: profileOf(args, env), env, args, probes, ports: [] });
  }
  return out;
}

// Kubernetes ---------------------------------------------------------------------------------

const k8sDir = join(deploy, 'kubernetes');
const kustomization = parseYaml(readFileSync(join(k8sDir, 'kustomization.yaml'), 'utf8')) as { resources: string[]; namespace: string };
const k8sObjects: Record<string, unknown>[] = kustomization.resources.flatMap((f) => yamlDocs(join(k8sDir, f)).map((o) => ({ ...o, file: f })));
const k8sSecrets = yamlDocs(join(k8sDir, 'secret.example.yaml'));

interface K8sContainer {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { secretRef?: { name: string }; configMapRef?: { name: string } }[];
  ports?: { name?: string; containerPort: number }[];
  startupProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: { cpu?: string; memory?: string }; limits?: { memory?: string } };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface K8sDeployment {
  kind: 'Deployment';
  metadata: { name: string; namespace?: string };
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: { terminationGracePeriodSeconds?: number; containers: K8sContainer[]; volumes?: { name: string; configMap?: { name: string; items?: { key: string; path: string }[] } }[] };
    };
  };
}

const byKind = <T>(kind: string): T[] => k8sObjects.filter((o) => o.kind === kind) as unknown as T[];
const deployments = byKind<K8sDeployment>('Deployment');

function secretData(name: string): Record<string, string> {
  const s = k8sSecrets.find((o) => (o.metadata as { name: string }).name === name);
  assert.ok(s, `secret.example.yaml has the Secret ${name}`);
  return (s.stringData ?? {}) as Record<string, string>;
}

function k8sProcesses(): Process[] {
  return deployments.map((d) => {
    const pod = d.spec.template.spec;
    const c = pod.containers[0] as K8sContainer;
    const where = `kubernetes ${d.metadata.name}`;
    const env: Record<string, string> = {};
    for (const from of c.envFrom ?? []) {
      assert.ok(from.secretRef, `${where}: envFrom only from Secrets`);
      Object.assign(env, secretData(from.secretRef.name));
    }
    for (const e of c.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      else if (e.valueFrom?.fieldRef) env[e.name] = `${d.metadata.name}-0`;
      else if (e.valueFrom?.secretKeyRef) env[e.name] = secretData(e.valueFrom.secretKeyRef.name)[e.valueFrom.secretKeyRef.key] as string;
    }
    let configFile: Process['configFile'];
    if (env.GATEHOUSE_CONFIG) {
      const mount = (c.volumeMounts ?? []).find((m) => env.GATEHOUSE_CONFIG?.startsWith(`${m.mountPath}/`));
      assert.ok(mount, `${where}: GATEHOUSE_CONFIG ${env.GATEHOUSE_CONFIG} is inside a mounted volume`);
      const volume = (pod.volumes ?? []).find((v) => v.name === mount.name);
      const rel = env.GATEHOUSE_CONFIG.slice(mount.mountPath.length + 1);
      const item = volume?.configMap?.items?.find((i) => i.path === rel);
      assert.ok(volume?.configMap && item, `${where}: ${env.GATEHOUSE_CONFIG} comes from a ConfigMap item`);
      const cm = byKind<{ metadata: { name: string }; data: Record<string, string> }>('ConfigMap').find((m) => m.metadata.name === volume.configMap?.name);
      assert.ok(cm?.data[item.key] !== undefined, `${where}: ConfigMap ${volume.configMap.name} has ${item.key}`);
      configFile = { path: env.GATEHOUSE_CONFIG, text: cm.data[item.key] as string };
    }
    const ports = (c.ports ?? []).map((p) => ({ name: p.name, port: p.containerPort }));
    const portOf = (p: string | number): number => {
      if (typeof p === 'number') return p;
      const found = ports.find((x) => x.name === p);
      assert.ok(found, `${where}: probe port ${p} is a named container port`);
      return found.port;
    };
    const probes = (['startupProbe', 'readinessProbe', 'livenessProbe'] as const).flatMap((kind) => {
      const get = c[kind]?.httpGet;
      return get ? [{ kind, port: portOf(get.port), path: get.path }] : [];
    });
    const args = startArgs(c.args ?? [], where);
    return { where, profile: profileOf(args, env), env, args, configFile, probes, ports };
  });
}

const processes: Process[] = [...systemdProcesses(), ...composeProcesses(), ...k8sProcesses()];

// ------------------------------------------------------------------ what the processes expect

let work: string;

/** The config a process would load: its file, its environment, its flags (in-process `loadConfig`). */
function configOf(p: Process): GatehouseConfig {
  const env = { ...p.env };
  if (p.configFile) {
    const file = join(work, `${p.where.replace(/[^a-z0-9]+/gi, '_')}.toml`);
    writeFileSync(file, p.configFile.text);
    env.GATEHOUSE_CONFIG = file;
  }
  return loadConfig({ argv: p.args, env, cwd: work });
}

/** Which databases a profile's components use, by the seed's table. */
function seedDatabasesOf(profile: Profile): Db[] {
  return [...new Set(profileComponents[profile].flatMap((c) => seedDatabases[c]))];
}

/** The paths a listener without fastify (gateway, traffic manager) answers itself. */
function opsServes(path: string): boolean {
  const res = { writeHead: () => res, end: () => res, setHeader: () => res };
  return serveOps({ url: path } as IncomingMessage, res as unknown as ServerResponse, new Health(), undefined);
}

/** The HTTP (plain) listeners of a profile where /health/* and /metrics are answered. */
function opsPorts(profile: Profile, c: GatehouseConfig): number[] {
  const ports: number[] = [];
  if (profileUsesDatabases(profile)) ports.push(c.server.http_port);
  if (profileComponents[profile].includes('gateway')) ports.push(c.gateway.http_port);
  if (profileComponents[profile].includes('traffic-manager')) ports.push(c.traffic_manager.health_port);
  return ports;
}

/** Every port a profile listens on (container ports must be among them). */
function listenPorts(profile: Profile, c: GatehouseConfig): number[] {
  const ports = opsPorts(profile, c);
  if (profileUsesDatabases(profile)) ports.push(c.server.https_port);
  if (profileComponents[profile].includes('gateway')) ports.push(c.gateway.https_port);
  return ports;
}

let controlPlanePaths: (path: string) => Promise<number>;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'gatehouse-deploy-'));
  // The control plane's own server, built as `gatehouse start` builds it, with no component.
  const tls = await loadOrCreateTls({ certFile: '', keyFile: '', dataDir: work });
  const cp = await createControlPlane({ host: '127.0.0.1', httpsPort: 0, httpPort: 0, tls, logger: createLogger({ level: 'silent', nodeId: 'test', profile: 'control-plane' }), metrics: createMetrics({ node: 'test', profile: 'control-plane' }), health: new Health(), components: [] });
  await cp.app.ready();
  controlPlanePaths = async (path) => (await cp.app.inject({ method: 'GET', url: path })).statusCode;
});
after(() => rmSync(work, { recursive: true, force: true }));

describe('deploy manifests: every process', () => {
  it('finds the processes of every manifest', () => {
    const where = processes.map((p) => p.where.split(' ')[0]);
    for (const kind of ['systemd', 'compose', 'kubernetes']) assert.ok(where.includes(kind), `${kind} has processes`);
    for (const kind of ['systemd', 'compose', 'kubernetes']) {
      const profiles = new Set(processes.filter((p) => p.where.startsWith(kind)).map((p) => p.profile));
      for (const p of ['control-plane', 'gateway', 'traffic-manager']) assert.ok(profiles.has(p), `${kind} runs a ${p}`);
    }
    const compose = processes.filter((p) => p.where.startsWith('compose'));
    for (const p of ['control-plane', 'gateway', 'traffic-manager']) assert.equal(compose.filter((c) => c.profile === p).length, 2, `compose runs 2 of ${p}`);
  });

  it('uses only GATEHOUSE_* variables the config schema defines', () => {
    for (const p of processes) {
      for (const name of Object.keys(p.env)) {
        if (!name.startsWith('GATEHOUSE_')) continue;
        assert.ok(envNames.has(name) || name === 'GATEHOUSE_CONFIG', `${p.where}: ${name} is not a config variable`);
      }
    }
  });

  it('names only profiles the CLI knows', () => {
    for (const p of processes) assert.ok(isProfile(p.profile), `${p.where}: unknown profile ${p.profile}`);
  });

  it('loads a valid configuration for its profile', () => {
    for (const p of processes) {
      const c = configOf(p);
      assert.equal(c.profile, p.profile, p.where);
      assert.equal(c.event_hub.type, 'nats', `${p.where}: distributed processes share NATS`);
      assert.ok(c.event_hub.user !== '' && c.event_hub.password !== '', `${p.where}: authenticates to NATS`);
      assert.ok(c.node.id !== '', `${p.where}: sets a node id`);
      // Several replicas: in memory, each would count every limit in full.
      if (p.profile === 'traffic-manager') assert.equal(c.traffic_manager.store, 'nats-kv', `${p.where}: replicas share the window state`);
    }
  });

  it('wires the databases as the seed table says: control plane apim + shared, gateway and traffic manager none', () => {
    // The CLI's own profile map agrees with the seed.
    for (const profile of Object.keys(profileComponents) as Profile[]) {
      assert.equal(profileUsesDatabases(profile), seedDatabasesOf(profile).length > 0, `profileUsesDatabases(${profile})`);
    }
    for (const p of processes) {
      const profile = p.profile as Profile;
      const wanted = seedDatabasesOf(profile);
      const c = configOf(p);
      const fileTables = p.configFile ? (parseToml(p.configFile.text) as Record<string, unknown>) : {};
      if (wanted.length === 0) {
        const dbVars = Object.keys(p.env).filter((k) => k.startsWith('GATEHOUSE_DATABASE_'));
        assert.deepEqual(dbVars, [], `${p.where}: no database settings for ${profile}`);
        assert.equal(fileTables.database, undefined, `${p.where}: no [database] in its gatehouse.toml`);
        assert.ok(!p.args.some((a) => a.startsWith('--database')), `${p.where}: no --database flags`);
        // And no secret of the control plane either.
        assert.equal(p.env.GATEHOUSE_SECURITY_SECRET, undefined, `${p.where}: no server secret`);
        assert.equal(p.env.GATEHOUSE_ADMIN_PASSWORD, undefined, `${p.where}: no admin password`);
      } else {
        for (const db of wanted) {
          assert.equal(c.database[db].type, 'postgres', `${p.where}: database.${db} on PostgreSQL`);
          const url = new URL(c.database[db].url);
          assert.match(url.pathname, new RegExp(`^/gatehouse_${db}$`), `${p.where}: database.${db} is the ${db} database`);
        }
        assert.ok(c.security.secret.length >= 32, `${p.where}: a server secret`);
      }
    }
  });

  it('listens on the default ports of its profile, and declares no other', () => {
    for (const p of processes) {
      const profile = p.profile as Profile;
      const c = configOf(p);
      if (profileUsesDatabases(profile)) {
        assert.equal(c.server.https_port, defaultOf('server.https_port'), p.where);
        assert.equal(c.server.http_port, defaultOf('server.http_port'), p.where);
        assert.equal(c.server.host, '0.0.0.0', `${p.where}: reachable from other hosts`);
      }
      if (profile === 'gateway') {
        assert.equal(c.gateway.https_port, defaultOf('gateway.https_port'), p.where);
        assert.equal(c.gateway.http_port, defaultOf('gateway.http_port'), p.where);
        assert.equal(c.gateway.host, '0.0.0.0', `${p.where}: reachable from other hosts`);
      }
      if (profile === 'traffic-manager') {
        assert.equal(c.traffic_manager.health_port, defaultOf('traffic_manager.health_port'), p.where);
        assert.equal(c.traffic_manager.host, '0.0.0.0', `${p.where}: reachable from other hosts`);
      }
      const listening = listenPorts(profile, c);
      for (const port of p.ports) assert.ok(listening.includes(port.port), `${p.where}: declares port ${port.port}, but listens on ${listening.join(', ')}`);
      // Named ports say which listener they are.
      for (const port of p.ports) {
        if (port.name === 'https') assert.equal(port.port, profile === 'gateway' ? c.gateway.https_port : c.server.https_port, `${p.where}: port https`);
        if (port.name === 'http') assert.equal(port.port, profile === 'gateway' ? c.gateway.http_port : c.server.http_port, `${p.where}: port http`);
        if (port.name === 'health') assert.equal(port.port, c.traffic_manager.health_port, `${p.where}: port health`);
      }
    }
  });

  it('probes paths the health server answers, on a plain-HTTP listener of the process', async () => {
    for (const p of processes) {
      const profile = p.profile as Profile;
      const c = configOf(p);
      if (!p.where.startsWith('systemd')) assert.ok(p.probes.length > 0, `${p.where}: has a health probe`);
      for (const probe of p.probes) {
        assert.ok(opsPorts(profile, c).includes(probe.port), `${p.where}: ${probe.kind} on port ${probe.port}, not an HTTP listener with /health (${opsPorts(profile, c).join(', ')})`);
        if (profileUsesDatabases(profile)) assert.notEqual(await controlPlanePaths(probe.path), 404, `${p.where}: the control plane answers ${probe.path}`);
        else assert.ok(opsServes(probe.path), `${p.where}: the ${profile} health server answers ${probe.path}`);
      }
      const kinds = p.probes.map((x) => `${x.kind} ${x.path}`);
      if (p.where.startsWith('kubernetes')) {
        assert.ok(kinds.includes('readinessProbe /health/ready'), `${p.where}: readiness on /health/ready (${kinds.join(', ')})`);
        assert.ok(kinds.includes('livenessProbe /health/live'), `${p.where}: liveness on /health/live (${kinds.join(', ')})`);
      }
    }
  });

  it('passes `gatehouse config check` with its environment', async () => {
    // One real CLI run per distinct configuration (replicas differ only by node id).
    const seen = new Map<string, Process>();
    for (const p of processes) {
      const { GATEHOUSE_NODE_ID: _id, ...rest } = p.env;
      seen.set(JSON.stringify([p.profile, rest, p.args, p.configFile?.text]), p);
    }
    const check = async (p: Process) => {
      const env: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GATEHOUSE_') || k.startsWith('GATEHOUSE_TEST_')) env[k] = v;
      Object.assign(env, p.env);
      if (p.configFile) {
        const file = join(work, `check-${p.where.replace(/[^a-z0-9]+/gi, '_')}.toml`);
        writeFileSync(file, p.configFile.text);
        env.GATEHOUSE_CONFIG = file;
      }
      const proc = spawnNode([bin, 'config', 'check', ...p.args], { env, cwd: work });
      assert.equal(await proc.exited, 0, `${p.where}: gatehouse config check\n${proc.stderr()}`);
      const printed = JSON.parse(proc.stdout()) as GatehouseConfig;
      assert.equal(printed.profile, p.profile, p.where);
      assert.equal(printed.event_hub.type, 'nats', p.where);
      assert.doesNotMatch(proc.stdout(), /change-me-nats|change-me-client-secret|change-me-to-a-random/, `${p.where}: secrets are hidden`);
    };
    // Three at a time: enough to overlap start-up, gentle on a small machine.
    const queue = [...seen.values()];
    await Promise.all([0, 1, 2].map(async () => {
      for (let p = queue.shift(); p; p = queue.shift()) await check(p);
    }));
  });

  it('drains within the time its supervisor waits before killing it', () => {
    const seconds = (s: string): number => {
      const m = /^(\d+)(ms|s|min)?$/.exec(s.trim());
      assert.ok(m, `a duration: ${s}`);
      return Number(m[1]) * (m[2] === 'ms' ? 0.001 : m[2] === 'min' ? 60 : 1);
    };
    const composeServices = compose.services;
    for (const p of processes) {
      const drain = configOf(p).shutdown.timeout_ms / 1000;
      let grace: number;
      if (p.where.startsWith('systemd')) grace = seconds((service.TimeoutStopSec ?? ['90s'])[0]);
      else if (p.where.startsWith('compose')) grace = seconds(composeServices[p.where.split(' ')[1] as string]?.stop_grace_period ?? '10s');
      else {
        const d = deployments.find((x) => p.where === `kubernetes ${x.metadata.name}`) as K8sDeployment;
        const preStop = d.spec.template.spec.containers[0]?.lifecycle?.preStop?.exec?.command;
        const sleep = preStop?.[0] === 'sleep' ? Number(preStop[1]) : 0;
        grace = (d.spec.template.spec.terminationGracePeriodSeconds ?? 30) - sleep;
      }
      assert.ok(grace >= drain + 5, `${p.where}: ${grace} s to stop, drain takes up to ${drain} s (+ closing pools)`);
    }
  });
});

describe('deploy/systemd', () => {
  it('is one templated, hardened unit per profile, restarting on failure', () => {
    assert.equal(service.ExecStart?.length, 1);
    const exec = (service.ExecStart?.[0] ?? '').split(/\s+/);
    assert.match(exec[0] as string, /\/node_modules\/\.bin\/node$/, 'runs the project\'s Node 24');
    assert.equal(exec[1], '/opt/gatehouse/packages/cli/src/bin.ts');
    assert.ok(existsSync(bin));
    assert.ok(service.Environment?.includes('GATEHOUSE_PROFILE=%i'), 'the instance name is the profile');
    assert.deepEqual(service.EnvironmentFile, ['/etc/gatehouse/%i.env']);
    assert.deepEqual(service.Restart, ['on-failure']);
    assert.deepEqual(service.NoNewPrivileges, ['yes']);
    assert.deepEqual(service.ProtectSystem, ['strict']);
    assert.ok(service.User !== undefined || service.DynamicUser?.[0] === 'yes', 'never root');
    assert.equal(service.MemoryDenyWriteExecute, undefined, 'V8 needs W+X memory');
    assert.deepEqual(service.KillSignal ?? ['SIGTERM'], ['SIGTERM']);
    const dataDir = service.Environment?.find((e) => e.startsWith('GATEHOUSE_DATA_DIR='))?.split('=')[1];
    assert.ok(dataDir, 'the unit sets the data dir');
    assert.ok(service.ReadWritePaths?.some((p) => p.replace(/^-/, '') === dataDir), `ReadWritePaths has the data dir ${dataDir}`);
    assert.ok(service.StateDirectory?.some((d) => `/var/lib/${d}` === dataDir), 'systemd creates the data dir');
    for (const p of processes.filter((x) => x.where.startsWith('systemd'))) {
      assert.equal(p.env.GATEHOUSE_PROFILE, p.where.match(/gatehouse@(\S+)/)?.[1], `${p.where}: named after its profile`);
    }
  });

  it('passes systemd-analyze verify', { skip: existsSync('/usr/bin/systemd-analyze') ? false : 'systemd-analyze is not installed' }, () => {
    // A copy whose ExecStart points at this checkout, since /opt/gatehouse is not installed here.
    const dir = mkdtempSync(join(work, 'systemd-'));
    const text = readFileSync(unitPath, 'utf8').replace('/opt/gatehouse/node_modules/.bin/node', process.execPath).replace('/opt/gatehouse/packages/cli/src/bin.ts', bin);
    writeFileSync(join(dir, 'gatehouse@.service'), text);
    for (const profile of ['control-plane', 'gateway', 'traffic-manager']) {
      symlinkSync(join(dir, 'gatehouse@.service'), join(dir, `gatehouse@${profile}.service`));
      const r = spawnSync('/usr/bin/systemd-analyze', ['verify', '--man=no', join(dir, `gatehouse@${profile}.service`)], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${profile}: ${r.stderr}`);
      assert.equal(r.stderr.trim(), '', `${profile}: no warning`);
    }
  });
});

describe('deploy/compose', () => {
  const services = compose.services;
  const gatehouse = Object.entries(services).filter(([, s]) => s.build?.dockerfile === 'deploy/Dockerfile');

  it('builds every Gatehouse service from deploy/Dockerfile, whose entrypoint is the CLI', () => {
    assert.ok(gatehouse.length >= 8);
    assert.ok(existsSync(join(composeDir, gatehouse[0]?.[1].build?.context ?? '', 'deploy/Dockerfile')));
    const dockerfile = readFileSync(join(deploy, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /ENTRYPOINT \["node", "\/opt\/gatehouse\/packages\/cli\/src\/bin\.ts"\]/);
    const exposed = (/^EXPOSE (.+)$/m.exec(dockerfile)?.[1] ?? '').split(/\s+/).map(Number).sort();
    const defaults = ['server.https_port', 'server.http_port', 'gateway.https_port', 'gateway.http_port', 'traffic_manager.health_port'].map((k) => defaultOf(k) as number).sort();
    assert.deepEqual(exposed, defaults);
    for (const [name, s] of gatehouse) {
      for (const e of s.entrypoint ?? []) {
        for (const m of e.matchAll(/\/opt\/gatehouse\/(\S+\.ts)/g)) assert.ok(existsSync(join(repo, m[1] as string)), `${name}: ${m[1]} exists`);
      }
    }
  });

  it('runs PostgreSQL with both databases and NATS with JetStream and a user per role', () => {
    const pg = composeEnv(services.postgres as ComposeService);
    const init = readFileSync(join(composeDir, 'postgres-init.sql'), 'utf8');
    const created = new Set([pg.POSTGRES_DB, ...[...init.matchAll(/CREATE DATABASE (\w+)/g)].map((m) => m[1])]);
    for (const p of processes.filter((x) => x.where.startsWith('compose') && profileUsesDatabases(x.profile as Profile))) {
      const c = configOf(p);
      for (const db of ['apim', 'shared'] as const) {
        const url = new URL(c.database[db].url);
        assert.equal(url.hostname, 'postgres', `${p.where}: database.${db} is the postgres service`);
        assert.equal(decodeURIComponent(url.username), pg.POSTGRES_USER);
        assert.equal(decodeURIComponent(url.password), pg.POSTGRES_PASSWORD);
        assert.ok(created.has(url.pathname.slice(1)), `${p.where}: ${url.pathname.slice(1)} is created`);
      }
    }
    const conf = readFileSync(join(composeDir, 'nats.conf'), 'utf8');
    assert.match(conf, /^jetstream\s*\{/m, 'JetStream on');
    const users = new Map([...conf.matchAll(/user:\s*"([^"]+)",\s*password:\s*\$(\w+)/g)].map((m) => [m[1] as string, m[2] as string]));
    const natsEnv = composeEnv(services.nats as ComposeService);
    for (const p of processes.filter((x) => x.where.startsWith('compose'))) {
      const c = configOf(p);
      assert.deepEqual(c.event_hub.servers, ['nats://nats:4222'], p.where);
      const variable = users.get(c.event_hub.user);
      assert.ok(variable, `${p.where}: NATS user ${c.event_hub.user} is in nats.conf`);
      assert.equal(natsEnv[variable], c.event_hub.password, `${p.where}: the NATS server has this user's password`);
    }
  });

  it('nats.conf passes nats-server -t', { skip: existsSync('/usr/sbin/nats-server') ? false : 'nats-server is not installed' }, () => {
    const r = spawnSync('/usr/sbin/nats-server', ['-c', join(composeDir, 'nats.conf'), '-t'], { encoding: 'utf8', env: { ...process.env, ...composeEnv(services.nats as ComposeService) } });
    assert.equal(r.status, 0, r.stderr + r.stdout);
  });

  it('registers an OAuth client for every gateway and traffic manager before they start', () => {
    const bootstrap = composeEnv(services.bootstrap as ComposeService);
    const clients = (bootstrap.BOOTSTRAP_CLIENTS ?? '').split(',');
    for (const [name, s] of Object.entries(services)) {
      const env = composeEnv(s);
      if (env.GATEHOUSE_PROFILE !== 'gateway' && env.GATEHOUSE_PROFILE !== 'traffic-manager') continue;
      assert.equal(env.GATEHOUSE_NODE_ID, name, `${name}: node id is the service name (its bootstrap file)`);
      assert.ok(clients.includes(name), `${name}: the bootstrap registers its client`);
      assert.equal(s.depends_on?.bootstrap?.condition, 'service_completed_successfully', `${name}: starts after the bootstrap`);
      assert.ok(s.volumes?.some((v) => v.startsWith(`bootstrap:${bootstrap.BOOTSTRAP_DIR}`)), `${name}: mounts the bootstrap volume`);
      assert.equal(new URL(env.GATEHOUSE_CONTROL_PLANE_URL as string).host, 'control-plane:9763', `${name}: reaches the control planes by their shared alias`);
    }
    for (const [name, s] of Object.entries(services)) {
      if (composeEnv(s).GATEHOUSE_PROFILE === 'control-plane') assert.ok(s.networks?.default?.aliases?.includes('control-plane'), `${name}: has the control-plane alias`);
    }
    assert.equal(bootstrap.BOOTSTRAP_ADMIN_PASSWORD, composeEnv(services['control-plane-1'] as ComposeService).GATEHOUSE_ADMIN_PASSWORD);
  });

  it('fronts it with nginx on the config `gatehouse lb-config nginx` renders from its topology', () => {
    const lb = services['lb-config'] as ComposeService;
    const script = (lb.entrypoint ?? []).join(' ');
    const m = /bin\.ts lb-config nginx\s+(?:\\\s*)?--topology (\S+) --out (\S+)/.exec(script.replace(/\\\n\s*/g, ''));
    assert.ok(m, `lb-config renders nginx: ${script}`);
    const topologyFile = join(repo, (m[1] as string).replace('/opt/gatehouse/', ''));
    const topology = loadTopology(topologyFile);
    const conf = renderLbConfig('nginx', topology);
    assert.match(conf, /upstream gateway_https/);
    const nginx = services.nginx as ComposeService;
    assert.ok((nginx.command ?? []).includes(m[2] as string), 'nginx runs the rendered file');
    assert.equal(nginx.depends_on?.['lb-config']?.condition, 'service_completed_successfully');
    // The replicas are the compose services of that profile, on the ports they listen on.
    for (const [group, replicas] of Object.entries(topology.upstreams)) {
      for (const r of replicas ?? []) {
        const p = processes.find((x) => x.where === `compose ${r.host}`);
        assert.ok(p, `upstream ${group}: ${r.host} is a compose service`);
        assert.equal(p.profile, group, `${r.host} runs the ${group} profile`);
        const c = configOf(p);
        assert.deepEqual([r.httpsPort, r.httpPort], group === 'gateway' ? [c.gateway.https_port, c.gateway.http_port] : [c.server.https_port, c.server.http_port], r.host);
        assert.equal(nginx.depends_on?.[r.host]?.condition, 'service_healthy', `nginx starts after ${r.host} (it resolves names at load)`);
      }
    }
    // Every Gatehouse replica is behind the load balancer; nginx alone publishes ports, the LB's.
    for (const p of processes.filter((x) => x.where.startsWith('compose') && x.profile !== 'traffic-manager')) {
      assert.ok(Object.values(topology.upstreams).flat().some((r) => `compose ${r?.host}` === p.where), `${p.where} is an upstream`);
    }
    const published = (nginx.ports ?? []).map((p) => Number(p.split(':')[0])).sort();
    const { controlPlane, gateway } = topology.listeners;
    assert.deepEqual(published, [controlPlane.https, controlPlane.http, gateway.https, gateway.http].sort());
    for (const [name, s] of Object.entries(services)) if (name !== 'nginx') assert.equal(s.ports, undefined, `${name} publishes no port`);
    const volumes = lb.volumes?.map((v) => v.split(':')[1]) ?? [];
    assert.ok(volumes.some((v) => topology.tls.cert.startsWith(`${v}/`)), 'the LB certificate is written where the topology reads it');
  });

  it('names only volumes it declares', () => {
    const declared = new Set(Object.keys(compose.volumes ?? {}));
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0] as string;
        if (source.startsWith('.')) assert.ok(existsSync(join(composeDir, source)), `${name}: ${source} exists`);
        else assert.ok(declared.has(source), `${name}: volume ${source} is declared`);
      }
    }
  });
});

describe('deploy/kubernetes', () => {
  it('lists every manifest but the Secret example in its kustomization', () => {
    const files = readdirSync(k8sDir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    assert.deepEqual([...kustomization.resources].sort(), files.filter((f) => f !== 'secret.example.yaml').sort());
    for (const o of [...k8sObjects, ...k8sSecrets]) {
      if (o.kind === 'Namespace') continue;
      assert.equal((o.metadata as { namespace?: string }).namespace, kustomization.namespace, `${o.kind} ${(o.metadata as { name: string }).name}: namespace`);
    }
    for (const s of k8sSecrets) {
      assert.equal(s.kind, 'Secret');
      for (const key of Object.keys((s.stringData ?? {}) as object)) assert.ok(envNames.has(key), `Secret ${(s.metadata as { name: string }).name}: ${key} is a config variable`);
    }
  });

  it('runs each profile as a Deployment with resources, a Service and a PodDisruptionBudget', () => {
    const services = byKind<{ metadata: { name: string }; spec: { selector: Record<string, string>; ports: { port: number; targetPort: string | number }[] } }>('Service');
    const pdbs = byKind<{ metadata: { name: string }; spec: { minAvailable?: number; maxUnavailable?: number; selector: { matchLabels: Record<string, string> } } }>('PodDisruptionBudget');
    const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
    for (const d of deployments) {
      const labels = d.spec.template.metadata.labels;
      assert.ok(matches(d.spec.selector.matchLabels, labels), `${d.metadata.name}: selector matches its pods`);
      const c = d.spec.template.spec.containers[0] as K8sContainer;
      assert.ok(c.resources?.requests?.cpu && c.resources.requests.memory, `${d.metadata.name}: resource requests`);
      assert.ok(c.resources?.limits?.memory, `${d.metadata.name}: a memory limit`);
      const svc = services.find((s) => matches(s.spec.selector, labels));
      assert.ok(svc, `${d.metadata.name}: a Service selects its pods`);
      for (const port of svc.spec.ports) {
        const target = typeof port.targetPort === 'number' ? port.targetPort : c.ports?.find((p) => p.name === port.targetPort)?.containerPort;
        assert.equal(target, port.port, `${svc.metadata.name}: port ${port.port} goes to the same container port`);
      }
      const pdb = pdbs.find((p) => matches(p.spec.selector.matchLabels, labels));
      assert.ok(pdb, `${d.metadata.name}: a PodDisruptionBudget`);
      assert.ok(pdb.spec.minAvailable !== undefined && pdb.spec.minAvailable < d.spec.replicas, `${d.metadata.name}: the PDB lets a node drain`);
      // Other Deployments' selectors must not pick up these pods.
      for (const other of deployments) if (other !== d) assert.ok(!matches(other.spec.selector.matchLabels, labels), `${other.metadata.name} does not select ${d.metadata.name}'s pods`);
    }
  });

  it('points gateways and traffic managers at the control plane Service', () => {
    const cpService = byKind<{ metadata: { name: string; namespace: string }; spec: { ports: { name: string; port: number }[] } }>('Service').find((s) => s.metadata.name === 'gatehouse-control-plane');
    assert.ok(cpService);
    for (const p of processes.filter((x) => x.where.startsWith('kubernetes') && !profileUsesDatabases(x.profile as Profile))) {
      const url = new URL(configOf(p).control_plane.url);
      assert.equal(url.hostname.split('.')[0], cpService.metadata.name, p.where);
      assert.ok(cpService.spec.ports.some((port) => port.port === Number(url.port)), `${p.where}: port ${url.port} is a Service port`);
    }
  });
});

describe('docs/deployment.md', () => {
  it('names only real GATEHOUSE_* variables and profiles', () => {
    const text = readFileSync(join(repo, 'docs/deployment.md'), 'utf8');
    for (const m of text.matchAll(/\bGATEHOUSE_[A-Z0-9_]+\b/g)) {
      const name = m[0];
      if (name.startsWith('GATEHOUSE_TEST_') || name === 'GATEHOUSE_CONFIG' || name.endsWith('_')) continue;
      assert.ok(envNames.has(name), `docs/deployment.md: ${name} is not a config variable`);
    }
    for (const m of text.matchAll(/--profile[ =]([a-z-]+)/g)) assert.ok(isProfile(m[1] as string), `docs/deployment.md: --profile ${m[1]}`);
  });
});
