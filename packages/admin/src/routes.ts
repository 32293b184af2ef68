import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { AdminErrors, invalid } from './errors.ts';
import { fetchJsonSafely, keyManagerFromDiscovery } from './discover.ts';
import type { FetchLimits } from './discover.ts';
import { blockingDto, environmentDto, keyManagerDto, keyManagerInfoDto, policyDto, PolicyTypeNames, workflowInfoDto } from './dto.ts';
import type { ManagementAuth, Principal, SystemScopeRepository } from '@gatehouse/key-manager';
import * as S from './schemas.ts';
import type { AdminService, KeyManagerInput, PolicyInput } from './service.ts';
import type { BlockingType } from './store/blocking.ts';
import type { PolicyKind } from './store/policies.ts';
import type { WorkflowType } from './store/workflows.ts';
import { TENANT_CONFIG_MAX_BYTES, TenantConfigSchema, TenantConfigSchemaDocument } from './tenant-config.ts';
import type { TenantConfig } from './tenant-config.ts';
import type { VirtualHost } from '@gatehouse/data';
import type { Clock } from '@gatehouse/core';

export interface RouteContext {
  readonly service: AdminService;
  readonly auth: ManagementAuth;
  readonly principal: (request: FastifyRequest) => Principal;
  readonly systemScopes: Pick<SystemScopeRepository, 'listSystemScopes' | 'setSystemScopeRoles'>;
  readonly clock: Clock;
  readonly discovery: FetchLimits;
  readonly gatewayExpiryMs: number;
}

const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, S.ErrorSchema]));
const AUTH_ERRORS = errors(401, 403);

const idParam = (name: string) => ({ type: 'object', required: [name], properties: { [name]: { type: 'string', minLength: 1, maxLength: 255 } } });

/** Registers every Admin v4 operation on `app` (already prefixed with /api/am/admin/v4). */
export function registerAdminRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { service } = ctx;
  const tenant = (req: FastifyRequest) => ctx.principal(req).tenantId;
  // The hook enforces the scopes; `security` puts the same list in the OpenAPI document.
  const scopes = (...s: string[]): { hook: onRequestHookHandler; security: Record<string, string[]>[] } => ({
    hook: ctx.auth.requireAnyScope(...s),
    security: [{ OAuth2Security: s }],
  });
  const tierView = scopes('apim:admin', 'apim:tier_view');
  const tierManage = scopes('apim:admin', 'apim:tier_manage');

  // ---- throttling policies: advanced, application, subscription, custom ----
  for (const kind of ['advanced', 'application', 'subscription', 'custom'] as const satisfies readonly PolicyKind[]) {
    const base = `/throttling/policies/${kind}`;
    const param = kind === 'custom' ? 'ruleId' : 'policyId';
    const tags = ['Throttling Policies'];
    const schema = S.PolicySchemas[kind];
    const params = idParam(param);
    const idOf = (req: FastifyRequest) => (req.params as Record<string, string>)[param]!;

    app.get(base, { onRequest: tierView.hook, schema: { security: tierView.security, tags, summary: `List the ${kind} throttling policies`, response: { 200: S.listOf(kind === 'advanced' ? S.AdvancedPolicyInfoSchema : schema), ...AUTH_ERRORS } } }, async (req) => {
      const list = (await service.listPolicies(tenant(req), kind)).map(policyDto);
      return { count: list.length, list };
    });
    app.post(
      base,
      { onRequest: tierManage.hook, schema: { security: tierManage.security, tags, summary: `Add a ${kind} throttling policy`, body: schema, response: { 201: schema, ...errors(400, 409), ...AUTH_ERRORS } } },
      async (req, reply) => {
        const created = await service.createPolicy(tenant(req), kind, req.body as PolicyInput);
        return reply.code(201).header('location', `/api/am/admin/v4${base}/${created.id}`).send(policyDto(created));
      },
    );
    app.get(`${base}/:${param}`, { onRequest: tierView.hook, schema: { security: tierView.security, tags, summary: `Get a ${kind} throttling policy`, params, response: { 200: schema, ...errors(404), ...AUTH_ERRORS } } }, async (req) =>
      policyDto(await service.mustGetPolicy(tenant(req), kind, idOf(req))),
    );
    app.put(
      `${base}/:${param}`,
      { onRequest: tierManage.hook, schema: { security: tierManage.security, tags, summary: `Update a ${kind} throttling policy`, params, body: schema, response: { 200: schema, ...errors(400, 404), ...AUTH_ERRORS } } },
      async (req) => policyDto(await service.updatePolicy(tenant(req), kind, idOf(req), req.body as PolicyInput)),
    );
    app.delete(
      `${base}/:${param}`,
      { onRequest: tierManage.hook, schema: { security: tierManage.security, tags, summary: `Delete a ${kind} throttling policy`, params, response: { 200: { type: 'null' }, ...errors(404, 409), ...AUTH_ERRORS } } },
      async (req, reply) => {
        await service.deletePolicy(tenant(req), kind, idOf(req));
        return reply.code(200).send();
      },
    );
  }

  const searchTypes: Record<string, PolicyKind> = { sub: 'subscription', subscription: 'subscription', app: 'application', application: 'application', api: 'advanced', advanced: 'advanced', custom: 'custom', global: 'custom' };
  app.get(
    '/throttling/policies/search',
    {
      onRequest: tierView.hook,
      schema: { security: tierView.security,
        tags: ['Throttling Policies'],
        summary: 'Search throttling policies by type (`type:sub`, `type:app`, `type:advanced`, `type:custom`)',
        querystring: { type: 'object', additionalProperties: false, properties: { query: { type: 'string', maxLength: 200 } } },
        response: { 200: S.listOf(S.PolicyDetailsSchema), ...errors(400), ...AUTH_ERRORS },
      },
    },
    async (req) => {
      const query = ((req.query as { query?: string }).query ?? '').trim();
      let kind: PolicyKind | undefined;
      if (query !== '') {
        const m = /^type:(\w+)$/i.exec(query);
        kind = m?.[1] ? searchTypes[m[1].toLowerCase()] : undefined;
        if (!kind) throw invalid('querystring.query', 'must be type:<sub|app|advanced|custom>');
      }
      const list = (await service.listPolicies(tenant(req), kind)).map((p) => ({
        uuid: p.id,
        policyName: p.name,
        displayName: p.displayName ?? p.name,
        description: p.description ?? undefined,
        isDeployed: p.isDeployed,
        type: PolicyTypeNames[p.kind],
      }));
      return { count: list.length, list };
    },
  );

  // ---- deny policies (blocking conditions) ----
  const blView = scopes('apim:admin', 'apim:bl_view');
  const blManage = scopes('apim:admin', 'apim:bl_manage');
  const denyTags = ['Deny Policies'];
  const conditionParams = idParam('conditionId');
  const conditionId = (req: FastifyRequest) => (req.params as { conditionId: string }).conditionId;
  app.get('/throttling/deny-policies', { onRequest: blView.hook, schema: { security: blView.security, tags: denyTags, summary: 'List the blocking conditions', response: { 200: S.listOf(S.BlockingConditionSchema), ...AUTH_ERRORS } } }, async (req) => {
    const list = (await service.listBlockingConditions(tenant(req))).map(blockingDto);
    return { count: list.length, list };
  });
  app.post(
    '/throttling/deny-policies',
    { onRequest: blManage.hook, schema: { security: blManage.security, tags: denyTags, summary: 'Add a blocking condition', body: S.BlockingConditionBody, response: { 201: S.BlockingConditionSchema, ...errors(400, 409), ...AUTH_ERRORS } } },
    async (req, reply) => {
      const body = req.body as { conditionType: BlockingType; conditionValue: unknown; conditionStatus?: boolean };
      const created = await service.createBlockingCondition(tenant(req), body);
      return reply.code(201).header('location', `/api/am/admin/v4/throttling/deny-policy/${created.id}`).send(blockingDto(created));
    },
  );
  app.get(
    '/throttling/deny-policy/:conditionId',
    { onRequest: blView.hook, schema: { security: blView.security, tags: denyTags, summary: 'Get a blocking condition', params: conditionParams, response: { 200: S.BlockingConditionSchema, ...errors(404), ...AUTH_ERRORS } } },
    async (req) => blockingDto(await service.getBlockingCondition(tenant(req), conditionId(req))),
  );
  app.patch(
    '/throttling/deny-policy/:conditionId',
    {
      onRequest: blManage.hook,
      schema: { security: blManage.security, tags: denyTags, summary: 'Turn a blocking condition on or off', params: conditionParams, body: S.BlockingConditionStatusBody, response: { 200: S.BlockingConditionSchema, ...errors(400, 404), ...AUTH_ERRORS } },
    },
    async (req) => blockingDto(await service.setBlockingConditionStatus(tenant(req), conditionId(req), (req.body as { conditionStatus: boolean }).conditionStatus)),
  );
  app.delete(
    '/throttling/deny-policy/:conditionId',
    { onRequest: blManage.hook, schema: { security: blManage.security, tags: denyTags, summary: 'Delete a blocking condition', params: conditionParams, response: { 200: { type: 'null' }, ...errors(404), ...AUTH_ERRORS } } },
    async (req, reply) => {
      await service.deleteBlockingCondition(tenant(req), conditionId(req));
      return reply.code(200).send();
    },
  );

  // ---- gateway environments ----
  const envRead = scopes('apim:admin', 'apim:environment_read');
  const envManage = scopes('apim:admin', 'apim:environment_manage');
  const envTags = ['Environments'];
  const envParams = idParam('environmentId');
  const environmentId = (req: FastifyRequest) => (req.params as { environmentId: string }).environmentId;
  type EnvBody = { name: string; displayName?: string; description?: string; provider?: string; vhosts: Partial<VirtualHost>[] };
  const vhosts = (body: EnvBody): VirtualHost[] =>
    body.vhosts.map((v) => ({ host: v.host!, httpContext: v.httpContext ?? '', httpPort: v.httpPort ?? 80, httpsPort: v.httpsPort ?? 443, wsPort: v.wsPort ?? 9099, wssPort: v.wssPort ?? 8099 }));
  app.get('/environments', { onRequest: envRead.hook, schema: { security: envRead.security, tags: envTags, summary: 'List the gateway environments', response: { 200: S.listOf(S.EnvironmentSchema), ...AUTH_ERRORS } } }, async (req) => {
    const list = (await service.listEnvironments(tenant(req))).map(environmentDto);
    return { count: list.length, list };
  });
  app.post(
    '/environments',
    { onRequest: envManage.hook, schema: { security: envManage.security, tags: envTags, summary: 'Add a gateway environment', body: S.EnvironmentSchema, response: { 201: S.EnvironmentSchema, ...errors(400, 409), ...AUTH_ERRORS } } },
    async (req, reply) => {
      const body = req.body as EnvBody;
      const created = await service.createEnvironment(tenant(req), { ...body, vhosts: vhosts(body) });
      return reply.code(201).header('location', `/api/am/admin/v4/environments/${created.id}`).send(environmentDto(created));
    },
  );
  app.get(
    '/environments/:environmentId',
    { onRequest: envRead.hook, schema: { security: envRead.security, tags: envTags, summary: 'Get a gateway environment (Gatehouse addition)', params: envParams, response: { 200: S.EnvironmentSchema, ...errors(404), ...AUTH_ERRORS } } },
    async (req) => environmentDto(await service.getEnvironment(tenant(req), environmentId(req))),
  );
  app.put(
    '/environments/:environmentId',
    { onRequest: envManage.hook, schema: { security: envManage.security, tags: envTags, summary: 'Update a gateway environment', params: envParams, body: S.EnvironmentSchema, response: { 200: S.EnvironmentSchema, ...errors(400, 404), ...AUTH_ERRORS } } },
    async (req) => {
      const body = req.body as EnvBody;
      return environmentDto(await service.updateEnvironment(tenant(req), environmentId(req), { ...body, vhosts: vhosts(body) }));
    },
  );
  app.delete(
    '/environments/:environmentId',
    { onRequest: envManage.hook, schema: { security: envManage.security, tags: envTags, summary: 'Delete a gateway environment', params: envParams, response: { 200: { type: 'null' }, ...errors(400, 404), ...AUTH_ERRORS } } },
    async (req, reply) => {
      await service.deleteEnvironment(tenant(req), environmentId(req));
      return reply.code(200).send();
    },
  );
  app.get(
    '/environments/:environmentId/gateways',
    {
      onRequest: envRead.hook,
      schema: { security: envRead.security, tags: envTags, summary: 'List the gateways registered for an environment (as WSO2 after 4.2)', params: envParams, response: { 200: S.listOf(S.GatewayInstanceSchema), ...errors(404), ...AUTH_ERRORS } },
    },
    async (req) => {
      const tenantId = tenant(req);
      const env = await service.getEnvironment(tenantId, environmentId(req));
      const now = ctx.clock.now();
      const list = (await service.listGateways(tenantId))
        .filter((g) => g.labels.includes(env.name))
        .map((g) => ({ gatewayId: g.gatewayId, labels: g.labels, lastActive: new Date(g.lastHeartbeat).toISOString(), status: now - g.lastHeartbeat <= ctx.gatewayExpiryMs ? 'ACTIVE' : 'EXPIRED' }));
      return { count: list.length, list };
    },
  );

  // ---- key managers ----
  const kmScopes = scopes('apim:admin', 'apim:admin_operations');
  const kmTags = ['Key Manager (Collection)'];
  const kmParams = idParam('keyManagerId');
  const keyManagerId = (req: FastifyRequest) => (req.params as { keyManagerId: string }).keyManagerId;
  app.get('/key-managers', { onRequest: kmScopes.hook, schema: { security: kmScopes.security, tags: kmTags, summary: 'List the key managers', response: { 200: S.listOf(S.KeyManagerInfoSchema), ...AUTH_ERRORS } } }, async (req) => {
    const list = (await service.listKeyManagers(tenant(req))).map(keyManagerInfoDto);
    return { count: list.length, list };
  });
  app.post(
    '/key-managers',
    { onRequest: kmScopes.hook, schema: { security: kmScopes.security, tags: kmTags, summary: 'Add a key manager', body: S.KeyManagerSchema, response: { 201: S.KeyManagerSchema, ...errors(400, 409), ...AUTH_ERRORS } } },
    async (req, reply) => {
      const created = await service.createKeyManager(tenant(req), req.body as KeyManagerInput);
      return reply.code(201).header('location', `/api/am/admin/v4/key-managers/${created.id}`).send(keyManagerDto(created));
    },
  );
  app.get(
    '/key-managers/:keyManagerId',
    { onRequest: kmScopes.hook, schema: { security: kmScopes.security, tags: kmTags, summary: 'Get a key manager (secrets are never returned)', params: kmParams, response: { 200: S.KeyManagerSchema, ...errors(404), ...AUTH_ERRORS } } },
    async (req) => keyManagerDto(await service.getKeyManager(tenant(req), keyManagerId(req))),
  );
  app.put(
    '/key-managers/:keyManagerId',
    {
      onRequest: kmScopes.hook,
      schema: { security: kmScopes.security, tags: kmTags, summary: 'Update a key manager (omitted secrets keep their value)', params: kmParams, body: S.KeyManagerSchema, response: { 200: S.KeyManagerSchema, ...errors(400, 404), ...AUTH_ERRORS } },
    },
    async (req) => keyManagerDto(await service.updateKeyManager(tenant(req), keyManagerId(req), req.body as KeyManagerInput)),
  );
  app.delete(
    '/key-managers/:keyManagerId',
    { onRequest: kmScopes.hook, schema: { security: kmScopes.security, tags: kmTags, summary: 'Delete a key manager', params: kmParams, response: { 200: { type: 'null' }, ...errors(404, 409), ...AUTH_ERRORS } } },
    async (req, reply) => {
      await service.deleteKeyManager(tenant(req), keyManagerId(req));
      return reply.code(200).send();
    },
  );
  app.post(
    '/key-managers/discover',
    {
      onRequest: kmScopes.hook,
      schema: { security: kmScopes.security,
        tags: kmTags,
        summary: 'Read an OpenID Provider discovery document into key manager fields',
        body: S.DiscoverBody,
        response: { 200: S.WellKnownResponseSchema, ...errors(400), ...AUTH_ERRORS },
      },
    },
    async (req) => {
      const { url, type } = req.body as { url: string; type?: string };
      try {
        const doc = await fetchJsonSafely(url, ctx.discovery);
        if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { valid: false };
        return { valid: true, value: keyManagerFromDiscovery(doc as Record<string, unknown>, url, type) };
      } catch (err) {
        if (AdminErrors.is(err)) throw err;
        req.log.info({ err: (err as Error).message }, 'key manager discovery failed');
        return { valid: false };
      }
    },
  );

  // ---- workflows ----
  const wfView = scopes('apim:admin', 'apim:api_workflow_view');
  const wfApprove = scopes('apim:admin', 'apim:api_workflow_approve');
  const wfTags = ['Workflow (Collection)'];
  app.get(
    '/workflows',
    {
      onRequest: wfView.hook,
      schema: { security: wfView.security,
        tags: wfTags,
        summary: 'List the pending workflow requests',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 25 },
            offset: { type: 'integer', minimum: 0, default: 0 },
            workflowType: { type: 'string', enum: S.WorkflowTypesEnum.map((t) => `AM_${t}`) },
          },
        },
        response: { 200: S.WorkflowListSchema, ...errors(400), ...AUTH_ERRORS },
      },
    },
    async (req) => {
      const q = req.query as { limit: number; offset: number; workflowType?: string };
      const workflowType = q.workflowType?.replace(/^AM_/, '') as WorkflowType | undefined;
      const { items, total } = await service.listPendingWorkflows(tenant(req), { workflowType, limit: q.limit, offset: q.offset });
      const link = (offset: number) => `/workflows?limit=${q.limit}&offset=${offset}${q.workflowType ? `&workflowType=${q.workflowType}` : ''}`;
      return {
        count: items.length,
        next: q.offset + items.length < total ? link(q.offset + q.limit) : '',
        previous: q.offset > 0 ? link(Math.max(0, q.offset - q.limit)) : '',
        list: items.map(workflowInfoDto),
      };
    },
  );
  app.get(
    '/workflows/:externalWorkflowRef',
    { onRequest: wfView.hook, schema: { security: wfView.security, tags: wfTags, summary: 'Get a workflow request', params: idParam('externalWorkflowRef'), response: { 200: S.WorkflowInfoSchema, ...errors(404), ...AUTH_ERRORS } } },
    async (req) => workflowInfoDto(await service.getWorkflow(tenant(req), (req.params as { externalWorkflowRef: string }).externalWorkflowRef)),
  );
  app.post(
    '/workflows/update-workflow-status',
    {
      onRequest: wfApprove.hook,
      schema: { security: wfApprove.security,
        tags: wfTags,
        summary: 'Approve or reject a pending workflow request',
        querystring: { type: 'object', required: ['workflowReferenceId'], additionalProperties: false, properties: { workflowReferenceId: { type: 'string', minLength: 1, maxLength: 255 } } },
        body: S.WorkflowBody,
        response: { 200: S.WorkflowSchema, ...errors(400, 404, 409), ...AUTH_ERRORS },
      },
    },
    async (req) => {
      const { workflowReferenceId } = req.query as { workflowReferenceId: string };
      const body = req.body as { status: 'APPROVED' | 'REJECTED'; attributes?: Record<string, string>; description?: string };
      const wf = await service.completeWorkflow(tenant(req), workflowReferenceId, body);
      return { status: wf.status, attributes: wf.attributes, description: wf.decisionNote ?? undefined };
    },
  );

  // ---- tenant configuration ----
  const adminOnly = scopes('apim:admin');
  const configTags = ['Tenant Config'];
  app.get(
    '/tenant-config',
    { onRequest: adminOnly.hook, schema: { security: adminOnly.security, tags: configTags, summary: "The tenant's configuration: workflow switches and role aliases", response: { 200: TenantConfigSchema, ...AUTH_ERRORS } } },
    async (req) => service.getTenantConfig(tenant(req)),
  );
  app.put(
    '/tenant-config',
    {
      onRequest: adminOnly.hook,
      bodyLimit: TENANT_CONFIG_MAX_BYTES,
      schema: {
        security: adminOnly.security,
        tags: configTags,
        summary: "Replace the tenant's configuration (checked against /tenant-config-schema; nothing is stored when it does not match)",
        body: TenantConfigSchema,
        response: { 200: TenantConfigSchema, ...errors(400, 413), ...AUTH_ERRORS },
      },
    },
    async (req) => service.setTenantConfig(tenant(req), req.body as TenantConfig),
  );
  app.get(
    '/tenant-config-schema',
    { onRequest: adminOnly.hook, schema: { security: adminOnly.security, tags: ['Tenant Config Schema'], summary: "The tenant configuration's JSON Schema", response: { 200: { type: 'object', additionalProperties: true }, ...AUTH_ERRORS } } },
    async () => TenantConfigSchemaDocument,
  );

  // ---- system scopes ----
  const scopeManage = scopes('apim:admin', 'apim:scope_manage');
  const scopeTags = ['System Scopes'];
  const scopeList = async (tenantId: number) => {
    const list = (await ctx.systemScopes.listSystemScopes(tenantId)).map((s) => ({ name: s.scope, description: s.description, roles: s.roles }));
    return { count: list.length, list };
  };
  app.get('/system-scopes', { onRequest: scopeManage.hook, schema: { security: scopeManage.security, tags: scopeTags, summary: 'List the management scopes and their roles', response: { 200: S.ScopeListSchema, ...AUTH_ERRORS } } }, async (req) =>
    scopeList(tenant(req)),
  );
  app.put(
    '/system-scopes',
    { onRequest: scopeManage.hook, schema: { security: scopeManage.security, tags: scopeTags, summary: 'Set the roles of management scopes', body: S.ScopeListBody, response: { 200: S.ScopeListSchema, ...errors(400), ...AUTH_ERRORS } } },
    async (req) => {
      const tenantId = tenant(req);
      const body = req.body as { list: { name: string; roles: string[] }[] };
      const known = new Set((await ctx.systemScopes.listSystemScopes(tenantId)).map((s) => s.scope));
      // Every name is checked before anything is written, so a bad list changes nothing.
      body.list.forEach((s, i) => {
        if (!known.has(s.name)) throw invalid(`body.list.${i}.name`, `${s.name} is not a system scope`);
      });
      for (const s of body.list) await ctx.systemScopes.setSystemScopeRoles(tenantId, s.name, [...new Set(s.roles)]);
      return scopeList(tenantId);
    },
  );
  app.get(
    '/system-scopes/role-aliases',
    { onRequest: scopeManage.hook, schema: { security: scopeManage.security, tags: scopeTags, summary: 'List the role aliases', response: { 200: S.RoleAliasListSchema, ...AUTH_ERRORS } } },
    async (req) => {
      const list = await service.getRoleAliases(tenant(req));
      return { count: list.length, list };
    },
  );
  app.put(
    '/system-scopes/role-aliases',
    {
      onRequest: scopeManage.hook,
      schema: { security: scopeManage.security, tags: scopeTags, summary: 'Replace the role aliases', body: S.RoleAliasListBody, response: { 200: S.RoleAliasListSchema, ...errors(400), ...AUTH_ERRORS } },
    },
    async (req) => {
      const list = await service.setRoleAliases(tenant(req), (req.body as { list: { role: string; aliases: string[] }[] }).list);
      return { count: list.length, list };
    },
  );
  app.get(
    '/system-scopes/:scopeName',
    {
      onRequest: scopeManage.hook,
      schema: { security: scopeManage.security,
        tags: scopeTags,
        summary: 'Check that a management scope exists (base64url-encoded or plain name)',
        params: idParam('scopeName'),
        querystring: { type: 'object', additionalProperties: false, properties: { username: { type: 'string' } } },
        response: { 200: S.ScopeSettingsSchema, ...errors(404), ...AUTH_ERRORS },
      },
    },
    async (req) => {
      const raw = (req.params as { scopeName: string }).scopeName;
      const scopesNow = await ctx.systemScopes.listSystemScopes(tenant(req));
      const decoded = Buffer.from(raw, 'base64url').toString('utf8');
      const found = scopesNow.find((s) => s.scope === raw) ?? scopesNow.find((s) => s.scope === decoded);
      if (!found) throw AdminErrors.create('ADMIN_ERR_SCOPE_NOT_FOUND', { description: `No system scope ${raw}` });
      return { name: found.scope };
    },
  );
}
