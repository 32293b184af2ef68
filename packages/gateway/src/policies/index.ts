import type { Policy } from '../policy.ts';
import { sortPolicies } from '../policy.ts';
import type { GatewayData } from '../security/gateway-data.ts';
import type { TokenVerifier } from '../security/token-verifier.ts';
import { apiStatePolicy } from './api-state.ts';
import { createAuthenticationPolicy } from './authentication.ts';
import { corsPolicy } from './cors.ts';

/** Every policy of the chain, in the order they run (ARCHITECTURE.md, "A call through the Gateway"). */
export function defaultPolicies(deps: { verifier: TokenVerifier; data: GatewayData }): readonly Policy[] {
  return Object.freeze(sortPolicies([corsPolicy, apiStatePolicy, createAuthenticationPolicy(deps)]));
}
