import type { Policy } from '../policy.ts';
import { sortPolicies } from '../policy.ts';
import type { GatewayData } from '../security/gateway-data.ts';
import type { TokenVerifier } from '../security/token-verifier.ts';
import type { Registry } from 'prom-client';
import type { AnalyticsCollector } from '../analytics.ts';
import { createAnalyticsPolicy } from './analytics.ts';
import { apiStatePolicy } from './api-state.ts';
import { createAuthenticationPolicy } from './authentication.ts';
import { createBackendJwtPolicy, type BackendJwtOptions, type BackendJwtSigner } from './backend-jwt.ts';
import { createBlockingPolicy } from './blocking.ts';
import { corsPolicy } from './cors.ts';
import { createHeadersPolicy } from './headers.ts';
import { createThrottlingPolicy } from './throttling.ts';
import type { RateCounter } from '../throttle/counter.ts';
import type { Logger } from '@gatehouse/runtime';

/** Every policy of the chain, in the order they run (ARCHITECTURE.md, "A call through the Gateway"). */
export function defaultPolicies(deps: {
  verifier: TokenVerifier;
  data: GatewayData;
  collector: AnalyticsCollector;
  metrics: Registry | undefined;
  gatewayId: string;
  counter: RateCounter;
  /** Take the client address from X-Forwarded-For (only behind a trusted proxy). Default: the socket's peer. */
  trustForwardedFor?: boolean;
  /** WSO2's backend JWT; absent: the policy gives no hooks. */
  backendJwt?: { signer: BackendJwtSigner; options: BackendJwtOptions };
  /** Where deploy-time problems go (an operation's policies that cannot be applied). */
  logger?: Logger;
}): readonly Policy[] {
  return Object.freeze(
    sortPolicies([
      corsPolicy,
      apiStatePolicy,
      createAuthenticationPolicy(deps),
      createBlockingPolicy(deps),
      createThrottlingPolicy(deps),
      createHeadersPolicy(deps),
      createBackendJwtPolicy({ data: deps.data, ...deps.backendJwt }),
      createAnalyticsPolicy(deps),
    ]),
  );
}
