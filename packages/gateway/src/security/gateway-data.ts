/** A subscription as the gateway needs it: who may call which API, and whether it is blocked. */
export interface RuntimeSubscription {
  readonly applicationId: string;
  readonly apiId: string;
  /** WSO2: UNBLOCKED, BLOCKED, PROD_ONLY_BLOCKED, ON_HOLD, REJECTED, TIER_UPDATE_PENDING. */
  readonly status: string;
  readonly tier: string;
}

/** An application as the gateway names it in a token it resolved through a key mapping. */
export interface RuntimeApplication {
  readonly id: string;
  readonly name: string;
  readonly owner: string;
  /** The application throttling tier. */
  readonly tier: string;
}

/** A consumer key of a key manager (ours or external), bound to an application (WSO2's key mapping). */
export interface RuntimeKeyMapping {
  readonly keyManager: string;
  readonly consumerKey: string;
  readonly applicationId: string;
  readonly keyType: 'PRODUCTION' | 'SANDBOX';
}

import type { RuntimeThrottlePolicy } from '../throttle/limits.ts';
import { BlockingRules, type SourceBlockingCondition } from './blocking.ts';
import type { VerifiedToken } from './token-verifier.ts';

/**
 * The in-memory data a gateway decides with, offline: subscriptions, applications and their key
 * mappings, revoked token ids, throttling policies and blocking conditions. Filled
 * from the internal data API at start and kept current by events; lookups are Map reads.
 */
export class GatewayData {
  /** By application id, then API id: a call's lookup builds no key string. */
  readonly #subscriptions = new Map<string, Map<string, RuntimeSubscription>>();
  #subscriptionCount = 0;
  /** jti → expiry (epoch seconds): a revocation is kept until the token would have expired anyway. */
  readonly #revoked = new Map<string, number>();
  /** kind → name → policy: no key is concatenated per call, so lookups reuse the strings' cached hashes. */
  readonly #policies = new Map<string, Map<string, RuntimeThrottlePolicy>>();
  #customPolicies: readonly RuntimeThrottlePolicy[] = [];
  /** id → enabled blocking condition, and the rules precomputed from them (rebuilt on each change). */
  readonly #conditions = new Map<string, SourceBlockingCondition>();
  #blocking: BlockingRules = BlockingRules.none;
  readonly #applications = new Map<string, RuntimeApplication>();
  /** `keyManager\nconsumerKey` → mapping. */
  readonly #keyMappings = new Map<string, RuntimeKeyMapping>();
  /** Tokens resolved through the mappings, until the next change of applications or mappings. */
  #resolved = new WeakMap<VerifiedToken, VerifiedToken | null>();

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
    return this.#policies.get(kind)?.get(name);
  }

  /** Replaces every throttling policy at once. */
  setPolicies(all: Iterable<RuntimeThrottlePolicy>): void {
    this.#policies.clear();
    for (const p of all) {
      let byName = this.#policies.get(p.kind);
      if (byName === undefined) this.#policies.set(p.kind, (byName = new Map()));
      byName.set(p.name, p);
    }
    this.#customPolicies = [...(this.#policies.get('custom')?.values() ?? [])];
  }

  /** Admin's custom rules (WSO2's global policies): every call is checked against each. */
  get customPolicies(): readonly RuntimeThrottlePolicy[] {
    return this.#customPolicies;
  }

  subscription(applicationId: string, apiId: string): RuntimeSubscription | undefined {
    return this.#subscriptions.get(applicationId)?.get(apiId);
  }

  putSubscription(s: RuntimeSubscription): void {
    let byApi = this.#subscriptions.get(s.applicationId);
    if (byApi === undefined) this.#subscriptions.set(s.applicationId, (byApi = new Map()));
    if (!byApi.has(s.apiId)) this.#subscriptionCount += 1;
    byApi.set(s.apiId, s);
  }

  removeSubscription(applicationId: string, apiId: string): void {
    const byApi = this.#subscriptions.get(applicationId);
    if (byApi === undefined || !byApi.delete(apiId)) return;
    this.#subscriptionCount -= 1;
    if (byApi.size === 0) this.#subscriptions.delete(applicationId);
  }

  /** Replaces every subscription at once (a full resync). */
  setSubscriptions(all: Iterable<RuntimeSubscription>): void {
    this.#subscriptions.clear();
    this.#subscriptionCount = 0;
    for (const s of all) this.putSubscription(s);
  }

  /** Replaces every application and key mapping at once (a full resync). */
  setApplications(applications: Iterable<RuntimeApplication>, mappings: Iterable<RuntimeKeyMapping>): void {
    this.#applications.clear();
    this.#keyMappings.clear();
    for (const a of applications) this.#applications.set(a.id, a);
    for (const m of mappings) this.#keyMappings.set(`${m.keyManager}\n${m.consumerKey}`, m);
    this.#resolved = new WeakMap();
  }

  putApplication(a: RuntimeApplication): void {
    this.#applications.set(a.id, a);
    this.#resolved = new WeakMap();
  }

  /** Removes the application and every key mapping to it. */
  removeApplication(id: string): void {
    this.#applications.delete(id);
    for (const [k, m] of this.#keyMappings) if (m.applicationId === id) this.#keyMappings.delete(k);
    this.#resolved = new WeakMap();
  }

  putKeyMapping(m: RuntimeKeyMapping): void {
    this.#keyMappings.set(`${m.keyManager}\n${m.consumerKey}`, m);
    this.#resolved = new WeakMap();
  }

  removeKeyMapping(keyManager: string, consumerKey: string): void {
    this.#keyMappings.delete(`${keyManager}\n${consumerKey}`);
    this.#resolved = new WeakMap();
  }

  /**
   * A token without application claims, as the application its consumer key is mapped to
   * (WSO2's key mapping: key manager + consumer key → application and key type), or undefined
   * when the key is mapped to none. Resolved once per token object until the mappings change.
   */
  resolveApplication(token: VerifiedToken): VerifiedToken | undefined {
    const hit = this.#resolved.get(token);
    if (hit !== undefined) return hit ?? undefined;
    const m = token.keyManager === undefined ? undefined : this.#keyMappings.get(`${token.keyManager}\n${token.clientId}`);
    const app = m && this.#applications.get(m.applicationId);
    const resolved = m && app ? { ...token, application: { id: app.id, name: app.name, owner: app.owner, tier: app.tier }, keyType: m.keyType } : null;
    this.#resolved.set(token, resolved);
    return resolved ?? undefined;
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

  /** Everything the events change, as plain lists: what the gateway's local snapshot keeps. */
  snapshot(): { subscriptions: RuntimeSubscription[]; applications: RuntimeApplication[]; keyMappings: RuntimeKeyMapping[]; revoked: { jti: string; exp: number }[]; blockingConditions: SourceBlockingCondition[] } {
    return {
      subscriptions: [...this.#subscriptions.values()].flatMap((byApi) => [...byApi.values()]),
      applications: [...this.#applications.values()],
      keyMappings: [...this.#keyMappings.values()],
      revoked: Array.from(this.#revoked, ([jti, exp]) => ({ jti, exp })),
      blockingConditions: [...this.#conditions.values()],
    };
  }

  get counts(): { subscriptions: number; revoked: number; blockingConditions: number; applications: number; keyMappings: number } {
    return { subscriptions: this.#subscriptionCount, revoked: this.#revoked.size, blockingConditions: this.#conditions.size, applications: this.#applications.size, keyMappings: this.#keyMappings.size };
  }
}
