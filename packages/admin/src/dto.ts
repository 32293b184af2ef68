import type { BlockingCondition } from './store/blocking.ts';
import type { StoredKeyManager } from './store/key-managers.ts';
import type { PolicyKind, ThrottlePolicy } from './store/policies.ts';
import type { Workflow } from './store/workflows.ts';
import type { GatewayEnvironment } from '@gatehouse/data';
import { DEFAULT_ENVIRONMENT } from './service.ts';

/** WSO2's `type` discriminator of each policy kind. */
export const PolicyTypeNames: Readonly<Record<PolicyKind, string>> = Object.freeze({
  advanced: 'AdvancedThrottlePolicy',
  application: 'ApplicationThrottlePolicy',
  subscription: 'SubscriptionThrottlePolicy',
  custom: 'CustomRule',
});

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

export function policyDto(p: ThrottlePolicy): Record<string, unknown> {
  const base = {
    policyId: p.id,
    policyName: p.name,
    displayName: p.displayName ?? p.name,
    description: opt(p.description),
    isDeployed: p.isDeployed,
    type: PolicyTypeNames[p.kind],
  };
  if (p.kind === 'custom') return { ...base, keyTemplate: p.details.keyTemplate, siddhiQuery: p.details.siddhiQuery };
  return { ...base, defaultLimit: p.defaultLimit, ...p.details };
}

export function blockingDto(c: BlockingCondition) {
  return { conditionId: c.id, conditionType: c.conditionType, conditionValue: c.conditionValue, conditionStatus: c.conditionStatus };
}

export function environmentDto(e: GatewayEnvironment) {
  return {
    id: e.id,
    name: e.name,
    displayName: e.displayName,
    description: opt(e.description),
    provider: e.provider,
    isReadOnly: e.name === DEFAULT_ENVIRONMENT,
    vhosts: e.vhosts,
  };
}

export function keyManagerDto(km: StoredKeyManager): Record<string, unknown> {
  return {
    ...km.config,
    id: km.id,
    name: km.name,
    displayName: km.displayName ?? km.name,
    type: km.type,
    description: opt(km.description),
    issuer: opt(km.issuer),
    enabled: km.enabled,
    tokenType: km.tokenType,
  };
}

export function keyManagerInfoDto(km: StoredKeyManager) {
  return {
    id: km.id,
    name: km.name,
    displayName: km.displayName ?? km.name,
    type: km.type,
    description: opt(km.description),
    enabled: km.enabled,
    tokenType: km.tokenType,
    issuer: opt(km.issuer),
  };
}

export function workflowInfoDto(wf: Workflow) {
  return {
    workflowType: wf.workflowType,
    workflowStatus: wf.status,
    createdTime: new Date(wf.createdAt).toISOString(),
    updatedTime: new Date(wf.updatedAt).toISOString(),
    referenceId: wf.referenceId,
    properties: wf.properties,
    description: opt(wf.description),
  };
}
