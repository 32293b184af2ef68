import { Counter, Gauge, type Registry } from 'prom-client';
import { CoreErrors, type Clock } from '@gatehouse/core';
import type { GatehouseConfig } from '@gatehouse/config';
import { Topics, type EventHub, type Subscription } from '@gatehouse/events';
import { createListenerServer, drain, Health, listen, sendJson, serveOps, type Listener, type Logger } from '@gatehouse/runtime';
import { LeaseService } from './leases.ts';
import { LeaseSubject, ThrottleDecisionType, type LeaseReply, type LeaseRequest, type ThrottleDecision } from './protocol.ts';
import { MemoryWindowStore, openKvWindowStore, StoreUnreachableError, type WindowStore } from './store.ts';
import type { KvWindowStoreOptions } from './kv-store.ts';

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
  // Why no lease is served yet: the KV store waits for NATS (see start()).
  let storeProblem = 'not started';
  health.add({
    name: 'window-store',
    check: async () => {
      if (store === undefined) throw new Error(storeProblem);
      await store.ping?.();
    },
  });
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
  let stopped = false;
  let opening: Promise<void> = Promise.resolve();
  let wake: (() => void) | undefined;

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

  const serveLeases = async () => {
    responder = await deps.hub.respond<LeaseRequest, LeaseReply>(LeaseSubject, serve);
    deps.logger.info({ store: deps.store ? 'given' : tm.store }, 'traffic manager serving leases');
  };

  // Started while NATS was unreachable: the KV store opens once it answers, and only then does this
  // replica join the lease queue group (until then gateways get no answer from it and fall back to
  // local limits, or are served by a replica that has its store). Retried forever, with backoff.
  const openInBackground = async (options: KvWindowStoreOptions) => {
    let said = '';
    for (let waitMs = 250; !stopped; waitMs = Math.min(waitMs * 2, 5_000)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs / 2 + Math.random() * waitMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (stopped) return;
      try {
        const opened = await openKvWindowStore(options);
        if (stopped) {
          await opened.close();
          return;
        }
        store = opened;
        deps.logger.info({ bucket: tm.kv_bucket }, 'NATS answers: JetStream KV store open');
        await serveLeases();
        return;
      } catch (err) {
        storeProblem = `JetStream KV bucket ${tm.kv_bucket} not open: ${(err as Error).message}`;
        if (err instanceof StoreUnreachableError) deps.logger.debug({ bucket: tm.kv_bucket, err: (err as Error).message }, 'NATS still unreachable: JetStream KV store not open');
        else if (storeProblem !== said) deps.logger.error({ bucket: tm.kv_bucket, err: (err as Error).message }, 'JetStream KV store could not be opened; retrying');
        said = storeProblem;
      }
    }
  };

  return {
    name: 'traffic-manager',
    leases,
    async start() {
      let waitForNats: KvWindowStoreOptions | undefined;
      if (store === undefined) {
        if (tm.store === 'nats-kv') {
          const hub = config.event_hub;
          if (hub.type !== 'nats') throw new Error('traffic_manager.store = "nats-kv" needs event_hub.type = "nats"');
          const options: KvWindowStoreOptions = {
            servers: hub.servers,
            bucket: tm.kv_bucket,
            replicas: tm.kv_replicas || hub.replicas,
            user: hub.user || undefined,
            pass: hub.password || undefined,
            token: hub.token || undefined,
            credsFile: hub.creds_file || undefined,
          };
          try {
            store = await openKvWindowStore(options);
          } catch (err) {
            // As the event hub: no server answering is waited for; a refusal is a config problem.
            if (!(err instanceof StoreUnreachableError)) throw err;
            storeProblem = `JetStream KV bucket ${tm.kv_bucket} not open: ${err.message}`;
            deps.logger.warn({ bucket: tm.kv_bucket, err: err.message }, 'NATS is unreachable: not ready and serving no lease until the JetStream KV store opens (retrying in the background)');
            waitForNats = options;
          }
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
      if (store !== undefined) await serveLeases();
      else if (waitForNats) opening = openInBackground(waitForNats);
    },
    async stop() {
      stopped = true;
      wake?.();
      await opening;
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
