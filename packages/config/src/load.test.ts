import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, configKeys, describeConfig, envName, loadConfig, parseFlags, redactUrl } from './index.ts';
import type { ConfigKey, GatehouseConfig, Profile } from './index.ts';

let root: string;
let n = 0;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A fresh directory, with `gatehouse.toml` in it when `toml` is given. */
function dir(toml?: string): string {
  n += 1;
  const d = join(root, `case-${n}`);
  mkdirSync(d);
  if (toml !== undefined) writeFileSync(join(d, 'gatehouse.toml'), toml);
  return d;
}

function problemsOf(fn: () => unknown): ConfigError['problems'] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives the defaults with no file, no variables and no flags', () => {
    const cwd = dir();
    const c = loadConfig({ env: {}, cwd });
    assert.equal(c.profile, 'all-in-one');
    assert.equal(c.server.https_port, 9443);
    assert.equal(c.server.http_port, 9763);
    assert.equal(c.gateway.https_port, 8243);
    assert.deepEqual(c.gateway.labels, ['Default']);
    assert.equal(c.event_hub.type, 'in-process');
    assert.equal(c.metrics.enabled, true);
    assert.equal(c.node.id, '');
    assert.equal(c.tls.cert_file, '');
  });

  it('resolves relative paths against cwd and fills derived defaults', () => {
    const cwd = dir('data_dir = "var/gh"\n[tls]\ncert_file = "certs/c.pem"\nkey_file = "/etc/k.pem"\n');
    const c = loadConfig({ env: {}, cwd });
    assert.equal(c.data_dir, join(cwd, 'var/gh'));
    assert.equal(c.database.apim.path, join(cwd, 'var/gh', 'apim.db'));
    assert.equal(c.database.shared.path, join(cwd, 'var/gh', 'shared.db'));
    assert.equal(c.tls.cert_file, join(cwd, 'certs/c.pem'));
    assert.equal(c.tls.key_file, '/etc/k.pem');
    assert.equal(c.server.public_url, 'https://localhost:9443');
  });

  it('keeps an explicit public_url (without a trailing slash) and leaves it empty on port 0', () => {
    const cwd = dir();
    assert.equal(loadConfig({ env: {}, cwd, argv: ['--server.public_url', 'https://api.example.com/'] }).server.public_url, 'https://api.example.com');
    assert.equal(loadConfig({ env: {}, cwd, argv: ['--server.https_port', '0'] }).server.public_url, '');
  });

  it('applies default < file < environment < flag, key by key', () => {
    const cwd = dir('[server]\nhttps_port = 1001\nhttp_port = 1002\n[gateway]\nhttp_port = 1003\nworkers = 2\n');
    const c = loadConfig({
      cwd,
      env: { GATEHOUSE_SERVER_HTTP_PORT: '2002', GATEHOUSE_GATEWAY_HTTP_PORT: '2003' },
      argv: ['--gateway.http_port', '3003'],
    });
    assert.equal(c.gateway.https_port, 8243); // default
    assert.equal(c.server.https_port, 1001); // file
    assert.equal(c.gateway.workers, 2); // file
    assert.equal(c.server.http_port, 2002); // env over file
    assert.equal(c.gateway.http_port, 3003); // flag over env over file
  });

  it('reads the file named by --config over GATEHOUSE_CONFIG over ./gatehouse.toml', () => {
    const cwd = dir('[gateway]\nworkers = 1\n');
    writeFileSync(join(cwd, 'env.toml'), '[gateway]\nworkers = 2\n');
    writeFileSync(join(cwd, 'flag.toml'), '[gateway]\nworkers = 3\n');
    assert.equal(loadConfig({ cwd, env: {} }).gateway.workers, 1);
    assert.equal(loadConfig({ cwd, env: { GATEHOUSE_CONFIG: 'env.toml' } }).gateway.workers, 2);
    assert.equal(loadConfig({ cwd, env: { GATEHOUSE_CONFIG: 'env.toml' }, argv: ['--config', 'flag.toml'] }).gateway.workers, 3);
    assert.equal(loadConfig({ cwd, env: {}, argv: [`--config=${join(cwd, 'flag.toml')}`] }).gateway.workers, 3);
  });

  it('reports a named config file that does not exist', () => {
    const cwd = dir();
    const [p] = problemsOf(() => loadConfig({ cwd, env: {}, argv: ['--config', 'missing.toml'] }));
    assert.equal(p.source, '--config');
    assert.match(p.message, /config file not found: .*missing\.toml/);
    const [q] = problemsOf(() => loadConfig({ cwd, env: { GATEHOUSE_CONFIG: 'nope.toml' } }));
    assert.equal(q.source, 'GATEHOUSE_CONFIG');
  });

  it('ignores the reserved GATEHOUSE_CONFIG and GATEHOUSE_TEST_* variables and other prefixes', () => {
    const cwd = dir();
    assert.doesNotThrow(() => loadConfig({ cwd, env: { GATEHOUSE_TEST_PG_HOST: 'x', GATEHOUSE_TEST_ANYTHING: '1', PATH: '/bin', GATEHOUSE_CONFIG: '' } }));
  });

  it('reports every problem at once, each with its source', () => {
    const cwd = dir('[server]\nhttps_port = 9443\nhtps_port = 1\n\n[gateway]\nhttp_port = "abc"\n');
    let error: unknown;
    try {
      loadConfig({ cwd, env: { GATEHOUSE_GATEWAY_WORKERS: 'many' }, argv: ['--bogus', 'x'] });
    } catch (err) {
      error = err;
    }
    assert.ok(error instanceof ConfigError);
    const file = join(cwd, 'gatehouse.toml');
    assert.deepEqual(error.problems, [
      { path: 'server.htps_port', source: `${file}:3`, message: 'unknown key `server.htps_port`; did you mean `server.https_port`?' },
      { path: 'gateway.http_port', source: `${file}:6`, message: 'expected an integer between 0 and 65535, got string "abc"' },
      { path: 'gateway.workers', source: 'GATEHOUSE_GATEWAY_WORKERS', message: 'expected an integer between 0 and 1024, got string "many"' },
      { path: '', source: '--bogus', message: 'unknown flag `--bogus`' },
    ]);
    assert.equal(error.code, 'CONFIG_ERR_INVALID');
    const lines = error.message.split('\n');
    assert.equal(lines[0], 'Invalid configuration (4 problems):');
    assert.equal(lines.length, 5);
    assert.equal(lines[1], `  - unknown key \`server.htps_port\`; did you mean \`server.https_port\`? (from ${file}:3)`);
    assert.equal(lines[2], `  - gateway.http_port: expected an integer between 0 and 65535, got string "abc" (from ${file}:6)`);
  });

  it('suggests the closest key, variable, flag and enum value', () => {
    const cwd = dir('[databse.apim]\ntype = "sqlite"\n');
    const problems = problemsOf(() =>
      loadConfig({
        cwd,
        env: { GATEHOUSE_SERVER_HTPS_PORT: '1', GATEHOUSE_LOG_LEVEL: 'warning' },
        argv: ['--gateway.worker', '2', '--contol-plane', 'https://cp'],
      }),
    );
    const messages = problems.map((p) => p.message);
    assert.deepEqual(messages, [
      'unknown key `databse`; did you mean `database`?',
      'unknown variable `GATEHOUSE_SERVER_HTPS_PORT`; did you mean `GATEHOUSE_SERVER_HTTPS_PORT`?',
      'expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got string "warning"; did you mean "warn"?',
      'unknown flag `--gateway.worker`; did you mean `--gateway.workers`?',
      'unknown flag `--contol-plane`; did you mean `--control-plane`?',
    ]);
    assert.equal(problems[2].path, 'log.level');
  });

  it('does not suggest a name that is nothing like the typo', () => {
    const [p] = problemsOf(() => loadConfig({ cwd: dir(), env: {}, argv: ['--zzzzzzzz'] }));
    assert.equal(p.message, 'unknown flag `--zzzzzzzz`');
  });

  it('reports type errors in the file with the TOML type', () => {
    const cwd = dir(
      'profile = 3\n[gateway]\nlabels = "Default"\n[metrics]\nenabled = "yes"\n[event_hub]\nservers = ["nats://a:4222", 5]\n[log]\nlevel = { a = 1 }\nserver = 1\n',
    );
    const problems = problemsOf(() => loadConfig({ cwd, env: {} }));
    assert.deepEqual(
      problems.map((p) => `${p.path}: ${p.message}`),
      [
        'profile: expected one of "all-in-one", "control-plane", "publisher", "devportal", "key-manager", "gateway", "traffic-manager", got integer 3',
        'gateway.labels: expected an array of strings, got string "Default"',
        'metrics.enabled: expected a boolean, got string "yes"',
        'event_hub.servers: expected an array of strings, got integer 5 at index 1',
        'log.level: expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent", got a table',
        'log.server: unknown key `log.server`',
      ],
    );
  });

  it('reports a table where a value is expected and a value where a table is expected', () => {
    const cwd = dir('server = 5\n[gateway.workers]\nx = 1\n');
    const problems = problemsOf(() => loadConfig({ cwd, env: {} }));
    assert.deepEqual(
      problems.map((p) => `${p.path}: ${p.message}`),
      ['server: expected a table, got integer 5', 'gateway.workers: expected an integer between 0 and 1024, got a table'],
    );
  });

  it('reports a TOML syntax error with file:line:column', () => {
    const cwd = dir('[server]\nhttps_port = 9443\nhttp_port = = 1\n');
    const [p, ...rest] = problemsOf(() => loadConfig({ cwd, env: {} }));
    assert.equal(rest.length, 0);
    assert.equal(p.source, `${join(cwd, 'gatehouse.toml')}:3:13`);
    assert.match(p.message, /^TOML syntax error: /);
  });

  it('locates keys in dotted keys, quoted keys and inline tables', () => {
    const cwd = dir('# comment\nserver.htps_port = 1\n\n[database]\n"apim".tipe = "x"\nshared = { urll = "x" }\n');
    const file = join(cwd, 'gatehouse.toml');
    const problems = problemsOf(() => loadConfig({ cwd, env: {} }));
    assert.deepEqual(
      problems.map((p) => `${p.path} ${p.source}`),
      [`server.htps_port ${file}:2`, `database.apim.tipe ${file}:5`, `database.shared.urll ${file}:6`],
    );
  });

  it('parses environment and flag text per type', () => {
    const c = loadConfig({
      cwd: dir(),
      env: { GATEHOUSE_METRICS_ENABLED: '0', GATEHOUSE_GATEWAY_LABELS: ' Default, eu-west ,,', GATEHOUSE_GATEWAY_WORKERS: '+4' },
      argv: ['--log.level=debug', '--shutdown.timeout_ms', '250'],
    });
    assert.equal(c.metrics.enabled, false);
    assert.deepEqual(c.gateway.labels, ['Default', 'eu-west']);
    assert.equal(c.gateway.workers, 4);
    assert.equal(c.log.level, 'debug');
    assert.equal(c.shutdown.timeout_ms, 250);
    assert.equal(loadConfig({ cwd: dir(), env: { GATEHOUSE_METRICS_ENABLED: 'TRUE' } }).metrics.enabled, true);
    const [p] = problemsOf(() => loadConfig({ cwd: dir(), env: { GATEHOUSE_METRICS_ENABLED: 'yes' } }));
    assert.equal(p.message, 'expected a boolean (true, false, 1 or 0), got string "yes"');
    const [q] = problemsOf(() => loadConfig({ cwd: dir(), env: {}, argv: ['--gateway.workers', '1.5'] }));
    assert.equal(q.message, 'expected an integer between 0 and 1024, got string "1.5"');
  });
});

describe('flags', () => {
  const client = ['--control_plane.client_id', 'gw-client', '--control_plane.client_secret', 'gw-secret'];
  it('maps the shortcuts to their keys', () => {
    const c = loadConfig({
      cwd: dir(),
      env: {},
      argv: ['--profile', 'gateway', '--data-dir', '/srv/gh', '--control-plane', 'https://cp:9443/', '--event-hub', 'nats://a:4222,tls://b:4222', '--workers', '4', ...client],
    });
    assert.equal(c.profile, 'gateway');
    assert.equal(c.data_dir, '/srv/gh');
    assert.equal(c.control_plane.url, 'https://cp:9443');
    assert.equal(c.event_hub.type, 'nats');
    assert.deepEqual(c.event_hub.servers, ['nats://a:4222', 'tls://b:4222']);
    assert.equal(c.gateway.workers, 4);
    assert.equal(loadConfig({ cwd: dir(), env: {}, argv: ['--profile', 'gateway', '--control-plane', 'https://cp:9443', '--workers', 'auto', ...client] }).gateway.workers, 0, 'auto: one per core');
  });

  it('accepts - for _ in dotted flags, bare booleans and =', () => {
    const c = loadConfig({ cwd: dir(), env: {}, argv: ['--gateway.http-port', '8080', '--metrics.enabled', '--traffic-manager.health-port=0'] });
    assert.equal(c.gateway.http_port, 8080);
    assert.equal(c.metrics.enabled, true);
    assert.equal(c.traffic_manager.health_port, 0);
    assert.equal(loadConfig({ cwd: dir(), env: {}, argv: ['--metrics.enabled', 'false'] }).metrics.enabled, false);
    assert.equal(loadConfig({ cwd: dir(), env: {}, argv: ['--metrics.enabled=0'] }).metrics.enabled, false);
  });

  it('reports a missing value and a stray argument', () => {
    assert.deepEqual(parseFlags(['--profile', '--workers', '2', 'extra']).problems, [
      { path: 'profile', source: '--profile', message: 'expected a value after --profile' },
      { path: '', source: 'command line', message: 'unexpected argument "extra"' },
    ]);
  });

  it('parseFlags returns the settings as text', () => {
    assert.deepEqual(parseFlags(['--config', 'a.toml', '--event-hub=nats://x:1']), {
      configFile: 'a.toml',
      problems: [],
      settings: [
        { path: 'event_hub.type', text: 'nats', source: '--event-hub' },
        { path: 'event_hub.servers', text: 'nats://x:1', source: '--event-hub' },
      ],
    });
  });
});

describe('the loaded config', () => {
  it('is deeply frozen', () => {
    const c = loadConfig({ cwd: dir(), env: {} });
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.database.apim) && Object.isFrozen(c.gateway.labels));
    assert.throws(() => {
      // @ts-expect-error the type is read-only too
      c.server.https_port = 1;
    }, TypeError);
    assert.throws(() => {
      (c.gateway.labels as string[]).push('x');
    }, TypeError);
    assert.throws(() => {
      (c as unknown as Record<string, unknown>).extra = 1;
    }, TypeError);
  });

  it('has the types other packages rely on', () => {
    const c: GatehouseConfig = loadConfig({ cwd: dir(), env: {} });
    const profile: Profile = c.profile;
    const port: number = c.gateway.https_port;
    const labels: readonly string[] = c.gateway.labels;
    const dbType: 'sqlite' | 'postgres' = c.database.shared.type;
    const hub: 'in-process' | 'nats' = c.event_hub.type;
    const enabled: boolean = c.metrics.enabled;
    assert.ok(profile && port && labels && dbType && hub && enabled);
  });
});

describe('secrets', () => {
  const env = {
    GATEHOUSE_ADMIN_PASSWORD: 'hunter2-admin',
    GATEHOUSE_EVENT_HUB_TOKEN: 'tok-secret',
    GATEHOUSE_EVENT_HUB_SERVERS: 'nats://u:natspw@a:4222,nats://b:4222',
    GATEHOUSE_EVENT_HUB_TYPE: 'nats',
    GATEHOUSE_DATABASE_APIM_TYPE: 'postgres',
    GATEHOUSE_DATABASE_APIM_URL: 'postgres://gh:pg-secret@db:5432/apim?sslmode=require',
    GATEHOUSE_DATABASE_SHARED_TYPE: 'postgres',
    GATEHOUSE_DATABASE_SHARED_URL: 'postgresql://db/shared?user=gh&password=pg-secret2',
    GATEHOUSE_SECURITY_SECRET: 'server-secret-value-that-is-long-enough-0123',
  };

  it('describeConfig replaces secrets and URL passwords', () => {
    const c = loadConfig({ cwd: dir(), env });
    const d = describeConfig(c);
    assert.equal(d.admin.password, '***');
    assert.equal(d.security.secret, '***');
    assert.equal(d.event_hub.token, '***');
    assert.equal(d.event_hub.password, ''); // unset stays visibly unset
    assert.deepEqual(d.event_hub.servers, ['nats://u:***@a:4222', 'nats://b:4222']);
    assert.equal(d.database.apim.url, 'postgres://gh:***@db:5432/apim?sslmode=require');
    assert.equal(d.database.shared.url, 'postgresql://db/shared?user=gh&password=***');
    assert.doesNotMatch(JSON.stringify(d), /hunter2|tok-secret|natspw|pg-secret|server-secret-value/);
    // the original is untouched
    assert.equal(c.admin.password, 'hunter2-admin');
    assert.equal(c.database.apim.url, env.GATEHOUSE_DATABASE_APIM_URL);
  });

  it('redactUrl leaves URLs without a password alone', () => {
    assert.equal(redactUrl('postgres://db:5432/x?email=a@b'), 'postgres://db:5432/x?email=a@b');
    assert.equal(redactUrl('postgres://:pw@db/x'), 'postgres://:***@db/x');
  });

  it('error messages never echo a secret', () => {
    const cwd = dir('[admin]\npassword = 12345\n');
    const err = (() => {
      try {
        loadConfig({ cwd, env: { GATEHOUSE_DATABASE_APIM_URL: 'mysql://u:topsecret@db/x', GATEHOUSE_DATABASE_APIM_TYPE: 'postgres' } });
      } catch (e) {
        return e as ConfigError;
      }
      assert.fail('expected a ConfigError');
    })();
    assert.doesNotMatch(err.message, /topsecret/);
    assert.match(err.message, /database\.apim\.url: expected a postgres:\/\/ or postgresql:\/\/ URL, got "mysql:\/\/u:\*\*\*@db\/x"/);
    assert.match(err.message, /admin\.password: expected a string, got integer 12345/);
    const [p] = problemsOf(() => loadConfig({ cwd: dir('[event_hub]\ntoken = ["abc-secret"]\n'), env: {} }));
    assert.doesNotMatch(p.message, /abc-secret/);
  });
});

describe('checks across keys', () => {
  const secret40 = 'a-server-secret-of-at-least-32-characters';
  const check = (env: Record<string, string>, argv: string[] = []) =>
    problemsOf(() => loadConfig({ cwd: dir(), env, argv })).map((p) => `${p.path} [${p.source}]: ${p.message}`);

  it('postgres needs a postgres URL, and a URL needs postgres', () => {
    assert.deepEqual(check({ GATEHOUSE_DATABASE_APIM_TYPE: 'postgres', GATEHOUSE_SECURITY_SECRET: secret40 }), [
      'database.apim.url [GATEHOUSE_DATABASE_APIM_TYPE]: a postgres:// or postgresql:// URL is required when `database.apim.type` is "postgres"',
    ]);
    assert.deepEqual(check({ GATEHOUSE_DATABASE_SHARED_URL: 'postgres://db/x' }), [
      'database.shared.url [GATEHOUSE_DATABASE_SHARED_URL]: is set but `database.shared.type` is "sqlite"; set `database.shared.type = "postgres"` to use it, or remove the URL',
    ]);
    assert.deepEqual(check({ GATEHOUSE_DATABASE_APIM_TYPE: 'postgres', GATEHOUSE_DATABASE_APIM_URL: 'http://db/x', GATEHOUSE_SECURITY_SECRET: secret40 }), [
      'database.apim.url [GATEHOUSE_DATABASE_APIM_URL]: expected a postgres:// or postgresql:// URL, got "http://db/x"',
    ]);
  });

  it('a PostgreSQL install needs a shared server secret of at least 32 characters', () => {
    const pg = { GATEHOUSE_DATABASE_APIM_TYPE: 'postgres', GATEHOUSE_DATABASE_APIM_URL: 'postgres://db/a' };
    assert.deepEqual(check(pg), [
      'security.secret [default]: is required when a database is PostgreSQL: every replica must share it (e.g. `openssl rand -base64 48`)',
    ]);
    assert.deepEqual(check({ ...pg, GATEHOUSE_SECURITY_SECRET: 'too-short' }), [
      'security.secret [GATEHOUSE_SECURITY_SECRET]: must be at least 32 characters (e.g. `openssl rand -base64 48`)',
    ]);
    assert.equal(loadConfig({ cwd: dir(), env: { ...pg, GATEHOUSE_SECURITY_SECRET: secret40 } }).security.secret, secret40);
    assert.equal(loadConfig({ cwd: dir(), env: {} }).security.secret, '', 'SQLite: the CLI generates one into the data directory');
  });

  it('gateway and traffic-manager need no database but need control_plane.url and its client', () => {
    const client = ['--control_plane.client_id', 'gw', '--control_plane.client_secret', 's'];
    assert.deepEqual(check({ GATEHOUSE_DATABASE_APIM_TYPE: 'postgres' }, ['--profile', 'gateway', ...client]), [
      'control_plane.url [--profile]: an http:// or https:// URL is required in the gateway profile (the control plane\'s internal data API)',
    ]);
    assert.deepEqual(check({ GATEHOUSE_PROFILE: 'traffic-manager', GATEHOUSE_CONTROL_PLANE_URL: 'http://cp' }), [
      'control_plane.client_id [GATEHOUSE_PROFILE]: is required in the traffic-manager profile: the OAuth client it authenticates to the control plane with',
      'control_plane.client_secret [GATEHOUSE_PROFILE]: is required in the traffic-manager profile: the OAuth client it authenticates to the control plane with',
    ]);
    const c = loadConfig({ cwd: dir(), env: {}, argv: ['--profile', 'gateway', '--control-plane', 'http://cp:9763', ...client] });
    assert.equal(c.control_plane.url, 'http://cp:9763');
  });

  it('nats needs servers, servers need nats, auth needs one method', () => {
    assert.deepEqual(check({ GATEHOUSE_EVENT_HUB_TYPE: 'nats' }), [
      'event_hub.servers [GATEHOUSE_EVENT_HUB_TYPE]: at least one nats:// or tls:// server URL is required when `event_hub.type` is "nats"',
    ]);
    assert.deepEqual(check({ GATEHOUSE_EVENT_HUB_SERVERS: 'nats://a:4222' }), [
      'event_hub.servers [GATEHOUSE_EVENT_HUB_SERVERS]: is set but `event_hub.type` is "in-process"; set `event_hub.type = "nats"` (or use --event-hub) to use them',
    ]);
    assert.deepEqual(check({}, ['--event-hub', 'http://a:4222']), [
      'event_hub.servers [--event-hub]: expected a nats:// or tls:// URL, got "http://a:4222"',
    ]);
    assert.deepEqual(check({ GATEHOUSE_EVENT_HUB_USER: 'u' }, ['--event-hub', 'nats://a:1', '--event_hub.token', 't']), [
      'event_hub.password [GATEHOUSE_EVENT_HUB_USER]: is required with `event_hub.user`',
      'event_hub.token [--event_hub.token]: set only one NATS authentication: `event_hub.user` and `event_hub.token` are both set',
    ]);
    assert.deepEqual(check({ GATEHOUSE_EVENT_HUB_STREAM_PREFIX: 'a.b' }), [
      'event_hub.stream_prefix [GATEHOUSE_EVENT_HUB_STREAM_PREFIX]: must be letters, digits, `_` or `-` (it becomes part of JetStream stream names)',
    ]);
  });

  it('tls needs both files or neither', () => {
    assert.deepEqual(check({ GATEHOUSE_TLS_CERT_FILE: 'c.pem' }), ['tls.key_file [GATEHOUSE_TLS_CERT_FILE]: is required with `tls.cert_file`']);
    assert.deepEqual(check({}, ['--tls.key_file', 'k.pem']), ['tls.cert_file [--tls.key_file]: is required with `tls.key_file`']);
  });

  it('the ports a profile listens on must differ (0 never clashes)', () => {
    assert.deepEqual(check({ GATEHOUSE_GATEWAY_HTTPS_PORT: '9443' }, ['--gateway.http_port', '9763']), [
      'gateway.https_port [GATEHOUSE_GATEWAY_HTTPS_PORT]: port 9443 is also `server.https_port`; in the all-in-one profile these ports must differ',
      'gateway.http_port [--gateway.http_port]: port 9763 is also `server.http_port`; in the all-in-one profile these ports must differ',
    ]);
    const zeros = ['--server.https_port', '0', '--server.http_port', '0', '--gateway.https_port', '0', '--gateway.http_port', '0'];
    assert.doesNotThrow(() => loadConfig({ cwd: dir(), env: {}, argv: zeros }));
    // a control-plane process does not listen on the gateway ports
    assert.doesNotThrow(() => loadConfig({ cwd: dir(), env: {}, argv: ['--profile', 'control-plane', '--gateway.https_port', '9443'] }));
  });

  it('a key that already failed is not reported again by a cross-key check', () => {
    assert.deepEqual(check({ GATEHOUSE_DATABASE_APIM_TYPE: 'mysql', GATEHOUSE_DATABASE_APIM_URL: 'postgres://db/x' }), [
      'database.apim.type [GATEHOUSE_DATABASE_APIM_TYPE]: expected one of "sqlite", "postgres", got string "mysql"',
    ]);
  });
});

describe('every key', () => {
  /** A valid, non-default text value for a key. */
  function sample(k: ConfigKey, i: number): string {
    const s = k.setting;
    switch (s.kind) {
      case 'string':
        if (s.protocols) return `${s.protocols.at(-1)}//user@host-${i}.example:${1000 + i}`;
        if (s.redact === 'secret') return `secret-value-${i}-`.padEnd(40, 'x');
        return s.isPath ? `rel/file-${i}` : `value-${i}`;
      case 'int':
        return String(s.min === 0 && s.max === 65535 ? 20000 + i : (s.min ?? 0) + 3);
      case 'bool':
        return String(!s.default);
      case 'enum':
        return (s.values ?? []).find((v) => v !== s.default) as string;
      case 'list':
        return s.protocols ? `${s.protocols[0]}//h-${i}:1,${s.protocols.at(-1)}//h-${i}:2` : `a-${i},b-${i}`;
    }
  }
  /** What the loaded value should be. */
  function expected(k: ConfigKey, text: string, cwd: string): unknown {
    switch (k.setting.kind) {
      case 'int':
        return Number(text);
      case 'bool':
        return text === 'true';
      case 'list':
        return text.split(',');
      default:
        return k.setting.isPath ? resolve(cwd, text) : text;
    }
  }
  const serverSecret = 'a-shared-server-secret-of-40-characters!';
  /** Other keys a key needs to pass the checks across keys. */
  const companions: Record<string, Record<string, string>> = {
    profile: { 'control_plane.url': 'https://cp', 'control_plane.client_id': 'gw', 'control_plane.client_secret': 'gw-secret' },
    'database.apim.type': { 'database.apim.url': 'postgres://db/a', 'security.secret': serverSecret },
    'database.apim.url': { 'database.apim.type': 'postgres', 'security.secret': serverSecret },
    'database.shared.type': { 'database.shared.url': 'postgres://db/s', 'security.secret': serverSecret },
    'database.shared.url': { 'database.shared.type': 'postgres', 'security.secret': serverSecret },
    'event_hub.type': { 'event_hub.servers': 'nats://n:4222' },
    'event_hub.servers': { 'event_hub.type': 'nats' },
    'event_hub.user': { 'event_hub.password': 'p' },
    'event_hub.password': { 'event_hub.user': 'u' },
    'tls.cert_file': { 'tls.key_file': '/k.pem' },
    'tls.key_file': { 'tls.cert_file': '/c.pem' },
  };
  const byPath = (p: string): ConfigKey => configKeys.find((k) => k.path === p) as ConfigKey;
  const get = (c: GatehouseConfig, path: string): unknown =>
    path.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], c);

  it('has a unique environment variable named from its path', () => {
    const names = configKeys.map((k) => k.env);
    assert.equal(new Set(names).size, names.length);
    assert.equal(envName('server.https_port'), 'GATEHOUSE_SERVER_HTTPS_PORT');
    assert.equal(envName('database.apim.url'), 'GATEHOUSE_DATABASE_APIM_URL');
    assert.equal(envName('admin.password'), 'GATEHOUSE_ADMIN_PASSWORD');
    for (const k of configKeys) {
      assert.equal(k.env, `GATEHOUSE_${k.path.toUpperCase().replaceAll('.', '_')}`);
      assert.ok(!k.env.startsWith('GATEHOUSE_TEST_') && k.env !== 'GATEHOUSE_CONFIG', k.env);
    }
  });

  it('can be set through its environment variable, its flag and the file', () => {
    const cwd = dir();
    configKeys.forEach((k, i) => {
      const text = sample(k, i);
      const extra = companions[k.path] ?? {};
      const env = Object.fromEntries([[k.env, text], ...Object.entries(extra).map(([p, v]) => [envName(p), v])]);
      const argv = [`--${k.path}`, text, ...Object.entries(extra).flatMap(([p, v]) => [`--${p}`, v])];
      const want = expected(k, text, cwd);
      assert.deepEqual(get(loadConfig({ cwd, env }), k.path), want, `${k.env}=${text}`);
      assert.deepEqual(get(loadConfig({ cwd, env: {}, argv }), k.path), want, argv.join(' '));
      const tomlValue = (key: ConfigKey, t: string): string =>
        key.setting.kind === 'list' ? JSON.stringify(t.split(',')) : key.setting.kind === 'int' || key.setting.kind === 'bool' ? t : JSON.stringify(t);
      const toml = [[k.path, text], ...Object.entries(extra)].map(([p, v]) => `${p} = ${tomlValue(byPath(p), v)}`).join('\n');
      writeFileSync(join(cwd, 'every-key.toml'), toml);
      assert.deepEqual(get(loadConfig({ cwd, env: {}, argv: ['--config', 'every-key.toml'] }), k.path), want, toml);
    });
  });

  it('documents itself', () => {
    for (const k of configKeys) assert.ok(k.setting.description.length > 10, k.path);
  });
});
