import { Counter, Gauge, type Registry } from 'prom-client';
import { CoreErrors, type Clock } from '@gatehouse/core';
import type { GatehouseConfig } from '@gatehouse/config';
import type { EventHub, Subscription } from '@gatehouse/events';
import { createListenerServer, drain, Health, listen, sendJson, serveOps, type Listener, type Logger } from '@gatehouse/runtime';
import { LeaseService } from './leases.ts';
import { LeaseSubject, type LeaseReply, type LeaseRequest } from './protocol.ts';
import { MemoryWindowStore, type WindowStore } from './store.ts';

export interface TrafficManagerDeps {
  readonly hub: EventHub;
  readonly logger: Logger;
  readonly metrics?: Registry;
  readonly clock?: Clock;
  /** Window state; default in memory (one replica). Several replicas share a `KvWindowStore`. */
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
 * gateways over the event hub (`throttle.lease`, see `protocol.ts`); health and metrics on
 * `traffic_manager.health_port`.
 */
export function createTrafficManager(config: GatehouseConfig, deps: TrafficManagerDeps): TrafficManager {
  const clock = deps.clock;
  const now = clock ? () => clock.now() : Date.now;
  const store = deps.store ?? new MemoryWindowStore({ now });
  const leases = new LeaseService({ store, now });
  const health = new Health();
  health.add({ name: 'event-hub', check: () => deps.hub.ping() });
  const spec = { host: config.traffic_manager.host, port: config.traffic_manager.health_port };
  const registers = deps.metrics ? [deps.metrics] : [];
  const requests = new Counter({ name: 'gatehouse_tm_lease_requests_total', help: 'Lease requests answered, by result', labelNames: ['result'], registers });
  const granted = new Counter({ name: 'gatehouse_tm_lease_granted_total', help: 'Calls of quota leased to gateways', registers });
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
      listener = await listen(
        createListenerServer(spec, (req, res) => {
          if (!serveOps(req, res, health, deps.metrics)) sendJson(res, 404, CoreErrors.create('CORE_ERR_NOT_FOUND').toWso2Body());
        }),
        spec,
      );
      responder = await deps.hub.respond<LeaseRequest, LeaseReply>(LeaseSubject, serve);
    },
    async stop() {
      health.startDraining();
      await responder?.unsubscribe();
      responder = undefined;
      if (listener) await drain(listener.server, config.shutdown.timeout_ms);
      listener = undefined;
      await store.close();
    },
    urls: () => (listener ? [`traffic-manager health ${listener.url}/health/ready`] : []),
  };
}
