import type { ServerKeys } from '@gatehouse/core';
import type { ApiOperation } from './openapi.ts';
import type { ApiRecord } from './store/apis.ts';

/** WSO2's lifecycle states, as the API's `lifeCycleStatus` carries them. */
export const LifecycleStates = {
  Created: 'CREATED',
  Prototyped: 'PROTOTYPED',
  Published: 'PUBLISHED',
  Blocked: 'BLOCKED',
  Deprecated: 'DEPRECATED',
  Retired: 'RETIRED',
} as const;
export type LifecycleState = (typeof LifecycleStates)[keyof typeof LifecycleStates];

/** WSO2's default lifecycle (APILifeCycle.xml): state → action → target state. */
export const lifecycleTransitions: Readonly<Record<LifecycleState, Readonly<Record<string, LifecycleState>>>> = Object.freeze({
  CREATED: { Publish: 'PUBLISHED', 'Deploy as a Prototype': 'PROTOTYPED' },
  PROTOTYPED: { Publish: 'PUBLISHED', 'Demote to Created': 'CREATED', 'Deploy as a Prototype': 'PROTOTYPED' },
  PUBLISHED: { Block: 'BLOCKED', 'Deploy as a Prototype': 'PROTOTYPED', 'Demote to Created': 'CREATED', Deprecate: 'DEPRECATED', Publish: 'PUBLISHED' },
  BLOCKED: { Deprecate: 'DEPRECATED', 'Re-Publish': 'PUBLISHED' },
  DEPRECATED: { Retire: 'RETIRED' },
  RETIRED: {},
});

export const CheckItems = {
  DeprecateOldVersions: 'Deprecate old versions after publishing the API',
  RequireResubscription: 'Requires re-subscription when publishing the API',
} as const;

/** `CREATED` → `Created`, as WSO2's lifecycle-state and history answers spell states. */
export function stateLabel(state: string): string {
  return state.charAt(0).toUpperCase() + state.slice(1).toLowerCase();
}

/** Fields that have their own column (or are server-made) and so are not kept in `body`. */
const COLUMN_FIELDS = new Set([
  'id', 'name', 'context', 'version', 'provider', 'type', 'lifeCycleStatus', 'description', 'visibility', 'isDefaultVersion', 'tags',
  'createdTime', 'lastUpdatedTime', 'isRevision', 'revisionedApiId', 'revisionId', 'workflowStatus', 'hasThumbnail', 'wsdlUrl',
]);

export type ApiBody = Record<string, unknown> & {
  name?: string;
  context?: string;
  version?: string;
  provider?: string;
  type?: string;
  description?: string;
  visibility?: string;
  isDefaultVersion?: boolean;
  tags?: string[];
  endpointConfig?: Record<string, unknown> | null;
  operations?: ApiOperation[];
};

/** WSO2's defaults for fields a creator did not send. */
export function withDefaults(body: Record<string, unknown>): Record<string, unknown> {
  return {
    transport: ['http', 'https'],
    policies: ['Unlimited'],
    securityScheme: ['oauth2', 'oauth_basic_auth_api_key_mandatory'],
    authorizationHeader: 'Authorization',
    visibleRoles: [],
    endpointImplementationType: 'ENDPOINT',
    subscriptionAvailability: 'CURRENT_TENANT',
    accessControl: 'NONE',
    corsConfiguration: {
      corsConfigurationEnabled: false,
      accessControlAllowOrigins: ['*'],
      accessControlAllowCredentials: false,
      accessControlAllowHeaders: ['authorization', 'Access-Control-Allow-Origin', 'Content-Type', 'SOAPAction', 'apikey', 'Internal-Key'],
      accessControlAllowMethods: ['GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS'],
    },
    scopes: [],
    operations: [],
    keyManagers: ['all'],
    ...body,
  };
}

/** Splits WSO2's `API` body into the stored body and the (sealed) endpoint security. */
export function splitBody(
  input: ApiBody,
  keys: ServerKeys,
  previousSealed: string | null,
): { body: Record<string, unknown>; endpointSecurity: string | null } {
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) if (!COLUMN_FIELDS.has(k) && v !== undefined) body[k] = v;
  let endpointSecurity: string | null = null;
  const ec = input.endpointConfig;
  if (ec && typeof ec === 'object' && ec.endpoint_security && typeof ec.endpoint_security === 'object') {
    const incoming = structuredClone(ec.endpoint_security) as Record<string, Record<string, unknown>>;
    const previous = previousSealed ? (JSON.parse(keys.open('backend-credential', previousSealed)) as Record<string, Record<string, unknown>>) : {};
    // WSO2 answers passwords blanked; a PUT that sends the blank back keeps the stored secret.
    for (const [stage, conf] of Object.entries(incoming)) {
      if (conf && typeof conf === 'object' && (conf.password === '' || conf.password === undefined) && previous[stage]?.password && previous[stage]?.username === conf.username) {
        conf.password = previous[stage].password;
      }
    }
    endpointSecurity = keys.seal('backend-credential', JSON.stringify(incoming));
    const { endpoint_security: _removed, ...rest } = ec;
    void _removed;
    body.endpointConfig = rest;
  }
  return { body, endpointSecurity };
}

/** The endpoint security to show a caller: everything but the secrets. */
function maskedSecurity(keys: ServerKeys, sealed: string): Record<string, unknown> {
  const conf = JSON.parse(keys.open('backend-credential', sealed)) as Record<string, Record<string, unknown>>;
  const out: Record<string, unknown> = {};
  for (const [stage, c] of Object.entries(conf)) {
    out[stage] = c && typeof c === 'object' ? { ...c, password: '', ...(c.clientSecret !== undefined ? { clientSecret: '' } : {}) } : c;
  }
  return out;
}

const iso = (ms: number) => String(ms);

/** WSO2's `API` answer for a stored record. */
export function toApiDto(r: ApiRecord, keys: ServerKeys): Record<string, unknown> {
  const endpointConfig = r.body.endpointConfig as Record<string, unknown> | undefined;
  return {
    ...r.body,
    id: r.id,
    name: r.name,
    description: r.description ?? undefined,
    context: r.context,
    version: r.version,
    provider: r.provider,
    lifeCycleStatus: r.lifeCycleStatus,
    type: r.type,
    visibility: r.visibility,
    isDefaultVersion: r.isDefaultVersion,
    isRevision: false,
    hasThumbnail: false,
    tags: r.tags,
    workflowStatus: null,
    createdTime: iso(r.createdAt),
    lastUpdatedTime: iso(r.updatedAt),
    ...(endpointConfig ? { endpointConfig: r.endpointSecurity ? { ...endpointConfig, endpoint_security: maskedSecurity(keys, r.endpointSecurity) } : endpointConfig } : {}),
  };
}

/** WSO2's `APIInfo` (list entry). */
export function toApiInfo(r: ApiRecord): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    description: r.description ?? undefined,
    context: r.context,
    version: r.version,
    provider: r.provider,
    type: r.type,
    lifeCycleStatus: r.lifeCycleStatus,
    hasThumbnail: false,
    securityScheme: (r.body.securityScheme as string[] | undefined) ?? [],
    createdTime: iso(r.createdAt),
    updatedTime: iso(r.updatedAt),
    advertiseOnly: false,
  };
}

export function etagOf(r: { id: string; rowVersion: number }): string {
  return `"${r.id}-${r.rowVersion}"`;
}
