import type { Registry } from 'prom-client';
import { Topics, type EventHub, type Subscription } from '@gatehouse/events';
import type { Logger } from '@gatehouse/runtime';
import { LocalRateCounter, type RateCounter } from './counter.ts';
import { LeaseRateCounter, ThrottleDecisionType, type ThrottleDecision } from './lease-counter.ts';
import { HeartbeatPeers } from './peers.ts';

/**
 * How a gateway counts calls: `lease` (the config's default: the Traffic Manager's cluster-wide
 * quota, falling back to `limit / live gateways` without it) or `local` (each gateway alone).
 *
 * @example
 * ```ts
 * createGateway(config, deps, { throttle: { mode: 'lease', strict: true } });
 * ```
 */
export type ThrottleOptions =
  | { readonly mode: 'local' }
  | {
      readonly mode: 'lease';
      readonly strict?: boolean;
      /** Live gateways; default counted from heartbeats on `Topics.Gateway`. */
      readonly liveGateways?: number;
      readonly timeoutMs?: number;
      readonly probeIntervalMs?: number;
      readonly prefetchMs?: number;
    };

export function createRateCounter(
  options: ThrottleOptions,
  deps: { hub: EventHub; gatewayId: string; logger: Logger; metrics?: Registry },
): { counter: RateCounter; start(): Promise<void>; stop(): Promise<void> } {
  if (options.mode === 'local') return { counter: new LocalRateCounter(), start: async () => {}, stop: async () => {} };
  const fixed = options.liveGateways;
  const peers = fixed === undefined ? new HeartbeatPeers({ hub: deps.hub, gatewayId: deps.gatewayId }) : undefined;
  const counter = new LeaseRateCounter({
    hub: deps.hub,
    gatewayId: deps.gatewayId,
    liveGateways: peers ? () => peers.count() : () => fixed ?? 1,
    strict: options.strict,
    timeoutMs: options.timeoutMs,
    probeIntervalMs: options.probeIntervalMs,
    prefetchMs: options.prefetchMs,
    logger: deps.logger,
    metrics: deps.metrics,
  });
  let decisions: Subscription | undefined;
  return {
    counter,
    async start() {
      await peers?.start();
      // WSO2's throttle decisions: the Traffic Manager says a key is spent; refuse it until its window ends.
      decisions = await deps.hub.subscribe<ThrottleDecision>(Topics.ThrottleData, (e) => {
        const d = e.payload;
        if (e.type === ThrottleDecisionType && typeof d.key === 'string' && Number.isSafeInteger(d.windowStart) && Number.isSafeInteger(d.windowMs) && d.windowMs > 0) counter.decide(d);
      });
    },
    async stop() {
      await decisions?.unsubscribe();
      await peers?.stop();
    },
  };
}
