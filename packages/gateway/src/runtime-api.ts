/**
 * What the gateway knows of one deployed API: the control plane's runtime artifact reduced to
 * what the request path needs. Immutable once built; a redeploy builds new ones.
 */
export interface RuntimeApi {
  readonly id: string;
  readonly name: string;
  /** WSO2's context: `/petstore`, or with a `{version}` placeholder: `/petstore/{version}/v2`. */
  readonly context: string;
  readonly version: string;
  readonly isDefaultVersion: boolean;
  /** Host names this deployment answers; empty: any host (the `Default` environment). */
  readonly hosts: readonly string[];
  /** WSO2 lifecycle state: PUBLISHED, PROTOTYPED, BLOCKED, DEPRECATED, ... */
  readonly status: string;
  readonly operations: readonly RuntimeOperation[];
  readonly endpoints: { readonly production?: EndpointGroup; readonly sandbox?: EndpointGroup };
  readonly cors?: CorsConfig;
  /** API-level advanced throttling policy name. */
  readonly apiThrottlingPolicy?: string;
  /** WSO2's security schemes (`oauth2`, `api_key`, ...); absent or empty: OAuth2 only. */
  readonly securitySchemes?: readonly string[];
  /** The header an API key comes in (WSO2's `apiKeyHeader`, default `apikey`). */
  readonly apiKeyHeader?: string;
  /** The key managers whose access tokens the API takes (WSO2's `keyManagers`); absent, empty or `all`: every one. */
  readonly keyManagers?: readonly string[];
  /** Publisher's maximum backend throughput, calls per second per endpoint type (WSO2's `maxTps`). */
  readonly maxTps?: { readonly production?: number; readonly sandbox?: number };
  /** The API's scopes and the roles bound to each (basic-auth callers are checked by role). */
  readonly scopes?: readonly { readonly name: string; readonly roles: readonly string[] }[];
  /** API-level mediation policies (WSO2 4.3's `apiPolicies`), applied before each operation's own. */
  readonly policies?: OperationPolicies;
}

export interface RuntimeOperation {
  /** HTTP method, upper case. */
  readonly verb: string;
  /** URL template relative to the API: `/pets/{petId}`, `/pets/*`, `/*`. */
  readonly target: string;
  /** WSO2 auth type: `Any` (secured), `None` (no security). */
  readonly authType: string;
  readonly scopes: readonly string[];
  readonly throttlingPolicy?: string;
  /** WSO2's `operationPolicies`: mediation on the request, the response and the fault flows. */
  readonly policies?: OperationPolicies;
}

/** One of WSO2's operation policies (`addHeader`, `removeHeader`, ...), as the Publisher stores it. */
export interface OperationPolicy {
  readonly policyName: string;
  readonly policyVersion?: string;
  readonly parameters?: Readonly<Record<string, unknown>>;
}

/** WSO2's `APIOperationPolicies`: the policies of each flow, in the order they run. */
export interface OperationPolicies {
  readonly request?: readonly OperationPolicy[];
  readonly response?: readonly OperationPolicy[];
  readonly fault?: readonly OperationPolicy[];
}

export interface EndpointGroup {
  /** `http` (one URL), `load_balance` (round robin), `failover` (in order). */
  readonly type: 'http' | 'load_balance' | 'failover';
  readonly urls: readonly string[];
  /** Time to wait for the backend's response headers. */
  readonly timeoutMs?: number;
}

export interface CorsConfig {
  readonly enabled: boolean;
  readonly allowOrigins: readonly string[];
  readonly allowMethods: readonly string[];
  readonly allowHeaders: readonly string[];
  readonly exposeHeaders?: readonly string[];
  readonly allowCredentials: boolean;
  readonly maxAgeSeconds?: number;
}

/** The base paths an API answers on: versioned, plus the unversioned one for the default version. */
export function basePaths(api: RuntimeApi): string[] {
  const versioned = api.context.includes('{version}') ? api.context.replace('{version}', api.version) : `${trimSlash(api.context)}/${api.version}`;
  const paths = [trimSlash(versioned)];
  if (api.isDefaultVersion) {
    const unversioned = trimSlash(api.context.replace('/{version}', '').replace('{version}', ''));
    if (unversioned !== '' && unversioned !== paths[0]) paths.push(unversioned);
  }
  return paths;
}

function trimSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}
