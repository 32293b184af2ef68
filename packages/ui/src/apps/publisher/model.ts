// WSO2 publisher v4 shapes the Publisher app reads and writes (only the fields it uses).
import type { ApiSummary, DocumentSummary, VirtualHost } from '../../kit/index.ts';

export const PUB = '/api/am/publisher/v4';
export const ADMIN = '/api/am/admin/v4';

export interface ApiOperation {
  id?: string;
  target: string;
  verb: string;
  authType?: string;
  throttlingPolicy?: string | null;
  scopes?: string[];
  [extra: string]: unknown;
}

export interface ApiScope {
  scope: { id?: string; name: string; displayName?: string; description?: string; bindings?: string[] };
  shared?: boolean;
}

export interface EndpointConfig {
  endpoint_type?: string;
  production_endpoints?: { url?: string } | null;
  sandbox_endpoints?: { url?: string } | null;
  [extra: string]: unknown;
}

export interface CorsConfiguration {
  corsConfigurationEnabled: boolean;
  accessControlAllowOrigins: string[];
  accessControlAllowCredentials: boolean;
  accessControlAllowHeaders: string[];
  accessControlAllowMethods: string[];
}

/** WSO2's `API` (GET /apis/{apiId}); PUT takes it back whole. */
export interface Api {
  id: string;
  name: string;
  version: string;
  context: string;
  provider: string;
  type: string;
  description?: string | null;
  lifeCycleStatus: string;
  visibility?: string;
  tags?: string[];
  transport?: string[];
  policies?: string[];
  apiThrottlingPolicy?: string | null;
  securityScheme?: string[];
  authorizationHeader?: string | null;
  endpointConfig?: EndpointConfig | null;
  corsConfiguration?: CorsConfiguration;
  operations?: ApiOperation[];
  scopes?: ApiScope[];
  createdTime?: string;
  lastUpdatedTime?: string;
  [extra: string]: unknown;
}

export interface ApiInfo extends ApiSummary {
  readonly type: string;
}

export interface Deployment {
  revisionUuid: string;
  name: string;
  vhost?: string;
  displayOnDevportal?: boolean;
  deployedTime?: string;
  successDeployedTime?: string;
  status?: string;
  liveGatewayCount?: number;
  deployedGatewayCount?: number;
  failedGatewayCount?: number;
}

export interface Revision {
  id: string;
  displayName: string;
  description?: string;
  createdTime?: string;
  deploymentInfo?: Deployment[];
}

export interface LifecycleState {
  state: string;
  checkItems: { name: string; value: boolean }[];
  availableTransitions: { event: string; targetState: string }[];
}

export interface ApiDocument extends DocumentSummary {
  visibility: string;
  lastUpdatedTime?: string;
}

export interface Subscription {
  subscriptionId: string;
  applicationInfo?: { applicationId: string; name: string; subscriber: string };
  throttlingPolicy: string;
  subscriptionStatus: string;
}

export interface Environment {
  name: string;
  displayName?: string;
  vhosts?: readonly VirtualHost[];
}

/** Lifecycle state → badge colour (the theme's palette). */
export const stateColor: Readonly<Record<string, string>> = {
  PUBLISHED: 'green',
  CREATED: 'gray',
  PROTOTYPED: 'cyan',
  BLOCKED: 'red',
  DEPRECATED: 'orange',
  RETIRED: 'dark',
};

/** WSO2's per-resource auth types. */
export const AUTH_TYPES = ['Application & Application User', 'Application', 'Application User', 'None'] as const;

/** WSO2's API security schemes, with the Publisher's labels. */
export const SECURITY_SCHEMES: readonly { value: string; label: string }[] = [
  { value: 'oauth2', label: 'OAuth2' },
  { value: 'api_key', label: 'API key' },
  { value: 'basic_auth', label: 'Basic authentication' },
  { value: 'mutualssl', label: 'Mutual TLS' },
  { value: 'oauth_basic_auth_api_key_mandatory', label: 'OAuth2, basic or API key mandatory' },
];

/** `/pets` + `1.0.0` → `/pets/1.0.0`: the path a gateway serves (as the server's effectiveContext). */
export function servedPath(context: string, version: string): string {
  return context.includes('{version}') ? context.replace('{version}', version) : `${context}/${version}`;
}

/** A plain http(s) URL, or undefined when it is not one. */
export function httpUrlProblem(value: string): string | null {
  if (value.trim() === '') return null;
  try {
    const u = new URL(value.trim());
    return u.protocol === 'http:' || u.protocol === 'https:' ? null : 'Use an http:// or https:// URL';
  } catch {
    return 'Enter a full URL, such as https://backend.example.com/v1';
  }
}

/** A Unix-millisecond string (WSO2's `createdTime`) as a local date and time. */
export function formatTime(ms: string | undefined): string {
  if (!ms) return '';
  const n = Number(ms);
  return Number.isFinite(n) ? new Date(n).toLocaleString() : ms;
}
