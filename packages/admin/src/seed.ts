import { DataErrors } from '@gatehouse/data';
import type { AdminService } from './service.ts';
import { RESIDENT_KEY_MANAGER } from './service.ts';
import type { PolicyKind, ThrottleLimit } from './store/policies.ts';

const perMin = (requestCount: number): ThrottleLimit => ({ type: 'REQUESTCOUNTLIMIT', requestCount: { timeUnit: 'min', unitTime: 1, requestCount } });
/** WSO2 stores "unlimited" as the largest Java int per minute. */
const UNLIMITED = perMin(2_147_483_647);

/** The tiers WSO2 API Manager ships with, by kind (its default throttling policies). */
export const DEFAULT_POLICIES: readonly { kind: PolicyKind; name: string; description: string; limit: ThrottleLimit; details?: Record<string, unknown> }[] = Object.freeze([
  { kind: 'subscription', name: 'Gold', description: 'Allows 5000 requests per minute', limit: perMin(5000), details: { stopOnQuotaReach: true, billingPlan: 'FREE', rateLimitCount: 0 } },
  { kind: 'subscription', name: 'Silver', description: 'Allows 2000 requests per minute', limit: perMin(2000), details: { stopOnQuotaReach: true, billingPlan: 'FREE', rateLimitCount: 0 } },
  { kind: 'subscription', name: 'Bronze', description: 'Allows 1000 requests per minute', limit: perMin(1000), details: { stopOnQuotaReach: true, billingPlan: 'FREE', rateLimitCount: 0 } },
  { kind: 'subscription', name: 'Unauthenticated', description: 'Allows 500 requests per minute', limit: perMin(500), details: { stopOnQuotaReach: true, billingPlan: 'FREE', rateLimitCount: 0 } },
  { kind: 'subscription', name: 'Unlimited', description: 'Allows unlimited requests', limit: UNLIMITED, details: { stopOnQuotaReach: true, billingPlan: 'FREE', rateLimitCount: 0 } },
  { kind: 'application', name: '10PerMin', description: 'Allows 10 requests per minute', limit: perMin(10) },
  { kind: 'application', name: '20PerMin', description: 'Allows 20 requests per minute', limit: perMin(20) },
  { kind: 'application', name: '50PerMin', description: 'Allows 50 requests per minute', limit: perMin(50) },
  { kind: 'application', name: 'Unlimited', description: 'Allows unlimited requests', limit: UNLIMITED },
  { kind: 'advanced', name: '10KPerMin', description: 'Allows 10000 requests per minute', limit: perMin(10_000), details: { conditionalGroups: [] } },
  { kind: 'advanced', name: '20KPerMin', description: 'Allows 20000 requests per minute', limit: perMin(20_000), details: { conditionalGroups: [] } },
  { kind: 'advanced', name: '50KPerMin', description: 'Allows 50000 requests per minute', limit: perMin(50_000), details: { conditionalGroups: [] } },
  { kind: 'advanced', name: 'Unlimited', description: 'Allows unlimited requests', limit: UNLIMITED, details: { conditionalGroups: [] } },
]);

/** The Resident Key Manager's fields for a control plane at `baseUrl`. */
export function residentKeyManager(baseUrl: string) {
  return {
    name: RESIDENT_KEY_MANAGER,
    displayName: RESIDENT_KEY_MANAGER,
    type: 'default',
    description: 'This is Resident Key Manager',
    issuer: `${baseUrl}/oauth2/token`,
    enabled: true,
    tokenType: 'DIRECT',
    wellKnownEndpoint: `${baseUrl}/oauth2/token/.well-known/openid-configuration`,
    tokenEndpoint: `${baseUrl}/oauth2/token`,
    revokeEndpoint: `${baseUrl}/oauth2/revoke`,
    introspectionEndpoint: `${baseUrl}/oauth2/introspect`,
    userInfoEndpoint: `${baseUrl}/oauth2/userinfo`,
    authorizeEndpoint: `${baseUrl}/oauth2/authorize`,
    clientRegistrationEndpoint: `${baseUrl}/client-registration/v0.17/register`,
    certificates: { type: 'JWKS', value: `${baseUrl}/oauth2/jwks` },
    availableGrantTypes: ['authorization_code', 'client_credentials', 'password', 'refresh_token'],
    consumerKeyClaim: 'azp',
    scopesClaim: 'scope',
    enableTokenGeneration: true,
    enableOAuthAppCreation: true,
    enableMapOAuthConsumerApps: false,
    enableSelfValidationJWT: true,
    claimMapping: [],
    tokenValidation: [],
    additionalProperties: {},
  };
}

async function ignoreDuplicate(work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch (err) {
    if (!DataErrors.is(err, 'DATA_ERR_UNIQUE_VIOLATION')) throw err;
  }
}

/**
 * Seeds WSO2's default tiers and the Resident Key Manager for a tenant. Idempotent, and safe
 * when several processes start at once: a lost race on the unique name means the winner seeded it.
 * Edited defaults are never overwritten.
 */
export async function seedAdminDefaults(service: AdminService, tenantId: number, baseUrl: string): Promise<void> {
  const { policies, keyManagers } = service.stores;
  for (const p of DEFAULT_POLICIES) {
    if (await policies.getByName(tenantId, p.kind, p.name)) continue;
    await ignoreDuplicate(policies.create(tenantId, p.kind, { name: p.name, displayName: p.name, description: p.description, defaultLimit: p.limit, details: p.details ?? {} }));
  }
  if (!(await keyManagers.getByName(tenantId, RESIDENT_KEY_MANAGER))) {
    const { name, displayName, type, description, issuer, enabled, tokenType, ...config } = residentKeyManager(baseUrl);
    await ignoreDuplicate(keyManagers.create(tenantId, { name, displayName, type, description, issuer, enabled, tokenType, config, sealedSecrets: null }));
  }
}
