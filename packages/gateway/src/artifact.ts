import type { CorsConfig, EndpointGroup, OperationPolicies, RuntimeApi } from './runtime-api.ts';

/** The runtime-artifact schema versions this gateway understands (the Publisher's `schemaVersion`). */
export const SUPPORTED_ARTIFACT_VERSIONS: ReadonlySet<number> = new Set([1]);

/** One entry of `GET /internal/data/v1/runtime-artifacts`: an API revision deployed to an environment. */
export interface DeployedArtifact {
  readonly schemaVersion: number;
  readonly apiId: string;
  readonly revisionId: string;
  readonly name: string;
  readonly context: string;
  readonly version: string;
  readonly isDefaultVersion: boolean;
  readonly lifeCycleStatus: string;
  readonly operations: readonly { target: string; verb: string; authType: string; throttlingPolicy?: string; scopes?: string[]; operationPolicies?: OperationPolicies }[];
  /** API-level policies (WSO2 4.3's `apiPolicies`; a 4.2 Publisher never sets them). */
  readonly apiPolicies?: OperationPolicies | null;
  readonly endpoints: {
    readonly type: string;
    readonly production: { urls: string[]; failovers?: string[]; timeoutMs?: number | null } | null;
    readonly sandbox: { urls: string[]; failovers?: string[]; timeoutMs?: number | null } | null;
  };
  readonly cors: Record<string, unknown> | null;
  readonly apiThrottlingPolicy?: string | null;
  /** WSO2's `securityScheme`: `oauth2`, `api_key`, `oauth_basic_auth_api_key_mandatory`, ... */
  readonly securitySchemes?: string[];
  readonly apiKeyHeader?: string;
  /** WSO2's `keyManagers`: the key managers whose tokens the API takes (absent: all). */
  readonly keyManagers?: string[];
  /** Publisher's maximum backend throughput (calls per second), per endpoint type. */
  readonly maxTps?: { production?: number; sandbox?: number } | null;
  /** The API's scopes with the roles bound to them. */
  readonly scopes?: readonly { name: string; roles: string[] }[];
  readonly environment: string;
  readonly vhost: string;
  readonly checksum: string;
}

/** The environment whose vhost takes any Host, so calls to 127.0.0.1 or through a load balancer match. */
const ANY_HOST_ENVIRONMENT = 'Default';

function group(type: string, g: DeployedArtifact['endpoints']['production']): EndpointGroup | undefined {
  if (!g || g.urls.length === 0) return undefined;
  const timeoutMs = g.timeoutMs ?? undefined;
  if (type === 'failover') return { type: 'failover', urls: [...g.urls, ...(g.failovers ?? [])], timeoutMs };
  if (type === 'load_balance') return { type: 'load_balance', urls: g.urls, timeoutMs };
  return { type: 'http', urls: g.urls.slice(0, 1), timeoutMs };
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** WSO2's `corsConfiguration` (accessControlAllow*) to the gateway's CORS policy config. */
function cors(c: Record<string, unknown> | null): CorsConfig | undefined {
  if (!c || c.corsConfigurationEnabled !== true) return undefined;
  return {
    enabled: true,
    allowOrigins: strings(c.accessControlAllowOrigins),
    allowMethods: strings(c.accessControlAllowMethods).map((m) => m.toUpperCase()),
    allowHeaders: strings(c.accessControlAllowHeaders),
    allowCredentials: c.accessControlAllowCredentials === true,
  };
}

/**
 * The Publisher's artifacts for this gateway's environments, as the router's RuntimeApis: one per
 * API, answering on every vhost it is deployed to. Throws on an artifact version this gateway does
 * not know, so an old gateway never half-understands a new artifact.
 */
export function toRuntimeApis(artifacts: readonly DeployedArtifact[]): RuntimeApi[] {
  const byApi = new Map<string, { artifact: DeployedArtifact; hosts: Set<string>; anyHost: boolean }>();
  for (const a of artifacts) {
    if (!SUPPORTED_ARTIFACT_VERSIONS.has(a.schemaVersion)) throw new Error(`runtime artifact of ${a.name} ${a.version} has schema version ${a.schemaVersion}, unknown to this gateway`);
    let entry = byApi.get(a.apiId);
    if (!entry) {
      entry = { artifact: a, hosts: new Set(), anyHost: false };
      byApi.set(a.apiId, entry);
    }
    if (a.environment === ANY_HOST_ENVIRONMENT) entry.anyHost = true;
    else entry.hosts.add(a.vhost.toLowerCase());
  }
  return [...byApi.values()].map(({ artifact: a, hosts, anyHost }) => ({
    id: a.apiId,
    name: a.name,
    context: a.context,
    version: a.version,
    isDefaultVersion: a.isDefaultVersion,
    hosts: anyHost ? [] : [...hosts],
    status: a.lifeCycleStatus.toUpperCase(),
    operations: a.operations.map((o) => ({ verb: o.verb.toUpperCase(), target: o.target, authType: o.authType, scopes: o.scopes ?? [], throttlingPolicy: o.throttlingPolicy, ...(o.operationPolicies ? { policies: o.operationPolicies } : {}) })),
    endpoints: { production: group(a.endpoints.type, a.endpoints.production), sandbox: group(a.endpoints.type, a.endpoints.sandbox) },
    cors: cors(a.cors),
    apiThrottlingPolicy: a.apiThrottlingPolicy ?? undefined,
    securitySchemes: a.securitySchemes,
    apiKeyHeader: a.apiKeyHeader,
    ...(a.keyManagers ? { keyManagers: a.keyManagers } : {}),
    ...(a.maxTps ? { maxTps: a.maxTps } : {}),
    scopes: a.scopes,
    ...(a.apiPolicies ? { policies: a.apiPolicies } : {}),
  }));
}
