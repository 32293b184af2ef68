import { useApi, useResource } from '../../kit/index.ts';
import { ADMIN } from './model.ts';

/** WSO2's default tiers, shown when the policy list cannot be read (the user lacks apim:tier_view). */
const FALLBACK: Readonly<Record<'advanced' | 'subscription', readonly string[]>> = {
  advanced: ['Unlimited', '10KPerMin', '20KPerMin', '50KPerMin'],
  subscription: ['Unlimited', 'Gold', 'Silver', 'Bronze'],
};

/**
 * The names of the throttling policies of one level (Admin REST API, readable with apim:tier_view,
 * as WSO2's Publisher reads them from its own throttling-policies resource).
 */
export function usePolicyNames(level: 'advanced' | 'subscription'): readonly string[] {
  const api = useApi();
  const res = useResource((signal) => api.get<{ list: { policyName: string }[] }>(`${ADMIN}/throttling/policies/${level}`, { signal }), [level]);
  if (res.data) return res.data.list.map((p) => p.policyName);
  return res.error ? FALLBACK[level] : [];
}
