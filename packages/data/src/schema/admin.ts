/* eslint-disable @typescript-eslint/no-empty-object-type -- the admin component has no shared-database table yet */

/** Throttling policies of every kind (`advanced`, `application`, `subscription`, `custom`). */
export interface AdminThrottlePoliciesTable {
  id: string;
  tenant_id: number;
  kind: string;
  name: string;
  display_name: string | null;
  description: string | null;
  /** 0 or 1. */
  is_deployed: number;
  /** JSON ThrottleLimit, null for custom rules. */
  default_limit: string | null;
  /** JSON object with the kind's own fields (conditional groups, burst control, key template, ...). */
  details: string;
  version: number;
  created_at: number;
  updated_at: number;
}

/** Blocking (deny) conditions. */
export interface AdminBlockingConditionsTable {
  id: string;
  tenant_id: number;
  condition_type: string;
  /** JSON of the condition value as WSO2 has it (a string, or an IP object). */
  condition_value: string;
  /** Normalized value, unique per tenant and type, so a condition cannot be added twice. */
  value_key: string;
  /** 0 or 1 (WSO2's conditionStatus). */
  enabled: number;
  created_at: number;
  updated_at: number;
}

/** Key managers (the resident one and external OIDC issuers). */
export interface AdminKeyManagersTable {
  id: string;
  tenant_id: number;
  name: string;
  display_name: string | null;
  type: string;
  description: string | null;
  issuer: string | null;
  enabled: number;
  token_type: string;
  /** JSON: endpoints, certificates, claim mappings, grant types, flags, additional properties without secrets. */
  config: string;
  /** Sealed JSON of secret additional properties (e.g. client_secret), or null. */
  sealed_secrets: string | null;
  version: number;
  created_at: number;
  updated_at: number;
}

/** Approval workflows (WSO2's AM_WORKFLOWS). */
export interface AdminWorkflowsTable {
  id: string;
  tenant_id: number;
  /** WSO2's external workflow reference. */
  reference_id: string;
  workflow_type: string;
  /** CREATED, APPROVED or REJECTED. */
  status: string;
  /** The id of what the workflow is about (application, subscription, user...). */
  subject_ref: string;
  created_by: string | null;
  description: string | null;
  properties: string;
  attributes: string;
  decision_note: string | null;
  created_at: number;
  updated_at: number;
}

/** Gateways that registered or sent a heartbeat. */
export interface AdminGatewaysTable {
  tenant_id: number;
  gateway_id: string;
  /** JSON array of environment names (labels). */
  labels: string;
  registered_at: number;
  last_heartbeat: number;
}

/** Tables the admin component adds to the apim database. */
export interface AdminApimTables {
  admin_throttle_policies: AdminThrottlePoliciesTable;
  admin_blocking_conditions: AdminBlockingConditionsTable;
  admin_key_managers: AdminKeyManagersTable;
  admin_workflows: AdminWorkflowsTable;
  admin_gateways: AdminGatewaysTable;
}

/** Tables the admin component adds to the shared database. */
export interface AdminSharedTables {}
