import type { ConfigKey, Setting } from './schema.ts';
import { configKeys } from './schema.ts';

function typeOf(s: Setting<unknown>): string {
  const urls = s.protocols?.map((p) => `\`${p}//\``).join(' or ');
  switch (s.kind) {
    case 'string':
      if (s.redact === 'secret') return 'secret string';
      if (s.isPath) return 'path';
      return urls ? `${urls} URL` : 'string';
    case 'int': {
      const unit = s.unit ? ` (${s.unit})` : '';
      if (s.min !== undefined && s.max !== undefined) return `integer ${s.min}–${s.max}${unit}`;
      if (s.min !== undefined) return `integer ≥ ${s.min}${unit}`;
      return `integer${unit}`;
    }
    case 'bool':
      return 'boolean';
    case 'enum':
      return `one of ${(s.values ?? []).map((v) => `\`${v}\``).join(', ')}`;
    case 'list':
      return urls ? `list of ${urls} URLs` : 'list of strings';
  }
}

function toml(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(toml).join(', ')}]`;
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

const cell = (s: string): string => s.replaceAll('|', '\\|');

function table(keys: readonly ConfigKey[], prefix: string): string[] {
  const rows = keys.map((k) => {
    const name = prefix ? k.path.slice(prefix.length + 1) : k.path;
    return `| \`${name}\` | ${cell(typeOf(k.setting))} | \`${cell(toml(k.setting.default))}\` | \`${k.env}\` | ${cell(k.setting.description)} |`;
  });
  return ['| key | type | default | environment variable | description |', '|---|---|---|---|---|', ...rows];
}

/** The text of `docs/configuration.md`, generated from `configSchema`. */
export function renderConfigDocs(): string {
  const sections = new Map<string, ConfigKey[]>();
  for (const k of configKeys) {
    const table = k.path.split('.').slice(0, -1).join('.');
    sections.set(table, [...(sections.get(table) ?? []), k]);
  }
  const out = [
    '# Configuration',
    '',
    '<!-- Generated from packages/config/src/schema.ts by `npm run docs:config`; do not edit by hand. -->',
    '',
    'Every Gatehouse process reads its settings once at start, from four sources; a later source',
    'overrides an earlier one, key by key:',
    '',
    '1. the defaults below;',
    '2. a TOML file: `--config <file>`, else the file named by `GATEHOUSE_CONFIG`, else `gatehouse.toml`',
    '   in the working directory if there is one (none is fine);',
    '3. environment variables: `GATEHOUSE_` followed by the key\'s dotted path in upper case with `.`',
    '   replaced by `_` (`database.apim.url` is `GATEHOUSE_DATABASE_APIM_URL`);',
    '4. command-line flags after the subcommand: `--<dotted.path> <value>` or `--<dotted.path>=<value>`',
    '   for every key (`gatehouse start --gateway.http_port 8080`).',
    '',
    'Values from the environment and flags are text: integers in decimal, booleans `true`, `false`,',
    '`1` or `0`, lists comma-separated (`nats://a:4222,nats://b:4222`). In the TOML file each value',
    'has its TOML type (`https_port = 9443`, `labels = ["Default", "eu"]`). A bare boolean flag',
    '(`--metrics.enabled`) means `true`; a `-` in a flag name may stand for `_`.',
    '',
    'Shortcut flags:',
    '',
    '| flag | sets |',
    '|---|---|',
    '| `--config <file>` | the TOML file to read |',
    '| `--profile <name>` | `profile` |',
    '| `--data-dir <dir>` | `data_dir` |',
    '| `--control-plane <url>` | `control_plane.url` |',
    '| `--event-hub <urls>` | `event_hub.type = "nats"` and `event_hub.servers` |',
    '| `--workers <n>` | `gateway.workers` |',
    '',
    'Unknown keys in the file, unknown `GATEHOUSE_*` variables and unknown flags are errors (with a',
    'suggestion when the name is close to a real one). `GATEHOUSE_CONFIG` and every variable starting',
    'with `GATEHOUSE_TEST_` are reserved and not config keys.',
    '',
    'Everything is validated before the process starts, and every problem is reported at once, each',
    'with the key and where its value came from (`gatehouse.toml:12`, `GATEHOUSE_GATEWAY_WORKERS`,',
    '`--workers`). Checks across keys:',
    '',
    '- `database.<db>.type = "postgres"` needs `database.<db>.url`; a URL with `type = "sqlite"` is an',
    '  error (the gateway and traffic-manager profiles open no database and skip these checks);',
    '- `event_hub.type = "nats"` needs at least one server, and servers need `type = "nats"`;',
    '  `event_hub.user` and `event_hub.password` go together, and only one of user/password, token and',
    '  creds file may be set;',
    '- `tls.cert_file` and `tls.key_file`: both or neither;',
    '- the ports a profile listens on must differ (all-in-one: `server.https_port`, `server.http_port`,',
    '  `gateway.https_port`, `gateway.http_port`); port 0 (any free port) never clashes;',
    '- the `gateway` and `traffic-manager` profiles need `control_plane.url`.',
    '',
    'Relative paths (`data_dir`, the SQLite files, the TLS files, `event_hub.creds_file`) are resolved',
    'against the working directory of the process, wherever they were set, including in the TOML',
    'file. Empty values that stand for a derived one are filled in when loading: an empty',
    '`database.<db>.path` becomes `<data_dir>/apim.db` or `<data_dir>/shared.db` (SQLite only), an',
    'empty `server.public_url` becomes `https://localhost:<server.https_port>`.',
    '',
    'Secrets (`admin.password`, `event_hub.password`, `event_hub.token`) and passwords inside URLs are',
    'never logged or echoed in error messages.',
    '',
    '## Example: a gateway in a distributed deployment',
    '',
    '```toml',
    'profile = "gateway"',
    'data_dir = "/var/lib/gatehouse"',
    '',
    '[gateway]',
    'host = "0.0.0.0"',
    'labels = ["Default"]',
    '',
    '[control_plane]',
    'url = "https://cp.internal:9443"',
    '',
    '[event_hub]',
    'type = "nats"',
    'servers = ["nats://nats-1:4222", "nats://nats-2:4222"]',
    'creds_file = "/etc/gatehouse/gateway.creds"',
    '```',
    '',
    '## Keys',
  ];
  for (const [name, keys] of sections) {
    out.push('', name === '' ? '### Top level' : `### \`[${name}]\``, '', ...table(keys, name));
  }
  out.push('');
  return out.join('\n');
}
