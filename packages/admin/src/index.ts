import type { FastifyInstance } from 'fastify';
import type { GatehouseConfig } from '@gatehouse/config';
import { SUPER_TENANT_ID } from '@gatehouse/core';
import type { Clock, ServerKeys } from '@gatehouse/core';
import type { Databases, Repositories } from '@gatehouse/data';
import type { EventHub, Logger } from '@gatehouse/events';
import { createManagementAuth, createSystemScopeRepository, getPrincipal } from '@gatehouse/key-manager';
import { ADMIN_PREFIX, registerOpenApi } from './openapi.ts';
import { registerAdminRoutes } from './routes.ts';
import { createAdminService } from './service.ts';
import type { AdminService } from './service.ts';
import { seedAdminDefaults } from './seed.ts';

export { AdminErrors } from './errors.ts';
export type { AdminErrorCode, AdminError } from './errors.ts';
export { createAdminService, normalizeBlockingValue, policyFromInput, PROTECTED_POLICY, RESIDENT_KEY_MANAGER, DEFAULT_ENVIRONMENT } from './service.ts';
export type { AdminService, AdminServiceDeps, NewWorkflow, PolicyInput, KeyManagerInput, PolicyUsageCheck, WorkflowCompletedHandler } from './service.ts';
export { TenantConfigSchema, WorkflowSwitches } from './tenant-config.ts';
export type { RoleAlias, SwitchableWorkflowType, TenantConfig, WorkflowSwitch } from './tenant-config.ts';
export { PolicyKinds, allPolicyKinds, TimeUnits } from './store/policies.ts';
export type { PolicyKind, ThrottlePolicy, ThrottleLimit } from './store/policies.ts';
export { BlockingTypes } from './store/blocking.ts';
export type { BlockingCondition, BlockingType } from './store/blocking.ts';
export type { StoredKeyManager } from './store/key-managers.ts';
export { WorkflowTypes, WorkflowStatuses } from './store/workflows.ts';
export type { Workflow, WorkflowType, WorkflowStatus } from './store/workflows.ts';
export type { GatewayRegistration } from './store/gateways.ts';
export { DEFAULT_POLICIES, residentKeyManager, seedAdminDefaults } from './seed.ts';
export { ADMIN_PREFIX } from './openapi.ts';

/** What the Admin component needs from its host (a subset of the CLI's ComponentDeps). */
export interface AdminDeps {
  readonly databases?: Databases;
  readonly repositories?: Repositories;
  readonly keys?: ServerKeys;
  readonly hub: EventHub;
  readonly logger: Logger;
  readonly clock: Clock;
}

export interface AdminComponent {
  readonly name: 'admin';
  /** The operations behind the REST API, for the Developer Portal and the internal data API in this process. */
  readonly service: AdminService;
  routes(app: FastifyInstance): Promise<void>;
  start(): Promise<void>;
}

/** The control plane's public base URL, as the Resident Key Manager's issuer uses it. */
function publicBaseUrl(config: GatehouseConfig): string {
  return config.server.public_url || `https://localhost:${config.server.https_port}`;
}

/**
 * The Admin REST API (`/api/am/admin/v4`): throttling and deny policies, gateway environments
 * and their gateways, key managers, workflows, system scopes and the tenant configuration. Seeds WSO2's default tiers and
 * the Resident Key Manager at start.
 *
 * @example
 * ```ts
 * const admin = await createAdmin(config, { databases, repositories, keys, hub, logger, clock });
 * await app.register(async (scope) => admin.routes(scope));
 * await admin.start();
 * const gold = await admin.service.getPolicy(tenantId, 'subscription', 'Gold');
 * ```
 */
export async function createAdmin(config: GatehouseConfig, deps: AdminDeps): Promise<AdminComponent> {
  const { databases, repositories, keys } = deps;
  if (!databases || !repositories || !keys) throw new Error('the admin component needs the databases and the server keys (run it in a control-plane profile)');
  const service = createAdminService({ databases, repositories, keys, hub: deps.hub, clock: deps.clock, logger: deps.logger });
  // The Key Manager verifies management tokens and owns the scope-to-role mapping (system scopes).
  const auth = createManagementAuth(config, { databases, repositories, keys, hub: deps.hub, logger: deps.logger, clock: deps.clock });
  const systemScopes = createSystemScopeRepository(databases, { clock: deps.clock });

  return {
    name: 'admin',
    service,
    async routes(app) {
      await registerOpenApi(app);
      app.get(`${ADMIN_PREFIX}/openapi.json`, { schema: { hide: true } }, async () => app.swagger());
      app.get(`${ADMIN_PREFIX}/openapi.yaml`, { schema: { hide: true } }, async (_req, reply) => reply.type('application/yaml').send(app.swagger({ yaml: true })));
      await app.register(
        async (api) =>
          registerAdminRoutes(api, {
            service,
            auth,
            principal: getPrincipal,
            systemScopes,
            clock: deps.clock,
            discovery: { allowPrivate: config.admin_api.discovery_allow_private, timeoutMs: config.admin_api.discovery_timeout_ms, maxBytes: 256 * 1024 },
            gatewayExpiryMs: config.admin_api.gateway_expiry_ms,
          }),
        { prefix: ADMIN_PREFIX },
      );
    },
    async start() {
      await seedAdminDefaults(service, SUPER_TENANT_ID, publicBaseUrl(config));
    },
  };
}
