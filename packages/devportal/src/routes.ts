import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SUPER_TENANT_ID } from '@gatehouse/core';
import type { GatehouseConfig } from '@gatehouse/config';
import { getPrincipal } from '@gatehouse/key-manager';
import type { ManagementAuth, Principal } from '@gatehouse/key-manager';
import { effectiveContext } from '@gatehouse/publisher';
import { canSee, parseQuery } from './catalog.ts';
import type { Viewer } from './catalog.ts';
import { apiDto, apiInfoDto, applicationDto, applicationInfo, applicationKeyDto, commentDto, documentDto, pagination, ratingDto, subscriptionDto, throttlingPolicyDto } from './dto.ts';
import { DevPortalErrors, invalid, isTooManyAttempts } from './errors.ts';
import { KeyTypes } from './service.ts';
import type { Caller, DevPortalService, KeyType } from './service.ts';
import { SubscriptionStatuses } from './store.ts';
import type { Application } from './store.ts';

export const DEVPORTAL_PREFIX = '/api/am/devportal/v3';
export const PUBLISHER_SUBSCRIPTIONS = '/api/am/publisher/v4/subscriptions';

const str = (extra: Record<string, unknown> = {}) => ({ type: 'string', ...extra });
const int = (extra: Record<string, unknown> = {}) => ({ type: 'integer', ...extra });
const strArray = { type: 'array', items: { type: 'string', maxLength: 512 }, maxItems: 100 };
const page = { type: 'object', properties: { limit: int({ minimum: 1, maximum: 500, default: 25 }), offset: int({ minimum: 0, default: 0 }) } };
const pageWith = (props: Record<string, unknown>) => ({ type: 'object', properties: { ...page.properties, ...props } });
const idParams = (...names: string[]) => ({ type: 'object', required: names, properties: Object.fromEntries(names.map((n) => [n, str({ maxLength: 64 })])) });

const ApplicationBody = {
  type: 'object',
  required: ['name', 'throttlingPolicy'],
  properties: {
    applicationId: str(),
    name: str({ minLength: 1, maxLength: 100, pattern: '^[^~!@#;:%^*()+={}|\\\\<>"\',&$\\[\\]\\/]*$' }),
    throttlingPolicy: str({ minLength: 1, maxLength: 60 }),
    description: str({ maxLength: 512 }),
    tokenType: str({ enum: ['JWT', 'OAUTH', 'DEFAULT'] }),
    status: str(),
    groups: strArray,
    subscriptionCount: int(),
    keys: { type: 'array' },
    attributes: { type: 'object', additionalProperties: { type: 'string', maxLength: 1024 }, maxProperties: 50 },
    subscriptionScopes: { type: 'array' },
    owner: str(),
    hashEnabled: { type: 'boolean' },
    createdTime: str(),
    updatedTime: str(),
  },
};

const SubscriptionBody = {
  type: 'object',
  required: ['applicationId', 'apiId', 'throttlingPolicy'],
  properties: {
    subscriptionId: str(),
    applicationId: str({ minLength: 1, maxLength: 64 }),
    apiId: str({ minLength: 1, maxLength: 64 }),
    throttlingPolicy: str({ minLength: 1, maxLength: 60 }),
    requestedThrottlingPolicy: str({ maxLength: 60 }),
    status: str(),
    redirectionParams: str(),
  },
};

const KeyGenerateBody = {
  type: 'object',
  required: ['keyType'],
  properties: {
    keyType: str({ enum: [...KeyTypes] }),
    keyManager: str({ maxLength: 100 }),
    grantTypesToBeSupported: strArray,
    callbackUrl: str({ maxLength: 2048 }),
    scopes: strArray,
    validityTime: { anyOf: [{ type: 'string', maxLength: 20 }, { type: 'integer' }] },
    clientId: str(),
    clientSecret: str(),
    additionalProperties: { type: 'object' },
  },
};

const KeyMappingBody = {
  type: 'object',
  required: ['consumerKey', 'keyType'],
  properties: {
    consumerKey: str({ minLength: 1, maxLength: 255 }),
    consumerSecret: str({ maxLength: 512 }),
    keyManager: str({ maxLength: 100 }),
    keyType: str({ enum: [...KeyTypes] }),
  },
};

const TokenBody = {
  type: 'object',
  required: ['consumerSecret'],
  properties: {
    consumerSecret: str({ minLength: 1, maxLength: 512 }),
    validityPeriod: int(),
    scopes: strArray,
    revokeToken: str(),
    grantType: str({ enum: ['CLIENT_CREDENTIALS', 'TOKEN_EXCHANGE', 'client_credentials'] }),
    additionalProperties: { type: 'object' },
  },
};

function num(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw invalid('body.validityTime', 'must be a number of seconds');
  return n;
}

export interface RouteDeps {
  config: GatehouseConfig;
  auth: ManagementAuth;
  service: DevPortalService;
}

const callerOf = (p: Principal): Caller => ({ username: p.username, roles: p.roles, tenantId: p.tenantId });

/** The issuer of tokens issued from here, as the Key Manager names it (`<base>/oauth2/token`). */
function issuerOf(config: GatehouseConfig, request: FastifyRequest): string {
  return `${config.server.public_url || `${request.protocol}://${request.host}`}/oauth2/token`;
}

/** Discovery answers anonymous visitors too; a valid token adds what the user's roles may see. */
async function viewerOf(auth: ManagementAuth, request: FastifyRequest): Promise<{ viewer: Viewer | undefined; tenantId: number }> {
  if (request.headers.authorization === undefined) return { viewer: undefined, tenantId: SUPER_TENANT_ID };
  const p = await auth.verify(request.headers.authorization);
  return { viewer: { username: p.username, roles: p.roles }, tenantId: p.tenantId };
}

/**
 * The Developer Portal REST API (`/api/am/devportal/v3`): applications, subscriptions, keys,
 * API keys, discovery, documents, ratings, comments and the signed-in user's password.
 */
export function registerDevPortalRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { auth, service, config } = deps;
  const P = DEVPORTAL_PREFIX;
  const subscribe = auth.requireAnyScope('apim:subscribe');
  const appManage = auth.requireAnyScope('apim:subscribe', 'apim:app_manage');
  const subManage = auth.requireAnyScope('apim:subscribe', 'apim:sub_manage');
  const apiKey = auth.requireAnyScope('apim:subscribe', 'apim:api_key');
  const caller = (request: FastifyRequest) => callerOf(getPrincipal(request));
  const tag = (t: string, summary: string) => ({ tags: [t], summary });

  const subscriptionCount = async (c: Caller, appId: string) => (await service.store.subscriptions.list(c.tenantId, { applicationId: appId })).length;
  const keysOf = async (c: Caller, appId: string) => (await service.keys.list(c, appId)).map((k) => applicationKeyDto(k.mapping, k.client ?? undefined));

  // ---- applications ----
  app.get(`${P}/applications`, { onRequest: appManage, schema: { ...tag('Applications', 'Retrieve the applications of the user'), querystring: pageWith({ query: str({ maxLength: 100 }), groupId: str(), sortBy: str(), sortOrder: str() }) } }, async (request) => {
    const c = caller(request);
    const q = request.query as { limit: number; offset: number; query?: string };
    const { items, total } = await service.applications.list(c, { limit: q.limit, offset: q.offset, ...(q.query ? { query: q.query } : {}) });
    const list = [];
    for (const a of items) list.push(applicationInfo(a, await subscriptionCount(c, a.id)));
    return { count: list.length, list, pagination: pagination(q.offset, q.limit, total, `${P}/applications`) };
  });

  app.post(`${P}/applications`, { onRequest: appManage, schema: { ...tag('Applications', 'Create a new application'), body: ApplicationBody } }, async (request, reply) => {
    const c = caller(request);
    const body = request.body as { name: string; throttlingPolicy: string; description?: string; tokenType?: string; attributes?: Record<string, string>; groups?: string[] };
    const created = await service.applications.create(c, body);
    const status = created.status === 'CREATED' ? 202 : 201;
    return reply.code(status).header('Location', `${P}/applications/${created.id}`).send(applicationDto(created, 0));
  });

  app.get(`${P}/applications/:applicationId`, { onRequest: appManage, schema: { ...tag('Applications', 'Get the details of an application'), params: idParams('applicationId') } }, async (request) => {
    const c = caller(request);
    const { applicationId } = request.params as { applicationId: string };
    const a = await service.applications.get(c, applicationId);
    return applicationDto(a, await subscriptionCount(c, a.id), await keysOf(c, a.id));
  });

  app.put(`${P}/applications/:applicationId`, { onRequest: appManage, schema: { ...tag('Applications', 'Update an application'), params: idParams('applicationId'), body: ApplicationBody } }, async (request) => {
    const c = caller(request);
    const { applicationId } = request.params as { applicationId: string };
    const a = await service.applications.update(c, applicationId, request.body as { name: string; throttlingPolicy: string });
    return applicationDto(a, await subscriptionCount(c, a.id), await keysOf(c, a.id));
  });

  app.delete(`${P}/applications/:applicationId`, { onRequest: appManage, schema: { ...tag('Applications', 'Remove an application'), params: idParams('applicationId') } }, async (request, reply) => {
    const { applicationId } = request.params as { applicationId: string };
    await service.applications.delete(caller(request), applicationId);
    return reply.code(200).send();
  });

  // ---- keys ----
  app.post(`${P}/applications/:applicationId/generate-keys`, { onRequest: appManage, schema: { ...tag('Application Keys', 'Generate application keys'), params: idParams('applicationId'), body: KeyGenerateBody } }, async (request) => {
    const { applicationId } = request.params as { applicationId: string };
    const b = request.body as { keyType: KeyType; keyManager?: string; grantTypesToBeSupported?: string[]; callbackUrl?: string; scopes?: string[]; validityTime?: string | number };
    const validity = num(b.validityTime);
    const out = await service.keys.generate(caller(request), applicationId, {
      keyType: b.keyType,
      ...(b.keyManager ? { keyManager: b.keyManager } : {}),
      ...(b.grantTypesToBeSupported ? { grantTypesToBeSupported: b.grantTypesToBeSupported } : {}),
      ...(b.callbackUrl ? { callbackUrl: b.callbackUrl } : {}),
      ...(b.scopes ? { scopes: b.scopes } : {}),
      ...(validity !== undefined ? { validityTime: validity } : {}),
    }, issuerOf(config, request));
    return applicationKeyDto(out.mapping, out.client, { ...(out.secret !== undefined ? { consumerSecret: out.secret } : {}), ...(out.token ? { token: out.token } : {}) });
  });

  app.post(`${P}/applications/:applicationId/map-keys`, { onRequest: appManage, schema: { ...tag('Application Keys', 'Map application keys'), params: idParams('applicationId'), body: KeyMappingBody } }, async (request, reply) => {
    const { applicationId } = request.params as { applicationId: string };
    const b = request.body as { consumerKey: string; consumerSecret?: string; keyManager?: string; keyType: KeyType };
    let out: Awaited<ReturnType<DevPortalService['keys']['map']>>;
    try {
      out = await service.keys.map(caller(request), applicationId, b);
    } catch (err) {
      // RFC 9110 §10.2.3: when the lockout ends.
      if (isTooManyAttempts(err)) return reply.code(429).header('retry-after', String(err.retryAfterSeconds)).send(err.toWso2Body());
      throw err;
    }
    return applicationKeyDto(out.mapping, out.client);
  });

  app.get(`${P}/applications/:applicationId/oauth-keys`, { onRequest: appManage, schema: { ...tag('Application Keys', 'Retrieve all application keys'), params: idParams('applicationId') } }, async (request) => {
    const { applicationId } = request.params as { applicationId: string };
    const list = await keysOf(caller(request), applicationId);
    return { count: list.length, list };
  });

  app.get(`${P}/applications/:applicationId/oauth-keys/:keyMappingId`, { onRequest: appManage, schema: { ...tag('Application Keys', 'Get the key of a key mapping'), params: idParams('applicationId', 'keyMappingId') } }, async (request) => {
    const { applicationId, keyMappingId } = request.params as { applicationId: string; keyMappingId: string };
    const { mapping, client } = await service.keys.get(caller(request), applicationId, keyMappingId);
    return applicationKeyDto(mapping, client);
  });

  app.put(
    `${P}/applications/:applicationId/oauth-keys/:keyMappingId`,
    { onRequest: appManage, schema: { ...tag('Application Keys', 'Update grant types and callback URL of an application key'), params: idParams('applicationId', 'keyMappingId'), body: { type: 'object', properties: { supportedGrantTypes: strArray, callbackUrl: str({ maxLength: 2048 }) } } } },
    async (request) => {
      const { applicationId, keyMappingId } = request.params as { applicationId: string; keyMappingId: string };
      const b = request.body as { supportedGrantTypes?: string[]; callbackUrl?: string };
      const { mapping, client } = await service.keys.update(caller(request), applicationId, keyMappingId, b);
      return applicationKeyDto(mapping, client);
    },
  );

  app.post(`${P}/applications/:applicationId/oauth-keys/:keyMappingId/regenerate-secret`, { onRequest: appManage, schema: { ...tag('Application Keys', 'Regenerate the consumer secret'), params: idParams('applicationId', 'keyMappingId') } }, async (request, reply) => {
    const { applicationId, keyMappingId } = request.params as { applicationId: string; keyMappingId: string };
    const { mapping, secret } = await service.keys.regenerateSecret(caller(request), applicationId, keyMappingId);
    return reply.header('Cache-Control', 'no-store').send({ consumerKey: mapping.consumerKey, consumerSecret: secret });
  });

  app.post(`${P}/applications/:applicationId/oauth-keys/:keyMappingId/generate-token`, { onRequest: appManage, schema: { ...tag('Application Tokens', 'Generate an application token'), params: idParams('applicationId', 'keyMappingId'), body: TokenBody } }, async (request, reply) => {
    const { applicationId, keyMappingId } = request.params as { applicationId: string; keyMappingId: string };
    const b = request.body as { consumerSecret: string; validityPeriod?: number; scopes?: string[] };
    const token = await service.keys.generateToken(caller(request), applicationId, keyMappingId, b, issuerOf(config, request));
    return reply.header('Cache-Control', 'no-store').send(token);
  });

  app.post(`${P}/applications/:applicationId/oauth-keys/:keyMappingId/clean-up`, { onRequest: appManage, schema: { ...tag('Application Keys', 'Clean up the keys of a key mapping'), params: idParams('applicationId', 'keyMappingId') } }, async (request, reply) => {
    const { applicationId, keyMappingId } = request.params as { applicationId: string; keyMappingId: string };
    await service.keys.cleanUp(caller(request), applicationId, keyMappingId);
    return reply.code(200).send();
  });

  // ---- API keys ----
  const keyTypeParams = { type: 'object', required: ['applicationId', 'keyType'], properties: { applicationId: str({ maxLength: 64 }), keyType: str({ enum: [...KeyTypes] }) } };
  app.post(
    `${P}/applications/:applicationId/api-keys/:keyType/generate`,
    { onRequest: apiKey, schema: { ...tag('API Keys', 'Generate an API key'), params: keyTypeParams, body: { type: ['object', 'null'], properties: { validityPeriod: int(), additionalProperties: { type: 'object', properties: { permittedIP: str({ maxLength: 1024 }), permittedReferer: str({ maxLength: 1024 }) } } } } } },
    async (request, reply) => {
      const { applicationId, keyType } = request.params as { applicationId: string; keyType: KeyType };
      const b = (request.body ?? {}) as { validityPeriod?: number; additionalProperties?: { permittedIP?: string; permittedReferer?: string } };
      const out = await service.apiKeys.generate(caller(request), applicationId, keyType, {
        ...(b.validityPeriod !== undefined ? { validityPeriod: b.validityPeriod } : {}),
        ...(b.additionalProperties?.permittedIP ? { permittedIP: b.additionalProperties.permittedIP } : {}),
        ...(b.additionalProperties?.permittedReferer ? { permittedReferer: b.additionalProperties.permittedReferer } : {}),
      }, issuerOf(config, request));
      return reply.header('Cache-Control', 'no-store').send(out);
    },
  );

  app.post(
    `${P}/applications/:applicationId/api-keys/:keyType/revoke`,
    { onRequest: apiKey, schema: { ...tag('API Keys', 'Revoke an API key'), params: keyTypeParams, body: { type: 'object', required: ['apikey'], properties: { apikey: str({ minLength: 1, maxLength: 16384 }) } } } },
    async (request, reply) => {
      const { applicationId, keyType } = request.params as { applicationId: string; keyType: KeyType };
      await service.apiKeys.revoke(caller(request), applicationId, keyType, (request.body as { apikey: string }).apikey);
      return reply.code(200).send();
    },
  );

  // ---- subscriptions ----
  const subDto = async (c: Caller, subs: Awaited<ReturnType<typeof service.subscriptions.list>>) => {
    const apis = await service.catalog.getMany(c.tenantId, subs.map((s) => s.apiId));
    const apps = new Map<string, Application>();
    const out = [];
    for (const s of subs) {
      const a = apps.get(s.applicationId) ?? (await service.store.applications.get(c.tenantId, s.applicationId));
      if (a) apps.set(a.id, a);
      out.push(subscriptionDto(s, apis.get(s.apiId), a));
    }
    return out;
  };

  app.get(`${P}/subscriptions`, { onRequest: subManage, schema: { ...tag('Subscriptions', 'Get all subscriptions'), querystring: pageWith({ applicationId: str({ maxLength: 64 }), apiId: str({ maxLength: 64 }), groupId: str() }) } }, async (request) => {
    const c = caller(request);
    const q = request.query as { limit: number; offset: number; applicationId?: string; apiId?: string };
    if (q.applicationId === undefined && q.apiId === undefined) throw invalid('query.applicationId', 'either applicationId or apiId is required');
    const all = await service.subscriptions.list(c, { ...(q.applicationId ? { applicationId: q.applicationId } : {}), ...(q.apiId ? { apiId: q.apiId } : {}) });
    const list = await subDto(c, all.slice(q.offset, q.offset + q.limit));
    return { count: list.length, list, pagination: pagination(q.offset, q.limit, all.length, `${P}/subscriptions`) };
  });

  app.post(`${P}/subscriptions`, { onRequest: subManage, schema: { ...tag('Subscriptions', 'Add a new subscription'), body: SubscriptionBody } }, async (request, reply) => {
    const c = caller(request);
    const sub = await service.subscriptions.create(c, request.body as { applicationId: string; apiId: string; throttlingPolicy: string; requestedThrottlingPolicy?: string });
    const [dto] = await subDto(c, [sub]);
    return reply.code(sub.status === SubscriptionStatuses.OnHold ? 202 : 201).header('Location', `${P}/subscriptions/${sub.id}`).send(dto);
  });

  app.get(`${P}/subscriptions/:subscriptionId`, { onRequest: subManage, schema: { ...tag('Subscriptions', 'Get the details of a subscription'), params: idParams('subscriptionId') } }, async (request) => {
    const c = caller(request);
    const { subscriptionId } = request.params as { subscriptionId: string };
    return (await subDto(c, [await service.subscriptions.get(c, subscriptionId)]))[0];
  });

  app.put(`${P}/subscriptions/:subscriptionId`, { onRequest: subManage, schema: { ...tag('Subscriptions', 'Update the tier of a subscription'), params: idParams('subscriptionId'), body: SubscriptionBody } }, async (request) => {
    const c = caller(request);
    const { subscriptionId } = request.params as { subscriptionId: string };
    const b = request.body as { throttlingPolicy: string; requestedThrottlingPolicy?: string };
    const sub = await service.subscriptions.update(c, subscriptionId, b);
    return (await subDto(c, [sub]))[0];
  });

  app.delete(`${P}/subscriptions/:subscriptionId`, { onRequest: subManage, schema: { ...tag('Subscriptions', 'Remove a subscription'), params: idParams('subscriptionId') } }, async (request, reply) => {
    const { subscriptionId } = request.params as { subscriptionId: string };
    await service.subscriptions.delete(caller(request), subscriptionId);
    return reply.code(200).send();
  });

  // ---- discovery ----
  const visible = async (request: FastifyRequest, apiId: string) => {
    const { viewer, tenantId } = await viewerOf(auth, request);
    const api = await service.catalog.get(tenantId, apiId);
    if (!api || !canSee(api, viewer)) throw DevPortalErrors.create('DEVPORTAL_ERR_API_NOT_FOUND', { description: `No API with id ${apiId}` });
    return { api, viewer, tenantId };
  };
  const avg = async (tenantId: number, apiId: string) => (await service.store.ratings.list(tenantId, apiId, { limit: 1, offset: 0 })).average;

  app.get(`${P}/apis`, { schema: { ...tag('APIs', 'Retrieve and search APIs'), querystring: pageWith({ query: str({ maxLength: 1024 }) }) } }, async (request) => {
    const { viewer, tenantId } = await viewerOf(auth, request);
    const q = request.query as { limit: number; offset: number; query?: string };
    const { items, total } = await service.catalog.search(tenantId, parseQuery(q.query), viewer, { limit: q.limit, offset: q.offset });
    const list = [];
    for (const a of items) list.push(apiInfoDto(a, await avg(tenantId, a.id)));
    return { count: list.length, list, pagination: pagination(q.offset, q.limit, total, `${P}/apis`) };
  });

  app.get(`${P}/apis/:apiId`, { schema: { ...tag('APIs', 'Get the details of an API'), params: idParams('apiId') } }, async (request) => {
    const { apiId } = request.params as { apiId: string };
    const { api, tenantId } = await visible(request, apiId);
    return apiDto(api, await service.catalog.endpoints(tenantId, api.id), await avg(tenantId, api.id));
  });

  app.get(`${P}/apis/:apiId/swagger`, { schema: { ...tag('APIs', 'Get the OpenAPI definition of an API'), params: idParams('apiId'), querystring: { type: 'object', properties: { environmentName: str({ maxLength: 255 }) } } } }, async (request) => {
    const { apiId } = request.params as { apiId: string };
    const { environmentName } = request.query as { environmentName?: string };
    const { api, tenantId } = await visible(request, apiId);
    const text = await service.catalog.definition(tenantId, api.id);
    const doc = (text ? JSON.parse(text) : { openapi: '3.0.1', info: { title: api.name, version: api.version }, paths: {} }) as Record<string, unknown>;
    let endpoints = await service.catalog.endpoints(tenantId, api.id);
    if (environmentName !== undefined) {
      endpoints = endpoints.filter((e) => e.environmentName === environmentName);
      if (endpoints.length === 0) throw invalid('query.environmentName', `the API is not deployed to ${environmentName}`);
    }
    const path = effectiveContext(api.context, api.version);
    const urls = endpoints.flatMap((e) => [e.https, e.http].filter((u): u is string => u !== undefined).map((u) => `${u}${path}`));
    if (typeof doc.swagger === 'string') {
      // Swagger 2.0: one host and base path, schemes for the rest.
      const first = urls[0] ? new URL(urls[0]) : undefined;
      if (first) {
        doc.host = first.host;
        doc.basePath = first.pathname;
        doc.schemes = [...new Set(urls.map((u) => new URL(u).protocol.replace(':', '')))];
      }
    } else {
      doc.servers = urls.map((url) => ({ url }));
    }
    return doc;
  });

  app.get(`${P}/apis/:apiId/documents`, { schema: { ...tag('Documents', 'Get a list of the documents of an API'), params: idParams('apiId'), querystring: page } }, async (request) => {
    const { apiId } = request.params as { apiId: string };
    const q = request.query as { limit: number; offset: number };
    const { api, tenantId } = await visible(request, apiId);
    const { items, total } = await service.catalog.documents(tenantId, api.id, q);
    return { count: items.length, list: items.map(documentDto), pagination: pagination(q.offset, q.limit, total, `${P}/apis/${api.id}/documents`) };
  });

  const getDoc = async (request: FastifyRequest) => {
    const { apiId, documentId } = request.params as { apiId: string; documentId: string };
    const { api, tenantId } = await visible(request, apiId);
    const d = await service.catalog.document(tenantId, api.id, documentId);
    if (!d) throw DevPortalErrors.create('DEVPORTAL_ERR_DOCUMENT_NOT_FOUND', { description: `No document ${documentId} in API ${apiId}` });
    return d;
  };
  app.get(`${P}/apis/:apiId/documents/:documentId`, { schema: { ...tag('Documents', 'Get a document of an API'), params: idParams('apiId', 'documentId') } }, async (request) => documentDto(await getDoc(request)));
  app.get(`${P}/apis/:apiId/documents/:documentId/content`, { schema: { ...tag('Documents', 'Get the content of a document'), params: idParams('apiId', 'documentId') } }, async (request, reply: FastifyReply) => {
    const d = await getDoc(request);
    if (d.source_type === 'URL') return reply.redirect(d.source_url ?? '', 303);
    if (d.source_type === 'FILE') {
      if (d.file_content === null) throw DevPortalErrors.create('DEVPORTAL_ERR_DOCUMENT_NOT_FOUND', { description: 'The document has no file yet' });
      return reply
        .type(d.file_media_type ?? 'application/octet-stream')
        .header('Content-Disposition', `attachment; filename="${(d.file_name ?? 'document').replace(/["\\\r\n]/g, '_')}"`)
        .header('X-Content-Type-Options', 'nosniff')
        .send(Buffer.from(d.file_content, 'base64'));
    }
    return reply.type(d.source_type === 'MARKDOWN' ? 'text/markdown; charset=utf-8' : 'text/plain; charset=utf-8').header('X-Content-Type-Options', 'nosniff').send(d.inline_content ?? '');
  });

  app.get(`${P}/tags`, { schema: { ...tag('Tags', 'Get all tags'), querystring: page } }, async (request) => {
    const { viewer, tenantId } = await viewerOf(auth, request);
    const q = request.query as { limit: number; offset: number };
    const all = await service.catalog.tags(tenantId, viewer);
    const list = all.slice(q.offset, q.offset + q.limit);
    return { count: list.length, list, pagination: pagination(q.offset, q.limit, all.length, `${P}/tags`) };
  });

  // ---- throttling policies ----
  // WSO2 documents these with `OAuth2Security: []`: no scope, anonymous visitors too; a token picks
  // its tenant and hides tiers denied to the user's roles.
  const policyLevel = str({ enum: ['application', 'subscription'] });
  const anonymous = { security: [{ OAuth2Security: [] }] };
  app.get(
    `${P}/throttling-policies/:policyLevel`,
    { schema: { ...tag('Throttling Policies', 'Get all available throttling policies'), ...anonymous, params: { type: 'object', required: ['policyLevel'], properties: { policyLevel } }, querystring: page } },
    async (request) => {
      const { policyLevel: level } = request.params as { policyLevel: 'application' | 'subscription' };
      const q = request.query as { limit: number; offset: number };
      const { viewer, tenantId } = await viewerOf(auth, request);
      const all = await service.policies.list(tenantId, level, viewer);
      const list = all.slice(q.offset, q.offset + q.limit).map(throttlingPolicyDto);
      return { count: list.length, list, pagination: pagination(q.offset, q.limit, all.length, `${P}/throttling-policies/${level}`) };
    },
  );
  app.get(
    `${P}/throttling-policies/:policyLevel/:policyId`,
    { schema: { ...tag('Throttling Policies', 'Get details of a throttling policy'), ...anonymous, params: { type: 'object', required: ['policyLevel', 'policyId'], properties: { policyLevel, policyId: str({ minLength: 1, maxLength: 256 }) } } } },
    async (request) => {
      const { policyLevel: level, policyId } = request.params as { policyLevel: 'application' | 'subscription'; policyId: string };
      const { viewer, tenantId } = await viewerOf(auth, request);
      return throttlingPolicyDto(await service.policies.get(tenantId, level, policyId, viewer));
    },
  );

  // ---- ratings ----
  app.get(`${P}/apis/:apiId/ratings`, { schema: { ...tag('Ratings', 'Retrieve the ratings of an API'), params: idParams('apiId'), querystring: page } }, async (request) => {
    const { apiId } = request.params as { apiId: string };
    const q = request.query as { limit: number; offset: number };
    const { api, tenantId, viewer } = await visible(request, apiId);
    const { items, total, average } = await service.store.ratings.list(tenantId, api.id, q);
    const mine = viewer ? await service.store.ratings.get(tenantId, api.id, viewer.username) : undefined;
    return { avgRating: String(average), userRating: mine?.rating ?? 0, count: items.length, list: items.map(ratingDto), pagination: pagination(q.offset, q.limit, total, `${P}/apis/${api.id}/ratings`) };
  });

  const ownVisible = async (request: FastifyRequest) => {
    const c = caller(request);
    const { apiId } = request.params as { apiId: string };
    const api = await service.catalog.get(c.tenantId, apiId);
    if (!api || !canSee(api, c)) throw DevPortalErrors.create('DEVPORTAL_ERR_API_NOT_FOUND', { description: `No API with id ${apiId}` });
    return { c, api };
  };
  app.get(`${P}/apis/:apiId/user-rating`, { onRequest: subscribe, schema: { ...tag('Ratings', "Retrieve the user's rating of an API"), params: idParams('apiId') } }, async (request) => {
    const { c, api } = await ownVisible(request);
    const r = await service.store.ratings.get(c.tenantId, api.id, c.username);
    if (!r) throw DevPortalErrors.create('DEVPORTAL_ERR_RATING_NOT_FOUND', { description: `${c.username} has not rated ${api.name}` });
    return ratingDto(r);
  });
  app.put(`${P}/apis/:apiId/user-rating`, { onRequest: subscribe, schema: { ...tag('Ratings', 'Add or update the user rating of an API'), params: idParams('apiId'), body: { type: 'object', required: ['rating'], properties: { rating: int({ minimum: 1, maximum: 5 }), ratingId: str(), apiId: str(), ratedBy: str() } } } }, async (request) => {
    const { c, api } = await ownVisible(request);
    return ratingDto(await service.store.ratings.put(c.tenantId, api.id, c.username, (request.body as { rating: number }).rating));
  });
  app.delete(`${P}/apis/:apiId/user-rating`, { onRequest: subscribe, schema: { ...tag('Ratings', "Delete the user's rating of an API"), params: idParams('apiId') } }, async (request, reply) => {
    const { c, api } = await ownVisible(request);
    await service.store.ratings.delete(c.tenantId, api.id, c.username);
    return reply.code(200).send();
  });

  // ---- comments ----
  app.get(`${P}/apis/:apiId/comments`, { schema: { ...tag('Comments', 'Retrieve the comments of an API'), params: idParams('apiId'), querystring: page } }, async (request) => {
    const { apiId } = request.params as { apiId: string };
    const q = request.query as { limit: number; offset: number };
    const { api, tenantId } = await visible(request, apiId);
    const { items, total } = await service.store.comments.list(tenantId, api.id, q);
    return { count: items.length, list: items.map((cm) => commentDto(cm)), pagination: pagination(q.offset, q.limit, total, `${P}/apis/${api.id}/comments`) };
  });
  app.post(
    `${P}/apis/:apiId/comments`,
    { onRequest: subscribe, schema: { ...tag('Comments', 'Add a comment to an API'), params: idParams('apiId'), querystring: { type: 'object', properties: { replyTo: str({ maxLength: 64 }) } }, body: { type: 'object', required: ['content'], properties: { content: str({ minLength: 1, maxLength: 4096 }), category: str({ maxLength: 32 }) } } } },
    async (request, reply) => {
      const { c, api } = await ownVisible(request);
      const { replyTo } = request.query as { replyTo?: string };
      if (replyTo !== undefined && !(await service.store.comments.get(c.tenantId, api.id, replyTo))) throw DevPortalErrors.create('DEVPORTAL_ERR_COMMENT_NOT_FOUND', { description: `No comment ${replyTo} to reply to` });
      const b = request.body as { content: string; category?: string };
      const cm = await service.store.comments.create(c.tenantId, { apiId: api.id, username: c.username, content: b.content, category: b.category ?? 'general', parentId: replyTo ?? null });
      return reply.code(201).header('Location', `${P}/apis/${api.id}/comments/${cm.id}`).send(commentDto(cm));
    },
  );
  app.get(`${P}/apis/:apiId/comments/:commentId`, { schema: { ...tag('Comments', 'Get a comment of an API'), params: idParams('apiId', 'commentId') } }, async (request) => {
    const { apiId, commentId } = request.params as { apiId: string; commentId: string };
    const { api, tenantId } = await visible(request, apiId);
    const cm = await service.store.comments.get(tenantId, api.id, commentId);
    if (!cm) throw DevPortalErrors.create('DEVPORTAL_ERR_COMMENT_NOT_FOUND', { description: `No comment ${commentId} on API ${apiId}` });
    const replies = await service.store.comments.list(tenantId, api.id, { limit: 100, offset: 0, parentId: cm.id });
    return commentDto(cm, { list: replies.items.map((r) => commentDto(r)), count: replies.items.length, total: replies.total });
  });
  app.delete(`${P}/apis/:apiId/comments/:commentId`, { onRequest: subscribe, schema: { ...tag('Comments', 'Delete a comment'), params: idParams('apiId', 'commentId') } }, async (request, reply) => {
    const { c, api } = await ownVisible(request);
    const { commentId } = request.params as { commentId: string };
    const cm = await service.store.comments.get(c.tenantId, api.id, commentId);
    if (!cm) throw DevPortalErrors.create('DEVPORTAL_ERR_COMMENT_NOT_FOUND', { description: `No comment ${commentId} on API ${api.id}` });
    // WSO2: the author, or an admin, may delete a comment.
    if (cm.username !== c.username && !c.roles.includes('admin')) throw DevPortalErrors.create('DEVPORTAL_ERR_FORBIDDEN', { description: 'Only the author or an admin may delete a comment' });
    await service.store.comments.delete(c.tenantId, api.id, cm.id);
    return reply.code(200).send();
  });

  // ---- the signed-in user ----
  app.post(
    `${P}/me/change-password`,
    { onRequest: subscribe, schema: { ...tag('Users', "Change the user's password"), body: { type: 'object', required: ['currentPassword', 'newPassword'], properties: { currentPassword: str({ minLength: 1, maxLength: 1024 }), newPassword: str({ maxLength: 1024 }) } } } },
    async (request, reply) => {
      const c = caller(request);
      const b = request.body as { currentPassword: string; newPassword: string };
      const user = await service.users.verify(c.tenantId, c.username, b.currentPassword);
      if (!user) throw DevPortalErrors.create('DEVPORTAL_ERR_WRONG_PASSWORD');
      service.users.checkPassword(c.username, b.newPassword);
      await service.users.setPassword(c.tenantId, user.id, b.newPassword);
      return reply.code(200).send();
    },
  );
}

// WSO2 publisher-v4's answers for the Publisher's subscription operations: the error body
// (`Error`) and the `SubscriptionList` fields Gatehouse fills.
const errorBody = {
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: int(),
    message: str(),
    description: str(),
    moreInfo: str(),
    error: { type: 'array', items: { type: 'object', properties: { code: {}, message: str(), description: str() } } },
  },
};
const publisherSubscriptionList = {
  type: 'object',
  additionalProperties: false,
  properties: {
    count: int(),
    list: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          subscriptionId: str(),
          applicationInfo: {
            type: 'object',
            additionalProperties: false,
            properties: { applicationId: str(), name: str(), subscriber: str(), description: str(), subscriptionCount: int() },
          },
          throttlingPolicy: str(),
          subscriptionStatus: str({ enum: ['BLOCKED', 'PROD_ONLY_BLOCKED', 'UNBLOCKED', 'ON_HOLD', 'REJECTED', 'TIER_UPDATE_PENDING', 'DELETE_PENDING'] }),
        },
      },
    },
    pagination: {
      type: 'object',
      additionalProperties: false,
      properties: { offset: int(), limit: int(), total: int(), next: str(), previous: str() },
    },
  },
};

/**
 * The Publisher side of subscriptions (`/api/am/publisher/v4/subscriptions`): list an API's
 * subscriptions, block (all or production only) and unblock. Exported so the Publisher component
 * registers it; the Developer Portal registers it too while the Publisher does not.
 */
export function publisherSubscriptionRoutes(app: FastifyInstance, deps: { auth: ManagementAuth; service: DevPortalService }): void {
  const { auth, service } = deps;
  const P = PUBLISHER_SUBSCRIPTIONS;
  const failures = Object.fromEntries([400, 401, 403, 404].map((status) => [status, errorBody]));
  // WSO2's operation id and OAuth2 scopes (any one of them suffices), enforced and documented alike.
  const op = (operationId: string, scopes: string[], schema: Record<string, unknown> & { response?: object }) => ({
    onRequest: auth.requireAnyScope(...scopes),
    schema: { operationId, tags: ['Subscriptions'], security: [{ OAuth2Security: scopes }], ...schema, response: { ...failures, ...schema.response } },
  });
  const viewScopes = ['apim:api_view', 'apim:subscription_view', 'apim:subscription_manage'];
  const blockScopes = ['apim:subscription_block', 'apim:subscription_manage'];

  app.get(
    P,
    op('getSubscriptions', viewScopes, {
      summary: 'Get all subscriptions of an API',
      querystring: pageWith({ apiId: str({ maxLength: 64 }), query: str() }),
      response: { 200: publisherSubscriptionList },
    }),
    async (request) => {
      const p = getPrincipal(request);
      const q = request.query as { limit: number; offset: number; apiId?: string };
      if (!q.apiId) throw invalid('query.apiId', 'is required');
      const { subs, apps } = await service.subscriptions.listForApi(p.tenantId, q.apiId);
      const slice = subs.slice(q.offset, q.offset + q.limit);
      // WSO2 4.2's publisher `Subscription` has no requestedThrottlingPolicy (the Developer Portal's has).
      const list = slice.map((s) => {
        const a = apps.get(s.applicationId);
        return {
          subscriptionId: s.id,
          applicationInfo: a ? { applicationId: a.id, name: a.name, subscriber: a.owner, description: a.description ?? '', subscriptionCount: 0 } : undefined,
          throttlingPolicy: s.throttlingPolicy,
          subscriptionStatus: s.status,
        };
      });
      return { count: list.length, list, pagination: pagination(q.offset, q.limit, subs.length, P) };
    },
  );

  // WSO2 answers a successful block or unblock with 200 and no body.
  app.post(
    `${P}/block-subscription`,
    op('blockSubscription', blockScopes, {
      summary: 'Block a subscription',
      querystring: { type: 'object', required: ['subscriptionId', 'blockState'], properties: { subscriptionId: str({ maxLength: 64 }), blockState: str({ enum: ['BLOCKED', 'PROD_ONLY_BLOCKED'] }) } },
      response: { 200: { description: 'OK. Subscription was blocked successfully.', type: 'null' } },
    }),
    async (request, reply) => {
      const q = request.query as { subscriptionId: string; blockState: 'BLOCKED' | 'PROD_ONLY_BLOCKED' };
      await service.subscriptions.setBlockState(getPrincipal(request).tenantId, q.subscriptionId, q.blockState);
      return reply.code(200).send();
    },
  );

  app.post(
    `${P}/unblock-subscription`,
    op('unBlockSubscription', blockScopes, {
      summary: 'Unblock a subscription',
      querystring: { type: 'object', required: ['subscriptionId'], properties: { subscriptionId: str({ maxLength: 64 }) } },
      response: { 200: { description: 'OK. Subscription was unblocked successfully.', type: 'null' } },
    }),
    async (request, reply) => {
      const q = request.query as { subscriptionId: string };
      await service.subscriptions.setBlockState(getPrincipal(request).tenantId, q.subscriptionId, SubscriptionStatuses.Unblocked);
      return reply.code(200).send();
    },
  );
}

