import { Counter, Gauge, type Registry } from 'prom-client';
import type { EventHub } from '@gatehouse/events';
import type { Logger } from '@gatehouse/runtime';
import type { Decision, RateCounter } from './counter.ts';
import type { Limit } from './limits.ts';

/** The Traffic Manager's lease subject and messages (its `protocol.ts`; restated so a gateway loads none of its code). */
export const LeaseSubject = 'throttle.lease';

interface LeaseRequest {
  key: string;
  limit: number;
  windowMs: number;
  windowStart: number;
  want: number;
  gatewayId: string;
  used: number;
}

interface LeaseReply {
  granted: number;
  windowStart: number;
  remaining: number;
}

export interface LeaseRateCounterOptions {
  readonly hub: EventHub;
  readonly gatewayId: string;
  /** Gateways sharing each limit (this one included), for slice sizes and the fallback's `limit / live`. */
  readonly liveGateways: () => number;
  /**
   * Strict (default): never admit a call the Traffic Manager has not leased, so the cluster never
   * exceeds a limit; a key's first call in a window is refused (429, Retry-After 1) until its first
   * lease arrives, about one round trip later. Not strict: a key's first calls in a window are
   * admitted from a local allowance of `floor(limit / (k · live))`, which the first lease reports
   * and the Traffic Manager counts, so the cluster may exceed a limit by at most that allowance per
   * gateway when the key is first seen late in a window.
   */
  readonly strict?: boolean;
  /** `k`: slices of about `limit / (k · live)`. Default 4. */
  readonly slicing?: number;
  /** Lease request timeout; past it the gateway falls back to local limits. Default 250 ms. */
  readonly timeoutMs?: number;
  /** How often, in fallback, a call's key asks the Traffic Manager again. Default 1000 ms. */
  readonly probeIntervalMs?: number;
  readonly logger?: Logger;
  readonly metrics?: Registry;
}

/** This gateway's view of one key in one window. */
interface KeyState {
  readonly windowStart: number;
  /** Leased to this gateway (plus what it admitted unleased, once the Traffic Manager accounted it). */
  granted: number;
  /** Admitted by this gateway, leased or not. */
  used: number;
  /** Unleased quota of the window as last reported; -1 before the first reply. */
  clusterRemaining: number;
  lastGrant: number;
  inflight: boolean;
  /** The Traffic Manager has nothing left for this window. */
  exhausted: boolean;
}

/**
 * The cluster-wide counter: spends, synchronously and in memory, the quota the Traffic Manager
 * leased for a key's current window, and asks for more in the background once what it holds falls
 * to half its last slice. No call waits on the network.
 *
 * With no Traffic Manager answering (a request fails or times out), it falls back to local limits:
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
  #fallback = false;
  #lastProbe = -Infinity;
  #probing = false;
  readonly #metrics: { leases: Counter<'result'>; fallback: Gauge; fallbacks: Counter };

  constructor(options: LeaseRateCounterOptions) {
    this.#o = options;
    this.#strict = options.strict ?? true;
    this.#k = options.slicing ?? 4;
    const registers = options.metrics ? [options.metrics] : [];
    this.#metrics = {
      leases: new Counter({ name: 'gatehouse_throttle_leases_total', help: 'Lease requests to the Traffic Manager, by result (granted, empty, error)', labelNames: ['result'], registers }),
      fallback: new Gauge({ name: 'gatehouse_throttle_lease_fallback', help: '1 while no Traffic Manager answers and local limits (limit / live gateways) apply', registers }),
      fallbacks: new Counter({ name: 'gatehouse_throttle_lease_fallbacks_total', help: 'Times this gateway fell back to local limits', registers }),
    };
  }

  /** Whether local limits apply because no Traffic Manager answers. */
  get inFallback(): boolean {
    return this.#fallback;
  }

  hit(key: string, limit: Limit, now: number): Decision {
    const windowStart = now - (now % limit.windowMs);
    const resetAt = windowStart + limit.windowMs;
    let st = this.#keys.get(key);
    if (st === undefined || st.windowStart !== windowStart) {
      if (st === undefined && this.#keys.size >= 100_000) this.#evict(now);
      st = { windowStart, granted: 0, used: 0, clusterRemaining: -1, lastGrant: 0, inflight: false, exhausted: false };
      this.#keys.set(key, st);
    }
    if (this.#fallback) return this.#local(key, st, limit, now, resetAt);
    const held = st.granted - st.used;
    if (held > 0) {
      st.used += 1;
      if (held - 1 <= st.lastGrant >> 1 && !st.inflight && !st.exhausted) this.#lease(key, st, limit, now);
      return { allowed: true, limit: limit.count, remaining: held - 1 + Math.max(0, st.clusterRemaining), resetAt };
    }
    if (st.exhausted) return { allowed: false, limit: limit.count, remaining: 0, resetAt };
    if (!st.inflight) this.#lease(key, st, limit, now);
    if (!this.#strict && st.clusterRemaining < 0 && st.used < this.#allowance(limit)) {
      st.used += 1;
      return { allowed: true, limit: limit.count, remaining: limit.count - st.used, resetAt };
    }
    // Waiting for a lease: worth retrying in a second, not at the end of the window.
    return { allowed: false, limit: limit.count, remaining: 0, resetAt: Math.min(resetAt, now + 1000) };
  }

  #allowance(limit: Limit): number {
    return Math.floor(limit.count / (this.#k * Math.max(1, this.#o.liveGateways())));
  }

  #local(key: string, st: KeyState, limit: Limit, now: number, resetAt: number): Decision {
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
    st.used += 1;
    return { allowed: true, limit: limit.count, remaining: local - st.used, resetAt };
  }

  #lease(key: string, st: KeyState, limit: Limit, now: number): void {
    st.inflight = true;
    const used = st.used;
    // Admitted unleased in strict mode: on local limits while no Traffic Manager answered. Report
    // it, ask for nothing more in this window: the other gateways may not have reported theirs yet.
    const settle = this.#strict && used > st.granted;
    const want = settle ? 0 : Math.max(1, Math.ceil(limit.count / (this.#k * Math.max(1, this.#o.liveGateways()))));
    const req: LeaseRequest = { key, limit: limit.count, windowMs: limit.windowMs, windowStart: st.windowStart, want, gatewayId: this.#o.gatewayId, used };
    this.#o.hub.request<LeaseRequest, LeaseReply>(LeaseSubject, req, { timeoutMs: this.#o.timeoutMs ?? 250 }).then(
      (reply) => {
        st.inflight = false;
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
        st.inflight = false;
        this.#probing = false;
        this.#metrics.leases.inc({ result: 'error' });
        this.#lastProbe = now;
        if (!this.#fallback) this.#enterFallback(err);
      },
    );
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
