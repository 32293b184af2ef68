/* eslint-disable @typescript-eslint/no-empty-object-type -- the devportal component has no shared-database table yet */

/** Applications (WSO2's AM_APPLICATION): owned by a user, unique name per owner. */
export interface DpApplicationsTable {
  id: string;
  tenant_id: number;
  name: string;
  owner: string;
  throttling_policy: string;
  description: string | null;
  /** JWT or OAUTH. */
  token_type: string;
  /** CREATED (pending approval), APPROVED or REJECTED (WSO2's application status). */
  status: string;
  /** JSON array of group ids (WSO2's shared applications). */
  groups: string;
  created_at: number;
  updated_at: number;
}

/** Application attributes (WSO2's AM_APPLICATION_ATTRIBUTES). */
export interface DpApplicationAttributesTable {
  tenant_id: number;
  application_id: string;
  name: string;
  value: string;
}

/** Subscriptions of an application to an API (WSO2's AM_SUBSCRIPTION). */
export interface DpSubscriptionsTable {
  id: string;
  tenant_id: number;
  application_id: string;
  api_id: string;
  throttling_policy: string;
  requested_policy: string | null;
  /** UNBLOCKED, BLOCKED, PROD_ONLY_BLOCKED, ON_HOLD, REJECTED, TIER_UPDATE_PENDING. */
  status: string;
  created_by: string;
  created_at: number;
  updated_at: number;
}

/** An application's OAuth client per key type and key manager (WSO2's AM_APPLICATION_KEY_MAPPING). */
export interface DpKeyMappingsTable {
  id: string;
  tenant_id: number;
  application_id: string;
  /** PRODUCTION or SANDBOX. */
  key_type: string;
  key_manager: string;
  consumer_key: string;
  /** COMPLETED, or CREATED while a registration workflow is pending. */
  state: string;
  created_at: number;
}

/** API keys issued to an application, by jti (for listing and revocation). */
export interface DpApiKeysTable {
  jti: string;
  tenant_id: number;
  application_id: string;
  key_type: string;
  issued_by: string;
  /** Epoch ms, or null for a key that never expires. */
  expires_at: number | null;
  revoked_at: number | null;
  created_at: number;
}

/** One user's rating of an API (1-5). */
export interface DpRatingsTable {
  id: string;
  tenant_id: number;
  api_id: string;
  username: string;
  rating: number;
  created_at: number;
  updated_at: number;
}

/** Comments on an API; replies point to their parent. */
export interface DpCommentsTable {
  id: string;
  tenant_id: number;
  api_id: string;
  username: string;
  content: string;
  category: string;
  parent_id: string | null;
  created_at: number;
  updated_at: number;
}

/** Tables the devportal component adds to the apim database. */
export interface DevPortalApimTables {
  dp_applications: DpApplicationsTable;
  dp_application_attributes: DpApplicationAttributesTable;
  dp_subscriptions: DpSubscriptionsTable;
  dp_key_mappings: DpKeyMappingsTable;
  dp_api_keys: DpApiKeysTable;
  dp_ratings: DpRatingsTable;
  dp_comments: DpCommentsTable;
}

/** Tables the devportal component adds to the shared database. */
export interface DevPortalSharedTables {}
