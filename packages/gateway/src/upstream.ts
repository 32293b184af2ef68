import { Pool } from 'undici';
import type { GatehouseConfig } from '@gatehouse/config';
import type { ListenerLimits, Logger } from '@gatehouse/runtime';
import type { EndpointGroup } from './runtime-api.ts';

/** Passive health of one endpoint: when it opens, how long it stays open. */
export interface BreakerOptions {
  /** Consecutive transport failures (refused, reset, timed out) that open the breaker. */
  readonly threshold: number;
  /** How long it stays open before one call may test it (half-open). */
  readonly cooldownMs: number;
  /** A failed test doubles the cooldown, up to this (WSO2's suspension progression). */
  readonly maxCooldownMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * One backend URL: its connection pool and its passive health, a circuit breaker. Closed, it
 * counts consecutive transport failures; at `threshold` it opens and no call goes to it; after
 * the cooldown the next call is the one probe (half-open) while the others still skip it; the
 * probe's success closes it, its failure opens it again for twice as long (up to the maximum).
 * Kept per URL across redeploys, so a redeploy neither forgets nor resets a failing backend.
 */
export class Endpoint {
  readonly url: string;
  readonly origin: string;
  /** Path of the endpoint URL, prefixed to the resource path (no trailing slash). */
  readonly basePath: string;
  readonly pool: Pool;
  readonly #breaker: BreakerOptions;
  readonly #onChange: ((endpoint: Endpoint, state: BreakerState) => void) | undefined;
  #failures = 0;
  /** 0 while closed; else when the breaker may half-open. */
  #openUntil = 0;
  #cooldownMs: number;
  #probing = false;

  constructor(url: string, pool: Pool, breaker: BreakerOptions, onChange?: (endpoint: Endpoint, state: BreakerState) => void) {
    const u = new URL(url);
    this.url = url;
    this.origin = u.origin;
    this.basePath = u.pathname.endsWith('/') ? u.pathname.slice(0, -1) : u.pathname;
    this.pool = pool;
    this.#breaker = breaker;
    this.#cooldownMs = breaker.cooldownMs;
    this.#onChange = onChange;
  }

  /** Whether a call may go here now; past the cooldown, the caller takes the one half-open probe. */
  acquire(now: number): boolean {
    if (this.#openUntil === 0) return true;
    if (now < this.#openUntil || this.#probing) return false;
    this.#probing = true;
    this.#onChange?.(this, 'half-open');
    return true;
  }

  /** The backend answered (any HTTP status): closed again. */
  succeeded(): void {
    const wasOpen = this.#openUntil !== 0;
    this.#failures = 0;
    this.#openUntil = 0;
    this.#probing = false;
    this.#cooldownMs = this.#breaker.cooldownMs;
    if (wasOpen) this.#onChange?.(this, 'closed');
  }

  /** A transport failure: counted while closed; a failed probe opens it again, for longer. */
  failed(now: number): void {
    if (this.#probing) {
      this.#probing = false;
      this.#cooldownMs = Math.min(this.#cooldownMs * 2, Math.max(this.#breaker.maxCooldownMs, this.#breaker.cooldownMs));
      this.#openUntil = now + this.#cooldownMs;
      this.#onChange?.(this, 'open');
      return;
    }
    if (this.#openUntil !== 0) return; // a call that left before the breaker opened
    this.#failures += 1;
    if (this.#failures >= this.#breaker.threshold) {
      this.#openUntil = now + this.#cooldownMs;
      this.#onChange?.(this, 'open');
    }
  }

  /** The call ended without a verdict on the backend (the client went away): frees the probe. */
  released(): void {
    this.#probing = false;
  }

  /** Milliseconds until a call may try this endpoint again; 0 when one may now. */
  suspendedFor(now: number): number {
    if (this.#openUntil === 0) return 0;
    if (this.#probing) return 1000; // a probe is deciding
    return Math.max(0, this.#openUntil - now);
  }

  state(now: number): BreakerState {
    if (this.#openUntil === 0) return 'closed';
    return this.#probing || now >= this.#openUntil ? 'half-open' : 'open';
  }
}

/** The endpoints of one API's production or sandbox group, and how to pick among them. */
export class EndpointSet {
  readonly type: EndpointGroup['type'];
  readonly endpoints: readonly Endpoint[];
  readonly timeoutMs: number;
  #next = 0;

  constructor(type: EndpointGroup['type'], endpoints: Endpoint[], timeoutMs: number) {
    this.type = type;
    this.endpoints = endpoints;
    this.timeoutMs = timeoutMs;
  }

  /**
   * The endpoint for the next attempt, `tried` being the bit mask of the indexes already tried
   * for this call (0 first): round robin for load_balance, in order for failover, skipping open
   * breakers; undefined when none is left to try.
   */
  pick(tried: number, now: number): Endpoint | undefined {
    const n = this.endpoints.length;
    const start = this.type === 'load_balance' ? (tried === 0 ? (this.#next = (this.#next + 1) % n) : this.#next) : 0;
    for (let k = 0; k < n; k++) {
      const i = (start + k) % n;
      if (i < 31 && (tried & (1 << i)) !== 0) continue;
      const e = this.endpoints[i];
      if (e.acquire(now)) return e;
    }
    return undefined;
  }

  /** `tried` with `endpoint` added. */
  mark(tried: number, endpoint: Endpoint): number {
    const i = this.endpoints.indexOf(endpoint);
    return i >= 0 && i < 31 ? tried | (1 << i) : tried;
  }

  /** Milliseconds until some endpoint may be tried again (0 if one may now). */
  suspendedFor(now: number): number {
    let min = Infinity;
    for (const e of this.endpoints) min = Math.min(min, e.suspendedFor(now));
    return min === Infinity ? 0 : min;
  }
}

export interface UpstreamOptions {
  readonly connectTimeoutMs: number;
  readonly defaultTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly connectionsPerOrigin: number;
  readonly breaker: BreakerOptions;
  /** Told of each breaker change (opened, half-open, closed): for logs, never per request. */
  readonly onBreakerChange?: (endpoint: Endpoint, state: BreakerState) => void;
}

export const defaultUpstreamOptions: UpstreamOptions = Object.freeze({
  connectTimeoutMs: 5_000,
  defaultTimeoutMs: 60_000,
  keepAliveTimeoutMs: 30_000,
  connectionsPerOrigin: 128,
  breaker: Object.freeze({ threshold: 5, cooldownMs: 10_000, maxCooldownMs: 300_000 }),
});

/** The `gateway.*` backend and breaker settings, breaker changes logged (never per request). */
export function upstreamOptionsFromConfig(gw: GatehouseConfig['gateway'], logger?: Logger): UpstreamOptions {
  return {
    ...defaultUpstreamOptions,
    connectTimeoutMs: gw.backend_connect_timeout_ms,
    defaultTimeoutMs: gw.backend_timeout_ms,
    breaker: { threshold: gw.breaker_threshold, cooldownMs: gw.breaker_cooldown_ms, maxCooldownMs: gw.breaker_max_cooldown_ms },
    onBreakerChange: logger
      ? (e, state) => {
          const endpoint = e.origin + e.basePath; // never the query, which may carry a key
          if (state === 'open') logger.warn({ endpoint }, 'endpoint suspended after failures');
          else if (state === 'closed') logger.info({ endpoint }, 'endpoint resumed');
        }
      : undefined,
  };
}

/** The `gateway.*` slow-client limits of the gateway's listeners. */
export function listenerLimitsFromConfig(gw: GatehouseConfig['gateway']): ListenerLimits {
  if (gw.request_timeout_ms !== 0 && gw.headers_timeout_ms > gw.request_timeout_ms) {
    throw new Error(`gateway.headers_timeout_ms (${gw.headers_timeout_ms}) must not exceed gateway.request_timeout_ms (${gw.request_timeout_ms})`);
  }
  return { headersTimeoutMs: gw.headers_timeout_ms, requestTimeoutMs: gw.request_timeout_ms, keepAliveTimeoutMs: gw.keep_alive_timeout_ms, maxHeaderBytes: gw.max_header_bytes };
}

/**
 * Connection pools by origin, shared by every API that calls the same backend and kept across
 * redeploys, so a redeploy never drops warm keep-alive connections.
 */
export class Upstreams {
  readonly #pools = new Map<string, Pool>();
  readonly #endpoints = new Map<string, Endpoint>();
  readonly options: UpstreamOptions;

  constructor(options: UpstreamOptions = defaultUpstreamOptions) {
    this.options = options;
  }

  endpointSet(group: EndpointGroup): EndpointSet {
    const endpoints = group.urls.map((url) => this.#endpoint(url));
    return new EndpointSet(group.type, endpoints, group.timeoutMs ?? this.options.defaultTimeoutMs);
  }

  #endpoint(url: string): Endpoint {
    let e = this.#endpoints.get(url);
    if (!e) {
      const origin = new URL(url).origin;
      let pool = this.#pools.get(origin);
      if (!pool) {
        pool = new Pool(origin, {
          connections: this.options.connectionsPerOrigin,
          keepAliveTimeout: this.options.keepAliveTimeoutMs,
          connect: { timeout: this.options.connectTimeoutMs },
        });
        this.#pools.set(origin, pool);
      }
      e = new Endpoint(url, pool, this.options.breaker, this.options.onBreakerChange);
      this.#endpoints.set(url, e);
    }
    return e;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#pools.values()].map((p) => p.close()));
    this.#pools.clear();
    this.#endpoints.clear();
  }
}
