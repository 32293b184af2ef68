import { ApiError, parseProblem, type ApiSummary, type Auth, type DocumentSummary } from '../../kit/index.ts';

/** The Developer Portal REST API (WSO2 devportal-v3). */
export const DP = '/api/am/devportal/v3';

export const KeyTypes = ['PRODUCTION', 'SANDBOX'] as const;
export type KeyType = (typeof KeyTypes)[number];
export const keyLabel = (t: KeyType): string => (t === 'PRODUCTION' ? 'Production' : 'Sandbox');

export interface ApiInfo extends ApiSummary {
  readonly description: string;
  readonly tags: readonly string[];
  readonly throttlingPolicies: readonly string[];
  readonly avgRating: string;
}

export interface EndpointUrl {
  readonly environmentName: string;
  readonly environmentDisplayName: string;
  readonly environmentType: string;
  readonly URLs: { readonly http: string | null; readonly https: string | null };
}

export interface ApiDetails extends Omit<ApiInfo, 'throttlingPolicies'> {
  readonly type: string;
  readonly tiers: readonly { readonly tierName: string }[];
  readonly endpointURLs: readonly EndpointUrl[];
  readonly authorizationHeader: string;
  readonly securityScheme: readonly string[];
  readonly isSubscriptionAvailable: boolean;
  readonly operations: readonly { readonly target: string; readonly verb: string }[];
  readonly businessInformation: Readonly<Record<string, string | undefined>>;
}

export interface Application {
  readonly applicationId: string;
  readonly name: string;
  readonly throttlingPolicy: string;
  readonly description: string;
  readonly status: string;
  readonly subscriptionCount: number;
  readonly owner: string;
  readonly tokenType?: string;
}

export interface ApplicationKey {
  readonly keyMappingId: string;
  readonly keyManager: string;
  readonly consumerKey: string;
  readonly consumerSecret?: string;
  readonly supportedGrantTypes: readonly string[];
  readonly keyState: string;
  readonly keyType: KeyType;
  readonly token?: AccessToken;
}

export interface AccessToken {
  readonly accessToken: string;
  readonly tokenScopes?: readonly string[];
  readonly validityTime?: number;
}

export interface Subscription {
  readonly subscriptionId: string;
  readonly applicationId: string;
  readonly apiId: string;
  readonly apiInfo?: ApiInfo;
  readonly applicationInfo?: Application;
  readonly throttlingPolicy: string;
  readonly status: string;
}

export interface ApiDocument extends DocumentSummary {
  readonly summary: string;
  readonly sourceUrl: string;
}

export interface Comment {
  readonly id: string;
  readonly content: string;
  readonly createdTime: string;
  readonly createdBy: string;
}

export interface Ratings {
  readonly avgRating: string;
  readonly userRating: number;
  readonly count: number;
  readonly pagination?: { readonly total: number };
}

/**
 * Moves a server error that names no field onto the field it is about (WSO2's "application
 * exists" 409 is about the name), so the form shows it in place. Other errors pass unchanged.
 */
export function onField(err: unknown, byCode: Readonly<Record<number, string>>): unknown {
  if (!(err instanceof ApiError)) return err;
  const code = typeof err.problem.code === 'number' ? err.problem.code : Number(err.problem.code);
  const field = byCode[code];
  if (field === undefined) return err;
  return new ApiError({ ...err.problem, fields: { ...err.problem.fields, [field]: err.problem.message } });
}

/** WSO2's Developer Portal error codes the forms place next to a field. */
export const Wso2Codes = {
  ApplicationExists: 901402,
  UnknownTier: 901404,
  SubscriptionExists: 901421,
  InvalidConsumerSecret: 901433,
  UserExists: 901451,
  WeakPassword: 901452,
} as const;

/**
 * POST /applications/{id}/oauth-keys/{mapping}/generate-token. Not through the ApiClient: a wrong
 * consumer secret is a 401 there (WSO2's 901433), which the client would take for an expired
 * session and sign in again; here it is a form error.
 */
export async function generateAccessToken(auth: Auth, applicationId: string, keyMappingId: string, consumerSecret: string, scopes: readonly string[] = []): Promise<AccessToken> {
  const token = await auth.accessToken();
  const res = await fetch(`${DP}/applications/${applicationId}/oauth-keys/${keyMappingId}/generate-token`, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ consumerSecret, grantType: 'CLIENT_CREDENTIALS', validityPeriod: 3600, scopes }),
  }).catch(() => {
    throw new ApiError(parseProblem(0, undefined));
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: parseProblem shows the text
  }
  if (!res.ok) throw new ApiError(parseProblem(res.status, body));
  return body as AccessToken;
}
