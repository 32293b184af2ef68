import type { Clock, ServerKeys } from '@gatehouse/core';
import { SUPER_TENANT_ID } from '@gatehouse/core';
import { DataErrors } from '@gatehouse/data';
import type { ApimSchema, Databases, GatewayEnvironment, Repositories, VirtualHost } from '@gatehouse/data';
import type { Kysely } from 'kysely';
import { Topics } from '@gatehouse/events';
import type { EventHub, Logger } from '@gatehouse/events';
import { AdminErrors, invalid } from './errors.ts';
import { parseCidr, parseIp } from './ip.ts';
import { createBlockingStore } from './store/blocking.ts';
import type { BlockingCondition, BlockingType } from './store/blocking.ts';
import { createGatewayStore } from './store/gateways.ts';
import type { GatewayRegistration } from './store/gateways.ts';
import { createKeyManagerStore } from './store/key-managers.ts';
import type { StoredKeyManager } from './store/key-managers.ts';
import { createPolicyStore, PolicyKinds } from './store/policies.ts';
import type { NewThrottlePolicy, PolicyKind, ThrottleLimit, ThrottlePolicy } from './store/policies.ts';
import { createWorkflowStore, WorkflowStatuses } from './store/workflows.ts';
import type { Workflow, WorkflowStore, WorkflowType } from './store/workflows.ts';
import { checkCondition, checkKeyTemplate, checkLimit, checkRange, checkTokenValidation } from './validate.ts';
import { enabledWorkflowTypes, tenantConfigOf, workflowSwitchOf } from './tenant-config.ts';
import type { RoleAlias, SwitchableWorkflowType, TenantConfig } from './tenant-config.ts';
import type { ThrottleConditionInput } from './validate.ts';

export interface AdminServiceDeps {
  readonly databases: Pick<Databases, 'apim'>;
  readonly repositories: Pick<Repositories, 'gatewayEnvironments' | 'settings'>;
  readonly keys: ServerKeys;
  readonly hub: EventHub;
  readonly clock: Clock;
  readonly logger?: Logger;
}

/** Names WSO2 ships and refuses to delete. */
export const PROTECTED_POLICY = 'Unlimited';
export const RESIDENT_KEY_MANAGER = 'Resident Key Manager';
export const DEFAULT_ENVIRONMENT = 'Default';

/** Fields of a policy as the Admin API takes them (minus policyId/type/isDeployed). */
export interface PolicyInput {
  policyName: string;
  displayName?: string;
  description?: string;
  defaultLimit?: ThrottleLimit;
  conditionalGroups?: { description?: string; conditions: ThrottleConditionInput[]; limit: ThrottleLimit }[];
  keyTemplate?: string;
  siddhiQuery?: string;
  [extra: string]: unknown;
}

const SUBSCRIPTION_EXTRAS = [
  'rateLimitCount',
  'rateLimitTimeUnit',
  'stopOnQuotaReach',
  'billingPlan',
  'customAttributes',
  'subscriberCount',
  'permissions',
  'monetization',
  'graphQLMaxComplexity',
  'graphQLMaxDepth',
] as const;

/** Checks a policy body for its kind and turns it into what the store keeps. Throws ADMIN_ERR_VALIDATION naming the field. */
export function policyFromInput(kind: PolicyKind, input: PolicyInput): NewThrottlePolicy {
  const base = { name: input.policyName, displayName: input.displayName ?? input.policyName, description: input.description ?? null };
  if (kind === PolicyKinds.Custom) {
    if (!input.keyTemplate) throw invalid('body.keyTemplate', 'is required');
    if (!input.siddhiQuery?.trim()) throw invalid('body.siddhiQuery', 'is required');
    checkKeyTemplate('body.keyTemplate', input.keyTemplate);
    return { ...base, defaultLimit: null, details: { keyTemplate: input.keyTemplate, siddhiQuery: input.siddhiQuery } };
  }
  if (!input.defaultLimit) throw invalid('body.defaultLimit', 'is required');
  const defaultLimit = checkLimit('body.defaultLimit', input.defaultLimit);
  if (kind === PolicyKinds.Advanced) {
    const groups = (input.conditionalGroups ?? []).map((g, i) => {
      if (g.conditions.length === 0) throw invalid(`body.conditionalGroups.${i}.conditions`, 'must have at least one condition');
      return {
        ...(g.description === undefined ? {} : { description: g.description }),
        conditions: g.conditions.map((c, j) => checkCondition(`body.conditionalGroups.${i}.conditions.${j}`, c)),
        limit: checkLimit(`body.conditionalGroups.${i}.limit`, g.limit),
      };
    });
    return { ...base, defaultLimit, details: { conditionalGroups: groups } };
  }
  if (kind === PolicyKinds.Subscription) {
    const details: Record<string, unknown> = {};
    for (const key of SUBSCRIPTION_EXTRAS) if (input[key] !== undefined) details[key] = input[key];
    const count = Number(details.rateLimitCount ?? 0);
    if (count < 0) throw invalid('body.rateLimitCount', 'must not be negative');
    if (count > 0 && details.rateLimitTimeUnit !== 'sec' && details.rateLimitTimeUnit !== 'min') {
      throw invalid('body.rateLimitTimeUnit', 'must be sec or min when rateLimitCount is set');
    }
    details.stopOnQuotaReach = details.stopOnQuotaReach ?? true;
    details.billingPlan = details.billingPlan ?? 'FREE';
    return { ...base, defaultLimit, details };
  }
  return { ...base, defaultLimit, details: {} };
}

/** What a policy-in-use check answers: whether `name` is referenced (by APIs, applications or subscriptions). */
export type PolicyUsageCheck = (tenantId: number, kind: PolicyKind, name: string) => Promise<boolean>;
export type WorkflowCompletedHandler = (workflow: Workflow) => void | Promise<void>;
/** An approval task to open: `referenceId` defaults to a random one. */
export type NewWorkflow = Parameters<WorkflowStore['create']>[1];

/**
 * The Admin component's operations over its stores, with validation and events. The REST routes
 * are thin over it, and the Developer Portal and the internal data API use its read side.
 */
export function createAdminService(deps: AdminServiceDeps) {
  const db = deps.databases.apim;
  const policies = createPolicyStore(db, deps.clock);
  const blocking = createBlockingStore(db, deps.clock);
  const keyManagers = createKeyManagerStore(db, deps.clock);
  const workflows = createWorkflowStore(db, deps.clock);
  const gateways = createGatewayStore(db, deps.clock);
  const usageChecks: PolicyUsageCheck[] = [];
  const completedHandlers = new Map<WorkflowType | '*', WorkflowCompletedHandler[]>();

  const publish = async (topic: (typeof Topics)[keyof typeof Topics], type: string, tenantId: number, payload: unknown) => {
    await deps.hub.publish(topic, type, payload, { tenantId });
  };

  const duplicate = async <T>(work: Promise<T>, onDuplicate: () => Error): Promise<T> => {
    try {
      return await work;
    } catch (err) {
      if (DataErrors.is(err, 'DATA_ERR_UNIQUE_VIOLATION')) throw onDuplicate();
      throw err;
    }
  };

  const mustGetPolicy = async (tenantId: number, kind: PolicyKind, id: string) => {
    const p = await policies.get(tenantId, kind, id);
    if (!p) throw AdminErrors.create('ADMIN_ERR_POLICY_NOT_FOUND', { description: `No ${kind} policy with id ${id}` });
    return p;
  };

  const policyEvent = (p: ThrottlePolicy) => ({ kind: p.kind, name: p.name, id: p.id, tenantId: p.tenantId });

  const service = {
    stores: { policies, blocking, keyManagers, workflows, gateways },

    // ---- throttling policies ----
    listPolicies: (tenantId: number, kind?: PolicyKind) => policies.list(tenantId, kind),
    getPolicy: (tenantId: number, kind: PolicyKind, idOrName: string) =>
      policies.get(tenantId, kind, idOrName).then((p) => p ?? policies.getByName(tenantId, kind, idOrName)),
    mustGetPolicy,
    async createPolicy(tenantId: number, kind: PolicyKind, input: PolicyInput): Promise<ThrottlePolicy> {
      const value = policyFromInput(kind, input);
      const created = await duplicate(policies.create(tenantId, kind, value), () =>
        AdminErrors.create('ADMIN_ERR_POLICY_EXISTS', { description: `A ${kind} policy named ${value.name} already exists` }),
      );
      await publish(Topics.Notification, 'POLICY_CREATE', tenantId, policyEvent(created));
      return created;
    },
    async updatePolicy(tenantId: number, kind: PolicyKind, id: string, input: PolicyInput): Promise<ThrottlePolicy> {
      const existing = await mustGetPolicy(tenantId, kind, id);
      if (input.policyName !== existing.name) throw invalid('body.policyName', `cannot be changed (the policy is ${existing.name})`);
      const value = policyFromInput(kind, input);
      const updated = await policies.update(tenantId, kind, id, {
        displayName: value.displayName ?? null,
        description: value.description ?? null,
        defaultLimit: value.defaultLimit,
        details: value.details ?? {},
      });
      if (!updated) throw AdminErrors.create('ADMIN_ERR_POLICY_NOT_FOUND', { description: `No ${kind} policy with id ${id}` });
      await publish(Topics.Notification, 'POLICY_UPDATE', tenantId, policyEvent(updated));
      return updated;
    },
    async deletePolicy(tenantId: number, kind: PolicyKind, id: string): Promise<void> {
      const existing = await mustGetPolicy(tenantId, kind, id);
      if (existing.name === PROTECTED_POLICY && kind !== PolicyKinds.Custom) {
        throw AdminErrors.create('ADMIN_ERR_POLICY_PROTECTED', { description: `The ${kind} policy ${PROTECTED_POLICY} cannot be deleted` });
      }
      for (const check of usageChecks) {
        if (await check(tenantId, kind, existing.name)) {
          throw AdminErrors.create('ADMIN_ERR_POLICY_IN_USE', { description: `The ${kind} policy ${existing.name} is in use` });
        }
      }
      if (!(await policies.delete(tenantId, kind, id))) throw AdminErrors.create('ADMIN_ERR_POLICY_NOT_FOUND', { description: `No ${kind} policy with id ${id}` });
      await publish(Topics.Notification, 'POLICY_DELETE', tenantId, policyEvent(existing));
    },
    /** Registers a check consulted before a policy is deleted (the Publisher and Developer Portal know what uses a tier). */
    addPolicyUsageCheck(check: PolicyUsageCheck): void {
      usageChecks.push(check);
    },

    // ---- blocking conditions ----
    listBlockingConditions: (tenantId: number) => blocking.list(tenantId),
    async getBlockingCondition(tenantId: number, id: string): Promise<BlockingCondition> {
      const c = await blocking.get(tenantId, id);
      if (!c) throw AdminErrors.create('ADMIN_ERR_CONDITION_NOT_FOUND', { description: `No blocking condition with id ${id}` });
      return c;
    },
    async createBlockingCondition(tenantId: number, input: { conditionType: BlockingType; conditionValue: unknown; conditionStatus?: boolean }): Promise<BlockingCondition> {
      const { value, key } = normalizeBlockingValue(input.conditionType, input.conditionValue);
      const created = await duplicate(
        blocking.create(tenantId, { conditionType: input.conditionType, conditionValue: value, valueKey: key, conditionStatus: input.conditionStatus ?? true }),
        () => AdminErrors.create('ADMIN_ERR_CONDITION_EXISTS', { description: `A ${input.conditionType} blocking condition with this value already exists` }),
      );
      await publish(Topics.ThrottleData, 'BLOCKING_CONDITION_ADD', tenantId, blockingEvent(created));
      return created;
    },
    async setBlockingConditionStatus(tenantId: number, id: string, status: boolean): Promise<BlockingCondition> {
      const updated = await blocking.setStatus(tenantId, id, status);
      if (!updated) throw AdminErrors.create('ADMIN_ERR_CONDITION_NOT_FOUND', { description: `No blocking condition with id ${id}` });
      await publish(Topics.ThrottleData, 'BLOCKING_CONDITION_UPDATE', tenantId, blockingEvent(updated));
      return updated;
    },
    async deleteBlockingCondition(tenantId: number, id: string): Promise<void> {
      const existing = await service.getBlockingCondition(tenantId, id);
      if (!(await blocking.delete(tenantId, id))) throw AdminErrors.create('ADMIN_ERR_CONDITION_NOT_FOUND', { description: `No blocking condition with id ${id}` });
      await publish(Topics.ThrottleData, 'BLOCKING_CONDITION_DELETE', tenantId, blockingEvent(existing));
    },

    // ---- gateway environments ----
    listEnvironments: (tenantId: number) => deps.repositories.gatewayEnvironments.list(tenantId),
    async getEnvironment(tenantId: number, id: string): Promise<GatewayEnvironment> {
      const env = await deps.repositories.gatewayEnvironments.get(tenantId, id);
      if (!env) throw AdminErrors.create('ADMIN_ERR_ENVIRONMENT_NOT_FOUND', { description: `No gateway environment with id ${id}` });
      return env;
    },
    async createEnvironment(tenantId: number, input: { name: string; displayName?: string; description?: string; provider?: string; vhosts: VirtualHost[] }) {
      const created = await duplicate(
        deps.repositories.gatewayEnvironments.create(tenantId, {
          name: input.name,
          displayName: input.displayName ?? input.name,
          description: input.description ?? null,
          provider: input.provider ?? 'wso2',
          vhosts: input.vhosts,
        }),
        () => AdminErrors.create('ADMIN_ERR_ENVIRONMENT_EXISTS', { description: `A gateway environment named ${input.name} already exists` }),
      );
      await publish(Topics.Notification, 'GATEWAY_ENVIRONMENT_CREATE', tenantId, { id: created.id, name: created.name, tenantId });
      return created;
    },
    async updateEnvironment(tenantId: number, id: string, input: { name: string; displayName?: string; description?: string; provider?: string; vhosts: VirtualHost[] }) {
      const existing = await service.getEnvironment(tenantId, id);
      if (existing.name === DEFAULT_ENVIRONMENT) throw AdminErrors.create('ADMIN_ERR_ENVIRONMENT_READ_ONLY', { description: 'The Default environment is defined by the server configuration' });
      if (input.name !== existing.name) throw invalid('body.name', `cannot be changed (the environment is ${existing.name})`);
      const updated = await deps.repositories.gatewayEnvironments.update(tenantId, id, {
        displayName: input.displayName ?? existing.displayName,
        description: input.description ?? null,
        provider: input.provider ?? existing.provider,
        vhosts: input.vhosts,
      });
      await publish(Topics.Notification, 'GATEWAY_ENVIRONMENT_UPDATE', tenantId, { id, name: updated.name, tenantId });
      return updated;
    },
    async deleteEnvironment(tenantId: number, id: string): Promise<void> {
      const existing = await service.getEnvironment(tenantId, id);
      if (existing.name === DEFAULT_ENVIRONMENT) throw AdminErrors.create('ADMIN_ERR_ENVIRONMENT_READ_ONLY', { description: 'The Default environment cannot be deleted' });
      await deps.repositories.gatewayEnvironments.delete(tenantId, id);
      await publish(Topics.Notification, 'GATEWAY_ENVIRONMENT_DELETE', tenantId, { id, name: existing.name, tenantId });
    },

    // ---- key managers ----
    listKeyManagers: (tenantId: number) => keyManagers.list(tenantId),
    async getKeyManager(tenantId: number, id: string): Promise<StoredKeyManager> {
      const km = await keyManagers.get(tenantId, id);
      if (!km) throw AdminErrors.create('ADMIN_ERR_KEY_MANAGER_NOT_FOUND', { description: `No key manager with id ${id}` });
      return km;
    },
    /** The secret additional properties (client secrets, passwords) of a key manager, unsealed. */
    keyManagerSecrets(km: StoredKeyManager): Record<string, string> {
      return km.sealedSecrets ? (JSON.parse(deps.keys.open('key-manager-secret', km.sealedSecrets)) as Record<string, string>) : {};
    },
    async createKeyManager(tenantId: number, input: KeyManagerInput): Promise<StoredKeyManager> {
      checkTokenValidation(input.tokenValidation);
      const { config, secrets } = splitKeyManager(input);
      const created = await duplicate(
        keyManagers.create(tenantId, {
          name: input.name,
          displayName: input.displayName ?? input.name,
          type: input.type,
          description: input.description ?? null,
          issuer: input.issuer ?? null,
          enabled: input.enabled ?? true,
          tokenType: input.tokenType ?? 'DIRECT',
          config,
          sealedSecrets: Object.keys(secrets).length > 0 ? deps.keys.seal('key-manager-secret', JSON.stringify(secrets)) : null,
        }),
        () => AdminErrors.create('ADMIN_ERR_KEY_MANAGER_EXISTS', { description: `A key manager named ${input.name} already exists` }),
      );
      await publish(Topics.KeyManager, 'KEY_MANAGER_CONFIGURATION_ADD', tenantId, keyManagerEvent(created));
      return created;
    },
    async updateKeyManager(tenantId: number, id: string, input: KeyManagerInput): Promise<StoredKeyManager> {
      const existing = await service.getKeyManager(tenantId, id);
      if (input.name !== existing.name) throw invalid('body.name', `cannot be changed (the key manager is ${existing.name})`);
      checkTokenValidation(input.tokenValidation);
      const { config, secrets } = splitKeyManager(input);
      // A secret left out of the update keeps its stored value: GET never returns secrets.
      const merged = { ...service.keyManagerSecrets(existing), ...secrets };
      const updated = await keyManagers.replace(tenantId, id, {
        displayName: input.displayName ?? input.name,
        type: input.type,
        description: input.description ?? null,
        issuer: input.issuer ?? null,
        enabled: input.enabled ?? true,
        tokenType: input.tokenType ?? 'DIRECT',
        config,
        sealedSecrets: Object.keys(merged).length > 0 ? deps.keys.seal('key-manager-secret', JSON.stringify(merged)) : null,
      });
      if (!updated) throw AdminErrors.create('ADMIN_ERR_KEY_MANAGER_NOT_FOUND', { description: `No key manager with id ${id}` });
      await publish(Topics.KeyManager, 'KEY_MANAGER_CONFIGURATION_UPDATE', tenantId, keyManagerEvent(updated));
      return updated;
    },
    async deleteKeyManager(tenantId: number, id: string): Promise<void> {
      const existing = await service.getKeyManager(tenantId, id);
      if (existing.name === RESIDENT_KEY_MANAGER) throw AdminErrors.create('ADMIN_ERR_KEY_MANAGER_PROTECTED');
      if (!(await keyManagers.delete(tenantId, id))) throw AdminErrors.create('ADMIN_ERR_KEY_MANAGER_NOT_FOUND', { description: `No key manager with id ${id}` });
      await publish(Topics.KeyManager, 'KEY_MANAGER_CONFIGURATION_DELETE', tenantId, keyManagerEvent(existing));
    },

    // ---- tenant configuration ----
    /** The tenant's configuration document (`GET /tenant-config`), from its stored settings. */
    async getTenantConfig(tenantId: number): Promise<TenantConfig> {
      return tenantConfigOf(await enabledWorkflows(tenantId), await service.getRoleAliases(tenantId));
    },
    /**
     * Replaces the tenant's configuration (`PUT /tenant-config`; the body already passed
     * TenantConfigSchema). Everything is checked before anything is written; only the settings
     * that changed are written. The Developer Portal reads the workflow switches at each request,
     * so nothing is published for them; changed role aliases publish `ROLE_ALIAS_UPDATE` as
     * `setRoleAliases` does. The two settings are written one after the other: a PUT the database
     * fails half-way is answered 500 and is safe to repeat.
     */
    async setTenantConfig(tenantId: number, config: TenantConfig): Promise<TenantConfig> {
      const aliases = checkRoleAliases('body.RoleAliases', config.RoleAliases);
      await writeWorkflows(tenantId, enabledWorkflowTypes(config));
      await writeRoleAliases(tenantId, aliases);
      return service.getTenantConfig(tenantId);
    },

    // ---- workflows ----
    async isWorkflowEnabled(tenantId: number, type: WorkflowType): Promise<boolean> {
      return (await enabledWorkflows(tenantId)).includes(type);
    },
    /** Turns one switch of the tenant configuration on or off. */
    async setWorkflowEnabled(tenantId: number, type: SwitchableWorkflowType, enabled: boolean): Promise<void> {
      const name = workflowSwitchOf(type);
      if (!name) throw invalid('workflowType', `${String(type)} cannot be switched on: nothing holds it for approval`);
      const config = await service.getTenantConfig(tenantId);
      await service.setTenantConfig(tenantId, { ...config, Workflows: { ...config.Workflows, [name]: enabled } });
    },
    /**
     * Opens an approval task (the Developer Portal calls it when the type is enabled). Throws
     * ADMIN_ERR_WORKFLOW_EXISTS when `referenceId` is taken.
     */
    async createWorkflow(tenantId: number, input: NewWorkflow): Promise<Workflow> {
      const created = await service.writeWorkflow(db, tenantId, input);
      await service.announceWorkflow(created);
      return created;
    },
    /**
     * Writes an approval task in `trx`, a transaction on the apim database, so that it commits
     * with what it is about or not at all; `announceWorkflow` publishes it once committed. Throws
     * ADMIN_ERR_WORKFLOW_EXISTS when `referenceId` is taken.
     *
     * @example
     * ```ts
     * const wf = await dbs.apim.transaction().execute(async (trx) => {
     *   await trx.insertInto('dp_subscriptions').values(row).execute();
     *   return admin.writeWorkflow(trx, tenantId, { workflowType: 'SUBSCRIPTION_CREATION', subjectRef: row.id });
     * });
     * await admin.announceWorkflow(wf);
     * ```
     */
    writeWorkflow(trx: Kysely<ApimSchema>, tenantId: number, input: NewWorkflow): Promise<Workflow> {
      const store = trx === db ? workflows : createWorkflowStore(trx, deps.clock);
      return duplicate(store.create(tenantId, input), () =>
        AdminErrors.create('ADMIN_ERR_WORKFLOW_EXISTS', { description: `A workflow with reference ${input.referenceId ?? ''} already exists` }),
      );
    },
    /** Publishes `WORKFLOW_CREATE` for a workflow that `writeWorkflow` wrote, after its transaction committed. */
    announceWorkflow: (wf: Workflow): Promise<void> => publish(Topics.Notification, 'WORKFLOW_CREATE', wf.tenantId, workflowEvent(wf)),
    async getWorkflow(tenantId: number, referenceId: string): Promise<Workflow> {
      const wf = await workflows.get(tenantId, referenceId);
      if (!wf) throw AdminErrors.create('ADMIN_ERR_WORKFLOW_NOT_FOUND', { description: `No workflow with reference ${referenceId}` });
      return wf;
    },
    listPendingWorkflows: (tenantId: number, filter: { workflowType?: WorkflowType; limit: number; offset: number }) =>
      workflows.list(tenantId, { ...filter, status: WorkflowStatuses.Created }),
    /**
     * Approves or rejects a pending workflow, once: a second decision fails with
     * ADMIN_ERR_WORKFLOW_COMPLETED. Then `onWorkflowCompleted` handlers in this process run and
     * `WORKFLOW_COMPLETE` is published on `notification` for the other processes.
     */
    async completeWorkflow(tenantId: number, referenceId: string, decision: { status: 'APPROVED' | 'REJECTED'; attributes?: Record<string, string>; description?: string }): Promise<Workflow> {
      await service.getWorkflow(tenantId, referenceId);
      const done = await workflows.complete(tenantId, referenceId, decision.status, decision.attributes ?? {}, decision.description ?? null);
      if (!done) throw AdminErrors.create('ADMIN_ERR_WORKFLOW_COMPLETED', { description: `The workflow ${referenceId} is no longer pending` });
      const wf = await service.getWorkflow(tenantId, referenceId);
      for (const handler of [...(completedHandlers.get(wf.workflowType) ?? []), ...(completedHandlers.get('*') ?? [])]) {
        try {
          await handler(wf);
        } catch (err) {
          deps.logger?.error({ err, referenceId, workflowType: wf.workflowType }, 'a workflow completion handler failed');
        }
      }
      await publish(Topics.Notification, 'WORKFLOW_COMPLETE', tenantId, workflowEvent(wf));
      return wf;
    },
    /** Runs `handler` in this process when a workflow of `type` (or any, with `*`) is approved or rejected. */
    onWorkflowCompleted(type: WorkflowType | '*', handler: WorkflowCompletedHandler): () => void {
      const list = completedHandlers.get(type) ?? [];
      list.push(handler);
      completedHandlers.set(type, list);
      return () => {
        const i = list.indexOf(handler);
        if (i >= 0) list.splice(i, 1);
      };
    },

    // ---- role aliases ----
    /** WSO2's role aliases (`/system-scopes/role-aliases`): stored per tenant; the Key Manager does not apply them yet. */
    async getRoleAliases(tenantId: number): Promise<RoleAlias[]> {
      const raw = await deps.repositories.settings.get(tenantId, ROLE_ALIAS_SETTING);
      return raw ? (JSON.parse(raw) as RoleAlias[]) : [];
    },
    /** Replaces every alias mapping of the tenant at once (the tenant configuration's `RoleAliases`). */
    async setRoleAliases(tenantId: number, list: readonly RoleAlias[]): Promise<RoleAlias[]> {
      const clean = checkRoleAliases('body.list', list);
      await writeRoleAliases(tenantId, clean);
      return clean;
    },

    // ---- gateways ----
    /** Records a gateway's registration or heartbeat (the Gateway calls it through the internal API or the event hub). */
    recordGatewayHeartbeat: (tenantId: number, gatewayId: string, labels: readonly string[]): Promise<GatewayRegistration> =>
      gateways.heartbeat(tenantId, gatewayId, labels),
    listGateways: (tenantId: number) => gateways.list(tenantId),
  };

  async function enabledWorkflows(tenantId: number): Promise<string[]> {
    const raw = await deps.repositories.settings.get(tenantId, WORKFLOW_SETTING);
    return raw ? (JSON.parse(raw) as string[]) : [];
  }

  async function writeWorkflows(tenantId: number, enabled: readonly string[]): Promise<void> {
    const value = JSON.stringify(enabled);
    if ((await deps.repositories.settings.get(tenantId, WORKFLOW_SETTING)) !== value) await deps.repositories.settings.set(tenantId, WORKFLOW_SETTING, value);
  }

  async function writeRoleAliases(tenantId: number, list: RoleAlias[]): Promise<void> {
    const value = JSON.stringify(list);
    if ((await deps.repositories.settings.get(tenantId, ROLE_ALIAS_SETTING)) === value) return;
    await deps.repositories.settings.set(tenantId, ROLE_ALIAS_SETTING, value);
    await publish(Topics.Notification, 'ROLE_ALIAS_UPDATE', tenantId, { tenantId, list });
  }

  return service;
}

export type AdminService = ReturnType<typeof createAdminService>;

const WORKFLOW_SETTING = 'admin.workflows.enabled';
const ROLE_ALIAS_SETTING = 'admin.role-aliases';

/** Each role once, each alias list without repeats; `field` names the list in the 400. */
function checkRoleAliases(field: string, list: readonly RoleAlias[]): RoleAlias[] {
  const seen = new Set<string>();
  return list.map((a, i) => {
    if (seen.has(a.role)) throw invalid(`${field}.${i}.role`, `${a.role} is listed twice`);
    seen.add(a.role);
    return { role: a.role, aliases: [...new Set(a.aliases)] };
  });
}

function blockingEvent(c: BlockingCondition) {
  return { id: c.id, tenantId: c.tenantId, conditionType: c.conditionType, conditionValue: c.conditionValue, conditionStatus: c.conditionStatus };
}

function keyManagerEvent(km: StoredKeyManager) {
  return { id: km.id, name: km.name, type: km.type, issuer: km.issuer, enabled: km.enabled, tenantId: km.tenantId };
}

function workflowEvent(wf: Workflow) {
  return { referenceId: wf.referenceId, workflowType: wf.workflowType, status: wf.status, subjectRef: wf.subjectRef, properties: wf.properties, tenantId: wf.tenantId };
}

/** A key manager as the Admin API takes it. */
export interface KeyManagerInput {
  name: string;
  type: string;
  displayName?: string;
  description?: string;
  issuer?: string;
  enabled?: boolean;
  tokenType?: string;
  additionalProperties?: Record<string, unknown>;
  [field: string]: unknown;
}

const KM_COLUMNS = new Set(['id', 'name', 'type', 'displayName', 'description', 'issuer', 'enabled', 'tokenType']);
const SECRET_KEY = /secret|password/i;

/** Splits a key manager into its stored config (everything but columns and secrets) and its secrets. */
function splitKeyManager(input: KeyManagerInput): { config: Record<string, unknown>; secrets: Record<string, string> } {
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) if (!KM_COLUMNS.has(k) && k !== 'additionalProperties' && v !== undefined) config[k] = v;
  const additional: Record<string, unknown> = {};
  const secrets: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.additionalProperties ?? {})) {
    if (SECRET_KEY.test(k) && typeof v === 'string') secrets[k] = v;
    else additional[k] = v;
  }
  config.additionalProperties = additional;
  return { config, secrets };
}

/**
 * Checks a blocking condition's value for its type and returns it normalized with its
 * uniqueness key. API: an API context (`/pizzashack/1.0.0`); APPLICATION: `owner:name`;
 * USER: a username; IP: `{ fixedIp, invert }` (an address or a CIDR block); IPRANGE:
 * `{ startingIp, endingIp, invert }`.
 */
export function normalizeBlockingValue(type: BlockingType, value: unknown): { value: unknown; key: string } {
  const field = 'body.conditionValue';
  if (type === 'API' || type === 'APPLICATION' || type === 'USER') {
    if (typeof value !== 'string' || value.trim() === '') throw invalid(field, `must be a non-empty string for ${type}`);
    const v = value.trim();
    if (v.length > 255) throw invalid(field, 'must be at most 255 characters');
    if (type === 'API' && !v.startsWith('/')) throw invalid(field, 'must be an API context starting with /');
    if (type === 'APPLICATION' && !/^[^:]+:.+$/.test(v)) throw invalid(field, 'must be owner:applicationName');
    return { value: v, key: v };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(field, `must be an object for ${type}`);
  const o = value as Record<string, unknown>;
  const invert = o.invert ?? false;
  if (typeof invert !== 'boolean') throw invalid(`${field}.invert`, 'must be a boolean');
  const allowed = type === 'IP' ? ['fixedIp', 'invert'] : ['startingIp', 'endingIp', 'invert'];
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw invalid(`${field}.${k}`, 'is not allowed');
  if (type === 'IP') {
    const ip = o.fixedIp;
    if (typeof ip !== 'string' || (!parseIp(ip) && !parseCidr(ip))) throw invalid(`${field}.fixedIp`, 'must be an IPv4 or IPv6 address or CIDR block');
    return { value: { fixedIp: ip, invert }, key: `${ip}|${invert}` };
  }
  const start = typeof o.startingIp === 'string' ? o.startingIp : undefined;
  const end = typeof o.endingIp === 'string' ? o.endingIp : undefined;
  checkRange(field, start, end, 'startingIp', 'endingIp');
  return { value: { startingIp: start, endingIp: end, invert }, key: `${start}-${end}|${invert}` };
}

export { SUPER_TENANT_ID };
