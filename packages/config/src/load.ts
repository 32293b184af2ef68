import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { ConfigError } from './errors.ts';
import type { ConfigProblem } from './errors.ts';
import { redactUrl } from './redact.ts';
import type { ConfigKey, GatehouseConfig, Setting } from './schema.ts';
import { configGroups, configKeys, ENV_PREFIX } from './schema.ts';
import { didYouMean } from './suggest.ts';

type Value = string | number | boolean | readonly string[];

interface Entry {
  readonly value: Value;
  readonly source: string;
}

export interface LoadConfigOptions {
  /** Command-line arguments after the subcommand (`['--profile', 'gateway']`). Default `[]`. */
  argv?: readonly string[];
  /** Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Where `./gatehouse.toml` is looked for and relative paths are resolved against. Default `process.cwd()`. */
  cwd?: string;
}

/** Variables with the prefix that are not config keys. */
export const CONFIG_FILE_ENV = 'GATEHOUSE_CONFIG';
export const TEST_ENV_PREFIX = 'GATEHOUSE_TEST_';
export const DEFAULT_CONFIG_FILE = 'gatehouse.toml';

const byPath = new Map(configKeys.map((k) => [k.path, k]));
const byEnv = new Map(configKeys.map((k) => [k.env, k]));
const envSuffixes = configKeys.map((k) => k.env.slice(ENV_PREFIX.length));

// ---------------------------------------------------------------- values

type Coerced = { readonly value: Value } | { readonly error: string };

function show(value: unknown, setting: Setting<unknown>): string {
  if (typeof value === 'string') {
    if (setting.redact === 'secret') return 'a string (not shown: secret)';
    return `string ${JSON.stringify(setting.redact === 'url-password' ? redactUrl(value) : value)}`;
  }
  if (typeof value === 'number') return Number.isInteger(value) ? `integer ${value}` : `float ${value}`;
  if (typeof value === 'bigint') return `integer ${value}`;
  if (typeof value === 'boolean') return `boolean ${value}`;
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a date-time';
  if (typeof value === 'object' && value !== null) return 'a table';
  return String(value);
}

function intExpectation(s: Setting<unknown>): string {
  if (s.min !== undefined && s.max !== undefined) return `an integer between ${s.min} and ${s.max}`;
  if (s.min !== undefined) return `an integer of at least ${s.min}`;
  if (s.max !== undefined) return `an integer of at most ${s.max}`;
  return 'an integer';
}

function checkUrl(value: string, setting: Setting<unknown>): string | undefined {
  const protocols = setting.protocols;
  if (protocols === undefined || value === '') return undefined;
  let protocol: string | undefined;
  try {
    protocol = new URL(value).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== undefined && protocols.includes(protocol)) return undefined;
  const shown = setting.redact === 'url-password' ? redactUrl(value) : value;
  const schemes = protocols.map((p) => `${p}//`);
  const list = schemes.length === 1 ? schemes[0] : `${schemes.slice(0, -1).join(', ')} or ${schemes.at(-1)}`;
  return `expected a ${list} URL, got ${JSON.stringify(shown)}`;
}

/**
 * Checks one value against its setting. `text` values come from the environment or a flag and
 * are parsed (`"8243"`, `"true"`, `"a,b"`); TOML values must already have the right type.
 */
function coerce(setting: Setting<unknown>, raw: unknown, text: boolean): Coerced {
  switch (setting.kind) {
    case 'string': {
      if (typeof raw !== 'string') return { error: `expected a string, got ${show(raw, setting)}` };
      const error = checkUrl(raw, setting);
      return error === undefined ? { value: raw } : { error };
    }
    case 'int': {
      let n: unknown = raw;
      if (text && typeof raw === 'string' && /^[+-]?\d+$/.test(raw.trim())) n = Number(raw.trim());
      if (typeof n !== 'number' || !Number.isSafeInteger(n)) return { error: `expected ${intExpectation(setting)}, got ${show(raw, setting)}` };
      if ((setting.min !== undefined && n < setting.min) || (setting.max !== undefined && n > setting.max)) {
        return { error: `expected ${intExpectation(setting)}, got ${n}` };
      }
      return { value: n };
    }
    case 'bool': {
      if (typeof raw === 'boolean') return { value: raw };
      if (text && typeof raw === 'string') {
        const t = raw.trim().toLowerCase();
        if (t === 'true' || t === '1') return { value: true };
        if (t === 'false' || t === '0') return { value: false };
      }
      return { error: `expected a boolean${text ? ' (true, false, 1 or 0)' : ''}, got ${show(raw, setting)}` };
    }
    case 'enum': {
      const values = setting.values ?? [];
      const v = text && typeof raw === 'string' ? raw.trim() : raw;
      if (typeof v === 'string' && values.includes(v)) return { value: v };
      const hint = typeof v === 'string' ? didYouMean(v, values, { prefix: true, quote: (s) => JSON.stringify(s) }) : '';
      return { error: `expected one of ${values.map((s) => JSON.stringify(s)).join(', ')}, got ${show(raw, setting)}${hint}` };
    }
    case 'list': {
      let items: unknown[];
      if (text && typeof raw === 'string') {
        items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
      } else if (Array.isArray(raw)) {
        items = raw;
        const bad = items.findIndex((i) => typeof i !== 'string');
        if (bad >= 0) return { error: `expected an array of strings, got ${show(items[bad], setting)} at index ${bad}` };
      } else {
        return { error: `expected an array of strings, got ${show(raw, setting)}` };
      }
      for (const item of items as string[]) {
        const error = checkUrl(item, setting);
        if (error !== undefined) return { error };
      }
      return { value: Object.freeze(items as string[]) };
    }
  }
}

const lastSegment = (p: string): string => p.slice(p.lastIndexOf('.') + 1);

// ---------------------------------------------------------------- flags

/** A `--key value` pair naming a config key; the value is still text. */
export interface FlagSetting {
  readonly path: string;
  readonly text: string;
  /** The flag as typed, without its value: `--workers`. */
  readonly source: string;
}

export interface ParsedFlags {
  readonly settings: readonly FlagSetting[];
  /** `--config <file>`, as given. */
  readonly configFile: string | undefined;
  readonly problems: readonly ConfigProblem[];
}

/** Flags that are not a dotted path, and the keys they set. */
const shortcuts: Readonly<Record<string, (value: string) => { path: string; text: string }[]>> = {
  'data-dir': (v) => [{ path: 'data_dir', text: v }],
  'control-plane': (v) => [{ path: 'control_plane.url', text: v }],
  'event-hub': (v) => [
    { path: 'event_hub.type', text: 'nats' },
    { path: 'event_hub.servers', text: v },
  ],
  workers: (v) => [{ path: 'gateway.workers', text: v === 'auto' ? '0' : v }],
};

const flagNames = [...configKeys.map((k) => k.flag), ...Object.keys(shortcuts).map((s) => `--${s}`), '--config'];

function isBoolText(s: string | undefined): s is string {
  return s !== undefined && /^(true|false|1|0)$/i.test(s);
}

/**
 * Reads config flags: `--<dotted.path> <value>` or `--<dotted.path>=<value>` for every key (a `-`
 * in the name may stand for `_`), a bare `--<bool.key>` meaning true, and the shortcuts
 * `--config`, `--profile`, `--data-dir`, `--control-plane`, `--event-hub`, `--workers`.
 *
 * @example
 * ```ts
 * parseFlags(['--profile', 'gateway', '--gateway.http_port=0']).settings;
 * // [{ path: 'profile', text: 'gateway', source: '--profile' },
 * //  { path: 'gateway.http_port', text: '0', source: '--gateway.http_port' }]
 * ```
 */
export function parseFlags(argv: readonly string[]): ParsedFlags {
  const settings: FlagSetting[] = [];
  const problems: ConfigProblem[] = [];
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--') || arg === '--') {
      problems.push({ path: '', source: 'command line', message: `unexpected argument ${JSON.stringify(arg)}` });
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const source = `--${name}`;
    const key = byPath.get(name.replaceAll('-', '_'));
    let value: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    if (value === undefined) {
      const next = argv[i + 1];
      if (key?.setting.kind === 'bool') {
        // A bare boolean flag means true; a following true/false/1/0 is its value.
        value = 'true';
        if (isBoolText(next)) {
          value = next;
          i++;
        }
      } else if (next !== undefined && !next.startsWith('--')) {
        value = next;
        i++;
      }
    }
    if (name === 'config') {
      if (value === undefined || value === '') problems.push({ path: '', source, message: 'expected a file path after --config' });
      else configFile = value;
      continue;
    }
    const shortcut = Object.hasOwn(shortcuts, name) ? shortcuts[name] : undefined;
    if (shortcut === undefined && key === undefined) {
      problems.push({ path: '', source, message: `unknown flag \`${source}\`${didYouMean(source, flagNames, { base: lastSegment(name) })}` });
      continue;
    }
    const path = key?.path ?? '';
    if (value === undefined) {
      problems.push({ path, source, message: `expected a value after ${source}` });
      continue;
    }
    if (shortcut !== undefined) for (const s of shortcut(value)) settings.push({ ...s, source });
    else settings.push({ path, text: value, source });
  }
  return { settings, configFile, problems };
}

// ---------------------------------------------------------------- file

/**
 * Line of each key and table header, from a light scan of the text (smol-toml gives no
 * positions). A key not found here falls back to its nearest located ancestor, then to the file.
 */
function locateKeys(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  let table: string[] = [];
  let inMultiline = false;
  const split = (s: string): string[] | undefined => {
    const parts = (s.match(/"[^"]*"|'[^']*'|[^.]+/g) ?? []).map((p) => p.trim().replace(/^(["'])(.*)\1$/, '$2'));
    return parts.length === 0 || parts.some((p) => p === '') ? undefined : parts;
  };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    const wasMultiline = inMultiline;
    if (((line.match(/"""|'''/g) ?? []).length & 1) === 1) inMultiline = !inMultiline;
    if (wasMultiline || line === '' || line.startsWith('#')) return;
    const header = /^\[\[?([^\]]+)\]\]?/.exec(line);
    if (header) {
      table = split(header[1]) ?? [];
      if (!lines.has(table.join('.'))) lines.set(table.join('.'), i + 1);
      return;
    }
    const key = /^((?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-. \t])+)=/.exec(line);
    const parts = key ? split(key[1]) : undefined;
    if (parts === undefined) return;
    const p = [...table, ...parts].join('.');
    if (!lines.has(p)) lines.set(p, i + 1);
  });
  return lines;
}

function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function readConfigFile(file: string, explicitBy: string | undefined, layer: Map<string, Entry>, problems: ConfigProblem[], invalid: Set<string>): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'config file not found' : `cannot read config file: ${(err as Error).message}`;
    problems.push({ path: '', source: explicitBy ?? file, message: `${reason}: ${file}` });
    return;
  }
  let doc: Record<string, unknown>;
  try {
    doc = parse(text);
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const first = err.message.split('\n')[0].replace(/^Invalid TOML document:\s*/i, '');
    problems.push({ path: '', source: `${file}:${err.line}:${err.column}`, message: `TOML syntax error: ${first}` });
    return;
  }
  const lines = locateKeys(text);
  const sourceOf = (p: string): string => {
    for (let parts = p.split('.'); parts.length > 0; parts.pop()) {
      const line = lines.get(parts.join('.'));
      if (line !== undefined) return `${file}:${line}`;
    }
    return file;
  };
  const walk = (table: Record<string, unknown>, prefix: string): void => {
    for (const [name, value] of Object.entries(table)) {
      const p = prefix ? `${prefix}.${name}` : name;
      const source = sourceOf(p);
      const key = byPath.get(p);
      if (key !== undefined) {
        const r = coerce(key.setting, value, false);
        if ('error' in r) {
          problems.push({ path: p, source, message: r.error });
          invalid.add(p);
        } else {
          layer.set(p, { value: r.value, source });
        }
      } else if (configGroups.has(p)) {
        if (isTable(value)) walk(value, p);
        else problems.push({ path: p, source, message: `expected a table, got ${show(value, { kind: 'string', default: '', description: '' })}` });
      } else {
        problems.push({ path: p, source, message: `unknown key \`${p}\`${didYouMean(p, [...byPath.keys(), ...configGroups], { base: lastSegment(p) })}` });
      }
    }
  };
  walk(doc, '');
}

// ---------------------------------------------------------------- validation across keys

function crossCheck(values: Map<string, Entry>, invalid: ReadonlySet<string>, problems: ConfigProblem[]): void {
  const v = <T extends Value>(p: string): T => (values.get(p) as Entry).value as T;
  const src = (p: string): string => (values.get(p) as Entry).source;
  // A key that already failed its own check would only repeat itself here.
  const ok = (...paths: string[]): boolean => paths.every((p) => !invalid.has(p));
  const add = (path: string, source: string, message: string): void => {
    problems.push({ path, source, message });
  };

  const profile = v<string>('profile');
  const usesDatabase = profile !== 'gateway' && profile !== 'traffic-manager';

  if (v<string>('data_dir') === '') add('data_dir', src('data_dir'), 'must not be empty');

  if (usesDatabase && ok('security.secret')) {
    const serverSecret = v<string>('security.secret');
    if (serverSecret !== '' && serverSecret.length < 32) {
      add('security.secret', src('security.secret'), 'must be at least 32 characters (e.g. `openssl rand -base64 48`)');
    } else if (serverSecret === '' && ['apim', 'shared'].some((db) => v(`database.${db}.type`) === 'postgres')) {
      add('security.secret', src('security.secret'), 'is required when a database is PostgreSQL: every replica must share it (e.g. `openssl rand -base64 48`)');
    }
  }

  if (usesDatabase) {
    for (const db of ['apim', 'shared']) {
      const type = `database.${db}.type`;
      const url = `database.${db}.url`;
      if (!ok(type, url)) continue;
      if (v(type) === 'postgres' && v(url) === '') {
        add(url, src(type), `a postgres:// or postgresql:// URL is required when \`${type}\` is "postgres"`);
      }
      if (v(type) === 'sqlite' && v(url) !== '') {
        add(url, src(url), `is set but \`${type}\` is "sqlite"; set \`${type} = "postgres"\` to use it, or remove the URL`);
      }
    }
  }

  if (ok('event_hub.type', 'event_hub.servers')) {
    const servers = v<readonly string[]>('event_hub.servers');
    if (v('event_hub.type') === 'nats' && servers.length === 0) {
      add('event_hub.servers', src('event_hub.type'), 'at least one nats:// or tls:// server URL is required when `event_hub.type` is "nats"');
    }
    if (v('event_hub.type') === 'in-process' && servers.length > 0) {
      add('event_hub.servers', src('event_hub.servers'), 'is set but `event_hub.type` is "in-process"; set `event_hub.type = "nats"` (or use --event-hub) to use them');
    }
  }
  const user = v<string>('event_hub.user');
  const password = v<string>('event_hub.password');
  if (ok('event_hub.user', 'event_hub.password')) {
    if (user !== '' && password === '') add('event_hub.password', src('event_hub.user'), 'is required with `event_hub.user`');
    if (user === '' && password !== '') add('event_hub.user', src('event_hub.password'), 'is required with `event_hub.password`');
  }
  const methods = (['event_hub.user', 'event_hub.token', 'event_hub.creds_file'] as const).filter((p) => v(p) !== '');
  if (methods.length > 1) {
    add(methods[1], src(methods[1]), `set only one NATS authentication: ${methods.map((m) => `\`${m}\``).join(' and ')} are both set`);
  }
  if (!/^[A-Za-z0-9_-]+$/.test(v<string>('event_hub.stream_prefix')) && ok('event_hub.stream_prefix')) {
    add('event_hub.stream_prefix', src('event_hub.stream_prefix'), 'must be letters, digits, `_` or `-` (it becomes part of JetStream stream names)');
  }

  if (ok('tls.cert_file', 'tls.key_file')) {
    const cert = v<string>('tls.cert_file');
    const key = v<string>('tls.key_file');
    if (cert !== '' && key === '') add('tls.key_file', src('tls.cert_file'), 'is required with `tls.cert_file`');
    if (cert === '' && key !== '') add('tls.cert_file', src('tls.key_file'), 'is required with `tls.key_file`');
  }

  const servesControlPlane = profile !== 'gateway' && profile !== 'traffic-manager';
  const servesGateway = profile === 'all-in-one' || profile === 'gateway';
  const ports = [
    ...(servesControlPlane ? ['server.https_port', 'server.http_port'] : []),
    ...(servesGateway ? ['gateway.https_port', 'gateway.http_port'] : []),
  ].filter((p) => ok(p));
  const taken = new Map<number, string>();
  for (const p of ports) {
    const port = v<number>(p);
    if (port === 0) continue; // any free port: never clashes
    const other = taken.get(port);
    if (other === undefined) taken.set(port, p);
    else add(p, src(p), `port ${port} is also \`${other}\`; in the ${profile} profile these ports must differ`);
  }

  if (servesGateway && ok('gateway.labels') && v<readonly string[]>('gateway.labels').length === 0) {
    add('gateway.labels', src('gateway.labels'), 'must name at least one gateway environment');
  }

  if ((profile === 'gateway' || profile === 'traffic-manager') && ok('control_plane.url') && v('control_plane.url') === '') {
    add('control_plane.url', src('profile'), `an http:// or https:// URL is required in the ${profile} profile (the control plane's internal data API)`);
  }
  if ((profile === 'gateway' || profile === 'traffic-manager') && ok('control_plane.client_id', 'control_plane.client_secret')) {
    for (const key of ['control_plane.client_id', 'control_plane.client_secret']) {
      if (v(key) === '') add(key, src('profile'), `is required in the ${profile} profile: the OAuth client it authenticates to the control plane with`);
    }
  }
}

// ---------------------------------------------------------------- loading

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function build(values: Map<string, Entry>): GatehouseConfig {
  const root: Record<string, unknown> = {};
  for (const { path } of configKeys) {
    const parts = path.split('.');
    const last = parts.pop() as string;
    let node = root;
    for (const part of parts) node = (node[part] ??= {}) as Record<string, unknown>;
    node[last] = (values.get(path) as Entry).value;
  }
  return deepFreeze(root) as unknown as GatehouseConfig;
}

/** Fills what an empty value stands for and makes paths absolute, so every consumer sees the same values. */
function derive(values: Map<string, Entry>, cwd: string): void {
  const set = (p: string, value: Value): void => {
    values.set(p, { value, source: (values.get(p) as Entry).source });
  };
  for (const { path, setting } of configKeys) {
    const value = (values.get(path) as Entry).value;
    if (setting.isPath && typeof value === 'string' && value !== '') set(path, resolve(cwd, value));
  }
  const dataDir = (values.get('data_dir') as Entry).value as string;
  for (const [db, file] of [['apim', 'apim.db'], ['shared', 'shared.db']]) {
    if (values.get(`database.${db}.type`)?.value === 'sqlite' && values.get(`database.${db}.path`)?.value === '') {
      set(`database.${db}.path`, join(dataDir, file));
    }
  }
  for (const p of ['server.public_url', 'control_plane.url']) {
    set(p, ((values.get(p) as Entry).value as string).replace(/\/+$/, ''));
  }
  const httpsPort = (values.get('server.https_port') as Entry).value as number;
  if (values.get('server.public_url')?.value === '' && httpsPort !== 0) set('server.public_url', `https://localhost:${httpsPort}`);
}

function applyText(key: ConfigKey, text: string, source: string, layer: Map<string, Entry>, problems: ConfigProblem[], invalid: Set<string>): void {
  const r = coerce(key.setting, text, true);
  if ('error' in r) {
    problems.push({ path: key.path, source, message: r.error });
    invalid.add(key.path);
  } else {
    layer.set(key.path, { value: r.value, source });
  }
}

/**
 * Loads the configuration: schema defaults, then the TOML file (`--config`, else
 * `$GATEHOUSE_CONFIG`, else `./gatehouse.toml` if present), then `GATEHOUSE_*` variables, then
 * flags. Everything is checked before anything is returned; all problems are thrown together in
 * one {@link ConfigError}. The result is deeply frozen, relative paths are resolved against
 * `cwd`, and empty defaults that stand for a derived value (sqlite paths, `server.public_url`)
 * are filled in.
 *
 * @example
 * ```ts
 * const config = loadConfig({ argv: ['--profile', 'gateway', '--control-plane', 'https://cp:9443'] });
 * config.gateway.https_port; // 8243
 * ```
 */
export function loadConfig(options: LoadConfigOptions = {}): GatehouseConfig {
  const argv = options.argv ?? [];
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const invalid = new Set<string>();

  const flagProblems: ConfigProblem[] = [];
  const flagLayer = new Map<string, Entry>();
  const flags = parseFlags(argv);
  flagProblems.push(...flags.problems);
  for (const s of flags.settings) applyText(byPath.get(s.path) as ConfigKey, s.text, s.source, flagLayer, flagProblems, invalid);

  const envProblems: ConfigProblem[] = [];
  const envLayer = new Map<string, Entry>();
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || text === undefined || name === CONFIG_FILE_ENV || name.startsWith(TEST_ENV_PREFIX)) continue;
    const key = byEnv.get(name);
    if (key === undefined) {
      const hint = didYouMean(name.slice(ENV_PREFIX.length), envSuffixes, { quote: (s) => `\`${ENV_PREFIX}${s}\`` });
      envProblems.push({ path: '', source: name, message: `unknown variable \`${name}\`${hint}` });
    } else {
      applyText(key, text, name, envLayer, envProblems, invalid);
    }
  }

  const fileProblems: ConfigProblem[] = [];
  const fileLayer = new Map<string, Entry>();
  const envFile = env[CONFIG_FILE_ENV];
  if (flags.configFile !== undefined) {
    readConfigFile(resolve(cwd, flags.configFile), '--config', fileLayer, fileProblems, invalid);
  } else if (envFile !== undefined && envFile !== '') {
    readConfigFile(resolve(cwd, envFile), CONFIG_FILE_ENV, fileLayer, fileProblems, invalid);
  } else if (existsSync(join(cwd, DEFAULT_CONFIG_FILE))) {
    readConfigFile(join(cwd, DEFAULT_CONFIG_FILE), undefined, fileLayer, fileProblems, invalid);
  }

  const values = new Map<string, Entry>(configKeys.map((k) => [k.path, { value: k.setting.default as Value, source: 'default' }]));
  for (const layer of [fileLayer, envLayer, flagLayer]) for (const [p, e] of layer) values.set(p, e);

  const problems = [...fileProblems, ...envProblems, ...flagProblems];
  crossCheck(values, invalid, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  derive(values, cwd);
  return build(values);
}
