import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import { loadConfig } from '@gatehouse/config';
import type { EventHub } from '@gatehouse/events';
import { createTrafficManager, type TrafficManager, type WindowStore } from '@gatehouse/traffic-manager';
import { natsUrl } from '@gatehouse/testing';
import { Pending } from '../src/throttle/counter.ts';
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

/** One window's decisions: each one's time, gateway and outcome. */
interface WindowCalls {
  readonly at: number[];
  /** The gateway's index in {@link WindowTally}'s names, negative (-1 - index) for a refusal. */
  readonly who: number[];
  admitted: number;
}

/** How long after a window's limit was reached every gateway called after it refused. */
export interface TimeToRefuse {
  /** When the limit was reached: the last admitted call's time. */
  readonly limitAt: number;
  /** The longest of the gateways' times to refuse, ms. */
  readonly ms: number;
  /** The gateways that refused a call after the limit was reached. */
  readonly gateways: number;
  /** Each gateway's time to refuse, ms. */
  readonly byGateway: ReadonlyMap<string, number>;
  /**
   * Calls refused before the limit was reached: 429s while the count was below its final value
   * (with calls timed over HTTP, also a few refused while the last admitted ones were on their way
   * to the backend).
   */
  readonly refusedBefore: number;
}

/**
 * Counts calls per window and measures the time from a window's limit being reached to every
 * gateway refusing. The limit is reached when the window's last admitted call is admitted (the
 * count reaches its final value: L when exact, and the accuracy checks hold it within
 * [L - 1%, L]). A gateway's time to refuse is the time of its first refusal after that, minus the
 * limit's; the window's is the longest, over the gateways that refused a call after the limit. A
 * gateway that answers no call after it (one that hangs) is not in `gateways`, so callers check
 * that count too.
 *
 * What a call's time is, is the caller's (one monotonic clock, ms): when it was decided (in
 * process), or when the backend received it and when its 429 was read (over HTTP); calls need not
 * be recorded in time order. Every call is kept (two numbers), so a minute's window under full
 * load costs a few MB.
 */
export class WindowTally {
  readonly #windows = new Map<number, WindowCalls>();
  readonly #names: string[] = [];

  #record(gateway: string, windowEnd: number, at: number, admitted: boolean): void {
    let w = this.#windows.get(windowEnd);
    if (w === undefined) this.#windows.set(windowEnd, (w = { at: [], who: [], admitted: 0 }));
    let i = this.#names.indexOf(gateway);
    if (i < 0) i = this.#names.push(gateway) - 1;
    w.at.push(at);
    w.who.push(admitted ? i : -1 - i);
    if (admitted) w.admitted += 1;
  }

  /** A call of the window ending at `windowEnd` (epoch ms) admitted by `gateway` at `at` (ms, on any one monotonic clock). */
  admit(gateway: string, windowEnd: number, at: number): void {
    this.#record(gateway, windowEnd, at, true);
  }

  refuse(gateway: string, windowEnd: number, at: number): void {
    this.#record(gateway, windowEnd, at, false);
  }

  admitted(windowEnd: number): number {
    return this.#windows.get(windowEnd)?.admitted ?? 0;
  }

  refused(windowEnd: number): number {
    const w = this.#windows.get(windowEnd);
    return w === undefined ? 0 : w.at.length - w.admitted;
  }

  /** Undefined while no call of the window was admitted. */
  timeToRefuse(windowEnd: number): TimeToRefuse | undefined {
    const w = this.#windows.get(windowEnd);
    if (w === undefined || w.admitted === 0) return undefined;
    let limitAt = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < w.at.length; k++) if (w.who[k]! >= 0) limitAt = Math.max(limitAt, w.at[k]!);
    const first = new Map<number, number>();
    let refusedBefore = 0;
    for (let k = 0; k < w.at.length; k++) {
      const who = w.who[k]!;
      if (who >= 0) continue;
      if (w.at[k]! < limitAt) refusedBefore += 1;
      else first.set(-1 - who, Math.min(first.get(-1 - who) ?? Number.POSITIVE_INFINITY, w.at[k]!));
    }
    let ms = 0;
    for (const t of first.values()) ms = Math.max(ms, t - limitAt);
    return { limitAt, ms, gateways: first.size, byGateway: new Map([...first].map(([i, t]) => [this.#names[i]!, t - limitAt])), refusedBefore };
  }

  clear(): void {
    this.#windows.clear();
  }
}

/** `refused by 4 gateways within 12.3 ms`, or why there is no figure. */
export function describeRefusal(t: TimeToRefuse | undefined): string {
  return t === undefined ? 'no call admitted' : `refused by ${t.gateways} gateway${t.gateways === 1 ? '' : 's'} within ${t.ms.toFixed(1)} ms`;
}

export interface Counted {
  readonly name: string;
  readonly counter: LeaseRateCounter;
  admitted: number;
  /** Calls the counter refused; a call it answered {@link Pending} for (it would wait for a lease) is neither admitted nor refused. */
  refused: number;
  /** Shared by the gateways made together: their calls, per window, with the time to refuse. */
  readonly tally: WindowTally;
  readonly warnings: string[];
  readonly metrics: Registry;
}

export function gateways(hubs: readonly EventHub[], options: { strict?: boolean; probeIntervalMs?: number } = {}): Counted[] {
  const tally = new WindowTally();
  return hubs.map((hub, i) => {
    const warnings: string[] = [];
    const metrics = new Registry();
    const logger = { ...(silent as object), warn: (_o: object, msg?: string) => warnings.push(msg ?? '') } as never;
    const counter = new LeaseRateCounter({ hub, gatewayId: `gw-${i}`, liveGateways: () => hubs.length, logger, metrics, ...options });
    return { name: `gw-${i}`, counter, admitted: 0, refused: 0, tally, warnings, metrics };
  });
}

/**
 * Every gateway hits `key` in bursts of `burst` calls about every millisecond until `until`: far
 * more than the limit, so any quota left stranded on a gateway would show. Each decision is
 * tallied at the hit (`performance.now()`); a {@link Pending} one is not a decision: a gateway
 * would wait for the lease on its way and then decide, so the time to refuse includes that wait.
 */
export async function hammer(gws: readonly Counted[], key: string, limit: Limit, until: number, burst = 10): Promise<void> {
  await Promise.all(
    gws.map(async (g) => {
      while (Date.now() < until) {
        for (let b = 0; b < burst; b++) {
          const now = Date.now();
          const d = g.counter.hit(key, limit, now);
          if (d === Pending) continue;
          const end = now - (now % limit.windowMs) + limit.windowMs;
          if (d.allowed) {
            g.admitted += 1;
            g.tally.admit(g.name, end, performance.now());
          } else {
            g.refused += 1;
            g.tally.refuse(g.name, end, performance.now());
          }
        }
        await sleep(1);
      }
    }),
  );
}

export function reset(gws: readonly Counted[]): void {
  for (const g of gws) {
    g.admitted = g.refused = 0;
    g.tally.clear();
  }
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
