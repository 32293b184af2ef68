import { Registry, collectDefaultMetrics, Gauge } from 'prom-client';

/** One Prometheus registry per process (never prom-client's global one), with Node's default metrics. */
export function createMetrics(labels: { node: string; profile: string }): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry, prefix: 'gatehouse_' });
  return registry;
}

/** `gatehouse_up{component}` = 1 while a component runs, and the start-up time once known. */
export function componentGauges(registry: Registry): { up: Gauge<'component'>; startSeconds: Gauge } {
  return {
    up: new Gauge({ name: 'gatehouse_component_up', help: 'Whether a component of this process is running', labelNames: ['component'], registers: [registry] }),
    startSeconds: new Gauge({ name: 'gatehouse_startup_seconds', help: 'Time from process start to every listener accepting', registers: [registry] }),
  };
}

/**
 * Gauges read at scrape time from someone else's counters (the event publish queue's depth and
 * failures), so the owner needs no prom-client.
 *
 * @example
 * ```ts
 * scrapedGauges(registry, { gatehouse_event_publish_queue_depth: { help: 'Events waiting', read: () => queue.stats().depth } });
 * ```
 */
export function scrapedGauges(registry: Registry, gauges: Record<string, { help: string; read: () => number }>): void {
  for (const [name, { help, read }] of Object.entries(gauges)) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  }
}
