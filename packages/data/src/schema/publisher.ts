/** Row types of the publisher component's tables (migrations apim/0200-0202, shared/0200). */

export interface ApisTable {
  id: string;
  tenant_id: number;
  name: string;
  context: string;
  version: string;
  provider: string;
  type: string;
  lifecycle_status: string;
  description: string | null;
  visibility: string;
  /** 0 or 1. */
  is_default_version: number;
  /** JSON: the rest of WSO2's `API` body (operations, scopes, endpointConfig without credentials, ...). */
  body: string;
  /** `keys.seal('backend-credential', json)` of `endpointConfig.endpoint_security`, or null. */
  endpoint_security: string | null;
  search_text: string;
  created_at: number;
  updated_at: number;
  /** Bumped by every write; the ETag. */
  row_version: number;
}

export interface ApiTagsTable {
  tenant_id: number;
  api_id: string;
  tag: string;
}

export interface ApiLifecycleHistoryTable {
  id: string;
  tenant_id: number;
  api_id: string;
  previous_state: string | null;
  post_state: string;
  username: string;
  created_at: number;
}

export interface SharedScopesTable {
  id: string;
  tenant_id: number;
  name: string;
  display_name: string | null;
  description: string | null;
  /** JSON array of role names. */
  bindings: string;
  created_at: number;
  updated_at: number;
}

export interface ApiRevisionsTable {
  id: string;
  tenant_id: number;
  api_id: string;
  revision_number: number;
  description: string | null;
  snapshot: string;
  created_by: string;
  created_at: number;
}

export interface ApiDeploymentsTable {
  id: string;
  tenant_id: number;
  api_id: string;
  revision_id: string;
  environment: string;
  vhost: string;
  display_on_devportal: number;
  /** CREATED until a gateway acknowledges, then APPROVED (WSO2's deployment status names). */
  status: string;
  deployed_at: number;
  success_deployed_at: number | null;
}

export interface ApiDeploymentAcksTable {
  deployment_id: string;
  tenant_id: number;
  gateway_id: string;
  /** DEPLOYED or FAILED. */
  status: string;
  message: string | null;
  acked_at: number;
}

export interface RuntimeArtifactsTable {
  revision_id: string;
  tenant_id: number;
  api_id: string;
  schema_version: number;
  artifact: string;
  checksum: string;
  created_at: number;
}

export interface ApiDefinitionsTable {
  api_id: string;
  tenant_id: number;
  content: string;
  updated_at: number;
}

export interface ApiDocumentsTable {
  id: string;
  tenant_id: number;
  api_id: string;
  name: string;
  type: string;
  other_type_name: string | null;
  summary: string | null;
  source_type: string;
  source_url: string | null;
  visibility: string;
  inline_content: string | null;
  file_name: string | null;
  file_media_type: string | null;
  file_content: string | null;
  created_by: string;
  updated_by: string;
  created_at: number;
  updated_at: number;
}

/** Per API, minute (epoch ms, UTC), operation and application: the calls gateways reported (apim/0202). */
export interface ApiUsageMinutesTable {
  tenant_id: number;
  api_id: string;
  minute_start: number;
  /** `GET /pets/{petId}`; '' when unknown. */
  operation: string;
  /** '' for calls without an application. */
  application_id: string;
  application_name: string | null;
  calls: number;
  /** 4xx answers other than 429. */
  errors_4xx: number;
  errors_5xx: number;
  /** 429 answers. */
  throttled: number;
  latency_sum_ms: number;
  latency_max_ms: number;
  response_bytes: number;
}

/** The `analytics` hub batches already folded into `api_usage_minutes` (apim/0202). */
export interface AnalyticsBatchesTable {
  tenant_id: number;
  seq: number;
  /** The event's hub time: with `seq`, unique across hub restarts. */
  published_at: number;
  source: string;
  events: number;
  skipped: number;
  recorded_at: number;
}

/** Tables the publisher component adds to the apim database. */
export interface PublisherApimTables {
  apis: ApisTable;
  api_tags: ApiTagsTable;
  api_lifecycle_history: ApiLifecycleHistoryTable;
  shared_scopes: SharedScopesTable;
  api_revisions: ApiRevisionsTable;
  api_deployments: ApiDeploymentsTable;
  api_deployment_acks: ApiDeploymentAcksTable;
  runtime_artifacts: RuntimeArtifactsTable;
  api_usage_minutes: ApiUsageMinutesTable;
  analytics_batches: AnalyticsBatchesTable;
}

/** Tables the publisher component adds to the shared database. */
export interface PublisherSharedTables {
  api_definitions: ApiDefinitionsTable;
  api_documents: ApiDocumentsTable;
}
