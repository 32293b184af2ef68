import type { Registry } from 'prom-client';
import { ApiCallMetrics, type ApiSeries } from '../api-metrics.ts';
import type { AnalyticsCollector } from '../analytics.ts';
import { RouteMemo, type Policy, type PolicyHooks } from '../policy.ts';

/**
 * The log phase: one analytics event per call (batched by the collector) and Prometheus metrics
 * per API. One hooks object serves every route; the metric series of an API and the name of an
 * operation are found on their first call and kept with the deployed API, so a call builds no
 * label set and hashes nothing.
 */
export function createAnalyticsPolicy(deps: { collector: AnalyticsCollector; metrics: Registry | undefined; gatewayId: string; now?: () => number }): Policy {
  const now = deps.now ?? Date.now;
  const metrics = deps.metrics ? ApiCallMetrics.of(deps.metrics) : undefined;
  const routes = new RouteMemo<{ series: ApiSeries | undefined; operation: string }>((api, operation) => ({ series: metrics?.series(`${api.name}:${api.version}`), operation: `${operation.verb} ${operation.target}` }));
  const hooks: PolicyHooks = {
    log(ctx) {
      const t = now();
      const ms = t - ctx.startedAt;
      const api = ctx.api;
      const route = routes.get(api, ctx.operation);
      route.series?.record(ctx.status, ms);
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
