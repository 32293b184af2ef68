/** A limit the gateway enforces: `count` requests (or bytes) per window. */
export interface Limit {
  readonly count: number;
  readonly windowMs: number;
}

/** A throttling policy as the gateway uses it (from Admin's policies, by kind and name). */
export interface RuntimeThrottlePolicy {
  readonly kind: 'advanced' | 'application' | 'subscription';
  readonly name: string;
  /** Undefined for `Unlimited`-like policies: nothing to count. */
  readonly limit: Limit | undefined;
  /** Subscription burst control (WSO2's rateLimitCount per rateLimitTimeUnit). */
  readonly burst?: Limit;
  /** Subscription `stopOnQuotaReach`: false means allow and only mark the call. */
  readonly stopOnQuotaReach: boolean;
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

export function windowMs(timeUnit: string, unitTime: number): number | undefined {
  const unit = UNIT_MS[timeUnit.toLowerCase()];
  return unit === undefined || !(unitTime > 0) ? undefined : unit * unitTime;
}

/** Admin's stored policy (WSO2's ThrottlePolicy shape) to the gateway's, or undefined if it limits nothing. */
export function toRuntimePolicy(p: {
  kind: string;
  name: string;
  defaultLimit: { type: string; requestCount?: { timeUnit: string; unitTime: number; requestCount: number } } | null;
  details?: Record<string, unknown>;
}): RuntimeThrottlePolicy | undefined {
  if (p.kind !== 'advanced' && p.kind !== 'application' && p.kind !== 'subscription') return undefined;
  const rc = p.defaultLimit?.type === 'REQUESTCOUNTLIMIT' ? p.defaultLimit.requestCount : undefined;
  const w = rc ? windowMs(rc.timeUnit, rc.unitTime) : undefined;
  const limit = rc && w !== undefined && rc.requestCount > 0 && p.name !== 'Unlimited' ? { count: rc.requestCount, windowMs: w } : undefined;
  const d = p.details ?? {};
  const burstCount = Number(d.rateLimitCount);
  const burstWindow = typeof d.rateLimitTimeUnit === 'string' ? windowMs(d.rateLimitTimeUnit, 1) : undefined;
  const burst = burstCount > 0 && burstWindow !== undefined ? { count: burstCount, windowMs: burstWindow } : undefined;
  return { kind: p.kind, name: p.name, limit, burst, stopOnQuotaReach: d.stopOnQuotaReach !== false };
}
