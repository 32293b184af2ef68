/** A subscription as the gateway needs it: who may call which API, and whether it is blocked. */
export interface RuntimeSubscription {
  readonly applicationId: string;
  readonly apiId: string;
  /** WSO2: UNBLOCKED, BLOCKED, PROD_ONLY_BLOCKED, ON_HOLD, REJECTED, TIER_UPDATE_PENDING. */
  readonly status: string;
  readonly tier: string;
}

import type { RuntimeThrottlePolicy } from '../throttle/limits.ts';
import { BlockingRules, type SourceBlockingCondition } from './blocking.ts';

/**
 * The in-memory data a gateway decides with, offline: subscriptions and revoked token ids. Filled
 * from the internal data API at start and kept current by events; lookups are Map reads.
 */
export class GatewayData {
  readonly #subscriptions = new Map<string, RuntimeSubscription>();
  /** jti → expiry (epoch seconds): a revocation is kept until the token would have expired anyway. */
  readonly #revoked = new Map<string, number>();
  readonly #policies = new Map<string, RuntimeThrottlePolicy>();
  /** id → enabled blocking condition, and the rules precomputed from them (rebuilt on each change). */
  readonly #conditions = new Map<string, SourceBlockingCondition>();
  #blocking: BlockingRules = BlockingRules.none;

  /** The blocking rules in force: read once per request, never mutated. */
  get blocking(): BlockingRules {
    return this.#blocking;
  }

  /** Replaces every blocking condition at once (a full resync). */
  setBlockingConditions(all: Iterable<SourceBlockingCondition>): void {
    this.#conditions.clear();
    for (const c of all) if (c.conditionStatus) this.#conditions.set(c.id, c);
    this.#blocking = new BlockingRules(this.#conditions.values());
  }

  /** Adds or updates one condition; a disabled one is dropped. */
  putBlockingCondition(c: SourceBlockingCondition): void {
    if (c.conditionStatus) this.#conditions.set(c.id, c);
    else this.#conditions.delete(c.id);
    this.#blocking = new BlockingRules(this.#conditions.values());
  }

  removeBlockingCondition(id: string): void {
    if (this.#conditions.delete(id)) this.#blocking = new BlockingRules(this.#conditions.values());
  }

  policy(kind: RuntimeThrottlePolicy['kind'], name: string): RuntimeThrottlePolicy | undefined {
    return this.#policies.get(`${kind}\n${name}`);
  }

  /** Replaces every throttling policy at once. */
  setPolicies(all: Iterable<RuntimeThrottlePolicy>): void {
    this.#policies.clear();
    for (const p of all) this.#policies.set(`${p.kind}\n${p.name}`, p);
  }

  subscription(applicationId: string, apiId: string): RuntimeSubscription | undefined {
    return this.#subscriptions.get(`${applicationId}\n${apiId}`);
  }

  putSubscription(s: RuntimeSubscription): void {
    this.#subscriptions.set(`${s.applicationId}\n${s.apiId}`, s);
  }

  removeSubscription(applicationId: string, apiId: string): void {
    this.#subscriptions.delete(`${applicationId}\n${apiId}`);
  }

  /** Replaces every subscription at once (a full resync). */
  setSubscriptions(all: Iterable<RuntimeSubscription>): void {
    this.#subscriptions.clear();
    for (const s of all) this.putSubscription(s);
  }

  isRevoked(jti: string): boolean {
    return this.#revoked.has(jti);
  }

  revoke(jti: string, expiresAtS: number): void {
    this.#revoked.set(jti, expiresAtS);
  }

  /**
   * Forgets revocations of tokens that have expired: they fail on `exp` anyway. Kept five minutes
   * longer, well past the verifier's clock tolerance, so no expired-but-tolerated token slips by.
   */
  purgeRevoked(nowMs: number): void {
    const cutoff = Math.floor(nowMs / 1000) - 300;
    for (const [jti, exp] of this.#revoked) if (exp < cutoff) this.#revoked.delete(jti);
  }

  get counts(): { subscriptions: number; revoked: number; blockingConditions: number } {
    return { subscriptions: this.#subscriptions.size, revoked: this.#revoked.size, blockingConditions: this.#conditions.size };
  }
}
