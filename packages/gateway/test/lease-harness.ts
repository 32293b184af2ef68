import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import { loadConfig } from '@gatehouse/config';
import type { EventHub } from '@gatehouse/events';
import { createTrafficManager, type TrafficManager, type WindowStore } from '@gatehouse/traffic-manager';
import { natsUrl } from '@gatehouse/testing';
import { LeaseRateCounter } from '../src/throttle/lease-counter.ts';
import type { Limit } from '../src/throttle/limits.ts';

export const silent = { info() {}, warn() {}, error() {}, debug() {}, fatal() {}, trace() {}, child: () => silent } as never;

export function trafficManager(hub: EventHub, store?: WindowStore): TrafficManager {
  const config = loadConfig({ argv: ['--traffic_manager.health_port', '0'], env: {} });
  return createTrafficManager(config, { hub, logger: silent, store });
}

/** Waits until a window of `windowMs` has just begun (at least 10 ms in). */
export async function windowBoundary(windowMs: number): Promise<number> {
  const now = Date.now();
  await sleep(windowMs - (now % windowMs) + 10);
  return Date.now() - (Date.now() % windowMs);
}

export interface Counted {
  readonly counter: LeaseRateCounter;
  admitted: number;
  refused: number;
  lastAdmitAt: number;
  readonly warnings: string[];
  readonly metrics: Registry;
}

export function gateways(hubs: readonly EventHub[], options: { strict?: boolean; probeIntervalMs?: number } = {}): Counted[] {
  return hubs.map((hub, i) => {
    const warnings: string[] = [];
    const metrics = new Registry();
    const logger = { ...(silent as object), warn: (_o: object, msg?: string) => warnings.push(msg ?? '') } as never;
    const counter = new LeaseRateCounter({ hub, gatewayId: `gw-${i}`, liveGateways: () => hubs.length, logger, metrics, ...options });
    return { counter, admitted: 0, refused: 0, lastAdmitAt: 0, warnings, metrics };
  });
}

/**
 * Every gateway hits `key` in bursts of `burst` calls about every millisecond until `until`: far
 * more than the limit, so any quota left stranded on a gateway would show.
 */
export async function hammer(gws: readonly Counted[], key: string, limit: Limit, until: number, burst = 10): Promise<void> {
  await Promise.all(
    gws.map(async (g) => {
      while (Date.now() < until) {
        for (let b = 0; b < burst; b++) {
          const now = Date.now();
          if (g.counter.hit(key, limit, now).allowed) {
            g.admitted += 1;
            g.lastAdmitAt = now;
          } else g.refused += 1;
        }
        await sleep(1);
      }
    }),
  );
}

export function reset(gws: readonly Counted[]): void {
  for (const g of gws) g.admitted = g.refused = g.lastAdmitAt = 0;
}

export const total = (gws: readonly Counted[]): number => gws.reduce((n, g) => n + g.admitted, 0);

/** Deletes the streams a hub prefix created on the shared NATS server. */
export async function dropStreams(prefix: string): Promise<void> {
  const nc = await connect({ servers: [natsUrl()], timeout: 2000 });
  try {
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names()) if (name.startsWith(`${prefix.toUpperCase()}_`)) await jsm.streams.delete(name).catch(() => false);
  } finally {
    await nc.close();
  }
}
