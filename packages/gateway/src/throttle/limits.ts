import { compileCondition, parseCustomRule, type CompiledCondition, type CustomRule, type SourceCondition } from './conditions.ts';

/** A limit the gateway enforces: `count` requests (or bytes, when `bytes`) per window. */
export interface Limit {
  readonly count: number;
  readonly windowMs: number;
  /** A bandwidth limit: `count` bytes of request and response bodies. */
  readonly bytes?: boolean;
}

/** An advanced policy's conditional group: when every condition holds, its own limit and counter apply. */
export interface ConditionalGroup {
  readonly conditions: readonly CompiledCondition[];
  readonly limit: Limit;
}

/** A throttling policy as the gateway uses it (from Admin's policies, by kind and name). */
export interface RuntimeThrottlePolicy {
  readonly kind: 'advanced' | 'application' | 'subscription' | 'custom';
  readonly name: string;
  /** Undefined for `Unlimited`-like policies: nothing to count. */
  readonly limit: Limit | undefined;
  /** Subscription burst control (WSO2's rateLimitCount per rateLimitTimeUnit). */
  readonly burst?: Limit;
  /** Subscription `stopOnQuotaReach`: false means allow and only mark the call. */
  readonly stopOnQuotaReach: boolean;
  /** Advanced policies: conditional groups (IP, header, query parameter, JWT claim), in order. */
  readonly groups?: readonly ConditionalGroup[];
  /** Custom rules (WSO2's global policies): key template, eligibility and limit from the Siddhi query. */
  readonly custom?: CustomRule;
}

const UNIT_MS: Readonly<Record<string, number>> = {
  sec: 1_000,
  second: 1_000,
  min: 60_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000,
  month: 2_592_000_000, // 30 days, as WSO2's time-window throttling counts it
  year: 31_536_000_000,
};

const DATA_UNIT: Readonly<Record<string, number>> = { KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };

export function windowMs(timeUnit: string, unitTime: number): number | undefined {
  const unit = UNIT_MS[timeUnit.toLowerCase()];
  return unit === undefined || !(unitTime > 0) ? undefined : unit * unitTime;
}

/** WSO2's `ThrottleLimit` as Admin stores it. */
export interface SourceLimit {
  readonly type: string;
  readonly requestCount?: { timeUnit: string; unitTime: number; requestCount: number };
  readonly bandwidth?: { timeUnit: string; unitTime: number; dataAmount: number; dataUnit: string };
  readonly eventCount?: { timeUnit: string; unitTime: number; eventCount: number };
}

/** A request count or bandwidth limit (event counts are for streaming APIs, not served here). */
export function toLimit(l: SourceLimit | null | undefined): Limit | undefined {
  if (l?.type === 'REQUESTCOUNTLIMIT' && l.requestCount) {
    const w = windowMs(l.requestCount.timeUnit, l.requestCount.unitTime);
    return w !== undefined && l.requestCount.requestCount > 0 ? { count: l.requestCount.requestCount, windowMs: w } : undefined;
  }
  if (l?.type === 'BANDWIDTHLIMIT' && l.bandwidth) {
    const w = windowMs(l.bandwidth.timeUnit, l.bandwidth.unitTime);
    const unit = DATA_UNIT[l.bandwidth.dataUnit.toUpperCase()];
    return w !== undefined && unit !== undefined && l.bandwidth.dataAmount > 0 ? { count: l.bandwidth.dataAmount * unit, windowMs: w, bytes: true } : undefined;
  }
  return undefined;
}

/** WSO2's "unlimited": its name, or Integer.MAX_VALUE as the count. */
const unlimited = (name: string, l: Limit | undefined) => name === 'Unlimited' || (l !== undefined && !l.bytes && l.count >= 2_147_483_647);

/**
 * Admin's stored policy (WSO2's ThrottlePolicy shape) to the gateway's, or undefined if it limits
 * nothing. A custom rule whose Siddhi query is outside the supported subset is undefined too
 * (`parseCustomRule`).
 */
export function toRuntimePolicy(p: { kind: string; name: string; defaultLimit: SourceLimit | null; details?: Record<string, unknown> }): RuntimeThrottlePolicy | undefined {
  const d = p.details ?? {};
  if (p.kind === 'custom') {
    const custom = parseCustomRule(String(d.keyTemplate ?? ''), String(d.siddhiQuery ?? ''));
    return custom ? { kind: 'custom', name: p.name, limit: custom.limit, stopOnQuotaReach: true, custom } : undefined;
  }
  if (p.kind !== 'advanced' && p.kind !== 'application' && p.kind !== 'subscription') return undefined;
  const parsed = toLimit(p.defaultLimit);
  const limit = unlimited(p.name, parsed) ? undefined : parsed;
  const burstCount = Number(d.rateLimitCount);
  const burstWindow = typeof d.rateLimitTimeUnit === 'string' ? windowMs(d.rateLimitTimeUnit, 1) : undefined;
  const burst = burstCount > 0 && burstWindow !== undefined ? { count: burstCount, windowMs: burstWindow } : undefined;
  const groups: ConditionalGroup[] = [];
  if (p.kind === 'advanced' && Array.isArray(d.conditionalGroups)) {
    for (const g of d.conditionalGroups as { conditions?: SourceCondition[]; limit?: SourceLimit }[]) {
      const gl = toLimit(g.limit);
      const conditions = (g.conditions ?? []).map(compileCondition);
      if (gl && conditions.length > 0 && conditions.every((c) => c !== undefined)) groups.push({ conditions: conditions as CompiledCondition[], limit: gl });
    }
  }
  const policy: RuntimeThrottlePolicy = { kind: p.kind, name: p.name, limit, burst, stopOnQuotaReach: d.stopOnQuotaReach !== false };
  return groups.length > 0 ? { ...policy, groups } : policy;
}
