import { Counter, Histogram, type Registry } from 'prom-client';
import type { AnalyticsCollector } from '../analytics.ts';
import { RouteMemo, type Policy, type PolicyHooks } from '../policy.ts';
import type { RuntimeApi } from '../runtime-api.ts';

/** An API's metric children: made on its first call, so a deploy of 10,000 APIs makes none. */
interface ApiMetrics {
  readonly byClass: readonly { inc(): void }[] | undefined;
  readonly timer: { observe(value: number): void } | undefined;
}

/**
 * The log phase: one analytics event per call (batched by the collector) and Prometheus metrics
 * per API. One hooks object serves every route; the metric children of an API and the name of an
 * operation are made on their first call and kept with the deployed API, so a call builds no
 * label set.
 */
export function createAnalyticsPolicy(deps: { collector: AnalyticsCollector; metrics: Registry | undefined; gatewayId: string; now?: () => number }): Policy {
  const now = deps.now ?? Date.now;
  const registry = deps.metrics;
  const requests = registry
    ? (registry.getSingleMetric('gatehouse_gateway_requests_total') as Counter<'api' | 'status_class'> | undefined) ??
      new Counter({ name: 'gatehouse_gateway_requests_total', help: 'API calls answered by the gateway', labelNames: ['api', 'status_class'], registers: [registry] })
    : undefined;
  const latency = registry
    ? (registry.getSingleMetric('gatehouse_gateway_request_duration_seconds') as Histogram<'api'> | undefined) ??
      new Histogram({ name: 'gatehouse_gateway_request_duration_seconds', help: 'Time from request to response headers, gateway and backend', labelNames: ['api'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] })
    : undefined;
  const apis = new WeakMap<RuntimeApi, ApiMetrics>();
  const metricsOf = (api: RuntimeApi): ApiMetrics => {
    let m = apis.get(api);
    if (m === undefined) {
      const label = `${api.name}:${api.version}`;
      apis.set(api, (m = { byClass: requests ? ['1xx', '2xx', '3xx', '4xx', '5xx'].map((c) => requests.labels(label, c)) : undefined, timer: latency?.labels(label) }));
    }
    return m;
  };
  const routes = new RouteMemo((api, operation) => ({ metrics: metricsOf(api), operation: `${operation.verb} ${operation.target}` }));
  const hooks: PolicyHooks = {
    log(ctx) {
      const t = now();
      const ms = t - ctx.startedAt;
      const api = ctx.api;
      const route = routes.get(api, ctx.operation);
      route.metrics.byClass?.[Math.min(4, Math.max(0, Math.floor(ctx.status / 100) - 1))].inc();
      route.metrics.timer?.observe(ms / 1000);
      const app = ctx.token?.application;
      deps.collector.record({
        time: t,
        gatewayId: deps.gatewayId,
        apiId: api.id,
        apiName: api.name,
        apiVersion: api.version,
        apiContext: api.context,
        operation: route.operation,
        applicationId: app?.id ?? null,
        applicationName: app?.name ?? null,
        applicationOwner: app?.owner ?? null,
        user: ctx.token?.subject ?? null,
        keyType: ctx.keyType,
        status: ctx.status,
        latencyMs: ms,
        responseBytes: ctx.responseBytes,
        overQuota: ctx.overQuota === true,
      });
    },
  };
  return {
    name: 'analytics',
    priority: 100,
    shareKey: () => '',
    create: () => hooks,
  };
}
