import { fault, FaultCodes } from '../faults.ts';
import type { Policy } from '../policy.ts';

const blocked = fault(503, FaultCodes.ApiBlocked, 'API blocked', 'This API has been blocked temporarily. Please try again later or contact the system administrators.');

/** WSO2's APIStatusHandler: a BLOCKED API answers 503 (700700) before any other work. */
export const apiStatePolicy: Policy = {
  name: 'api-state',
  priority: 1900,
  shareKey: (api) => (api.status.toUpperCase() === 'BLOCKED' ? 'blocked' : ''),
  create: (api) => (api.status.toUpperCase() === 'BLOCKED' ? { access: () => blocked } : undefined),
};
