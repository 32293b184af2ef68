import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Histogram, Registry } from 'prom-client';
import { ApiCallMetrics } from './api-metrics.ts';

describe('ApiCallMetrics', () => {
  it('scrapes as prom-client would have exported the same calls', async () => {
    const calls: [string, number, number][] = [
      ['Orders:v1', 200, 0.4],
      ['Orders:v1', 201, 1],
      ['Orders:v1', 404, 3],
      ['Orders:v1', 503, 12_000],
      ['Pets:1.0.0', 200, 7.5],
      ['Pets:1.0.0', 101, 250],
    ];
    const ours = new Registry();
    ours.setDefaultLabels({ node: 'n1' });
    const metrics = ApiCallMetrics.of(ours);
    for (const [api, status, ms] of calls) metrics.series(api).record(status, ms);

    const theirs = new Registry();
    theirs.setDefaultLabels({ node: 'n1' });
    const counter = new Counter({ name: 'gatehouse_gateway_requests_total', help: 'API calls answered by the gateway', labelNames: ['api', 'status_class'], registers: [theirs] });
    const histogram = new Histogram({ name: 'gatehouse_gateway_request_duration_seconds', help: 'Time from request to response headers, gateway and backend', labelNames: ['api'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [theirs] });
    for (const [api, status, ms] of calls) {
      counter.labels(api, `${Math.floor(status / 100)}xx`).inc();
      histogram.labels(api).observe(ms / 1000);
    }
    // Same lines, whatever the order of series and labels.
    const lines = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.replace(/\{([^}]*)\}/, (_, ls: string) => `{${ls.split(',').sort().join(',')}}`)).sort();
    assert.deepEqual(lines(await ours.metrics()), lines(await theirs.metrics()));
    assert.match(await ours.metrics(), /^gatehouse_gateway_request_duration_seconds_bucket\{le="\+Inf",api="Orders:v1",node="n1"\} 4$/m);
  });

  it('is one set of series per registry, however many gateways share it', () => {
    const registry = new Registry();
    assert.equal(ApiCallMetrics.of(registry), ApiCallMetrics.of(registry));
    ApiCallMetrics.of(registry).series('A:1').record(200, 1);
    assert.equal(ApiCallMetrics.of(registry).series('A:1').count, 1);
  });

  it('a registry reset zeroes the series the routes hold, which go on counting', async () => {
    const registry = new Registry();
    const series = ApiCallMetrics.of(registry).series('A:1');
    series.record(200, 1);
    registry.resetMetrics();
    assert.doesNotMatch(await registry.metrics(), /gatehouse_gateway_requests_total\{/);
    series.record(500, 1);
    assert.match(await registry.metrics(), /^gatehouse_gateway_requests_total\{api="A:1",status_class="5xx"\} 1$/m);
    assert.match(await registry.metrics(), /^gatehouse_gateway_request_duration_seconds_count\{api="A:1"\} 1$/m);
  });
});
