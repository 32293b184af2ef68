import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import type { ConfigProblem } from '@gatehouse/config';

/**
 * The load balancer topology: what the LB listens on and which replicas serve each profile.
 * Read from TOML (or JSON, by extension), validated as a whole; every problem is reported at once.
 */

export const UPSTREAM_PROFILES = ['control-plane', 'publisher', 'devportal', 'key-manager', 'gateway'] as const;
export type UpstreamProfile = (typeof UPSTREAM_PROFILES)[number];

/** WSO2's ports, which each profile serves on by default. */
const DEFAULT_PORTS: Record<UpstreamProfile, { https: number; http: number }> = {
  'control-plane': { https: 9443, http: 9763 },
  publisher: { https: 9443, http: 9763 },
  devportal: { https: 9443, http: 9763 },
  'key-manager': { https: 9443, http: 9763 },
  gateway: { https: 8243, http: 8280 },
};

export interface Replica {
  readonly host: string;
  readonly httpsPort: number;
  readonly httpPort: number;
}

export interface PortPair {
  readonly https: number;
  readonly http: number;
}

export interface Topology {
  /** The file it was read from (for comments in the rendered config). */
  readonly file: string;
  readonly listeners: {
    /** Address the LB binds: `0.0.0.0` by default. */
    readonly bind: string;
    readonly controlPlane: PortPair;
    readonly gateway: PortPair;
  };
  /** The LB's own certificate and key (PEM), absolute paths. */
  readonly tls: { readonly cert: string; readonly key: string };
  readonly upstreams: Partial<Record<UpstreamProfile, readonly Replica[]>>;
}

/** Every problem found in a topology file, thrown once (same shape as the config loader's ConfigError). */
export class TopologyError extends Error {
  readonly code = 'TOPOLOGY_ERR_INVALID';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const n = problems.length;
    const lines = problems.map(({ path, source, message }) => `  - ${path && !message.includes(`\`${path}\``) ? `${path}: ` : ''}${message} (from ${source})`);
    super([`Invalid topology (${n} problem${n === 1 ? '' : 's'}):`, ...lines].join('\n'));
    this.name = 'TopologyError';
    this.problems = Object.freeze([...problems]);
  }
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (isTable(v)) return 'a table';
  return `${typeof v} ${JSON.stringify(v)}`;
}

const HOST_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^\d{1,3}(?:\.\d{1,3}){3}$/;

/** Reads, parses and validates a topology file. Throws {@link TopologyError} with every problem found. */
export function loadTopology(file: string): Topology {
  const source = file;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'topology file not found' : `cannot read topology file: ${(err as Error).message}`;
    throw new TopologyError([{ path: '', source: '--topology', message: `${reason}: ${file}` }]);
  }
  let doc: unknown;
  try {
    doc = file.endsWith('.json') ? JSON.parse(text) : parse(text);
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split('\n')[0].replace(/^Invalid TOML document:\s*/i, '');
      throw new TopologyError([{ path: '', source: `${file}:${err.line}:${err.column}`, message: `TOML syntax error: ${first}` }]);
    }
    if (err instanceof SyntaxError) throw new TopologyError([{ path: '', source: file, message: `JSON syntax error: ${err.message}` }]);
    throw err;
  }
  return validateTopology(doc, { file: source, baseDir: dirname(resolve(file)) });
}

/** Validates a parsed topology document. Relative TLS paths resolve against `baseDir`. */
export function validateTopology(doc: unknown, { file, baseDir }: { file: string; baseDir: string }): Topology {
  const problems: ConfigProblem[] = [];
  const problem = (path: string, message: string): void => {
    problems.push({ path, source: file, message });
  };
  const table = (v: unknown, path: string, keys: readonly string[]): Record<string, unknown> => {
    if (v === undefined) return {};
    if (!isTable(v)) {
      problem(path, `expected a table, got ${describe(v)}`);
      return {};
    }
    for (const k of Object.keys(v)) {
      if (!keys.includes(k)) problem(path ? `${path}.${k}` : k, `unknown key \`${path ? `${path}.${k}` : k}\` (expected one of: ${keys.join(', ')})`);
    }
    return v;
  };
  const port = (v: unknown, path: string, fallback: number): number => {
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
      problem(path, `expected a port (an integer 1-65535), got ${describe(v)}`);
      return fallback;
    }
    return v;
  };
  const str = (v: unknown, path: string, fallback: string | undefined): string | undefined => {
    if (v === undefined) {
      if (fallback === undefined) problem(path, 'required');
      return fallback;
    }
    if (typeof v !== 'string' || v.trim() === '') {
      problem(path, `expected a non-empty string, got ${describe(v)}`);
      return fallback;
    }
    return v;
  };

  if (!isTable(doc)) throw new TopologyError([{ path: '', source: file, message: `expected a table at the top level, got ${describe(doc)}` }]);
  const root = table(doc, '', ['listeners', 'tls', 'upstreams']);

  const listeners = table(root.listeners, 'listeners', ['bind', 'control-plane', 'gateway']);
  const bind = str(listeners.bind, 'listeners.bind', '0.0.0.0') ?? '0.0.0.0';
  if (!HOST_RE.test(bind)) problem('listeners.bind', `expected an IPv4 address or host name, got ${JSON.stringify(bind)}`);
  const pair = (name: 'control-plane' | 'gateway'): PortPair => {
    const t = table(listeners[name], `listeners.${name}`, ['https_port', 'http_port']);
    const d = DEFAULT_PORTS[name];
    return { https: port(t.https_port, `listeners.${name}.https_port`, d.https), http: port(t.http_port, `listeners.${name}.http_port`, d.http) };
  };
  const controlPlane = pair('control-plane');
  const gateway = pair('gateway');
  const ports = [
    ['listeners.control-plane.https_port', controlPlane.https],
    ['listeners.control-plane.http_port', controlPlane.http],
    ['listeners.gateway.https_port', gateway.https],
    ['listeners.gateway.http_port', gateway.http],
  ] as const;
  for (let i = 0; i < ports.length; i++) {
    for (let j = 0; j < i; j++) {
      if (ports[i][1] === ports[j][1]) problem(ports[i][0], `port ${ports[i][1]} is already used by ${ports[j][0]}`);
    }
  }

  const tlsTable = table(root.tls, 'tls', ['cert', 'key']);
  const abs = (p: string | undefined): string => (p === undefined ? '' : isAbsolute(p) ? p : resolve(baseDir, p));
  const tls = { cert: abs(str(tlsTable.cert, 'tls.cert', undefined)), key: abs(str(tlsTable.key, 'tls.key', undefined)) };

  const upstreamsTable = table(root.upstreams, 'upstreams', UPSTREAM_PROFILES);
  const upstreams: Partial<Record<UpstreamProfile, Replica[]>> = {};
  for (const profile of UPSTREAM_PROFILES) {
    if (upstreamsTable[profile] === undefined) continue;
    const path = `upstreams.${profile}`;
    const group = table(upstreamsTable[profile], path, ['replicas', 'https_port', 'http_port']);
    const defaults = { https: port(group.https_port, `${path}.https_port`, DEFAULT_PORTS[profile].https), http: port(group.http_port, `${path}.http_port`, DEFAULT_PORTS[profile].http) };
    if (!Array.isArray(group.replicas) || group.replicas.length === 0) {
      problem(`${path}.replicas`, group.replicas === undefined ? 'required: a list of "host", "host:https_port" or { host, https_port, http_port }' : `expected a non-empty list, got ${describe(group.replicas)}`);
      continue;
    }
    const replicas: Replica[] = [];
    group.replicas.forEach((entry: unknown, i: number) => {
      const at = `${path}.replicas[${i}]`;
      let replica: Replica | undefined;
      if (typeof entry === 'string') {
        const m = /^([^:\s]+)(?::(\d+))?$/.exec(entry.trim());
        if (!m) problem(at, `expected "host" or "host:https_port", got ${JSON.stringify(entry)}`);
        else replica = { host: m[1], httpsPort: m[2] === undefined ? defaults.https : port(Number(m[2]), at, defaults.https), httpPort: defaults.http };
      } else if (isTable(entry)) {
        const t = table(entry, at, ['host', 'https_port', 'http_port']);
        const host = str(t.host, `${at}.host`, undefined);
        if (host !== undefined) replica = { host, httpsPort: port(t.https_port, `${at}.https_port`, defaults.https), httpPort: port(t.http_port, `${at}.http_port`, defaults.http) };
      } else {
        problem(at, `expected "host", "host:https_port" or a table { host, https_port, http_port }, got ${describe(entry)}`);
      }
      if (replica === undefined) return;
      if (!HOST_RE.test(replica.host)) problem(at, `not a valid host name or IPv4 address: ${JSON.stringify(replica.host)}`);
      if (replica.httpsPort === replica.httpPort) problem(at, `https and http ports are both ${replica.httpPort}`);
      const dup = replicas.find((r) => r.host === replica.host && r.httpsPort === replica.httpsPort);
      if (dup) problem(at, `duplicate replica ${replica.host}:${replica.httpsPort}`);
      replicas.push(replica);
    });
    upstreams[profile] = replicas;
  }

  // Every route needs someone to serve it.
  if (!upstreamsTable.gateway) problem('upstreams.gateway', 'required: the gateway listeners need at least one gateway replica');
  if (!upstreamsTable['control-plane']) {
    for (const profile of ['publisher', 'devportal', 'key-manager'] as const) {
      if (!upstreamsTable[profile]) problem(`upstreams.${profile}`, `required when there is no upstreams.control-plane: nothing would serve the ${profile} paths`);
    }
  }

  if (problems.length > 0) throw new TopologyError(problems);
  return { file, listeners: { bind, controlPlane, gateway }, tls, upstreams };
}
