import { Topics, type EventHub, type Subscription } from '@gatehouse/events';

/**
 * Live gateways, from the heartbeats every gateway publishes on `Topics.Gateway` (every 10 s by
 * default): those heard from within `ttlMs`, this one included. At start it replays the last
 * heartbeats still retained, so a restarted gateway does not count itself alone.
 */
export class HeartbeatPeers {
  readonly #hub: EventHub;
  readonly #self: string;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #seen = new Map<string, number>();
  #count = 1;
  #countedAt = -Infinity;
  #sub: Subscription | undefined;

  constructor(options: { hub: EventHub; gatewayId: string; ttlMs?: number; now?: () => number }) {
    this.#hub = options.hub;
    this.#self = options.gatewayId;
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    // Started without the event hub (NATS down): no replay, only the heartbeats from when it is up.
    const last = this.#hub.isConnected() ? await this.#hub.lastSeq(Topics.Gateway) : undefined;
    this.#sub = await this.#hub.subscribe<{ gatewayId?: unknown }>(
      Topics.Gateway,
      (e) => {
        if (e.type === 'GATEWAY_HEARTBEAT' && typeof e.payload.gatewayId === 'string') this.#seen.set(e.payload.gatewayId, e.time);
      },
      last === undefined ? {} : { fromSeq: Math.max(1, last - 1000) },
    );
  }

  /** Live gateways, at least 1 (this one); recounted at most once a second. */
  count(): number {
    const now = this.#now();
    if (now - this.#countedAt >= 1000) {
      this.#countedAt = now;
      let n = 1;
      for (const [id, at] of this.#seen) {
        if (now - at > this.#ttlMs) this.#seen.delete(id);
        else if (id !== this.#self) n += 1;
      }
      this.#count = n;
    }
    return this.#count;
  }

  async stop(): Promise<void> {
    await this.#sub?.unsubscribe();
    this.#sub = undefined;
  }
}
