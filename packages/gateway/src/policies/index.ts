import type { Policy } from '../policy.ts';
import { sortPolicies } from '../policy.ts';
import { apiStatePolicy } from './api-state.ts';
import { corsPolicy } from './cors.ts';

/** Every policy of the chain, in the order they run (ARCHITECTURE.md, "A call through the Gateway"). */
export const defaultPolicies: readonly Policy[] = Object.freeze(sortPolicies([corsPolicy, apiStatePolicy]));
