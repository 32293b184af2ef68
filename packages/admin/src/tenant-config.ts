/**
 * The tenant configuration (`/tenant-config`): the per-tenant settings an administrator changes
 * at run time, as one JSON document checked against one JSON Schema. WSO2 keeps such settings in
 * a tenant-conf.json; Gatehouse's document is its own and carries only settings that have an
 * effect here.
 */
import type { WorkflowType } from './store/workflows.ts';

/**
 * The approval workflows that can be switched on, by their name in the document. Only those the
 * Developer Portal holds for approval are listed: a switch for another type would do nothing.
 */
export const WorkflowSwitches = {
  ApplicationCreation: 'APPLICATION_CREATION',
  SubscriptionCreation: 'SUBSCRIPTION_CREATION',
  UserSignup: 'USER_SIGNUP',
} as const satisfies Record<string, WorkflowType>;
export type WorkflowSwitch = keyof typeof WorkflowSwitches;
/** A workflow type that has a switch in the tenant configuration. */
export type SwitchableWorkflowType = (typeof WorkflowSwitches)[WorkflowSwitch];

/** A role and the other names it answers to (WSO2's `RoleAlias`). */
export interface RoleAlias {
  role: string;
  aliases: string[];
}

/**
 * A tenant's configuration document.
 *
 * @example
 * ```json
 * { "Workflows": { "ApplicationCreation": false, "SubscriptionCreation": true, "UserSignup": false },
 *   "RoleAliases": [{ "role": "Internal/subscriber", "aliases": ["Subscriber"] }] }
 * ```
 */
export interface TenantConfig {
  Workflows: Record<WorkflowSwitch, boolean>;
  RoleAliases: RoleAlias[];
}

const WORKFLOW_DESCRIPTIONS: Record<WorkflowSwitch, string> = {
  ApplicationCreation: 'New applications wait for an administrator to approve them before they can get keys or subscribe.',
  SubscriptionCreation: 'New subscriptions stay ON_HOLD until an administrator approves them.',
  UserSignup: 'Self-signed-up users cannot sign in until an administrator approves them.',
};

/**
 * The document's JSON Schema (draft-07, as fastify's Ajv reads it), used to validate `PUT
 * /tenant-config` and served by `GET /tenant-config-schema`. A switch left out is off; a document
 * without `RoleAliases` has none.
 */
export const TenantConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['Workflows'],
  properties: {
    Workflows: {
      type: 'object',
      description: 'Which requests wait for approval on the Admin portal\'s Approvals page (`/workflows`).',
      additionalProperties: false,
      properties: Object.fromEntries(Object.entries(WORKFLOW_DESCRIPTIONS).map(([name, description]) => [name, { type: 'boolean', default: false, description }])),
    },
    RoleAliases: {
      type: 'array',
      description: 'Other names of roles (the same list as `/system-scopes/role-aliases`).',
      default: [],
      maxItems: 1000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['role', 'aliases'],
        properties: {
          role: { type: 'string', minLength: 1, maxLength: 255 },
          aliases: { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 255 } },
        },
      },
    },
  },
} as const;

/** What `GET /tenant-config-schema` answers: the schema as a standalone JSON Schema document. */
export const TenantConfigSchemaDocument = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Gatehouse tenant configuration',
  ...TenantConfigSchema,
};

/** Largest `PUT /tenant-config` body accepted; larger ones answer 413. */
export const TENANT_CONFIG_MAX_BYTES = 1024 * 1024;

/** The document as stored settings say it: the enabled workflow types and the role aliases. */
export function tenantConfigOf(enabled: readonly string[], roleAliases: readonly RoleAlias[]): TenantConfig {
  const on = new Set(enabled);
  const workflows = Object.fromEntries(Object.entries(WorkflowSwitches).map(([name, type]) => [name, on.has(type)])) as Record<WorkflowSwitch, boolean>;
  return { Workflows: workflows, RoleAliases: roleAliases.map((a) => ({ role: a.role, aliases: [...a.aliases] })) };
}

/** The enabled workflow types a document's switches name, sorted (as they are stored). */
export function enabledWorkflowTypes(config: Pick<TenantConfig, 'Workflows'>): SwitchableWorkflowType[] {
  return Object.entries(WorkflowSwitches)
    .filter(([name]) => config.Workflows[name as WorkflowSwitch] === true)
    .map(([, type]) => type)
    .sort();
}

/** The switch of a workflow type, or undefined when the type has none. */
export function workflowSwitchOf(type: WorkflowType): WorkflowSwitch | undefined {
  return (Object.keys(WorkflowSwitches) as WorkflowSwitch[]).find((name) => WorkflowSwitches[name] === type);
}
