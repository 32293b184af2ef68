/**
 * JSON schemas of the Publisher's bodies and answers, written from WSO2's publisher-v4 contract
 * (field names and types as WSO2 has them). Request bodies reject fields no WSO2 schema knows;
 * answers are serialized through them, so nothing else leaks out.
 */

const str = { type: 'string' } as const;
const strOrNull = { type: ['string', 'null'] } as const;
const bool = { type: 'boolean' } as const;
const int = { type: 'integer' } as const;
const strList = { type: 'array', items: str } as const;
const anyObject = { type: 'object', additionalProperties: true } as const;
const anyObjectOrNull = { type: ['object', 'null'], additionalProperties: true } as const;

export const pagination = {
  type: 'object',
  additionalProperties: false,
  properties: { offset: int, limit: int, total: int, next: str, previous: str },
} as const;

export const errorBody = {
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: int,
    message: str,
    description: str,
    moreInfo: str,
    error: { type: 'array', items: { type: 'object', properties: { code: {}, message: str, description: str } } },
  },
} as const;

export const scope = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { id: str, name: { type: 'string', minLength: 1, maxLength: 255 }, displayName: str, description: str, bindings: strList, usageCount: int },
} as const;

const operationPolicy = {
  type: 'object',
  additionalProperties: false,
  required: ['policyName'],
  properties: { policyName: str, policyVersion: str, policyId: str, parameters: anyObject },
} as const;

export const apiOperation = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: str,
    target: str,
    verb: str,
    authType: str,
    throttlingPolicy: strOrNull,
    scopes: strList,
    usedProductIds: strList,
    amznResourceName: strOrNull,
    amznResourceTimeout: { type: ['integer', 'null'] },
    payloadSchema: strOrNull,
    uriMapping: strOrNull,
    operationPolicies: {
      type: 'object',
      additionalProperties: false,
      properties: { request: { type: 'array', items: operationPolicy }, response: { type: 'array', items: operationPolicy }, fault: { type: 'array', items: operationPolicy } },
    },
  },
} as const;

const cors = {
  type: 'object',
  additionalProperties: false,
  properties: {
    corsConfigurationEnabled: bool,
    accessControlAllowOrigins: strList,
    accessControlAllowCredentials: bool,
    accessControlAllowHeaders: strList,
    accessControlAllowMethods: strList,
  },
} as const;

const business = {
  type: 'object',
  additionalProperties: false,
  properties: { businessOwner: strOrNull, businessOwnerEmail: strOrNull, technicalOwner: strOrNull, technicalOwnerEmail: strOrNull },
} as const;

/** WSO2's `API`: every field accepted (unimplemented ones are stored as sent), no other. */
export const api = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'context', 'version'],
  properties: {
    id: str,
    name: { type: 'string', minLength: 1, maxLength: 60, pattern: '^[^~!@#;:%^*()+={}|\\\\<>"\',&$\\[\\]/]*$' },
    description: strOrNull,
    context: { type: 'string', minLength: 1, maxLength: 232 },
    version: { type: 'string', minLength: 1, maxLength: 30, pattern: '^[^~!@#;:%^*()+={}|\\\\<>"\',&/$\\[\\]\\s]+$' },
    provider: { type: 'string', maxLength: 200 },
    lifeCycleStatus: str,
    wsdlInfo: anyObjectOrNull,
    wsdlUrl: strOrNull,
    responseCachingEnabled: bool,
    cacheTimeout: int,
    hasThumbnail: bool,
    isDefaultVersion: bool,
    isRevision: bool,
    revisionedApiId: strOrNull,
    revisionId: { type: ['integer', 'null'] },
    enableSchemaValidation: bool,
    enableSubscriberVerification: bool,
    type: { type: 'string', enum: ['HTTP', 'WS', 'SOAPTOREST', 'SOAP', 'GRAPHQL', 'WEBSUB', 'SSE', 'WEBHOOK', 'ASYNC'] },
    audience: { type: ['string', 'null'], enum: ['PUBLIC', 'SINGLE', null] },
    transport: strList,
    tags: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 255 } },
    policies: strList,
    apiThrottlingPolicy: strOrNull,
    authorizationHeader: strOrNull,
    securityScheme: strList,
    maxTps: { type: ['object', 'null'], additionalProperties: false, properties: { production: int, sandbox: int } },
    visibility: { type: 'string', enum: ['PUBLIC', 'PRIVATE', 'RESTRICTED'] },
    visibleRoles: strList,
    visibleTenants: strList,
    mediationPolicies: { type: 'array', items: { type: 'object', additionalProperties: false, properties: { id: str, name: str, type: str, shared: bool } } },
    subscriptionAvailability: { type: 'string', enum: ['CURRENT_TENANT', 'ALL_TENANTS', 'SPECIFIC_TENANTS'] },
    subscriptionAvailableTenants: strList,
    additionalProperties: { type: 'array', items: anyObject },
    additionalPropertiesMap: anyObject,
    monetization: { type: ['object', 'null'], additionalProperties: false, properties: { enabled: bool, properties: anyObject } },
    accessControl: { type: 'string', enum: ['NONE', 'RESTRICTED'] },
    accessControlRoles: strList,
    businessInformation: business,
    corsConfiguration: cors,
    websubSubscriptionConfiguration: anyObjectOrNull,
    workflowStatus: strOrNull,
    createdTime: strOrNull,
    lastUpdatedTime: strOrNull,
    endpointConfig: anyObjectOrNull,
    endpointImplementationType: { type: 'string', enum: ['INLINE', 'ENDPOINT', 'MOCKED_OAS'] },
    scopes: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, required: ['scope'], properties: { scope, shared: bool } },
    },
    operations: { type: 'array', items: apiOperation },
    threatProtectionPolicies: anyObjectOrNull,
    categories: strList,
    // WSO2 4.2 types it `object`, yet sends and takes a list of names (`["all"]`); a name alone is a list of one, anything else all.
    keyManagers: {},
    serviceInfo: anyObjectOrNull,
    advertiseInfo: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: { advertised: bool, apiExternalProductionEndpoint: strOrNull, apiExternalSandboxEndpoint: strOrNull, originalDevPortalUrl: strOrNull, apiOwner: strOrNull, vendor: str },
    },
    gatewayVendor: strOrNull,
    asyncTransportProtocols: strList,
  },
} as const;

/** `additionalProperties` of import-openapi: an `API` whose name, context and version may come from the definition. */
export const importProperties = { ...api, required: [] } as const;

export const apiInfo = {
  type: 'object',
  properties: {
    id: str, name: str, description: str, context: str, version: str, provider: str, type: str,
    lifeCycleStatus: str, hasThumbnail: bool, securityScheme: strList, createdTime: str, updatedTime: str, advertiseOnly: bool,
  },
} as const;

export const apiList = { type: 'object', properties: { count: int, list: { type: 'array', items: apiInfo }, pagination } } as const;

export const lifecycleState = {
  type: 'object',
  properties: {
    state: str,
    checkItems: { type: 'array', items: { type: 'object', properties: { name: str, value: bool, requiredStates: strList } } },
    availableTransitions: { type: 'array', items: { type: 'object', properties: { event: str, targetState: str } } },
  },
} as const;

export const workflowResponse = {
  type: 'object',
  required: ['workflowStatus'],
  properties: { workflowStatus: { type: 'string', enum: ['CREATED', 'APPROVED', 'REJECTED', 'REGISTERED'] }, jsonPayload: str, lifecycleState },
} as const;

export const lifecycleHistory = {
  type: 'object',
  properties: {
    count: int,
    list: { type: 'array', items: { type: 'object', properties: { previousState: str, postState: str, user: str, updatedTime: str } } },
  },
} as const;

export const revisionDeployment = {
  type: 'object',
  properties: {
    revisionUuid: str, name: str, vhost: str, displayOnDevportal: bool, deployedTime: str, successDeployedTime: str,
    // From WSO2's later contract (4.3+): the gateway acknowledgement state.
    status: str, liveGatewayCount: int, deployedGatewayCount: int, failedGatewayCount: int,
  },
} as const;

export const deploymentTarget = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { revisionUuid: str, name: { type: 'string', minLength: 1 }, vhost: str, displayOnDevportal: bool, deployedTime: str, successDeployedTime: str },
} as const;

export const revision = {
  type: 'object',
  properties: {
    displayName: str, id: str, description: str, createdTime: str,
    apiInfo: { type: 'object', properties: { id: str } },
    deploymentInfo: { type: 'array', items: revisionDeployment },
  },
} as const;

export const revisionBody = {
  type: 'object',
  additionalProperties: false,
  properties: { displayName: str, id: str, description: { type: 'string', maxLength: 255 }, createdTime: str, apiInfo: anyObject, deploymentInfo: { type: 'array' } },
} as const;

export const revisionList = { type: 'object', properties: { count: int, list: { type: 'array', items: revision } } } as const;

export const deploymentList = { type: 'object', properties: { list: { type: 'array', items: revisionDeployment } } } as const;

const docTypes = ['HOWTO', 'SAMPLES', 'PUBLIC_FORUM', 'SUPPORT_FORUM', 'API_MESSAGE_FORMAT', 'SWAGGER_DOC', 'OTHER'];

export const documentBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'sourceType', 'type', 'visibility'],
  properties: {
    documentId: str,
    name: { type: 'string', minLength: 1, maxLength: 255 },
    type: { type: 'string', enum: docTypes },
    summary: strOrNull,
    sourceType: { type: 'string', enum: ['INLINE', 'MARKDOWN', 'URL', 'FILE'] },
    sourceUrl: strOrNull,
    fileName: strOrNull,
    inlineContent: strOrNull,
    otherTypeName: strOrNull,
    visibility: { type: 'string', enum: ['OWNER_ONLY', 'PRIVATE', 'API_LEVEL'] },
    createdTime: strOrNull,
    createdBy: strOrNull,
    lastUpdatedTime: strOrNull,
    lastUpdatedBy: strOrNull,
  },
} as const;

export const document = {
  type: 'object',
  properties: {
    documentId: str, name: str, type: str, summary: str, sourceType: str, sourceUrl: str, fileName: str, inlineContent: str,
    otherTypeName: str, visibility: str, createdTime: str, createdBy: str, lastUpdatedTime: str, lastUpdatedBy: str,
  },
} as const;

export const documentList = { type: 'object', properties: { count: int, list: { type: 'array', items: document }, pagination } } as const;

export const scopeList = { type: 'object', properties: { count: int, list: { type: 'array', items: scope }, pagination } } as const;

const operationPolicySpecAttribute = {
  type: 'object',
  additionalProperties: false,
  properties: { name: str, displayName: str, description: str, validationRegex: str, type: str, required: bool, defaultValue: str, allowedValues: strList },
} as const;

/** WSO2's `OperationPolicyData`. */
export const operationPolicyData = {
  type: 'object',
  additionalProperties: false,
  properties: {
    category: str, id: str, name: str, version: str, displayName: str, description: str, applicableFlows: strList, supportedGateways: strList,
    supportedApiTypes: strList, isAPISpecific: bool, md5: str, policyAttributes: { type: 'array', items: operationPolicySpecAttribute },
  },
} as const;

export const operationPolicyDataList = { type: 'object', properties: { count: int, list: { type: 'array', items: operationPolicyData }, pagination } } as const;

export const validationResponse = {
  type: 'object',
  required: ['isValid'],
  properties: {
    isValid: bool,
    content: str,
    info: { type: 'object', properties: { name: str, version: str, context: str, description: str, openAPIVersion: str, endpoints: strList } },
    errors: { type: 'array', items: { type: 'object', required: ['code', 'message'], properties: { code: str, message: str, description: str } } },
  },
} as const;

export const apiIdParams = { type: 'object', required: ['apiId'], properties: { apiId: str } } as const;
