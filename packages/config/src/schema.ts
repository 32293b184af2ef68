/**
 * The configuration schema: every key, its type, its default and its description, in one tree.
 * `GatehouseConfig` is derived from it, `docs/configuration.md` is generated from it, and the
 * environment-variable and flag names are computed from it.
 *
 * @example
 * ```ts
 * // A new key is one line; the type, the env var (GATEHOUSE_GATEWAY_IDLE_TIMEOUT_MS),
 * // the flag (--gateway.idle_timeout_ms) and the docs follow.
 * gateway: { idle_timeout_ms: durationMs(60_000, 'How long an idle client connection stays open.') }
 * ```
 */

/** How a value is shown by `describeConfig` and in error messages. */
export type Redaction = 'secret' | 'url-password';

/** One leaf of the schema. `T` is the type of the value in the loaded config. */
export interface Setting<T> {
  readonly kind: 'string' | 'int' | 'bool' | 'enum' | 'list';
  readonly default: T;
  readonly description: string;
  /** Inclusive bounds of an `int`. */
  readonly min?: number;
  readonly max?: number;
  /** Unit shown in the docs (`ms`). */
  readonly unit?: string;
  /** Allowed values of an `enum`. */
  readonly values?: readonly string[];
  /** Allowed URL schemes (`nats:`) of a `string` or of each item of a `list`; empty string allowed. */
  readonly protocols?: readonly string[];
  /** A filesystem path: resolved to an absolute path against `cwd` when not empty. */
  readonly isPath?: boolean;
  readonly redact?: Redaction;
}

type Extra = Pick<Setting<unknown>, 'min' | 'max' | 'unit' | 'protocols' | 'isPath' | 'redact'>;

export function string(def: string, description: string, extra: Extra = {}): Setting<string> {
  return { kind: 'string', default: def, description, ...extra };
}

/** A string never printed: `describeConfig` shows `***`, errors never echo it. */
export function secret(def: string, description: string): Setting<string> {
  return string(def, description, { redact: 'secret' });
}

/** A file or directory; relative values are resolved against the working directory. */
export function path(def: string, description: string): Setting<string> {
  return string(def, description, { isPath: true });
}

/** A URL with one of the given schemes (`['https:']`), or empty. */
export function url(def: string, description: string, protocols: readonly string[], extra: Extra = {}): Setting<string> {
  return string(def, description, { protocols, ...extra });
}

export function int(def: number, description: string, range: { min?: number; max?: number; unit?: string } = {}): Setting<number> {
  return { kind: 'int', default: def, description, ...range };
}

/** A TCP port; 0 asks the OS for a free one (tests). */
export function port(def: number, description: string): Setting<number> {
  return int(def, description, { min: 0, max: 65535 });
}

/** A duration in whole milliseconds. */
export function durationMs(def: number, description: string): Setting<number> {
  return int(def, description, { min: 0, unit: 'ms' });
}

export function bool(def: boolean, description: string): Setting<boolean> {
  return { kind: 'bool', default: def, description };
}

/** One of a fixed list of strings (`enum` is a reserved word). */
export function oneOf<const V extends readonly [string, ...string[]]>(values: V, def: V[number], description: string): Setting<V[number]> {
  return { kind: 'enum', default: def, description, values };
}

/** A list of strings: a TOML array, or a comma-separated env var / flag value. */
export function stringList(def: readonly string[], description: string, extra: Extra = {}): Setting<readonly string[]> {
  return { kind: 'list', default: def, description, ...extra };
}

export const profiles = ['all-in-one', 'control-plane', 'publisher', 'devportal', 'key-manager', 'gateway', 'traffic-manager'] as const;
export type Profile = (typeof profiles)[number];

const postgresUrl = ['postgres:', 'postgresql:'] as const;
const httpUrl = ['http:', 'https:'] as const;

function database(name: string, file: string) {
  return {
    type: oneOf(['sqlite', 'postgres'], 'sqlite', `Engine of the ${name} database: the embedded SQLite (\`node:sqlite\`) or PostgreSQL.`),
    path: path('', `SQLite file of the ${name} database. Empty: \`<data_dir>/${file}\`. Unused with PostgreSQL.`),
    url: url(
      '',
      `PostgreSQL connection URL of the ${name} database (\`postgres://user:password@host:5432/db\`); required when \`type = "postgres"\`. The password is redacted in logs.`,
      postgresUrl,
      { redact: 'url-password' },
    ),
    pool_max: int(10, `Most connections in this process's PostgreSQL pool for the ${name} database.`, { min: 1, max: 1000 }),
    connect_timeout_ms: int(5000, `How long to wait for a new ${name} database connection before failing.`, { min: 1, unit: 'ms' }),
  };
}

export const configSchema = {
  profile: oneOf(
    profiles,
    'all-in-one',
    'Which components this process runs. `all-in-one` runs everything in one process on SQLite and an in-process event hub; the others are the distributed deployment\'s processes.',
  ),
  node: {
    id: string('', 'Name of this process in logs, metrics and gateway registration; unique per replica. Empty: the CLI derives `<hostname>-<pid>`.'),
  },
  data_dir: path('./data', 'Directory for this node\'s own files: SQLite databases, the generated TLS certificate, the gateway\'s last-known-good snapshot.'),
  server: {
    host: string('127.0.0.1', 'Address the control plane (Publisher, Developer Portal, Admin, Key Manager) binds to. `0.0.0.0` to listen on every interface.'),
    https_port: port(9443, 'HTTPS port of the control plane (WSO2 default 9443).'),
    http_port: port(9763, 'HTTP port of the control plane (WSO2 default 9763).'),
    public_url: url(
      '',
      'Public base URL of the control plane, as clients and the load balancer see it; the OAuth issuer base, so it must be identical on every replica. Empty: `https://localhost:<https_port>` (left empty when `https_port` is 0). A trailing `/` is removed.',
      httpUrl,
    ),
  },
  tls: {
    cert_file: path('', 'PEM certificate (chain) served on the HTTPS ports. Empty: a self-signed certificate is generated into `<data_dir>/tls` at first start.'),
    key_file: path('', 'PEM private key of `cert_file`. Set both or neither.'),
  },
  gateway: {
    host: string('127.0.0.1', 'Address the gateway binds to for API traffic.'),
    http_port: port(8280, 'HTTP port for API traffic (WSO2 default 8280).'),
    https_port: port(8243, 'HTTPS port for API traffic (WSO2 default 8243).'),
    labels: stringList(['Default'], 'Gateway environments this gateway serves: only revisions deployed to one of these are loaded.'),
    resync_interval_ms: durationMs(300_000, 'How often a gateway pulls everything again from the control plane (±10%, so gateways do not all pull at once), besides at start and when its event hub connection comes back: a change whose event never reached the event hub (a control plane that crashed with it queued) is served within this period. A pull that finds the APIs served unchanged rebuilds no route table; a failed one waits for the next period. `0`: never.'),
    workers: int(
      1,
      'Worker processes serving API traffic in the `gateway` profile (node:cluster, sharing the ports; the primary replaces a worker that dies and drains them all on SIGTERM). `0` (or `--workers auto`): one per CPU core. Each worker is a gateway of its own towards the control plane (its own node id `<node>-w<n>`, heartbeat and local throttling counters); they share the local store file.',
      { min: 0, max: 1024 },
    ),
    headers_timeout_ms: durationMs(15_000, 'How long a client may take to send a request\'s headers (counted from its first byte); past it the gateway answers 408 and closes the connection, and nothing reaches the backend.'),
    request_timeout_ms: durationMs(120_000, 'How long a client may take to send a whole request, headers and body; past it the gateway answers 408 (or closes) and a buffered body never reaches the backend. At least `headers_timeout_ms`.'),
    keep_alive_timeout_ms: durationMs(5_000, 'How long an idle client connection is kept open between requests.'),
    max_header_bytes: int(16_384, 'Largest request line and headers accepted; larger requests get 431 and never reach the backend.', { min: 1024, max: 1_048_576, unit: 'bytes' }),
    max_body_bytes: int(10 * 1024 * 1024, 'Largest request body accepted; larger ones get 413 (before the backend is called when `Content-Length` says so).', { min: 0, unit: 'bytes' }),
    request_buffer_bytes: int(65_536, 'Request bodies up to this size are read whole before the backend is called (as nginx buffers): a slow or abandoned upload never reaches the backend, and an idempotent call can be retried on another endpoint. Larger bodies stream.', { min: 0, unit: 'bytes' }),
    backend_timeout_ms: durationMs(60_000, 'How long to wait for a backend\'s response headers, and between its body chunks, when the endpoint sets no timeout of its own (WSO2\'s `actionDuration`); past it the call answers 504 (101504).'),
    key_manager_timeout_ms: int(5_000, 'How long one call of the gateway to an external key manager may take, connect to answer: an introspection of one of its opaque tokens (past it the call answers 503, 900900, unless another key manager the API allows vouches for the token) and a fetch of its JWKS (past it the keys fetched last are used). An external key manager on HTTPS must present a certificate the system CAs trust, or one from a CA file named by `NODE_EXTRA_CA_CERTS` in the gateway\'s environment.', { min: 100, max: 120_000, unit: 'ms' }),
    backend_connect_timeout_ms: durationMs(5_000, 'How long to wait for a TCP (and TLS) connection to a backend.'),
    breaker_threshold: int(5, 'Consecutive transport failures (refused, reset, timed out) after which an endpoint is suspended: calls skip it (to the other endpoints, or 303001 with `Retry-After`).', { min: 1, max: 1000 }),
    breaker_cooldown_ms: durationMs(10_000, 'How long a suspended endpoint is skipped before one call tests it again (half-open); a success resumes it.'),
    breaker_max_cooldown_ms: durationMs(300_000, 'Each failed test doubles the suspension, up to this (WSO2\'s suspension progression).'),
    throttling: oneOf(['lease', 'local'], 'lease', 'How the gateway counts throttling limits: `lease` (quota leased from the Traffic Manager over the event hub, so a limit counts once across the cluster; a key\'s first call in a window waits for its first lease, one round trip; with no Traffic Manager answering, each gateway falls back to the limit divided by the live gateways, says so in its log and in `gatehouse_throttle_lease_fallback`, and returns to leases when one answers) or `local` (each gateway counts on its own).'),
    backend_jwt: bool(false, 'Send WSO2\'s backend JWT (`X-JWT-Assertion`) with every secured call, signed by the gateway (its public key at `/health/jwks`).'),
    v8_pretenuring: bool(false, 'Leave V8\'s allocation-site pretenuring on in a process that serves API traffic. Off by default: under proxy load V8 tends to pretenure hot allocation sites, and the per-request objects they then point to survive young-generation collections (in the benchmark 1.4 KB promoted per call instead of 0.1 KB, and scavenge pauses of 5-15 ms instead of 1-3 ms); `true` restores V8\'s default.'),
    trust_forwarded_for: bool(false, 'Take the client address for blocking conditions and permitted IPs from `X-Forwarded-For` (only behind a load balancer that sets it); otherwise the socket\'s peer.'),
  },
  traffic_manager: {
    host: string('127.0.0.1', 'Address the traffic manager\'s health and metrics endpoint binds to.'),
    health_port: port(9611, 'Port of the traffic manager\'s health and metrics endpoint.'),
    store: oneOf(['memory', 'nats-kv'], 'memory', 'Where the traffic manager keeps each limit\'s count per window: `memory` (one replica only: two would each count a limit in full) or `nats-kv` (NATS JetStream KV on the event hub\'s servers, shared by every replica under compare-and-set, so a limit counts once and survives losing a replica; needs `event_hub.type = "nats"`).'),
    kv_bucket: string('gatehouse_throttle', 'JetStream KV bucket of the `nats-kv` store (`[A-Za-z0-9_-]+`), the same on every replica; windows longer than an hour go to `<bucket>_1` and longer than a day to `<bucket>_2`. Windows expire by the bucket\'s TTL (3 h, 3 days).'),
    kv_replicas: int(0, 'Replicas of the `nats-kv` buckets on a NATS cluster (3 so counts survive losing a NATS server). `0`: as `event_hub.replicas`.', { min: 0, max: 5 }),
  },
  control_plane: {
    url: url(
      '',
      'Base URL of the control plane\'s internal data API, used by the `gateway` and `traffic-manager` profiles (required there). A trailing `/` is removed.',
      httpUrl,
    ),
    client_id: string('', 'OAuth client id a gateway or traffic manager uses against the control plane (client_credentials; register it with `/client-registration/v0.17/register` as a user with the admin role). A gateway\'s client needs a `clientName` starting with `gatehouse-internal-` to introspect opaque tokens and check basic-auth passwords at the Key Manager. Required in the `gateway` and `traffic-manager` profiles; all-in-one provisions its own.'),
    client_secret: secret('', 'Secret of `control_plane.client_id`.'),
    ca_file: path('', 'PEM file of the CA (or the self-signed certificate) the control plane\'s HTTPS certificate chains to. Empty: the system CAs.'),
  },
  database: {
    apim: database('apim (WSO2_AM_DB)', 'apim.db'),
    shared: database('shared (WSO2_SHARED_DB)', 'shared.db'),
  },
  event_hub: {
    type: oneOf(['in-process', 'nats'], 'in-process', 'Transport of the event hub: in this process only (all-in-one), or NATS JetStream (distributed).'),
    servers: stringList([], 'NATS server URLs (`nats://host:4222` or `tls://host:4222`); at least one when `type = "nats"`. Credentials in a URL are redacted in logs.', {
      protocols: ['nats:', 'tls:'],
      redact: 'url-password',
    }),
    user: string('', 'NATS user name (with `password`). In a distributed deployment every process (control plane, gateway, traffic manager) connects with credentials, so a NATS server with authorization refuses any other client, which then cannot publish a revocation or a deployment. One of `user` + `password`, `token` or `creds_file`.'),
    password: secret('', 'NATS password (with `user`). Set it with `GATEHOUSE_EVENT_HUB_PASSWORD` or the config file rather than a flag, which every user of the machine can read in `ps`.'),
    token: secret('', 'NATS authentication token (instead of `user` + `password`).'),
    creds_file: path('', 'NATS credentials file (JWT + NKey seed), for a server in operator (decentralised JWT) mode.'),
    stream_prefix: string('gatehouse', 'Prefix of the JetStream stream and consumer names, so several installations can share one NATS cluster.'),
    replicas: int(1, 'JetStream replicas of the event hub\'s streams (and of the traffic manager\'s KV buckets, unless `traffic_manager.kv_replicas` says otherwise): 1 on a single NATS server, 3 on a three-node NATS cluster, so events survive losing a server. Set the same on every process; an existing stream is updated to it at start.', { min: 1, max: 5 }),
  },
  log: {
    level: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info', 'Least severe log level written.'),
  },
  shutdown: {
    timeout_ms: durationMs(10_000, 'How long a stopping process waits for in-flight requests before closing connections.'),
  },
  security: {
    secret: secret('', 'Server secret (at least 32 characters): keys the HMAC under which client secrets and API keys are stored, and encrypts signing keys and backend credentials at rest. Must be the same on every control-plane replica. Empty: generated once into `<data_dir>/server-secret` (all-in-one on SQLite only; required when a database is PostgreSQL).'),
  },
  admin: {
    password: secret('', 'Password of the first admin user, used only when the database has no user yet. Empty: a random one is generated and printed once.'),
  },
  admin_api: {
    discovery_allow_private: bool(false, 'Let `POST /api/am/admin/v4/key-managers/discover` fetch well-known documents from loopback, private and link-local addresses. Off: only public addresses (SSRF protection); turn on for an identity provider on an internal network.'),
    discovery_timeout_ms: int(5000, 'How long the key manager discovery waits for the well-known document (connect + response).', { min: 100, max: 60_000, unit: 'ms' }),
    gateway_expiry_ms: int(90_000, 'A registered gateway whose last heartbeat is older than this is listed as `EXPIRED` in `/environments/{id}/gateways`.', { min: 1000, unit: 'ms' }),
  },
  metrics: {
    enabled: bool(true, 'Serve Prometheus metrics on `/metrics`.'),
  },
  key_manager: {
    signing_alg: oneOf(['ES256', 'RS256'], 'ES256', 'Algorithm of the key that signs JWT access tokens (ID tokens are always RS256). Generated once at first start and kept in the apim database.'),
    access_token_ttl_ms: durationMs(3_600_000, 'Lifetime of access tokens issued to new clients (WSO2 default 3600 s).'),
    refresh_token_ttl_ms: durationMs(86_400_000, 'Lifetime of refresh tokens issued to new clients; each refresh rotates the token and restarts it.'),
    id_token_ttl_ms: durationMs(3_600_000, 'Lifetime of OpenID Connect ID tokens.'),
    authorization_code_ttl_ms: int(600_000, 'Lifetime of authorization codes (RFC 6749 §4.1.2 recommends at most 10 minutes).', { min: 1000, max: 600_000, unit: 'ms' }),
    open_registration: bool(false, 'Let anyone register clients at `POST /oauth2/register` (RFC 7591). Off: a management token with `apim:admin`, `apim:app_manage` or `apim:subscribe` is required as the initial access token.'),
    lockout_threshold: int(10, 'Failed client authentications (per client id + IP) or passwords (per username + IP) within `lockout_window_ms` before that pair is locked out. Also: 10× this per username alone for gateways\' basic-auth checks, and this per user + key manager (3× per user) for the Developer Portal\'s `map-keys` against external key managers.', { min: 1, max: 100_000 }),
    lockout_window_ms: durationMs(60_000, 'Window in which failed attempts are counted.'),
    trusted_issuers: stringList(
      [],
      'Issuers whose signed JWTs the JWT bearer grant (RFC 7523) accepts, each `<issuer>|<jwks_uri>` (e.g. `https://idp.example.com|https://idp.example.com/jwks`). The subject becomes a federated user with only the scopes `Internal/everyone` may obtain.',
    ),
    lockout_ms: durationMs(300_000, 'How long a locked client id + IP (or username + IP) pair is refused, with the same `invalid_client`/`invalid_grant` answer as a wrong secret.'),
  },
  devportal: {
    self_signup: bool(true, 'Let visitors create their own subscriber account at `POST /api/identity/user/v1.0/me` (WSO2 self-registration). With the Admin `USER_SIGNUP` workflow enabled, new accounts stay `PENDING` until an admin approves them.'),
    workflow_reconcile_interval_ms: int(30_000, 'How often the Developer Portal applies the approvals and rejections it missed (their `WORKFLOW_COMPLETE` event lost): applications still `CREATED`, subscriptions still `ON_HOLD` and sign-ups still `PENDING` whose workflow Admin has completed; and opens the workflow of any such item that has none (see `workflow_missing_grace_ms`); also once at start.', { min: 1000, unit: 'ms' }),
    workflow_missing_grace_ms: durationMs(60_000, 'How long an application `CREATED`, a subscription `ON_HOLD` or a sign-up `PENDING` may be without an approval workflow before the reconciler opens one for it (a sign-up whose workflow could not be written: users live in the shared database, workflows in apim), or approves it if Admin has turned that workflow type off since. Younger ones are left to the request still writing their workflow.'),
  },
  publisher: {
    max_definition_bytes: int(10 * 1024 * 1024, 'Largest OpenAPI definition accepted by `import-openapi`, `validate-openapi` and `PUT /swagger` (upload, inline or fetched from a URL); larger ones answer 413.', { min: 1024, unit: 'bytes' }),
    max_document_bytes: int(10 * 1024 * 1024, 'Largest document file or inline content accepted by `POST /apis/{apiId}/documents/{documentId}/content`; larger ones answer 413.', { min: 1024, unit: 'bytes' }),
    definition_fetch_timeout_ms: durationMs(10_000, 'How long fetching an OpenAPI definition from a `url` may take in all.'),
    allow_private_definition_urls: bool(false, 'Let `url` definitions be fetched from loopback, private and link-local addresses. Off, such URLs are refused (server-side request forgery).'),
    usage_retention_days: int(30, 'How long the per-minute usage figures the Publisher shows (`GET /apis/{apiId}/usage`, folded from the gateways\' analytics events) are kept; older minutes are deleted hourly.', { min: 1, max: 3650, unit: 'days' }),
  },
};

/** The loaded config's type, derived from a schema tree (every level read-only). */
export type ConfigOf<S> = { readonly [K in keyof S]: S[K] extends Setting<infer T> ? T : ConfigOf<S[K]> };

/** The loaded, validated, deeply frozen configuration. */
export type GatehouseConfig = ConfigOf<typeof configSchema>;

/** One schema leaf with the names it is set by. */
export interface ConfigKey {
  /** Dotted path: `database.apim.url`. */
  readonly path: string;
  /** `GATEHOUSE_DATABASE_APIM_URL`. */
  readonly env: string;
  /** `--database.apim.url`. */
  readonly flag: string;
  readonly setting: Setting<unknown>;
}

export function isSetting(node: unknown): node is Setting<unknown> {
  return typeof node === 'object' && node !== null && typeof (node as { kind?: unknown }).kind === 'string' && 'description' in node;
}

export const ENV_PREFIX = 'GATEHOUSE_';

export function envName(dottedPath: string): string {
  return ENV_PREFIX + dottedPath.toUpperCase().replaceAll('.', '_');
}

function walk(node: Record<string, unknown>, prefix: string, out: ConfigKey[]): void {
  for (const [name, child] of Object.entries(node)) {
    const p = prefix ? `${prefix}.${name}` : name;
    if (isSetting(child)) out.push({ path: p, env: envName(p), flag: `--${p}`, setting: child });
    else walk(child as Record<string, unknown>, p, out);
  }
}

/** Every key of `configSchema`, in schema order. */
export const configKeys: readonly ConfigKey[] = (() => {
  const out: ConfigKey[] = [];
  walk(configSchema, '', out);
  return Object.freeze(out);
})();

/** Dotted paths of the tables (`server`, `database.apim`), for unknown-key checks. */
export const configGroups: ReadonlySet<string> = new Set(
  configKeys.flatMap((k) => {
    const parts = k.path.split('.');
    return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('.'));
  }),
);
