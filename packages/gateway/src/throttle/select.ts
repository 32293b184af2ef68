import type { Registry } from 'prom-client';
import type { EventHub } from '@gatehouse/events';
import type { Logger } from '@gatehouse/runtime';
import { LocalRateCounter, type RateCounter } from './counter.ts';
import { LeaseRateCounter } from './lease-counter.ts';
import { HeartbeatPeers } from './peers.ts';

/**
 * How a gateway counts calls: `local` (default: each gateway alone, as before) or `lease` (the
 * Traffic Manager's cluster-wide quota, falling back to `limit / live gateways` without it).
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
    };

export function createRateCounter(
  options: ThrottleOptions | undefined,
  deps: { hub: EventHub; gatewayId: string; logger: Logger; metrics?: Registry },
): { counter: RateCounter; start(): Promise<void>; stop(): Promise<void> } {
  if (options === undefined || options.mode === 'local') return { counter: new LocalRateCounter(), start: async () => {}, stop: async () => {} };
  const fixed = options.liveGateways;
  const peers = fixed === undefined ? new HeartbeatPeers({ hub: deps.hub, gatewayId: deps.gatewayId }) : undefined;
  const counter = new LeaseRateCounter({
    hub: deps.hub,
    gatewayId: deps.gatewayId,
    liveGateways: peers ? () => peers.count() : () => fixed ?? 1,
    strict: options.strict,
    timeoutMs: options.timeoutMs,
    probeIntervalMs: options.probeIntervalMs,
    logger: deps.logger,
    metrics: deps.metrics,
  });
  return { counter, start: async () => peers?.start(), stop: async () => peers?.stop() };
}
