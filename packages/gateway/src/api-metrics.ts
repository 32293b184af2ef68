import type { Registry } from 'prom-client';

const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
/** Seconds, as `gatehouse_gateway_request_duration_seconds` has always had them. */
const BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
const REQUESTS = 'gatehouse_gateway_requests_total';
const DURATION = 'gatehouse_gateway_request_duration_seconds';

/** One API's figures: plain numbers, written on every call, read at scrape time. */
export class ApiSeries {
  /** Calls answered, by status class (1xx to 5xx). */
  readonly classes = [0, 0, 0, 0, 0];
  /** Calls per latency bucket, not cumulative; the last is past every bound (+Inf). */
  readonly buckets = new Array<number>(BOUNDS.length + 1).fill(0);
  sum = 0;
  count = 0;

  readonly api: string;

  constructor(api: string) {
    this.api = api;
  }

  reset(): void {
    this.classes.fill(0);
    this.buckets.fill(0);
    this.sum = 0;
    this.count = 0;
  }

  /** Counts one call: its status and its latency in milliseconds. */
  record(status: number, ms: number): void {
    this.classes[Math.min(4, Math.max(0, Math.floor(status / 100) - 1))] += 1;
    const s = ms / 1000;
    let b = 0;
    while (b < BOUNDS.length && s > BOUNDS[b]) b++;
    this.buckets[b] += 1;
    this.sum += s;
    this.count += 1;
  }
}

type Value = { labels: Record<string, string | number>; value: number; metricName?: string };

/**
 * Per-API call counts and latencies for Prometheus, as a counter and a histogram of prom-client's
 * registry format, but counted in plain fields: prom-client's labelled children hash and check
 * their label set on every increment (about a microsecond per call for the two), on the hot path
 * of every call. Shared by every gateway created on the same registry.
 */
export class ApiCallMetrics {
  readonly #series = new Map<string, ApiSeries>();

  /** The metrics of `registry` (created and registered on first use). */
  static of(registry: Registry): ApiCallMetrics {
    const existing = registry.getSingleMetric(REQUESTS) as unknown as { owner?: ApiCallMetrics } | undefined;
    if (existing?.owner) return existing.owner;
    const metrics = new ApiCallMetrics();
    metrics.#register(registry);
    return metrics;
  }

  /** The series of one API (`name:version`), made on its first call and kept. */
  series(api: string): ApiSeries {
    let s = this.#series.get(api);
    if (s === undefined) this.#series.set(api, (s = new ApiSeries(api)));
    return s;
  }

  #register(registry: Registry): void {
    const all = () => [...this.#series.values()];
    const metric = (name: string, help: string, type: 'counter' | 'histogram', values: () => Value[]) => ({
      name,
      help,
      type,
      aggregator: 'sum' as const,
      owner: this,
      get: async () => ({ name, help, type, aggregator: 'sum' as const, values: values() }),
      // Zeroed, not dropped: the routes keep the series they found.
      reset: () => {
        for (const series of this.#series.values()) series.reset();
      },
    });
    const requests = metric(REQUESTS, 'API calls answered by the gateway', 'counter', () =>
      all().flatMap((s) => CLASSES.flatMap((c, i) => (s.classes[i] > 0 ? [{ labels: { api: s.api, status_class: c }, value: s.classes[i] }] : []))),
    );
    const duration = metric(DURATION, 'Time from request to response headers, gateway and backend', 'histogram', () =>
      all().flatMap((s) => {
        const out: Value[] = [];
        let cumulative = 0;
        for (let b = 0; b < BOUNDS.length; b++) {
          cumulative += s.buckets[b];
          out.push({ labels: { le: BOUNDS[b], api: s.api }, value: cumulative, metricName: `${DURATION}_bucket` });
        }
        out.push({ labels: { le: '+Inf', api: s.api }, value: s.count, metricName: `${DURATION}_bucket` });
        out.push({ labels: { api: s.api }, value: s.sum, metricName: `${DURATION}_sum` });
        out.push({ labels: { api: s.api }, value: s.count, metricName: `${DURATION}_count` });
        return out;
      }),
    );
    // prom-client's Registry takes any object with its metric shape (get, reset, name, help, type).
    registry.registerMetric(requests as unknown as Parameters<Registry['registerMetric']>[0]);
    registry.registerMetric(duration as unknown as Parameters<Registry['registerMetric']>[0]);
  }
}
