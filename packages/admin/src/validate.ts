import { invalid } from './errors.ts';
import { parseIp } from './ip.ts';
import { TimeUnits } from './store/policies.ts';
import type { ThrottleLimit } from './store/policies.ts';

const limitKey = { REQUESTCOUNTLIMIT: 'requestCount', BANDWIDTHLIMIT: 'bandwidth', EVENTCOUNTLIMIT: 'eventCount' } as const;

/** Checks a ThrottleLimit beyond its JSON schema: the sub-object its `type` names, a known time unit, positive amounts. */
export function checkLimit(field: string, limit: ThrottleLimit): ThrottleLimit {
  const key = limitKey[limit.type];
  const body = limit[key] as { timeUnit: string; unitTime: number } & Record<string, unknown> | undefined;
  if (!body) throw invalid(`${field}.${key}`, `is required when type is ${limit.type}`);
  for (const other of Object.values(limitKey)) {
    if (other !== key && limit[other] !== undefined) throw invalid(`${field}.${other}`, `is not allowed when type is ${limit.type}`);
  }
  if (!(TimeUnits as readonly string[]).includes(body.timeUnit)) throw invalid(`${field}.${key}.timeUnit`, `must be one of ${TimeUnits.join(', ')}`);
  const amount = key === 'requestCount' ? 'requestCount' : key === 'bandwidth' ? 'dataAmount' : 'eventCount';
  if (!(Number(body[amount]) > 0)) throw invalid(`${field}.${key}.${amount}`, 'must be greater than 0');
  if (!(body.unitTime > 0)) throw invalid(`${field}.${key}.unitTime`, 'must be greater than 0');
  // Keep only the fields of the named limit, so what is stored is exactly what was validated.
  return { type: limit.type, [key]: body } as ThrottleLimit;
}

export interface ThrottleConditionInput {
  type: 'HEADERCONDITION' | 'IPCONDITION' | 'JWTCLAIMSCONDITION' | 'QUERYPARAMETERCONDITION';
  invertCondition?: boolean;
  headerCondition?: { headerName: string; headerValue: string };
  ipCondition?: { ipConditionType?: 'IPRANGE' | 'IPSPECIFIC'; specificIP?: string; startingIP?: string; endingIP?: string };
  jwtClaimsCondition?: { claimUrl: string; attribute: string };
  queryParameterCondition?: { parameterName: string; parameterValue: string };
}

const conditionKey = {
  HEADERCONDITION: 'headerCondition',
  IPCONDITION: 'ipCondition',
  JWTCLAIMSCONDITION: 'jwtClaimsCondition',
  QUERYPARAMETERCONDITION: 'queryParameterCondition',
} as const;

/** Checks one throttle condition: the object its type names, IP syntax and range order. */
export function checkCondition(field: string, c: ThrottleConditionInput): ThrottleConditionInput {
  const key = conditionKey[c.type];
  if (c[key] === undefined) throw invalid(`${field}.${key}`, `is required when type is ${c.type}`);
  for (const other of Object.values(conditionKey)) {
    if (other !== key && c[other] !== undefined) throw invalid(`${field}.${other}`, `is not allowed when type is ${c.type}`);
  }
  if (c.ipCondition) {
    const ip = c.ipCondition;
    const type = ip.ipConditionType ?? (ip.startingIP !== undefined ? 'IPRANGE' : 'IPSPECIFIC');
    if (type === 'IPSPECIFIC') {
      if (!ip.specificIP || !parseIp(ip.specificIP)) throw invalid(`${field}.ipCondition.specificIP`, 'must be an IPv4 or IPv6 address');
      return { type: c.type, invertCondition: c.invertCondition ?? false, ipCondition: { ipConditionType: type, specificIP: ip.specificIP } };
    }
    checkRange(`${field}.ipCondition`, ip.startingIP, ip.endingIP, 'startingIP', 'endingIP');
    return { type: c.type, invertCondition: c.invertCondition ?? false, ipCondition: { ipConditionType: type, startingIP: ip.startingIP, endingIP: ip.endingIP } };
  }
  return { type: c.type, invertCondition: c.invertCondition ?? false, [key]: c[key] };
}

/** Checks an IP range: two addresses of one family, the first not after the last. */
export function checkRange(field: string, start: string | undefined, end: string | undefined, startName: string, endName: string): void {
  const a = start === undefined ? undefined : parseIp(start);
  const b = end === undefined ? undefined : parseIp(end);
  if (!a) throw invalid(`${field}.${startName}`, 'must be an IPv4 or IPv6 address');
  if (!b) throw invalid(`${field}.${endName}`, 'must be an IPv4 or IPv6 address');
  if (a.family !== b.family) throw invalid(`${field}.${endName}`, `must be of the same IP version as ${startName}`);
  if (a.value > b.value) throw invalid(`${field}.${endName}`, `must not be lower than ${startName}`);
}

/** The variables a custom rule's key template may combine (WSO2's custom policy key template). */
export const KeyTemplateVariables = ['userId', 'apiContext', 'apiVersion', 'resourceKey', 'appTenant', 'apiTenant', 'appId', 'clientIp', 'apiName'] as const;

export function checkKeyTemplate(field: string, template: string): void {
  const parts = template.split(':');
  for (const part of parts) {
    if (!part.startsWith('$') || !(KeyTemplateVariables as readonly string[]).includes(part.slice(1))) {
      throw invalid(field, `must be $variables joined by ':' (one of ${KeyTemplateVariables.map((v) => `$${v}`).join(', ')}); "${part}" is not one`);
    }
  }
}

/**
 * Checks a key manager's token handling entries: a REFERENCE entry's value is the pattern of the
 * opaque tokens it issues, which gateways compile as a whole-token regular expression (one that
 * does not compile would match nothing there, silently).
 */
export function checkTokenValidation(entries: unknown): void {
  if (!Array.isArray(entries)) return;
  entries.forEach((entry: { type?: string; enable?: boolean; value?: unknown }, i) => {
    if (entry.type !== 'REFERENCE' || entry.enable === false) return;
    const field = `body.tokenValidation[${i}].value`;
    if (typeof entry.value !== 'string' || entry.value.trim() === '') throw invalid(field, 'must be the regular expression the key manager\'s opaque tokens match');
    if (entry.value.length > 1_000) throw invalid(field, 'must be at most 1000 characters');
    try {
      new RegExp(`^(?:${entry.value})$`);
    } catch (err) {
      throw invalid(field, `is not a regular expression: ${(err as Error).message}`);
    }
  });
}
