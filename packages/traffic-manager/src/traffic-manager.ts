import { Counter, Gauge, type Registry } from 'prom-client';
import { CoreErrors, type Clock } from '@gatehouse/core';
import type { GatehouseConfig } from '@gatehouse/config';
import { Topics, type EventHub, type Subscription } from '@gatehouse/events';
import { createListenerServer, drain, Health, listen, sendJson, serveOps, type Listener, type Logger } from '@gatehouse/runtime';
import { LeaseService } from './leases.ts';
import { LeaseSubject, ThrottleDecisionType, type LeaseReply, type LeaseRequest, type ThrottleDecision } from './protocol.ts';
import { MemoryWindowStore, openKvWindowStore, type WindowStore } from './store.ts';

export interface TrafficManagerDeps {
  readonly hub: EventHub;
  readonly logger: Logger;
  readonly metrics?: Registry;
  readonly clock?: Clock;
  /**
   * Window state. Default: what `traffic_manager.store` says, in memory (one replica) or in NATS
   * JetStream KV on the event hub's servers (`nats-kv`, for several replicas).
   */
  readonly store?: WindowStore;
}

export interface TrafficManager {
  readonly name: 'traffic-manager';
  start(): Promise<void>;
  stop(): Promise<void>;
  urls(): string[];
  readonly leases: LeaseService;
}

/**
 * The Traffic Manager: owns each throttle key's count per window and leases slices of it to
 * gateways over the event hub (`throttle.lease`, see `protocol.ts`); when a key's window is spent
 * it broadcasts a throttle decision on `throttleData`, so every gateway refuses it without asking.
 * Health and metrics on `traffic_manager.health_port`.
 *
 * Replicas: every replica answers on one queue group and the window state is shared in JetStream
 * KV under compare-and-set, rather than keys partitioned between replicas (hash of key → replica
 * subject). Any replica can serve any key, so losing one mid-window loses no count and needs no
 * rebalancing or membership protocol: the next request lands on a survivor, which reads the count
 * the lost one wrote. Partitions would make a key's replica a single point of failure for its
 * count (in memory) or need the same shared store anyway to survive it. What CAS costs is
 * throughput on one hot key (each write is a KV round trip, and replicas racing on one key retry);
 * a replica serialises its own requests per key so it never races itself, and a gateway asks about
 * `8 · live` times per window per key, so a replica's rate (README) bounds keys × gateways, not calls.
 */
export function createTrafficManager(config: GatehouseConfig, deps: TrafficManagerDeps): TrafficManager {
  const clock = deps.clock;
  const now = clock ? () => clock.now() : Date.now;
  const tm = config.traffic_manager;
  let store: WindowStore | undefined = deps.store;
  const health = new Health();
  health.add({ name: 'event-hub', check: () => deps.hub.ping() });
  const spec = { host: tm.host, port: tm.health_port };
  const registers = deps.metrics ? [deps.metrics] : [];
  const requests = new Counter({ name: 'gatehouse_tm_lease_requests_total', help: 'Lease requests answered, by result', labelNames: ['result'], registers });
  const granted = new Counter({ name: 'gatehouse_tm_lease_granted_total', help: 'Calls of quota leased to gateways', registers });
  const decisions = new Counter({ name: 'gatehouse_tm_decisions_total', help: 'Throttle decisions broadcast on throttleData (a key spent its limit for a window), by result', labelNames: ['result'], registers });
  const leases = new LeaseService({
    store: {
      get: (id, windowMs) => (store as WindowStore).get(id, windowMs),
      put: (id, state, revision, ttlMs) => (store as WindowStore).put(id, state, revision, ttlMs),
      close: async () => {},
    },
    now,
    onLimitReached(req, at) {
      const decision: ThrottleDecision = { key: req.key, windowStart: req.windowStart, windowMs: req.windowMs, until: req.windowStart + req.windowMs, reachedAt: at };
      deps.hub.publish(Topics.ThrottleData, ThrottleDecisionType, decision).then(
        () => decisions.inc({ result: 'published' }),
        (err: unknown) => {
          // Gateways still refuse once they ask and get nothing: the decision only saves the asking.
          decisions.inc({ result: 'error' });
          deps.logger.warn({ err, key: req.key }, 'throttle decision not published');
        },
      );
    },
  });
  new Counter({
    name: 'gatehouse_tm_lease_conflicts_total',
    help: 'Compare-and-set writes lost to another replica (and retried)',
    registers,
    collect(this: Counter) {
      this.reset();
      this.inc(leases.stats.conflicts);
    },
  });
  new Gauge({
    name: 'gatehouse_tm_live_gateways',
    help: 'Gateways that asked this replica for quota recently',
    registers,
    collect(this: Gauge) {
      this.set(leases.liveGateways());
    },
  });
  let listener: Listener | undefined;
  let responder: Subscription | undefined;

  const serve = async (req: LeaseRequest): Promise<LeaseReply> => {
    try {
      const reply = await leases.lease(req);
      requests.inc({ result: reply.granted > 0 ? 'granted' : 'empty' });
      if (reply.granted > 0) granted.inc(reply.granted);
      return reply;
    } catch (err) {
      requests.inc({ result: 'error' });
      deps.logger.warn({ err, key: req?.key }, 'lease request failed');
      throw err;
    }
  };

  return {
    name: 'traffic-manager',
    leases,
    async start() {
      if (store === undefined) {
        if (tm.store === 'nats-kv') {
          const hub = config.event_hub;
          if (hub.type !== 'nats') throw new Error('traffic_manager.store = "nats-kv" needs event_hub.type = "nats"');
          store = await openKvWindowStore({ servers: hub.servers, bucket: tm.kv_bucket, replicas: tm.kv_replicas || hub.replicas, user: hub.user || undefined, pass: hub.password || undefined, token: hub.token || undefined });
        } else {
          store = new MemoryWindowStore({ now });
        }
      }
      listener = await listen(
        createListenerServer(spec, (req, res) => {
          if (!serveOps(req, res, health, deps.metrics)) sendJson(res, 404, CoreErrors.create('CORE_ERR_NOT_FOUND').toWso2Body());
        }),
        spec,
      );
      responder = await deps.hub.respond<LeaseRequest, LeaseReply>(LeaseSubject, serve);
      deps.logger.info({ store: deps.store ? 'given' : tm.store }, 'traffic manager serving leases');
    },
    async stop() {
      health.startDraining();
      await responder?.unsubscribe();
      responder = undefined;
      if (listener) await drain(listener.server, config.shutdown.timeout_ms);
      listener = undefined;
      await store?.close();
    },
    urls: () => (listener ? [`traffic-manager health ${listener.url}/health/ready`] : []),
  };
}
