import { Roles } from '@gatehouse/core';
import type { Clock } from '@gatehouse/core';
import type { Databases } from '@gatehouse/data';

const A = Roles.Admin;
const C = Roles.Creator;
const P = Roles.Publisher;
const S = Roles.Subscriber;
const E = Roles.Everyone;
const D = 'Internal/devops';

/**
 * The management scopes of WSO2's Publisher v4, Developer Portal v3 and Admin v4 APIs (their
 * `securitySchemes`) and the roles WSO2's default tenant-conf.json (`RESTAPIScopes`) binds them to.
 */
export const DEFAULT_SYSTEM_SCOPES: readonly { scope: string; description: string; roles: readonly string[] }[] = Object.freeze([
  { scope: 'openid', description: 'Authorize access to user details', roles: [E] },
  { scope: 'apim:api_view', description: 'View API', roles: [A, C, P, 'Internal/observer'] },
  { scope: 'apim:api_create', description: 'Create API', roles: [A, C] },
  { scope: 'apim:api_delete', description: 'Delete API', roles: [A, C] },
  { scope: 'apim:api_publish', description: 'Publish API', roles: [A, P] },
  { scope: 'apim:api_manage', description: 'Manage all API related operations', roles: [A] },
  { scope: 'apim:subscription_view', description: 'View Subscription', roles: [A, C, P] },
  { scope: 'apim:subscription_block', description: 'Block Subscription', roles: [A, P] },
  { scope: 'apim:subscription_manage', description: 'Manage all Subscription related operations', roles: [A, P] },
  { scope: 'apim:threat_protection_policy_create', description: 'Create threat protection policies', roles: [A] },
  { scope: 'apim:threat_protection_policy_manage', description: 'Update and delete threat protection policies', roles: [A] },
  { scope: 'apim:document_create', description: 'Create API documents', roles: [A, C] },
  { scope: 'apim:document_manage', description: 'Create, update and delete API documents', roles: [A, C] },
  { scope: 'apim:api_mediation_policy_manage', description: 'View, create, update and remove API specific mediation policies', roles: [A, C] },
  { scope: 'apim:mediation_policy_view', description: 'View mediation policies', roles: [A, C, P] },
  { scope: 'apim:mediation_policy_create', description: 'Create mediation policies', roles: [A, C] },
  { scope: 'apim:mediation_policy_manage', description: 'Update and delete mediation policies', roles: [A, C] },
  { scope: 'apim:common_operation_policy_view', description: 'View common operation policies', roles: [A, C, P] },
  { scope: 'apim:common_operation_policy_manage', description: 'Add, Update and Delete common operation policies', roles: [A] },
  { scope: 'apim:client_certificates_view', description: 'View client certificates', roles: [A, C, P] },
  { scope: 'apim:client_certificates_add', description: 'Add client certificates', roles: [A, C] },
  { scope: 'apim:client_certificates_update', description: 'Update and delete client certificates', roles: [A, C] },
  { scope: 'apim:client_certificates_manage', description: 'View, create, update and remove client certificates', roles: [A] },
  { scope: 'apim:ep_certificates_view', description: 'View backend endpoint certificates', roles: [A, C, P] },
  { scope: 'apim:ep_certificates_add', description: 'Add backend endpoint certificates', roles: [A, C] },
  { scope: 'apim:ep_certificates_update', description: 'Update and delete backend endpoint certificates', roles: [A, C] },
  { scope: 'apim:ep_certificates_manage', description: 'View, create, update and remove endpoint certificates', roles: [A] },
  { scope: 'apim:publisher_settings', description: 'Retrieve store settings', roles: [A, C, P] },
  { scope: 'apim:pub_alert_manage', description: 'Get/ subscribe/ configure publisher alerts', roles: [A, C, P] },
  { scope: 'apim:shared_scope_manage', description: 'Manage shared scopes', roles: [A, C] },
  { scope: 'apim:app_import_export', description: 'Import and export applications related operations', roles: [A, D] },
  { scope: 'apim:api_import_export', description: 'Import and export APIs related operations', roles: [A, D] },
  { scope: 'apim:api_product_import_export', description: 'Import and export API Products related operations', roles: [A, D] },
  { scope: 'apim:api_generate_key', description: 'Generate Internal Key', roles: [A, C, P] },
  { scope: 'apim:admin', description: 'Manage all admin operations', roles: [A] },
  { scope: 'apim:comment_view', description: 'Read permission to comments', roles: [A, C, P] },
  { scope: 'apim:comment_write', description: 'Write permission to comments', roles: [A, C, P] },
  { scope: 'apim:comment_manage', description: 'Read and Write comments', roles: [A] },
  { scope: 'apim:tier_view', description: 'View throttling policies', roles: [A, C, P] },
  { scope: 'apim:tier_manage', description: 'View, update and delete throttling policies', roles: [A] },
  { scope: 'apim:api_list_view', description: 'View, Retrieve API list', roles: [A, C, P, S, E] },
  { scope: 'apim:api_definition_view', description: 'View, Retrieve API definition', roles: [A, C, P, S, E] },
  { scope: 'apim:policies_import_export', description: 'Export and import policies related operations', roles: [A, D] },
  { scope: 'apim:subscribe', description: 'Subscribe API', roles: [A, S, D] },
  { scope: 'apim:api_key', description: 'Generate API Keys', roles: [A, S] },
  { scope: 'apim:app_manage', description: 'Retrieve, Manage and Import, Export applications', roles: [A, S] },
  { scope: 'apim:sub_manage', description: 'Retrieve, Manage subscriptions', roles: [A, S] },
  { scope: 'apim:store_settings', description: 'Retrieve Developer Portal settings', roles: [A, S] },
  { scope: 'apim:sub_alert_manage', description: 'Retrieve, subscribe and configure Developer Portal alert types', roles: [A, S] },
  { scope: 'apim:bl_view', description: 'View deny policies', roles: [A] },
  { scope: 'apim:bl_manage', description: 'Update and delete deny policies', roles: [A] },
  { scope: 'apim:app_owner_change', description: 'Retrieve and manage applications', roles: [A] },
  { scope: 'apim:label_manage', description: 'Manage microgateway labels', roles: [A] },
  { scope: 'apim:label_read', description: 'Retrieve microgateway labels', roles: [A] },
  { scope: 'apim:environment_manage', description: 'Manage gateway environments', roles: [A] },
  { scope: 'apim:environment_read', description: 'Retrieve gateway environments', roles: [A] },
  { scope: 'apim:monetization_usage_publish', description: 'Retrieve and publish Monetization related usage records', roles: [A, P] },
  { scope: 'apim:api_workflow_approve', description: 'Manage workflows', roles: [A] },
  { scope: 'apim:api_workflow_view', description: 'Retrieve workflow requests', roles: [A] },
  { scope: 'apim:bot_data', description: 'Retrieve bot detection data', roles: [A] },
  { scope: 'apim:tenant_theme_manage', description: 'Manage tenant themes', roles: [A] },
  { scope: 'apim:admin_operations', description: 'Manage API categories and Key Managers related operations', roles: [A] },
  { scope: 'apim:admin_settings', description: 'Retrieve admin settings', roles: [A] },
  { scope: 'apim:admin_alert_manage', description: 'Manage admin alerts', roles: [A] },
  { scope: 'apim:scope_manage', description: 'Manage system scopes', roles: [A] },
]);

export interface SystemScope {
  scope: string;
  description: string;
  /** Role names allowed to obtain the scope. */
  roles: string[];
}

/**
 * WSO2's system scopes (`RESTAPIScopes`) of a tenant: which roles may obtain each management
 * scope. The Admin API's `/system-scopes` reads and edits it.
 *
 * @example
 * ```ts
 * const scopes = createSystemScopeRepository(databases);
 * await scopes.setSystemScopeRoles(SUPER_TENANT_ID, 'apim:api_publish', ['admin', 'Internal/publisher']);
 * const all = await scopes.listSystemScopes(SUPER_TENANT_ID); // SystemScope[], sorted by scope
 * ```
 */
export interface SystemScopeRepository {
  listSystemScopes(tenantId: number): Promise<SystemScope[]>;
  /** Replaces the roles of one scope (creating the scope if unknown). */
  setSystemScopeRoles(tenantId: number, scope: string, roles: readonly string[]): Promise<SystemScope>;
  /** Inserts the defaults missing for a tenant; never overwrites an edited mapping. Idempotent and race-safe. */
  seedDefaults(tenantId: number): Promise<void>;
}

// Edits per shared database handle, so a Key Manager in the same process drops its cached mapping
// at once; other replicas pick an edit up within their cache lifetime (5 s).
const edits = new WeakMap<object, number>();

/** How many times the mapping was edited through this database handle in this process. */
export function systemScopeEdits(shared: object): number {
  return edits.get(shared) ?? 0;
}

export function createSystemScopeRepository(databases: Pick<Databases, 'shared'>, deps: { clock?: Clock } = {}): SystemScopeRepository {
  const db = databases.shared;
  const now = () => (deps.clock ?? Date).now();
  const toScope = (r: { scope: string; description: string; roles: string }): SystemScope => ({
    scope: r.scope,
    description: r.description,
    roles: JSON.parse(r.roles) as string[],
  });
  return {
    async listSystemScopes(tenantId) {
      const rows = await db.selectFrom('km_system_scopes').select(['scope', 'description', 'roles']).where('tenant_id', '=', tenantId).orderBy('scope').execute();
      return rows.map(toScope);
    },
    async setSystemScopeRoles(tenantId, scope, roles) {
      const unique = [...new Set(roles)];
      const known = DEFAULT_SYSTEM_SCOPES.find((s) => s.scope === scope);
      const updatedAt = now();
      edits.set(db, systemScopeEdits(db) + 1);
      await db
        .insertInto('km_system_scopes')
        .values({ tenant_id: tenantId, scope, description: known?.description ?? scope, roles: JSON.stringify(unique), updated_at: updatedAt })
        .onConflict((oc) => oc.columns(['tenant_id', 'scope']).doUpdateSet({ roles: JSON.stringify(unique), updated_at: updatedAt }))
        .execute();
      const row = await db.selectFrom('km_system_scopes').select(['scope', 'description', 'roles']).where('tenant_id', '=', tenantId).where('scope', '=', scope).executeTakeFirstOrThrow();
      return toScope(row);
    },
    async seedDefaults(tenantId) {
      const updatedAt = now();
      await db
        .insertInto('km_system_scopes')
        .values(DEFAULT_SYSTEM_SCOPES.map((s) => ({ tenant_id: tenantId, scope: s.scope, description: s.description, roles: JSON.stringify(s.roles), updated_at: updatedAt })))
        .onConflict((oc) => oc.columns(['tenant_id', 'scope']).doNothing())
        .execute();
    },
  };
}

/**
 * WSO2's scope rule: the granted scopes are the requested ones some role of the user may obtain;
 * the others are dropped silently. `Internal/everyone` is every user's role.
 */
export function allowedScopes(requested: readonly string[], userRoles: readonly string[], scopes: ReadonlyMap<string, readonly string[]>): string[] {
  const roles = new Set([...userRoles, Roles.Everyone]);
  return requested.filter((s) => scopes.get(s)?.some((r) => roles.has(r)) ?? false);
}
