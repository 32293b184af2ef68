import { randomBytes } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { EventHub } from '@gatehouse/events';
import type { Logger } from '@gatehouse/runtime';
import { LocalRateCounter, Pending, type Decision, type RateCounter } from './counter.ts';
import type { Limit } from './limits.ts';

/** The Traffic Manager's lease subject and messages (its `protocol.ts`; restated so a gateway loads none of its code). */
export const LeaseSubject = 'throttle.lease';
/** The event type of the Traffic Manager's throttle decisions on `throttleData`. */
export const ThrottleDecisionType = 'THROTTLE_DECISION';

interface LeaseRequest {
  key: string;
  limit: number;
  windowMs: number;
  windowStart: number;
  want: number;
  gatewayId: string;
  used: number;
  granted: number;
  session: string;
}

interface LeaseReply {
  granted: number;
  windowStart: number;
  remaining: number;
}

/** A key spent its limit for a window: refuse it until the window ends, without asking. */
export interface ThrottleDecision {
  readonly key: string;
  readonly windowStart: number;
  readonly windowMs: number;
  readonly until?: number;
  readonly reachedAt?: number;
}

export interface LeaseRateCounterOptions {
  readonly hub: EventHub;
  readonly gatewayId: string;
  /** Gateways sharing each limit (this one included), for slice sizes and the fallback's `limit / live`. */
  readonly liveGateways: () => number;
  /**
   * Strict (default): never admit a call the Traffic Manager has not leased, so the cluster never
   * exceeds a limit; a call that finds its key without quota while a lease is on its way answers
   * {@link Pending} and waits for it (one round trip, bounded by `timeoutMs`). Not strict: a key's
   * first calls in a window are admitted at once from a local allowance of `floor(limit / (k · live))`,
   * which the first lease reports and the Traffic Manager counts, so the cluster may exceed a limit
   * by at most that allowance per gateway when the key is first seen late in a window.
   */
  readonly strict?: boolean;
  /** `k`: slices of about `limit / (k · live)`. Default 4. */
  readonly slicing?: number;
  /** Lease request timeout; past it the request is sent once more, and past that the gateway falls back to local limits. Default 250 ms. */
  readonly timeoutMs?: number;
  /** How often, in fallback, a call's key asks the Traffic Manager again. Default 1000 ms. */
  readonly probeIntervalMs?: number;
  /**
   * How long before a window ends a key in use asks for its lease of the next window, so the
   * next window's first call finds quota waiting. Default `min(window / 5, 1000 ms)`.
   */
  readonly prefetchMs?: number;
  readonly logger?: Logger;
  readonly metrics?: Registry;
}

/** This gateway's view of one key in one window. */
interface KeyState {
  readonly windowStart: number;
  readonly windowEnd: number;
  /** Leased to this gateway (plus what it admitted unleased, once the Traffic Manager accounted it). */
  granted: number;
  /** Admitted by this gateway (calls, or bytes), leased or not. */
  used: number;
  /** Unleased quota of the window as last reported; -1 before the first reply. */
  clusterRemaining: number;
  lastGrant: number;
  /** The lease request on its way, if any; it never rejects. */
  inflight: Promise<void> | undefined;
  /** The Traffic Manager has nothing left for this window (its reply, or its decision). */
  exhausted: boolean;
  /** Admitted calls on local limits while no Traffic Manager answered. */
  unleased: boolean;
  /** When to lease the next window ahead. */
  readonly prefetchAt: number;
  /** The next window's state, leased ahead. */
  next: KeyState | undefined;
}

const settledAlready = Promise.resolve();

function metric<T>(registry: Registry | undefined, name: string, make: (registers: Registry[]) => T): T {
  return ((registry?.getSingleMetric(name) as T | undefined) ?? make(registry ? [registry] : []));
}

/**
 * The cluster-wide counter: spends, synchronously and in memory, the quota the Traffic Manager
 * leased for a key's current window, and asks for more in the background once what it holds falls
 * to half its last slice. A key in use leases its next window shortly before this one ends, so
 * calls do not wait on the network; only a key's first call (a key not seen in the last window),
 * or a call that finds its quota spent while more is on its way, waits for one round trip
 * ({@link Pending}), instead of a 429 under the limit.
 *
 * When the Traffic Manager finds a key's window spent it broadcasts a decision
 * (`decide`): the key is refused until the window ends, by every gateway, without asking.
 *
 * With no Traffic Manager answering (no responder, or a request timed out twice), it falls back to local limits:
 * `floor(limit / live)` per key and window, counting what it already admitted in the window (in a
 * window it already had leases for: its leases plus `floor(unleased / live)` as last reported); it
 * logs this once, sets `gatehouse_throttle_lease_fallback` to 1, and asks again at most every
 * `probeIntervalMs`. The first answer ends the fallback. The calls admitted meanwhile are reported
 * then, so the Traffic Manager counts them; in strict mode a key that admitted unleased calls takes
 * no more quota in that window (the other gateways' unleased calls are not all reported yet), and
 * every later window is leased and exact again.
 */
export class LeaseRateCounter implements RateCounter {
  readonly #o: LeaseRateCounterOptions;
  readonly #strict: boolean;
  readonly #k: number;
  readonly #keys = new Map<string, KeyState>();
  readonly #local: LocalRateCounter;
  /** This run: the Traffic Manager resends a lost grant only to the run it was granted to. */
  readonly #session = randomBytes(9).toString('base64url');
  #fallback = false;
  #lastProbe = Number.NEGATIVE_INFINITY;
  #probing = false;
  readonly #metrics: { leases: Counter<'result'>; fallback: Gauge; fallbacks: Counter; decisions: Counter; waits: Counter; prefetches: Counter };

  constructor(options: LeaseRateCounterOptions) {
    this.#o = options;
    this.#strict = options.strict ?? true;
    this.#k = options.slicing ?? 4;
    this.#local = new LocalRateCounter({ liveGateways: options.liveGateways });
    const m = options.metrics;
    this.#metrics = {
      leases: metric(m, 'gatehouse_throttle_leases_total', (registers) => new Counter({ name: 'gatehouse_throttle_leases_total', help: 'Lease requests to the Traffic Manager, by result (granted, empty, error)', labelNames: ['result'], registers })),
      fallback: metric(m, 'gatehouse_throttle_lease_fallback', (registers) => new Gauge({ name: 'gatehouse_throttle_lease_fallback', help: '1 while no Traffic Manager answers and local limits (limit / live gateways) apply', registers })),
      fallbacks: metric(m, 'gatehouse_throttle_lease_fallbacks_total', (registers) => new Counter({ name: 'gatehouse_throttle_lease_fallbacks_total', help: 'Times this gateway fell back to local limits', registers })),
      decisions: metric(m, 'gatehouse_throttle_decisions_total', (registers) => new Counter({ name: 'gatehouse_throttle_decisions_total', help: 'Throttle decisions received from the Traffic Manager (a key spent for the rest of a window)', registers })),
      waits: metric(m, 'gatehouse_throttle_lease_waits_total', (registers) => new Counter({ name: 'gatehouse_throttle_lease_waits_total', help: 'Calls that waited for a lease (a key without quota with one on its way)', registers })),
      prefetches: metric(m, 'gatehouse_throttle_lease_prefetches_total', (registers) => new Counter({ name: 'gatehouse_throttle_lease_prefetches_total', help: 'Leases of a next window asked for ahead of it', registers })),
    };
  }

  /** Whether local limits apply because no Traffic Manager answers. */
  get inFallback(): boolean {
    return this.#fallback;
  }

  hit(key: string, limit: Limit, now: number, cost = 1): Decision {
    const windowStart = now - (now % limit.windowMs);
    let st = this.#keys.get(key);
    if (st === undefined || st.windowStart !== windowStart) st = this.#roll(key, st, limit, windowStart, now);
    const resetAt = windowStart + limit.windowMs;
    if (this.#fallback) return this.#fallbackHit(key, st, limit, now, resetAt, cost);
    if (now >= st.prefetchAt && st.next === undefined) this.#prefetch(key, st, limit, now);
    const held = st.granted - st.used;
    if (held > 0) {
      st.used += cost;
      if (held - cost <= st.lastGrant / 2 && st.inflight === undefined && !st.exhausted) this.#lease(key, st, limit, now);
      return { allowed: true, limit: limit.count, remaining: Math.max(0, held - cost) + Math.max(0, st.clusterRemaining), resetAt };
    }
    if (st.exhausted) return { allowed: false, limit: limit.count, remaining: 0, resetAt };
    if (st.inflight === undefined) this.#lease(key, st, limit, now);
    if (!this.#strict && st.clusterRemaining < 0 && st.used < this.#allowance(limit)) {
      st.used += cost;
      return { allowed: true, limit: limit.count, remaining: limit.count - st.used, resetAt };
    }
    return Pending;
  }

  ready(key: string, limit: Limit, now: number): boolean {
    const windowStart = now - (now % limit.windowMs);
    let st = this.#keys.get(key);
    if (st === undefined || st.windowStart !== windowStart) st = this.#roll(key, st, limit, windowStart, now);
    if (this.#fallback || st.exhausted || st.granted > st.used) return true;
    if (!this.#strict && st.clusterRemaining < 0 && st.used < this.#allowance(limit)) return true;
    if (st.inflight === undefined) this.#lease(key, st, limit, now);
    return false;
  }

  settled(key: string): Promise<void> {
    const inflight = this.#keys.get(key)?.inflight;
    if (inflight === undefined) return settledAlready;
    this.#metrics.waits.inc();
    return inflight;
  }

  charge(key: string, limit: Limit, now: number, cost: number): void {
    const st = this.#keys.get(key);
    // Reported with the key's next lease request, which the Traffic Manager then accounts.
    if (st !== undefined && st.windowStart === now - (now % limit.windowMs)) st.used += cost;
  }

  local(key: string, limit: Limit, now: number): Decision {
    return this.#local.local(key, limit, now);
  }

  /** The Traffic Manager's decision: `key` is spent for that window; stop asking, refuse once what is held is spent. */
  decide(d: ThrottleDecision): void {
    this.#metrics.decisions.inc();
    const st = this.#keys.get(d.key);
    if (st !== undefined && st.windowStart === d.windowStart) st.exhausted = true;
    else if (st !== undefined && st.next !== undefined && st.next.windowStart === d.windowStart) st.next.exhausted = true;
    else if (st === undefined || st.windowStart < d.windowStart) {
      const fresh = this.#state(d.windowStart, d.windowMs);
      fresh.exhausted = true;
      this.#keys.set(d.key, fresh);
    }
  }

  /** Whether `key` is refused now without asking (spent for its window, nothing held). */
  refuses(key: string, now: number): boolean {
    const st = this.#keys.get(key);
    return st !== undefined && st.exhausted && st.granted <= st.used && st.windowStart <= now && now < st.windowEnd;
  }

  #prefetchLead(windowMs: number): number {
    return this.#o.prefetchMs ?? Math.min(Math.floor(windowMs / 5), 1000);
  }

  #state(windowStart: number, windowMs: number): KeyState {
    return {
      windowStart,
      windowEnd: windowStart + windowMs,
      granted: 0,
      used: 0,
      clusterRemaining: -1,
      lastGrant: 0,
      inflight: undefined,
      exhausted: false,
      unleased: false,
      prefetchAt: windowStart + windowMs - this.#prefetchLead(windowMs),
      next: undefined,
    };
  }

  /** The key's state for a new window: the one leased ahead if there is one. */
  #roll(key: string, st: KeyState | undefined, limit: Limit, windowStart: number, now: number): KeyState {
    if (st === undefined && this.#keys.size >= 100_000) this.#evict(now);
    const next = st?.next !== undefined && st.next.windowStart === windowStart ? st.next : this.#state(windowStart, limit.windowMs);
    this.#keys.set(key, next);
    return next;
  }

  #prefetch(key: string, st: KeyState, limit: Limit, now: number): void {
    st.next = this.#state(st.windowStart + limit.windowMs, limit.windowMs);
    this.#metrics.prefetches.inc();
    this.#lease(key, st.next, limit, now);
  }

  #allowance(limit: Limit): number {
    return Math.floor(limit.count / (this.#k * Math.max(1, this.#o.liveGateways())));
  }

  #fallbackHit(key: string, st: KeyState, limit: Limit, now: number, resetAt: number, cost: number): Decision {
    if (!this.#probing && now - this.#lastProbe >= (this.#o.probeIntervalMs ?? 1000)) {
      this.#lastProbe = now;
      this.#probing = true;
      this.#lease(key, st, limit, now);
    }
    // A window already leased from: what this gateway holds plus its share of what the Traffic
    // Manager had left unleased, so together the gateways stay near the limit. Else limit / live.
    const live = Math.max(1, this.#o.liveGateways());
    const local = st.clusterRemaining >= 0 ? st.granted + Math.floor(st.clusterRemaining / live) : Math.max(1, Math.floor(limit.count / live));
    if (st.used >= local) return { allowed: false, limit: limit.count, remaining: 0, resetAt };
    st.used += cost;
    if (st.used > st.granted) st.unleased = true;
    return { allowed: true, limit: limit.count, remaining: Math.max(0, local - st.used), resetAt };
  }

  #lease(key: string, st: KeyState, limit: Limit, now: number): void {
    const used = st.used;
    // Admitted unleased in strict mode: on local limits while no Traffic Manager answered. Report
    // it, ask for nothing more in this window: the other gateways may not have reported theirs yet.
    const settle = this.#strict && st.unleased;
    const want = settle ? 0 : Math.max(1, Math.ceil(limit.count / (this.#k * Math.max(1, this.#o.liveGateways()))));
    const req: LeaseRequest = { key, limit: limit.count, windowMs: limit.windowMs, windowStart: st.windowStart, want, gatewayId: this.#o.gatewayId, used, granted: st.granted, session: this.#session };
    const timeoutMs = this.#o.timeoutMs ?? 250;
    const ask = () => this.#o.hub.request<LeaseRequest, LeaseReply>(LeaseSubject, req, { timeoutMs });
    // A request lost with a replica that died under it times out: ask once more (another replica
    // takes it) before falling back. No responder at all falls back at once.
    const inflight = ask()
      .catch((err: unknown) => ((err as { code?: unknown }).code === 'EVENTS_ERR_TIMEOUT' ? ask() : Promise.reject(err)))
      .then(
      (reply) => {
        if (st.inflight === inflight) st.inflight = undefined;
        this.#probing = false;
        if (this.#fallback) this.#recover();
        // What was admitted unleased up to `used` is now counted by the Traffic Manager.
        st.granted = Math.max(st.granted, used) + reply.granted;
        st.lastGrant = reply.granted;
        st.clusterRemaining = reply.remaining;
        if (settle || (reply.granted === 0 && reply.remaining === 0)) st.exhausted = true;
        this.#metrics.leases.inc({ result: reply.granted > 0 ? 'granted' : 'empty' });
      },
      (err: unknown) => {
        if (st.inflight === inflight) st.inflight = undefined;
        this.#probing = false;
        this.#metrics.leases.inc({ result: 'error' });
        this.#lastProbe = now;
        if (!this.#fallback) this.#enterFallback(err);
      },
    );
    st.inflight = inflight;
  }

  #enterFallback(err: unknown): void {
    this.#fallback = true;
    this.#metrics.fallback.set(1);
    this.#metrics.fallbacks.inc();
    this.#o.logger?.warn({ err, live: this.#o.liveGateways() }, 'traffic manager unreachable: throttling on local limits (limit / live gateways)');
  }

  #recover(): void {
    this.#fallback = false;
    this.#metrics.fallback.set(0);
    this.#o.logger?.info({}, 'traffic manager reachable again: throttling on leases');
  }

  #evict(now: number): void {
    for (const [k, st] of this.#keys) if (st.windowStart + 86_400_000 < now) this.#keys.delete(k);
  }

  get size(): number {
    return this.#keys.size;
  }
}
