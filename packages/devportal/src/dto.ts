import type { Selectable } from 'kysely';
import type { SharedSchema } from '@gatehouse/data';
import type { ThrottlePolicy } from '@gatehouse/admin';
import type { OAuthClient } from '@gatehouse/key-manager';
import { effectiveContext } from '@gatehouse/publisher';
import type { CatalogApi } from './catalog.ts';
import type { Application, Comment, KeyMapping, Rating, Subscription } from './store.ts';

export function pagination(offset: number, limit: number, total: number, path: string) {
  return {
    offset,
    limit,
    total,
    next: offset + limit < total ? `${path}?limit=${limit}&offset=${offset + limit}` : '',
    previous: offset > 0 ? `${path}?limit=${limit}&offset=${Math.max(0, offset - limit)}` : '',
  };
}

/** WSO2's `ApplicationInfo` (list entry). */
export function applicationInfo(app: Application, subscriptionCount: number) {
  return {
    applicationId: app.id,
    name: app.name,
    throttlingPolicy: app.throttlingPolicy,
    description: app.description ?? '',
    status: app.status,
    groups: app.groups,
    subscriptionCount,
    attributes: app.attributes,
    owner: app.owner,
    createdTime: String(app.createdAt),
    updatedTime: String(app.updatedAt),
  };
}

/** WSO2's `Application`. */
export function applicationDto(app: Application, subscriptionCount: number, keys: unknown[] = []) {
  return {
    ...applicationInfo(app, subscriptionCount),
    tokenType: app.tokenType,
    keys,
    subscriptionScopes: [],
    hashEnabled: false,
  };
}

/** WSO2's `ApplicationKey`. The consumer secret only when just issued (shown once). */
export function applicationKeyDto(m: KeyMapping, client: OAuthClient | undefined, extra: { consumerSecret?: string; token?: unknown } = {}) {
  return {
    keyMappingId: m.id,
    keyManager: m.keyManager,
    consumerKey: m.consumerKey,
    ...(extra.consumerSecret !== undefined ? { consumerSecret: extra.consumerSecret } : {}),
    supportedGrantTypes: client?.grantTypes ?? [],
    callbackUrl: client?.redirectUris[0] ?? null,
    keyState: m.state === 'COMPLETED' ? 'APPROVED' : m.state,
    keyType: m.keyType,
    // CREATED: generate-keys made the client for this application; MAPPED: map-keys bound an existing one.
    mode: client?.application?.id === m.applicationId ? 'CREATED' : 'MAPPED',
    groupId: null,
    ...(extra.token !== undefined ? { token: extra.token } : {}),
    additionalProperties: client ? { application_access_token_expiry_time: Math.floor(client.accessTokenTtlMs / 1000), refresh_token_expiry_time: Math.floor(client.refreshTokenTtlMs / 1000) } : {},
  };
}

/** WSO2's `APIInfo` as the Developer Portal lists it. */
export function apiInfoDto(api: CatalogApi, avgRating = 0) {
  return {
    id: api.id,
    name: api.name,
    description: api.description ?? '',
    context: api.context,
    version: api.version,
    type: api.type,
    provider: api.provider,
    lifeCycleStatus: api.lifeCycleStatus,
    thumbnailUri: null,
    avgRating: String(avgRating),
    throttlingPolicies: (api.body.policies as string[] | undefined) ?? [],
    advertiseInfo: { advertised: false },
    businessInformation: api.body.businessInformation ?? {},
    isSubscriptionAvailable: api.lifeCycleStatus === 'PUBLISHED' || api.lifeCycleStatus === 'PROTOTYPED',
    monetizationLabel: 'FREE',
    gatewayVendor: 'wso2',
    additionalProperties: api.body.additionalProperties ?? [],
    tags: api.tags,
    createdTime: String(api.createdAt),
    updatedTime: String(api.updatedAt),
  };
}

/** WSO2's Developer Portal `API`: no endpoint config, no backend credentials. */
export function apiDto(api: CatalogApi, endpoints: { environmentName: string; environmentType: string; displayName: string; http?: string; https?: string }[], avgRating = 0) {
  const b = api.body;
  const path = effectiveContext(api.context, api.version);
  return {
    id: api.id,
    name: api.name,
    description: api.description ?? '',
    context: api.context,
    version: api.version,
    provider: api.provider,
    lifeCycleStatus: api.lifeCycleStatus,
    isDefaultVersion: api.isDefaultVersion,
    type: api.type,
    transport: b.transport ?? ['http', 'https'],
    operations: ((b.operations as Record<string, unknown>[] | undefined) ?? []).map((o) => ({ target: o.target, verb: o.verb, authType: o.authType, throttlingPolicy: o.throttlingPolicy, scopes: o.scopes ?? [] })),
    authorizationHeader: b.authorizationHeader ?? 'Authorization',
    securityScheme: b.securityScheme ?? [],
    tags: api.tags,
    tiers: ((b.policies as string[] | undefined) ?? []).map((tierName) => ({ tierName, tierPlan: 'FREE', monetizationAttributes: null })),
    hasThumbnail: false,
    additionalProperties: b.additionalProperties ?? [],
    endpointURLs: endpoints.map((e) => ({
      environmentName: e.environmentName,
      environmentDisplayName: e.displayName,
      environmentType: e.environmentType,
      URLs: { http: e.http ? `${e.http}${path}` : null, https: e.https ? `${e.https}${path}` : null, ws: null, wss: null },
      defaultVersionURLs: api.isDefaultVersion ? { http: e.http ? `${e.http}${api.context.replace('/{version}', '')}` : null, https: e.https ? `${e.https}${api.context.replace('/{version}', '')}` : null } : null,
    })),
    businessInformation: b.businessInformation ?? {},
    environmentList: endpoints.map((e) => e.environmentName),
    scopes: b.scopes ?? [],
    avgRating: String(avgRating),
    advertiseInfo: { advertised: false },
    isSubscriptionAvailable: api.lifeCycleStatus === 'PUBLISHED' || api.lifeCycleStatus === 'PROTOTYPED',
    categories: b.categories ?? [],
    keyManagers: b.keyManagers ?? ['all'],
    createdTime: String(api.createdAt),
    lastUpdatedTime: String(api.updatedAt),
  };
}

/** WSO2's `Subscription`. */
export function subscriptionDto(sub: Subscription, api: CatalogApi | undefined, app: Application | undefined) {
  return {
    subscriptionId: sub.id,
    applicationId: sub.applicationId,
    apiId: sub.apiId,
    apiInfo: api ? apiInfoDto(api) : undefined,
    applicationInfo: app ? applicationInfo(app, 0) : undefined,
    throttlingPolicy: sub.throttlingPolicy,
    requestedThrottlingPolicy: sub.requestedPolicy ?? sub.throttlingPolicy,
    status: sub.status,
    redirectionParams: '',
  };
}

export function documentDto(d: Selectable<SharedSchema['api_documents']>) {
  return {
    documentId: d.id,
    name: d.name,
    type: d.type,
    summary: d.summary ?? '',
    sourceType: d.source_type,
    sourceUrl: d.source_url ?? '',
    otherTypeName: d.other_type_name,
  };
}

export function ratingDto(r: Rating) {
  return { ratingId: r.id, apiId: r.apiId, ratedBy: r.username, rating: r.rating };
}

export function commentDto(c: Comment, replies?: { list: unknown[]; count: number; total: number }) {
  return {
    id: c.id,
    content: c.content,
    createdTime: new Date(c.createdAt).toISOString(),
    createdBy: c.username,
    updatedTime: new Date(c.updatedAt).toISOString(),
    category: c.category,
    parentCommentId: c.parentId,
    entryPoint: 'devPortal',
    commenterInfo: { firstName: '', lastName: '', fullName: c.username },
    replies: replies ? { count: replies.count, list: replies.list, pagination: { offset: 0, limit: replies.count, total: replies.total, next: '', previous: '' } } : { count: 0, list: [], pagination: { offset: 0, limit: 0, total: 0, next: '', previous: '' } },
  };
}

// WSO2's Tier unit time is in milliseconds (devportal-v3 ThrottlingPolicy: `unitTime: 60000, timeUnit: min`).
const UNIT_MS: Record<string, number> = { sec: 1_000, min: 60_000, hour: 3_600_000, day: 86_400_000, month: 2_592_000_000, year: 31_536_000_000 };

/** WSO2's Developer Portal `ThrottlingPolicy` for an Admin application or subscription policy. */
export function throttlingPolicyDto(p: ThrottlePolicy) {
  const d = p.details;
  const limit = p.defaultLimit;
  const window = limit?.requestCount ?? limit?.bandwidth ?? limit?.eventCount;
  const attributes = Object.fromEntries(((d.customAttributes as { name: string; value: string }[] | undefined) ?? []).map((a) => [a.name, a.value]));
  const permissions = d.permissions as { permissionType: 'ALLOW' | 'DENY'; roles: string[] } | undefined;
  return {
    name: p.name,
    description: p.description ?? '',
    policyLevel: p.kind,
    attributes,
    requestCount: limit?.requestCount?.requestCount ?? limit?.bandwidth?.dataAmount ?? limit?.eventCount?.eventCount ?? 0,
    ...(limit?.bandwidth ? { dataUnit: limit.bandwidth.dataUnit } : {}),
    unitTime: window ? window.unitTime * (UNIT_MS[window.timeUnit] ?? 1) : 0,
    timeUnit: window?.timeUnit ?? 'min',
    rateLimitCount: typeof d.rateLimitCount === 'number' ? d.rateLimitCount : 0,
    ...(typeof d.rateLimitTimeUnit === 'string' ? { rateLimitTimeUnit: d.rateLimitTimeUnit } : {}),
    quotaPolicyType: limit?.type === 'BANDWIDTHLIMIT' ? 'BANDWIDTHVOLUME' : 'REQUESTCOUNT',
    tierPlan: d.billingPlan === 'COMMERCIAL' ? 'COMMERCIAL' : 'FREE',
    stopOnQuotaReach: d.stopOnQuotaReach !== false,
    monetizationAttributes: {},
    ...(permissions ? { throttlingPolicyPermissions: { type: permissions.permissionType === 'DENY' ? 'deny' : 'allow', roles: permissions.roles } } : {}),
  };
}
