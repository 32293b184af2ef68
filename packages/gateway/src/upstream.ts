import { Pool } from 'undici';
import type { EndpointGroup } from './runtime-api.ts';

/** One backend URL: its connection pool and its passive health (a circuit breaker). */
export class Endpoint {
  readonly url: string;
  readonly origin: string;
  /** Path of the endpoint URL, prefixed to the resource path (no trailing slash). */
  readonly basePath: string;
  readonly pool: Pool;
  #failures = 0;
  #openUntil = 0;
  readonly #threshold: number;
  readonly #cooldownMs: number;

  constructor(url: string, pool: Pool, breaker: { threshold: number; cooldownMs: number }) {
    const u = new URL(url);
    this.url = url;
    this.origin = u.origin;
    this.basePath = u.pathname.endsWith('/') ? u.pathname.slice(0, -1) : u.pathname;
    this.pool = pool;
    this.#threshold = breaker.threshold;
    this.#cooldownMs = breaker.cooldownMs;
  }

  /** Closed, or open but past its cooldown (half-open: one call may test it). */
  available(now: number): boolean {
    return this.#openUntil <= now;
  }

  succeeded(): void {
    this.#failures = 0;
    this.#openUntil = 0;
  }

  failed(now: number): void {
    this.#failures += 1;
    if (this.#failures >= this.#threshold) this.#openUntil = now + this.#cooldownMs;
  }

  get open(): boolean {
    return this.#openUntil > Date.now();
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
   * The endpoint for attempt `attempt` (0 first): round robin for load_balance, in order for
   * failover, skipping open breakers; undefined when none is left to try.
   */
  pick(attempt: number, now: number): Endpoint | undefined {
    const n = this.endpoints.length;
    if (attempt >= n) return undefined;
    const start = this.type === 'load_balance' ? (attempt === 0 ? (this.#next = (this.#next + 1) % n) : this.#next) : 0;
    for (let k = attempt; k < n; k++) {
      const e = this.endpoints[(start + k) % n];
      if (e.available(now)) return e;
    }
    return undefined;
  }
}

export interface UpstreamOptions {
  readonly connectTimeoutMs: number;
  readonly defaultTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly connectionsPerOrigin: number;
  readonly breaker: { readonly threshold: number; readonly cooldownMs: number };
}

export const defaultUpstreamOptions: UpstreamOptions = Object.freeze({
  connectTimeoutMs: 5_000,
  defaultTimeoutMs: 60_000,
  keepAliveTimeoutMs: 30_000,
  connectionsPerOrigin: 128,
  breaker: Object.freeze({ threshold: 5, cooldownMs: 10_000 }),
});

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
      e = new Endpoint(url, pool, this.options.breaker);
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
