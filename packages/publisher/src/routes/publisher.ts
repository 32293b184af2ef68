import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema, FastifySchemaCompiler } from 'fastify';
import type { GatehouseConfig } from '@gatehouse/config';
import { CoreErrors } from '@gatehouse/core';
import type { AjvLike } from '../ajv.ts';
import type { Authorizer } from '../auth.ts';
import { toDocumentDto, toScopeDto } from '../documents.ts';
import type { DocumentInput, DocumentService } from '../documents.ts';
import { PublisherErrors } from '../errors.ts';
import { toApiInfo } from '../model.ts';
import type { ApiBody } from '../model.ts';
import { fetchDefinition, parseDefinition } from '../openapi.ts';
import { COMMON_OPERATION_POLICIES, operationPolicyDataDto } from '../operation-policies.ts';
import type { ParsedDefinition } from '../openapi.ts';
import type { Actor, PublisherService } from '../service.ts';
import { usageRange } from '../usage/query.ts';
import { usageReport } from '../usage/schema.ts';
import type { UsageInterval, UsageReport } from '../usage/store.ts';
import * as S from './schemas.ts';

export const PUBLISHER_BASE = '/api/am/publisher/v4';

const Scopes = {
  view: 'apim:api_view',
  create: 'apim:api_create',
  publish: 'apim:api_publish',
  manage: 'apim:api_manage',
  del: 'apim:api_delete',
  importExport: 'apim:api_import_export',
  listView: 'apim:api_list_view',
  productImportExport: 'apim:api_product_import_export',
  definitionView: 'apim:api_definition_view',
  docCreate: 'apim:document_create',
  docManage: 'apim:document_manage',
  sharedScope: 'apim:shared_scope_manage',
  commonPolicyView: 'apim:common_operation_policy_view',
  commonPolicyManage: 'apim:common_operation_policy_manage',
  policiesImportExport: 'apim:policies_import_export',
} as const;

interface Multipart {
  files: Map<string, { filename: string; mimetype: string; data: Buffer }>;
  fields: Map<string, string>;
}

type MultipartPart =
  | { type: 'file'; fieldname: string; filename: string; mimetype: string; toBuffer(): Promise<Buffer> }
  | { type: 'field'; fieldname: string; value: unknown; valueTruncated: boolean };
type MultipartRequest = FastifyRequest & { isMultipart(): boolean; parts(opts?: object): AsyncIterableIterator<MultipartPart> };

/** Reads a bounded multipart body into memory; nothing touches the disk, names are only data. */
async function readMultipart(request: FastifyRequest, maxBytes: number): Promise<Multipart> {
  const req = request as MultipartRequest;
  if (typeof req.isMultipart !== 'function' || !req.isMultipart()) {
    throw PublisherErrors.create('PUB_ERR_UNSUPPORTED_MEDIA_TYPE', { description: 'Send multipart/form-data' });
  }
  const out: Multipart = { files: new Map(), fields: new Map() };
  const tooLarge = () => PublisherErrors.create('PUB_ERR_PAYLOAD_TOO_LARGE', { description: `A part is larger than ${maxBytes} bytes` });
  try {
    for await (const part of req.parts({ limits: { fileSize: maxBytes, fieldSize: maxBytes, files: 2, fields: 10, parts: 12 } })) {
      if (part.type === 'file') {
        out.files.set(part.fieldname, { filename: part.filename, mimetype: part.mimetype, data: await part.toBuffer() });
      } else {
        if (part.valueTruncated) throw tooLarge();
        out.fields.set(part.fieldname, String(part.value));
      }
    }
  } catch (err) {
    if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge();
    throw err;
  }
  return out;
}

function validationError(where: string, errors: NonNullable<ReturnType<AjvLike['compile']>['errors']>) {
  const details = errors.map((v) => {
    const extra = v.params?.additionalProperty ?? v.params?.missingProperty;
    const path = `${where}${v.instancePath}`.replaceAll('/', '.') + (extra ? `.${String(extra)}` : '');
    return { field: path, message: v.message ?? 'is not valid' };
  });
  return CoreErrors.create('CORE_ERR_VALIDATION', { message: 'Bad Request', description: details.map((d) => `${d.field}: ${d.message}`).join('; '), details });
}

function pageOf(limit: number, offset: number, total: number, path: string, query?: string) {
  const q = query ? `&query=${encodeURIComponent(query)}` : '';
  return {
    offset,
    limit,
    total,
    next: offset + limit < total ? `${PUBLISHER_BASE}${path}?limit=${limit}&offset=${offset + limit}${q}` : '',
    previous: offset > 0 ? `${PUBLISHER_BASE}${path}?limit=${limit}&offset=${Math.max(0, offset - limit)}${q}` : '',
  };
}

const paging = {
  limit: { type: 'integer', minimum: 1, maximum: 500, default: 25 },
  offset: { type: 'integer', minimum: 0, default: 0 },
} as const;

export interface RouteDeps {
  config: GatehouseConfig;
  service: PublisherService;
  documents: DocumentService;
  auth: Authorizer;
  validators: { body: AjvLike; params: AjvLike };
  /** An API's usage figures (the API's tenant checked by the caller), and the time now. */
  usage: { report(tenantId: number, apiId: string, range: { from: number; to: number; interval: UsageInterval }): Promise<UsageReport>; now(): number };
}

/** The Publisher REST API (WSO2 publisher v4), mounted under {@link PUBLISHER_BASE}. */
export async function publisherRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { service: svc, documents: docs, auth, validators, config, usage } = deps;
  const maxDefinition = config.publisher.max_definition_bytes;
  const maxDocument = config.publisher.max_document_bytes;
  const actor = (request: FastifyRequest): Actor => {
    const p = auth.principal(request);
    return { username: p.username, tenantId: p.tenantId };
  };
  const tenant = (request: FastifyRequest) => auth.principal(request).tenantId;
  const security = (scopes: string[]) => [{ OAuth2Security: scopes }];
  const failures = Object.fromEntries([400, 401, 403, 404, 409, 412, 413, 415].map((status) => [status, S.errorBody]));
  const op = (operationId: string, tag: string, scopes: string[], extra: Record<string, unknown> & { response?: object } = {}) => ({
    onRequest: auth.requireAnyScope(...scopes),
    schema: { operationId, tags: [tag], security: security(scopes), ...extra, response: { ...failures, ...extra.response } },
  });
  // Multipart bodies are read by readMultipart; their schema only documents them.
  const multipartRoute: { validatorCompiler: FastifySchemaCompiler<FastifySchema> } = {
    validatorCompiler: ({ schema, httpPart }) => (httpPart === 'body' ? () => true : validators.params.compile(schema as object)) as ReturnType<FastifySchemaCompiler<FastifySchema>>,
  };
  const importValidator = validators.body.compile(S.importProperties);
  const apiParams = S.apiIdParams;
  const apiOut = { ...S.api, required: [] };
  const errors = { 400: S.errorBody, 404: S.errorBody };

  const definitionFrom = async (parts: Multipart, inlineField: string): Promise<{ text: string } | { problems: string }> => {
    const file = parts.files.get('file');
    const url = parts.fields.get('url');
    const inline = parts.fields.get(inlineField);
    const given = [file, url, inline].filter((x) => x !== undefined && x !== '').length;
    if (given !== 1) throw PublisherErrors.create('PUB_ERR_DEFINITION_SOURCE', { description: `Send exactly one of file, url or ${inlineField}` });
    if (file) return { text: file.data.toString('utf8') };
    if (inline !== undefined && inline !== '') return { text: inline };
    return {
      text: await fetchDefinition(url!, { maxBytes: maxDefinition, timeoutMs: config.publisher.definition_fetch_timeout_ms, allowPrivate: config.publisher.allow_private_definition_urls }),
    };
  };
  const parseOrThrow = async (text: string): Promise<ParsedDefinition> => {
    const result = await parseDefinition(text);
    if (!result.ok) {
      throw PublisherErrors.create('PUB_ERR_INVALID_DEFINITION', {
        description: result.problems.map((p) => p.message).join('; '),
        details: result.problems.map((p) => ({ field: p.path, message: p.message })),
      });
    }
    return result.value;
  };

  // --- APIs ---------------------------------------------------------------------------------

  app.get<{ Querystring: { limit: number; offset: number; query?: string; sortBy?: string; sortOrder?: string } }>(
    '/apis',
    op('getAllAPIs', 'APIs', [Scopes.view, Scopes.manage, Scopes.importExport, Scopes.listView], {
      querystring: { type: 'object', properties: { ...paging, query: { type: 'string', maxLength: 1000 }, sortBy: { type: 'string', enum: ['apiName', 'version', 'createdTime', 'status'] }, sortOrder: { type: 'string', enum: ['asc', 'desc'] } } },
      response: { 200: S.apiList },
    }),
    async (request) => {
      const { limit, offset, query, sortBy, sortOrder } = request.query;
      const page = await svc.search(tenant(request), query, { limit, offset }, sortBy, sortOrder);
      return { count: page.items.length, list: page.items.map(toApiInfo), pagination: pageOf(limit, offset, page.total, '/apis', query) };
    },
  );

  app.post<{ Body: ApiBody }>(
    '/apis',
    op('createAPI', 'APIs', [Scopes.create, Scopes.manage], {
      querystring: { type: 'object', properties: { openAPIVersion: { type: 'string', enum: ['v2', 'v3'] } } },
      body: S.api,
      response: { 201: apiOut, ...errors },
    }),
    async (request, reply) => {
      const r = await svc.createApi(actor(request), request.body);
      return reply.code(201).header('location', `${PUBLISHER_BASE}/apis/${r.id}`).header('etag', svc.etagOf(r)).send(svc.toDto(r));
    },
  );

  app.get<{ Params: { apiId: string } }>(
    '/apis/:apiId',
    op('getAPI', 'APIs', [Scopes.view, Scopes.manage, Scopes.importExport, Scopes.productImportExport], { params: apiParams, response: { 200: apiOut, 404: S.errorBody } }),
    async (request, reply) => {
      const r = await svc.get(tenant(request), request.params.apiId);
      const etag = svc.etagOf(r);
      if (request.headers['if-none-match'] === etag) return reply.code(304).header('etag', etag).send();
      return reply.header('etag', etag).send(svc.toDto(r));
    },
  );

  app.put<{ Params: { apiId: string }; Body: ApiBody }>(
    '/apis/:apiId',
    op('updateAPI', 'APIs', [Scopes.create, Scopes.manage, Scopes.publish], { params: apiParams, body: S.api, response: { 200: apiOut, ...errors, 412: S.errorBody } }),
    async (request, reply) => {
      const r = await svc.updateApi(actor(request), request.params.apiId, request.body, request.headers['if-match']);
      return reply.header('etag', svc.etagOf(r)).send(svc.toDto(r));
    },
  );

  app.delete<{ Params: { apiId: string } }>(
    '/apis/:apiId',
    op('deleteAPI', 'APIs', [Scopes.del, Scopes.manage, Scopes.importExport], { params: apiParams }),
    async (request, reply) => {
      await svc.deleteApi(actor(request), request.params.apiId, request.headers['if-match']);
      return reply.code(200).send();
    },
  );

  app.post(
    '/apis/import-openapi',
    {
      ...op('importOpenAPIDefinition', 'APIs', [Scopes.create, Scopes.manage], {
        consumes: ['multipart/form-data'],
        body: { type: 'object', properties: { file: { type: 'string', format: 'binary' }, url: { type: 'string' }, additionalProperties: { type: 'string' }, inlineAPIDefinition: { type: 'string' } } },
        response: { 201: apiOut, ...errors },
      }),
      ...multipartRoute,
    },
    async (request, reply) => {
      const parts = await readMultipart(request, maxDefinition);
      const src = await definitionFrom(parts, 'inlineAPIDefinition');
      if (!('text' in src)) throw PublisherErrors.create('PUB_ERR_INVALID_DEFINITION');
      const definition = await parseOrThrow(src.text);
      let props: ApiBody = {};
      const raw = parts.fields.get('additionalProperties');
      if (raw !== undefined && raw !== '') {
        try {
          props = JSON.parse(raw) as ApiBody;
        } catch {
          throw CoreErrors.create('CORE_ERR_VALIDATION', { message: 'Bad Request', description: 'additionalProperties is not valid JSON', details: [{ field: 'additionalProperties', message: 'is not valid JSON' }] });
        }
        if (!importValidator(props)) throw validationError('additionalProperties', importValidator.errors ?? []);
      }
      const info = definition.info;
      const input: ApiBody = { ...props, name: props.name ?? info.name, version: props.version ?? info.version, context: props.context ?? info.context };
      if (!input.description && info.description) input.description = info.description;
      if (!('endpointConfig' in props) && info.endpoints[0]) {
        input.endpointConfig = { endpoint_type: 'http', production_endpoints: { url: info.endpoints[0] }, sandbox_endpoints: { url: info.endpoints[0] } };
      }
      const missing = (['name', 'version', 'context'] as const).filter((k) => !input[k]);
      if (missing.length > 0) {
        throw CoreErrors.create('CORE_ERR_VALIDATION', {
          message: 'Bad Request',
          description: `${missing.join(', ')} neither in additionalProperties nor in the definition`,
          details: missing.map((m) => ({ field: `additionalProperties.${m}`, message: 'is required' })),
        });
      }
      const r = await svc.createApi(actor(request), input, definition);
      return reply.code(201).header('location', `${PUBLISHER_BASE}/apis/${r.id}`).header('etag', svc.etagOf(r)).send(svc.toDto(r));
    },
  );

  app.post<{ Querystring: { returnContent?: boolean } }>(
    '/apis/validate-openapi',
    {
      ...op('validateOpenAPIDefinition', 'Validation', [Scopes.create, Scopes.manage], {
        consumes: ['multipart/form-data'],
        querystring: { type: 'object', properties: { returnContent: { type: 'boolean', default: false } } },
        body: { type: 'object', properties: { url: { type: 'string' }, file: { type: 'string', format: 'binary' }, inlineAPIDefinition: { type: 'string' } } },
        response: { 200: S.validationResponse, 400: S.errorBody },
      }),
      ...multipartRoute,
    },
    async (request) => {
      const parts = await readMultipart(request, maxDefinition);
      const src = await definitionFrom(parts, 'inlineAPIDefinition');
      const text = 'text' in src ? src.text : '';
      const result = await parseDefinition(text);
      if (!result.ok) {
        return { isValid: false, errors: result.problems.map((p) => ({ code: String(PublisherErrors.specs.PUB_ERR_INVALID_DEFINITION.wso2Code), message: p.message, description: p.path })) };
      }
      return { isValid: true, info: result.value.info, ...(request.query.returnContent ? { content: text } : {}) };
    },
  );

  app.get<{ Params: { apiId: string } }>(
    '/apis/:apiId/swagger',
    op('getAPISwagger', 'APIs', [Scopes.view, Scopes.manage, Scopes.definitionView], { params: apiParams }),
    async (request, reply) => reply.type('application/json').send(await svc.getDefinition(tenant(request), request.params.apiId)),
  );

  app.put<{ Params: { apiId: string } }>(
    '/apis/:apiId/swagger',
    {
      ...op('updateAPISwagger', 'APIs', [Scopes.create, Scopes.manage], {
        consumes: ['multipart/form-data'],
        params: apiParams,
        body: { type: 'object', properties: { apiDefinition: { type: 'string' }, url: { type: 'string' }, file: { type: 'string', format: 'binary' } } },
      }),
      ...multipartRoute,
    },
    async (request, reply) => {
      const parts = await readMultipart(request, maxDefinition);
      const src = await definitionFrom(parts, 'apiDefinition');
      if (!('text' in src)) throw PublisherErrors.create('PUB_ERR_INVALID_DEFINITION');
      const definition = await parseOrThrow(src.text);
      return reply.type('application/json').send(await svc.putDefinition(actor(request), request.params.apiId, definition, request.headers['if-match']));
    },
  );

  // --- lifecycle ----------------------------------------------------------------------------

  app.post<{ Querystring: { apiId: string; action: string; lifecycleChecklist?: string } }>(
    '/apis/change-lifecycle',
    op('changeAPILifecycle', 'API Lifecycle', [Scopes.publish, Scopes.manage, Scopes.importExport], {
      querystring: {
        type: 'object',
        required: ['apiId', 'action'],
        properties: { apiId: { type: 'string' }, action: { type: 'string', minLength: 1 }, lifecycleChecklist: { type: 'string' } },
      },
      response: { 200: S.workflowResponse, ...errors, 412: S.errorBody },
    }),
    async (request) => {
      const { apiId, action, lifecycleChecklist } = request.query;
      const r = await svc.changeLifecycle(actor(request), apiId, action, lifecycleChecklist, request.headers['if-match']);
      return { workflowStatus: 'APPROVED', lifecycleState: svc.lifecycleState(r) };
    },
  );

  app.get<{ Params: { apiId: string } }>(
    '/apis/:apiId/lifecycle-history',
    op('getAPILifecycleHistory', 'API Lifecycle', [Scopes.view, Scopes.publish, Scopes.manage], { params: apiParams, response: { 200: S.lifecycleHistory, 404: S.errorBody } }),
    async (request) => {
      const list = await svc.lifecycleHistory(tenant(request), request.params.apiId);
      return { count: list.length, list };
    },
  );

  app.get<{ Params: { apiId: string } }>(
    '/apis/:apiId/lifecycle-state',
    op('getAPILifecycleState', 'API Lifecycle', [Scopes.view, Scopes.publish, Scopes.create, Scopes.manage], { params: apiParams, response: { 200: S.lifecycleState, 404: S.errorBody } }),
    async (request) => svc.lifecycleState(await svc.get(tenant(request), request.params.apiId)),
  );

  // --- revisions and deployments ---------------------------------------------------------

  const revParams = { type: 'object', required: ['apiId', 'revisionId'], properties: { apiId: { type: 'string' }, revisionId: { type: 'string' } } } as const;

  app.get<{ Params: { apiId: string }; Querystring: { query?: string } }>(
    '/apis/:apiId/revisions',
    op('getAPIRevisions', 'API Revisions', [Scopes.view, Scopes.create, Scopes.manage, Scopes.publish, Scopes.importExport], {
      params: apiParams,
      querystring: { type: 'object', properties: { query: { type: 'string' } } },
      response: { 200: S.revisionList, 404: S.errorBody },
    }),
    async (request) => {
      const list = await svc.listRevisions(tenant(request), request.params.apiId, request.query.query);
      return { count: list.length, list };
    },
  );

  app.post<{ Params: { apiId: string }; Body: { description?: string } | undefined }>(
    '/apis/:apiId/revisions',
    op('createAPIRevision', 'API Revisions', [Scopes.create, Scopes.manage, Scopes.publish, Scopes.importExport], {
      params: apiParams,
      body: S.revisionBody,
      response: { 201: S.revision, ...errors },
    }),
    async (request, reply) => {
      const rev = await svc.createRevision(actor(request), request.params.apiId, request.body?.description);
      return reply.code(201).header('location', `${PUBLISHER_BASE}/apis/${request.params.apiId}/revisions/${rev.id}`).send(rev);
    },
  );

  app.get<{ Params: { apiId: string; revisionId: string } }>(
    '/apis/:apiId/revisions/:revisionId',
    op('getAPIRevision', 'API Revisions', [Scopes.view, Scopes.create, Scopes.manage, Scopes.publish], { params: revParams, response: { 200: S.revision, 404: S.errorBody } }),
    async (request) => svc.getRevision(tenant(request), request.params.apiId, request.params.revisionId),
  );

  app.delete<{ Params: { apiId: string; revisionId: string } }>(
    '/apis/:apiId/revisions/:revisionId',
    op('deleteAPIRevision', 'API Revisions', [Scopes.create, Scopes.manage, Scopes.publish, Scopes.importExport], { params: revParams, response: { 200: S.revisionList, ...errors } }),
    async (request) => {
      const list = await svc.deleteRevision(actor(request), request.params.apiId, request.params.revisionId);
      return { count: list.length, list };
    },
  );

  app.post<{ Params: { apiId: string }; Querystring: { revisionId: string } }>(
    '/apis/:apiId/restore-revision',
    op('restoreAPIRevision', 'API Revisions', [Scopes.create, Scopes.manage, Scopes.publish], {
      params: apiParams,
      querystring: { type: 'object', required: ['revisionId'], properties: { revisionId: { type: 'string' } } },
      response: { 201: apiOut, 404: S.errorBody },
    }),
    async (request, reply) => {
      const r = await svc.restoreRevision(actor(request), request.params.apiId, request.query.revisionId);
      return reply.code(201).header('etag', svc.etagOf(r)).send(svc.toDto(r));
    },
  );

  app.post<{ Params: { apiId: string }; Querystring: { revisionId: string }; Body: { name: string; vhost?: string; displayOnDevportal?: boolean }[] }>(
    '/apis/:apiId/deploy-revision',
    op('deployAPIRevision', 'API Revisions', [Scopes.create, Scopes.manage, Scopes.publish], {
      params: apiParams,
      querystring: { type: 'object', required: ['revisionId'], properties: { revisionId: { type: 'string' } } },
      body: { type: 'array', minItems: 1, maxItems: 50, items: S.deploymentTarget },
      response: { 200: { type: 'array', items: S.revisionDeployment }, ...errors },
    }),
    async (request) => svc.deploy(actor(request), request.params.apiId, request.query.revisionId, request.body),
  );

  app.post<{ Params: { apiId: string }; Querystring: { revisionId?: string; revisionNumber?: string; allEnvironments: boolean }; Body: { name: string; vhost?: string }[] | undefined }>(
    '/apis/:apiId/undeploy-revision',
    op('undeployAPIRevision', 'API Revisions', [Scopes.create, Scopes.manage, Scopes.publish, Scopes.importExport], {
      params: apiParams,
      querystring: { type: 'object', properties: { revisionId: { type: 'string' }, revisionNumber: { type: 'string' }, allEnvironments: { type: 'boolean', default: false } } },
      body: { type: 'array', maxItems: 50, items: S.deploymentTarget },
      response: { 201: { type: 'array', items: S.revisionDeployment }, ...errors },
    }),
    async (request, reply) => {
      const list = await svc.undeploy(actor(request), request.params.apiId, request.query.revisionId, request.body ?? [], request.query.allEnvironments);
      return reply.code(201).send(list);
    },
  );

  app.get<{ Params: { apiId: string } }>(
    '/apis/:apiId/deployments',
    op('getAPIRevisionDeployments', 'API Revisions', [Scopes.view, Scopes.create, Scopes.manage, Scopes.publish], { params: apiParams, response: { 200: S.deploymentList, 404: S.errorBody } }),
    async (request) => ({ list: await svc.deployments(tenant(request), request.params.apiId) }),
  );

  // --- usage (a Gatehouse extension: WSO2 4.2's Publisher leaves analytics to Choreo) ------------

  app.get<{ Params: { apiId: string }; Querystring: { from?: string; to?: string; interval?: string } }>(
    '/apis/:apiId/usage',
    op('getAPIUsage', 'API Usage', [Scopes.view, Scopes.manage], {
      'x-gatehouse-extension': true,
      summary: 'Calls, errors, throttling and latency of an API over time (Gatehouse extension)',
      description:
        'Not part of WSO2 API Manager 4.2, whose Publisher delegates analytics to Choreo. Figures come from the gateways\' analytics events, folded per minute; ' +
        '`from` (default: 24 hours before `to`) and `to` (default: now) are ISO 8601 date-times or epoch milliseconds, `to` exclusive; `interval` defaults by the range ' +
        '(minute up to 6 hours, hour up to 14 days, day beyond); buckets are UTC and at most 1440. Minutes older than `publisher.usage_retention_days` are gone.',
      params: apiParams,
      querystring: { type: 'object', properties: { from: { type: 'string', maxLength: 40 }, to: { type: 'string', maxLength: 40 }, interval: { type: 'string', maxLength: 10 } } },
      response: { 200: usageReport, ...errors },
    }),
    async (request) => {
      const tenantId = tenant(request);
      const api = await svc.get(tenantId, request.params.apiId);
      const range = usageRange(request.query, usage.now());
      const report = await usage.report(tenantId, api.id, range);
      const iso = (t: number) => new Date(t).toISOString();
      return {
        apiId: api.id,
        from: iso(report.buckets[0]?.start ?? range.from),
        to: iso(range.to),
        interval: range.interval,
        totals: report.totals,
        buckets: report.buckets.map((b) => ({ ...b, start: iso(b.start) })),
        topApplications: report.topApplications,
        topOperations: report.topOperations,
      };
    },
  );

  // --- documents ----------------------------------------------------------------------------

  const docParams = { type: 'object', required: ['apiId', 'documentId'], properties: { apiId: { type: 'string' }, documentId: { type: 'string' } } } as const;

  app.get<{ Params: { apiId: string }; Querystring: { limit: number; offset: number } }>(
    '/apis/:apiId/documents',
    op('getAPIDocuments', 'API Documents', [Scopes.view, Scopes.manage, Scopes.docManage], {
      params: apiParams,
      querystring: { type: 'object', properties: paging },
      response: { 200: S.documentList, 404: S.errorBody },
    }),
    async (request) => {
      const { limit, offset } = request.query;
      const page = await docs.list(tenant(request), request.params.apiId, { limit, offset });
      return { count: page.items.length, list: page.items.map(toDocumentDto), pagination: pageOf(limit, offset, page.total, `/apis/${request.params.apiId}/documents`) };
    },
  );

  app.post<{ Params: { apiId: string }; Body: DocumentInput }>(
    '/apis/:apiId/documents',
    op('addAPIDocument', 'API Documents', [Scopes.create, Scopes.manage, Scopes.docCreate, Scopes.docManage], {
      params: apiParams,
      body: S.documentBody,
      response: { 201: S.document, ...errors },
    }),
    async (request, reply) => {
      const d = await docs.create(actor(request), request.params.apiId, request.body);
      return reply.code(201).header('location', `${PUBLISHER_BASE}/apis/${request.params.apiId}/documents/${d.id}`).send(toDocumentDto(d));
    },
  );

  app.get<{ Params: { apiId: string; documentId: string } }>(
    '/apis/:apiId/documents/:documentId',
    op('getAPIDocumentByDocumentId', 'API Documents', [Scopes.view, Scopes.manage, Scopes.docManage], { params: docParams, response: { 200: S.document, 404: S.errorBody } }),
    async (request) => toDocumentDto(await docs.get(tenant(request), request.params.apiId, request.params.documentId)),
  );

  app.put<{ Params: { apiId: string; documentId: string }; Body: DocumentInput }>(
    '/apis/:apiId/documents/:documentId',
    op('updateAPIDocument', 'API Documents', [Scopes.create, Scopes.manage, Scopes.docManage], { params: docParams, body: S.documentBody, response: { 200: S.document, ...errors } }),
    async (request) => toDocumentDto(await docs.update(actor(request), request.params.apiId, request.params.documentId, request.body)),
  );

  app.delete<{ Params: { apiId: string; documentId: string } }>(
    '/apis/:apiId/documents/:documentId',
    op('deleteAPIDocument', 'API Documents', [Scopes.create, Scopes.manage, Scopes.docManage], { params: docParams }),
    async (request, reply) => {
      await docs.delete(actor(request), request.params.apiId, request.params.documentId);
      return reply.code(200).send();
    },
  );

  app.get<{ Params: { apiId: string; documentId: string } }>(
    '/apis/:apiId/documents/:documentId/content',
    op('getAPIDocumentContentByDocumentId', 'API Documents', [Scopes.view, Scopes.manage, Scopes.docManage], { params: docParams }),
    async (request, reply: FastifyReply) => {
      const d = await docs.get(tenant(request), request.params.apiId, request.params.documentId);
      if (d.source_type === 'URL') return reply.code(303).header('location', d.source_url ?? '').send();
      if (d.source_type === 'FILE') {
        if (d.file_content === null) throw PublisherErrors.create('PUB_ERR_DOCUMENT_NOT_FOUND', { description: 'The document has no file yet' });
        return reply
          .type('application/octet-stream')
          .header('content-disposition', `attachment; filename="${d.file_name ?? 'document'}"`)
          .header('x-content-type-options', 'nosniff')
          .send(Buffer.from(d.file_content, 'base64'));
      }
      return reply.type(d.source_type === 'MARKDOWN' ? 'text/markdown; charset=utf-8' : 'text/plain; charset=utf-8').send(d.inline_content ?? '');
    },
  );

  app.post<{ Params: { apiId: string; documentId: string } }>(
    '/apis/:apiId/documents/:documentId/content',
    {
      ...op('addAPIDocumentContent', 'API Documents', [Scopes.create, Scopes.manage, Scopes.docCreate, Scopes.docManage], {
        consumes: ['multipart/form-data'],
        params: docParams,
        body: { type: 'object', properties: { file: { type: 'string', format: 'binary' }, inlineContent: { type: 'string' } } },
        response: { 200: S.document, ...errors },
      }),
      ...multipartRoute,
    },
    async (request) => {
      const parts = await readMultipart(request, maxDocument);
      const file = parts.files.get('file');
      const inline = parts.fields.get('inlineContent');
      if ((file === undefined) === (inline === undefined)) throw PublisherErrors.create('PUB_ERR_DOCUMENT_CONTENT', { description: 'Send exactly one of file or inlineContent' });
      const d = await docs.setContent(actor(request), request.params.apiId, request.params.documentId, file ? { file: { name: file.filename, mediaType: file.mimetype, data: file.data } } : { inline: inline! });
      return toDocumentDto(d);
    },
  );

  // --- copy ---------------------------------------------------------------------------------

  app.post<{ Querystring: { apiId: string; newVersion: string; defaultVersion: boolean } }>(
    '/apis/copy-api',
    op('createNewAPIVersion', 'APIs', [Scopes.create, Scopes.manage], {
      querystring: {
        type: 'object',
        required: ['apiId', 'newVersion'],
        properties: { apiId: { type: 'string' }, newVersion: { type: 'string', minLength: 1, maxLength: 30, pattern: '^[^~!@#;:%^*()+={}|\\\\<>"\',&/$\\[\\]\\s]+$' }, defaultVersion: { type: 'boolean', default: false }, serviceVersion: { type: 'string' } },
      },
      response: { 201: apiOut, ...errors },
    }),
    async (request, reply) => {
      const r = await svc.copyApi(actor(request), request.query.apiId, request.query.newVersion, request.query.defaultVersion);
      return reply.code(201).header('location', `${PUBLISHER_BASE}/apis/${r.id}`).header('etag', svc.etagOf(r)).send(svc.toDto(r));
    },
  );

  // --- shared scopes ------------------------------------------------------------------------

  // --- common operation policies: the ones the gateway applies, built in (WSO2 also lets admins add some) ---

  app.get<{ Querystring: { limit: number; offset: number; query?: string } }>(
    '/operation-policies',
    op('getAllCommonOperationPolicies', 'Operation Policies', [Scopes.commonPolicyView, Scopes.commonPolicyManage, Scopes.policiesImportExport], {
      querystring: { type: 'object', properties: { ...paging, query: { type: 'string', maxLength: 200 } } },
      response: { 200: S.operationPolicyDataList },
    }),
    async (request) => {
      const { limit, offset, query } = request.query;
      // WSO2's query: `name:addHeader&version:v1` (either modifier, either order).
      const want = Object.fromEntries((query ?? '').split(/[&\s]+/).filter((t) => t.includes(':')).map((t) => [t.slice(0, t.indexOf(':')), t.slice(t.indexOf(':') + 1).replace(/^"|"$/g, '')]));
      const all = COMMON_OPERATION_POLICIES.filter((p) => (want.name === undefined || p.name === want.name) && (want.version === undefined || p.version === want.version));
      const list = all.slice(offset, offset + limit).map(operationPolicyDataDto);
      return { count: list.length, list, pagination: pageOf(limit, offset, all.length, '/operation-policies', query) };
    },
  );

  const scopeParams = { type: 'object', required: ['scopeId'], properties: { scopeId: { type: 'string' } } } as const;
  type ScopeInput = { name: string; displayName?: string; description?: string; bindings?: string[] };

  app.get<{ Querystring: { limit: number; offset: number } }>(
    '/scopes',
    op('getSharedScopes', 'Scopes', [Scopes.view, Scopes.sharedScope], { querystring: { type: 'object', properties: paging }, response: { 200: S.scopeList } }),
    async (request) => {
      const { limit, offset } = request.query;
      const page = await docs.listScopes(tenant(request), { limit, offset });
      return { count: page.items.length, list: page.items.map(toScopeDto), pagination: pageOf(limit, offset, page.total, '/scopes') };
    },
  );

  app.post<{ Body: ScopeInput }>(
    '/scopes',
    op('addSharedScope', 'Scopes', [Scopes.sharedScope], { body: S.scope, response: { 201: S.scope, ...errors } }),
    async (request, reply) => {
      const s = await docs.createScope(tenant(request), request.body);
      return reply.code(201).header('location', `${PUBLISHER_BASE}/scopes/${s.id}`).send(toScopeDto(s));
    },
  );

  app.get<{ Params: { scopeId: string } }>(
    '/scopes/:scopeId',
    op('getSharedScope', 'Scopes', [Scopes.view, Scopes.sharedScope], { params: scopeParams, response: { 200: S.scope, 404: S.errorBody } }),
    async (request) => toScopeDto(await docs.getScope(tenant(request), request.params.scopeId)),
  );

  app.put<{ Params: { scopeId: string }; Body: ScopeInput }>(
    '/scopes/:scopeId',
    op('updateSharedScope', 'Scopes', [Scopes.sharedScope], { params: scopeParams, body: S.scope, response: { 200: S.scope, ...errors } }),
    async (request) => toScopeDto(await docs.updateScope(tenant(request), request.params.scopeId, request.body)),
  );

  app.delete<{ Params: { scopeId: string } }>(
    '/scopes/:scopeId',
    op('deleteSharedScope', 'Scopes', [Scopes.sharedScope], { params: scopeParams }),
    async (request, reply) => {
      await docs.deleteScope(tenant(request), request.params.scopeId);
      return reply.code(200).send();
    },
  );
}
