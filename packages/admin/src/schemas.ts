/**
 * JSON schemas of the Admin API's bodies and responses, written for Gatehouse after WSO2's
 * admin-v4 contract: same field names and shapes, stricter where WSO2 is loose (unknown fields
 * are refused, limits must be positive). Request schemas refuse unknown fields; response
 * schemas describe exactly what is sent.
 */
import { WorkflowTypes } from './store/workflows.ts';

const str = (extra: Record<string, unknown> = {}) => ({ type: 'string', ...extra });
const int = (extra: Record<string, unknown> = {}) => ({ type: 'integer', ...extra });
const bool = { type: 'boolean' };
const strict = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', additionalProperties: false, required, properties });

export const ErrorSchema = {
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: int(),
    message: str(),
    description: str(),
    moreInfo: str(),
    error: { type: 'array', items: { type: 'object', properties: { code: int(), message: str() } } },
  },
};

const timeBase = { timeUnit: str({ minLength: 1 }), unitTime: int({ minimum: 1 }) };
export const ThrottleLimitSchema = strict(
  {
    type: str({ enum: ['REQUESTCOUNTLIMIT', 'BANDWIDTHLIMIT', 'EVENTCOUNTLIMIT'] }),
    requestCount: strict({ ...timeBase, requestCount: int({ minimum: 1 }) }, ['timeUnit', 'unitTime', 'requestCount']),
    bandwidth: strict({ ...timeBase, dataAmount: int({ minimum: 1 }), dataUnit: str({ enum: ['KB', 'MB', 'GB'] }) }, ['timeUnit', 'unitTime', 'dataAmount', 'dataUnit']),
    eventCount: strict({ ...timeBase, eventCount: int({ minimum: 1 }) }, ['timeUnit', 'unitTime', 'eventCount']),
  },
  ['type'],
);

export const ThrottleConditionSchema = strict(
  {
    type: str({ enum: ['HEADERCONDITION', 'IPCONDITION', 'JWTCLAIMSCONDITION', 'QUERYPARAMETERCONDITION'] }),
    invertCondition: bool,
    headerCondition: strict({ headerName: str({ minLength: 1 }), headerValue: str() }, ['headerName', 'headerValue']),
    ipCondition: strict({ ipConditionType: str({ enum: ['IPRANGE', 'IPSPECIFIC'] }), specificIP: str(), startingIP: str(), endingIP: str() }),
    jwtClaimsCondition: strict({ claimUrl: str({ minLength: 1 }), attribute: str() }, ['claimUrl', 'attribute']),
    queryParameterCondition: strict({ parameterName: str({ minLength: 1 }), parameterValue: str() }, ['parameterName', 'parameterValue']),
  },
  ['type'],
);

export const ConditionalGroupSchema = strict(
  { description: str(), conditions: { type: 'array', items: ThrottleConditionSchema }, limit: ThrottleLimitSchema },
  ['conditions', 'limit'],
);

const policyBase = {
  policyId: str({ readOnly: true }),
  policyName: str({ minLength: 1, maxLength: 60, pattern: '^[^\\s~!@#;:%^*()+={}|\\\\<>"\',&$/]+$' }),
  displayName: str({ maxLength: 512 }),
  description: str({ maxLength: 1024 }),
  isDeployed: bool,
  type: str(),
};

const subscriptionExtras = {
  rateLimitCount: int({ minimum: 0 }),
  rateLimitTimeUnit: str(),
  stopOnQuotaReach: bool,
  billingPlan: str({ enum: ['FREE', 'COMMERCIAL'] }),
  customAttributes: { type: 'array', items: strict({ name: str({ minLength: 1 }), value: str() }, ['name', 'value']) },
  subscriberCount: int({ minimum: 0 }),
  permissions: strict({ permissionType: str({ enum: ['ALLOW', 'DENY'] }), roles: { type: 'array', items: str() } }, ['permissionType', 'roles']),
  monetization: strict({ monetizationPlan: str({ enum: ['FIXEDRATE', 'DYNAMICRATE'] }), properties: { type: 'object', additionalProperties: str() } }, ['monetizationPlan', 'properties']),
  graphQLMaxComplexity: int({ minimum: 0 }),
  graphQLMaxDepth: int({ minimum: 0 }),
};

/** Request and response schema of each policy kind. */
export const PolicySchemas = {
  advanced: strict({ ...policyBase, defaultLimit: ThrottleLimitSchema, conditionalGroups: { type: 'array', items: ConditionalGroupSchema } }, ['policyName', 'defaultLimit']),
  application: strict({ ...policyBase, defaultLimit: ThrottleLimitSchema }, ['policyName', 'defaultLimit']),
  subscription: strict({ ...policyBase, defaultLimit: ThrottleLimitSchema, ...subscriptionExtras }, ['policyName', 'defaultLimit']),
  custom: strict({ ...policyBase, keyTemplate: str({ minLength: 1 }), siddhiQuery: str({ minLength: 1 }) }, ['policyName', 'keyTemplate', 'siddhiQuery']),
} as const;

/** WSO2 lists advanced policies without their conditional groups (`AdvancedThrottlePolicyInfo`). */
export const AdvancedPolicyInfoSchema = strict({ ...policyBase, defaultLimit: ThrottleLimitSchema }, ['policyName']);

export const listOf = (item: unknown) => ({ type: 'object', required: ['count', 'list'], properties: { count: int(), list: { type: 'array', items: item } } });

export const PolicyDetailsSchema = {
  type: 'object',
  required: ['policyName'],
  properties: { uuid: str(), policyName: str(), displayName: str(), description: str(), isDeployed: bool, type: str() },
};

export const BlockingConditionSchema = {
  type: 'object',
  required: ['conditionType', 'conditionValue'],
  properties: {
    conditionId: str({ readOnly: true }),
    conditionType: str({ enum: ['API', 'APPLICATION', 'IP', 'IPRANGE', 'USER'] }),
    // A string for API, APPLICATION and USER; an object for IP and IPRANGE (checked per type).
    // The properties are listed so the response serializer keeps them (an object without properties is sent as {}).
    conditionValue: { type: ['string', 'object'], properties: { fixedIp: str(), startingIp: str(), endingIp: str(), invert: bool } },
    conditionStatus: bool,
  },
};
export const BlockingConditionBody = { ...BlockingConditionSchema, additionalProperties: false };
export const BlockingConditionStatusBody = strict({ conditionId: str(), conditionStatus: bool }, ['conditionStatus']);

export const VHostSchema = strict(
  {
    host: str({ minLength: 1, maxLength: 255, pattern: '^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\\-]*[a-zA-Z0-9])\\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9\\-]*[A-Za-z0-9])$' }),
    httpContext: str({ maxLength: 255, pattern: '^\\/?([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\\-]*[a-zA-Z0-9])*$' }),
    httpPort: int({ minimum: 1, maximum: 65535 }),
    httpsPort: int({ minimum: 1, maximum: 65535 }),
    wsPort: int({ minimum: 1, maximum: 65535 }),
    wssPort: int({ minimum: 1, maximum: 65535 }),
  },
  ['host'],
);

export const EnvironmentSchema = strict(
  {
    id: str({ readOnly: true }),
    name: str({ minLength: 1, maxLength: 255, pattern: '^[^~!@#;:%^*()+={}|\\\\<>"\',&$\\s]+$' }),
    displayName: str({ minLength: 1, maxLength: 255 }),
    description: str({ maxLength: 1023 }),
    provider: str({ maxLength: 64 }),
    isReadOnly: { type: 'boolean', readOnly: true },
    vhosts: { type: 'array', minItems: 1, items: VHostSchema },
  },
  ['name', 'vhosts'],
);

export const GatewayInstanceSchema = {
  type: 'object',
  required: ['gatewayId', 'status'],
  properties: { gatewayId: str(), labels: { type: 'array', items: str() }, lastActive: str({ format: 'date-time' }), status: str({ enum: ['ACTIVE', 'EXPIRED'] }) },
};

const kmFields = {
  id: str({ readOnly: true }),
  name: str({ minLength: 1, maxLength: 100 }),
  displayName: str({ maxLength: 100 }),
  type: str({ minLength: 1, maxLength: 45 }),
  description: str({ maxLength: 256 }),
  wellKnownEndpoint: str(),
  introspectionEndpoint: str(),
  clientRegistrationEndpoint: str(),
  tokenEndpoint: str(),
  displayTokenEndpoint: str(),
  revokeEndpoint: str(),
  displayRevokeEndpoint: str(),
  userInfoEndpoint: str(),
  authorizeEndpoint: str(),
  certificates: strict({ type: str({ enum: ['JWKS', 'PEM'] }), value: str() }),
  issuer: str(),
  alias: str(),
  scopeManagementEndpoint: str(),
  availableGrantTypes: { type: 'array', items: str() },
  enableTokenGeneration: bool,
  enableTokenEncryption: bool,
  enableTokenHashing: bool,
  enableMapOAuthConsumerApps: bool,
  enableOAuthAppCreation: bool,
  enableSelfValidationJWT: bool,
  claimMapping: { type: 'array', items: strict({ remoteClaim: str(), localClaim: str() }) },
  consumerKeyClaim: str(),
  scopesClaim: str(),
  tokenValidation: {
    type: 'array',
    items: strict({ id: int(), enable: bool, type: str({ enum: ['REFERENCE', 'JWT', 'CUSTOM'] }), value: {} }),
  },
  enabled: bool,
  additionalProperties: { type: 'object', additionalProperties: true },
  tokenType: str({ enum: ['EXCHANGED', 'DIRECT', 'BOTH'] }),
};
export const KeyManagerSchema = strict(kmFields, ['name', 'type']);
/** The discovery answer's key manager: what the well-known document told, without name. */
export const DiscoveredKeyManagerSchema = { type: 'object', properties: kmFields };
export const KeyManagerInfoSchema = {
  type: 'object',
  required: ['name', 'type'],
  properties: { id: str(), name: str(), displayName: str(), type: str(), description: str(), enabled: bool, tokenType: str(), issuer: str() },
};
export const WellKnownResponseSchema = { type: 'object', required: ['valid'], properties: { valid: bool, value: DiscoveredKeyManagerSchema } };
export const DiscoverBody = strict({ url: str({ minLength: 1, maxLength: 2048 }), type: str({ maxLength: 45 }) }, ['url']);

export const WorkflowTypesEnum: readonly string[] = WorkflowTypes;
export const WorkflowInfoSchema = {
  type: 'object',
  required: ['workflowType', 'workflowStatus', 'referenceId'],
  properties: {
    workflowType: str({ enum: WorkflowTypesEnum }),
    workflowStatus: str({ enum: ['APPROVED', 'CREATED', 'REJECTED'] }),
    createdTime: str(),
    updatedTime: str(),
    referenceId: str(),
    properties: { type: 'object', additionalProperties: true },
    description: str(),
  },
};
export const WorkflowListSchema = {
  type: 'object',
  required: ['count', 'list'],
  properties: { count: int(), next: str(), previous: str(), list: { type: 'array', items: WorkflowInfoSchema } },
};
export const WorkflowBody = strict(
  { status: str({ enum: ['APPROVED', 'REJECTED'] }), attributes: { type: 'object', additionalProperties: str() }, description: str({ maxLength: 1024 }) },
  ['status'],
);
export const WorkflowSchema = {
  type: 'object',
  required: ['status'],
  properties: { status: str({ enum: ['APPROVED', 'REJECTED'] }), attributes: { type: 'object', additionalProperties: str() }, description: str() },
};

export const ScopeSchema = { type: 'object', properties: { tag: str(), name: str(), description: str(), roles: { type: 'array', items: str() } } };
export const ScopeListSchema = { type: 'object', required: ['count', 'list'], properties: { count: int(), list: { type: 'array', items: ScopeSchema } } };
export const ScopeListBody = strict(
  { count: int(), list: { type: 'array', items: strict({ tag: str(), name: str({ minLength: 1 }), description: str(), roles: { type: 'array', items: str({ minLength: 1 }) } }, ['name', 'roles']) } },
  ['list'],
);
export const ScopeSettingsSchema = { type: 'object', properties: { name: str() } };

export const RoleAliasListSchema = {
  type: 'object',
  required: ['count', 'list'],
  properties: { count: int(), list: { type: 'array', items: { type: 'object', properties: { role: str(), aliases: { type: 'array', items: str() } } } } },
};
export const RoleAliasListBody = strict(
  { count: int(), list: { type: 'array', maxItems: 1000, items: strict({ role: str({ minLength: 1, maxLength: 255 }), aliases: { type: 'array', maxItems: 100, items: str({ minLength: 1, maxLength: 255 }) } }, ['role', 'aliases']) } },
  ['list'],
);
