import { createHash } from 'node:crypto';
import type { ApiRecord } from './store/apis.ts';

/** Bumped when the artifact's shape changes incompatibly; gateways refuse versions they do not know. */
export const RUNTIME_ARTIFACT_SCHEMA_VERSION = 1;

export interface EndpointGroup {
  /** Primary URLs: one for `http`, several for `load_balance` (round robin), the first of `failover`. */
  urls: string[];
  /** Failover URLs, tried in order when the primary fails (`failover` only). */
  failovers: string[];
  /** Per-endpoint timeout (WSO2's `config.actionDuration`), or null for the gateway default. */
  timeoutMs: number | null;
}

/**
 * What a Gateway loads for one deployed API revision. Built once per revision at deploy time and
 * served by `GET /internal/data/v1/runtime-artifacts`, which adds the deployment's `environment`
 * and `vhost`. Backend credentials stay sealed (`keys.seal('backend-credential', …)`): only
 * processes holding `security.secret` can open them, so the artifact can sit in the database,
 * in a gateway's local snapshot and on the wire without exposing them.
 */
export interface RuntimeArtifact {
  schemaVersion: typeof RUNTIME_ARTIFACT_SCHEMA_VERSION;
  apiId: string;
  revisionId: string;
  revisionNumber: number;
  tenantId: number;
  name: string;
  context: string;
  version: string;
  provider: string;
  type: string;
  isDefaultVersion: boolean;
  lifeCycleStatus: string;
  transport: string[];
  /** `operationPolicies` only on operations that have some (WSO2's addHeader, removeHeader, ...). */
  operations: { target: string; verb: string; authType: string; throttlingPolicy: string; scopes: string[]; operationPolicies?: OperationPolicies }[];
  scopes: { name: string; roles: string[] }[];
  endpoints: { type: string; algorithm: string | null; production: EndpointGroup | null; sandbox: EndpointGroup | null };
  /** Sealed JSON of WSO2's `endpoint_security` ({ production, sandbox }), or null. */
  endpointSecurity: { sealed: string } | null;
  cors: Record<string, unknown> | null;
  subscriptionTiers: string[];
  apiThrottlingPolicy: string | null;
  securitySchemes: string[];
  authorizationHeader: string;
  apiKeyHeader: string;
  /** WSO2's `keyManagers`, only when the API takes some key managers' tokens and not all. */
  keyManagers?: string[];
  maxTps: { production?: number; sandbox?: number } | null;
}

/** WSO2's `APIOperationPolicies`, as the gateway applies them (it refuses the names it does not know). */
export interface OperationPolicies {
  request: OperationPolicy[];
  response: OperationPolicy[];
  fault: OperationPolicy[];
}

export interface OperationPolicy {
  policyName: string;
  policyVersion: string;
  parameters: Record<string, unknown>;
}

function policiesOf(value: unknown): OperationPolicies | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  const flow = (list: unknown): OperationPolicy[] =>
    (Array.isArray(list) ? (list as Record<string, unknown>[]) : [])
      .filter((p) => typeof p?.policyName === 'string')
      .map((p) => ({ policyName: p.policyName as string, policyVersion: typeof p.policyVersion === 'string' ? p.policyVersion : 'v1', parameters: (p.parameters as Record<string, unknown> | undefined) ?? {} }));
  const out = { request: flow(v.request), response: flow(v.response), fault: flow(v.fault) };
  return out.request.length + out.response.length + out.fault.length > 0 ? out : undefined;
}

type Ep = { url?: unknown; config?: { actionDuration?: unknown } } | null | undefined;

function urlsOf(value: unknown): string[] {
  const list = Array.isArray(value) ? (value as Ep[]) : value ? [value as Ep] : [];
  return list.map((e) => (e && typeof e.url === 'string' ? e.url : '')).filter(Boolean);
}

function timeoutOf(value: unknown): number | null {
  const first = (Array.isArray(value) ? value[0] : value) as Ep;
  const d = Number(first?.config?.actionDuration);
  return Number.isFinite(d) && d > 0 ? d : null;
}

function group(ec: Record<string, unknown>, stage: 'production' | 'sandbox'): EndpointGroup | null {
  const primary = ec[`${stage}_endpoints`];
  const urls = urlsOf(primary);
  if (urls.length === 0) return null;
  return { urls, failovers: urlsOf(ec[`${stage}_failovers`]), timeoutMs: timeoutOf(primary) };
}

// Only operations with policies carry the key, so other artifacts (and their checksums) stay as they were.
const withPolicies = (p: OperationPolicies | undefined): { operationPolicies?: OperationPolicies } => (p ? { operationPolicies: p } : {});

// Only an API that restricts its key managers carries the key, so other artifacts (and their checksums) stay as they were.
function restrictedKeyManagers(value: unknown): { keyManagers?: string[] } {
  const list = Array.isArray(value) ? value.filter((k): k is string => typeof k === 'string') : typeof value === 'string' ? [value] : [];
  return list.length === 0 || list.some((k) => k.toLowerCase() === 'all') ? {} : { keyManagers: list };
}

/** Compiles the artifact of a revision from its API snapshot. */
export function compileArtifact(api: ApiRecord, revision: { id: string; number: number }): { artifact: RuntimeArtifact; json: string; checksum: string } {
  const b = api.body;
  const ec = (b.endpointConfig ?? {}) as Record<string, unknown>;
  const operations = ((b.operations as Record<string, unknown>[] | undefined) ?? []).map((o) => ({
    target: String(o.target ?? '/*'),
    verb: String(o.verb ?? 'GET').toUpperCase(),
    authType: typeof o.authType === 'string' ? o.authType : 'Application & Application User',
    throttlingPolicy: typeof o.throttlingPolicy === 'string' ? o.throttlingPolicy : 'Unlimited',
    scopes: Array.isArray(o.scopes) ? (o.scopes as string[]) : [],
    ...withPolicies(policiesOf(o.operationPolicies)),
  }));
  const scopes = ((b.scopes as { scope?: { name?: string; bindings?: string[] } }[] | undefined) ?? [])
    .filter((s) => typeof s?.scope?.name === 'string')
    .map((s) => ({ name: s.scope!.name!, roles: s.scope!.bindings ?? [] }));
  const artifact: RuntimeArtifact = {
    schemaVersion: RUNTIME_ARTIFACT_SCHEMA_VERSION,
    apiId: api.id,
    revisionId: revision.id,
    revisionNumber: revision.number,
    tenantId: api.tenantId,
    name: api.name,
    context: api.context,
    version: api.version,
    provider: api.provider,
    type: api.type,
    isDefaultVersion: api.isDefaultVersion,
    lifeCycleStatus: api.lifeCycleStatus,
    transport: (b.transport as string[] | undefined) ?? ['http', 'https'],
    operations,
    scopes,
    endpoints: {
      type: typeof ec.endpoint_type === 'string' ? ec.endpoint_type : 'http',
      algorithm: typeof ec.algoClassName === 'string' ? ec.algoClassName : null,
      production: group(ec, 'production'),
      sandbox: group(ec, 'sandbox'),
    },
    endpointSecurity: api.endpointSecurity ? { sealed: api.endpointSecurity } : null,
    cors: (b.corsConfiguration as Record<string, unknown> | undefined) ?? null,
    subscriptionTiers: (b.policies as string[] | undefined) ?? [],
    apiThrottlingPolicy: typeof b.apiThrottlingPolicy === 'string' ? b.apiThrottlingPolicy : null,
    securitySchemes: (b.securityScheme as string[] | undefined) ?? [],
    authorizationHeader: typeof b.authorizationHeader === 'string' ? b.authorizationHeader : 'Authorization',
    apiKeyHeader: typeof b.apiKeyHeader === 'string' ? b.apiKeyHeader : 'apikey',
    ...restrictedKeyManagers(b.keyManagers),
    maxTps: (b.maxTps as RuntimeArtifact['maxTps'] | undefined) ?? null,
  };
  const json = JSON.stringify(artifact);
  return { artifact, json, checksum: createHash('sha256').update(json).digest('hex') };
}
