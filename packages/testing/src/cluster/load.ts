import { Agent, request } from 'node:http';

export interface LoadOptions {
  readonly url: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** The body of request number `i` (counting from 0), e.g. a unique id for a counting backend. */
  readonly body?: (i: number) => string;
  /** Requests in flight at once (default 4). */
  readonly concurrency?: number;
  /** Pause of each worker between two requests (default 5 ms), so the load leaves the 2 cores room. */
  readonly pauseMs?: number;
  /** A request without an answer after this long counts as failed (default 10 s). */
  readonly timeoutMs?: number;
}

export interface LoadFailure {
  /** ms since the load started. */
  readonly at: number;
  readonly status: number;
  readonly error?: string;
}

export interface LoadResult {
  readonly sent: number;
  /** Idempotent requests sent again after their kept-alive connection was closed under them (not failures). */
  readonly retried: number;
  readonly ok: number;
  readonly failed: number;
  readonly durationMs: number;
  /** Count per status code (`"200"`) or error code (`"ECONNRESET"`). */
  readonly outcomes: Record<string, number>;
  /** Every failure (the first 10,000), in order. */
  readonly failures: readonly LoadFailure[];
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface RunningLoad {
  /** ms since the load started. */
  elapsed(): number;
  /** Counts so far. */
  counts(): { sent: number; ok: number; failed: number };
  /** Stops sending, waits for the requests in flight, and returns the figures. */
  stop(): Promise<LoadResult>;
}

/**
 * Steady HTTP load for fault tests: `concurrency` workers, each sending one request after the other
 * over keep-alive connections. A request is ok when it answers 2xx; anything else (another status,
 * a reset, a timeout) is a failure with its time, so a test can tell when an outage started and
 * when it ended.
 *
 * @example
 * ```ts
 * const load = startLoad({ url: `${cluster.urls.gatewayHttp}/petstore/1.0.0/pets`, headers: { authorization: `Bearer ${token}` } });
 * await cluster.gateways[0].kill();
 * const r = await load.stop();
 * assert.equal(r.failed, 0);
 * ```
 */
export function startLoad(options: LoadOptions): RunningLoad {
  const concurrency = options.concurrency ?? 4;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(options.url);
  const t0 = performance.now();
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  const failures: LoadFailure[] = [];
  let sent = 0;
  let retried = 0;
  let ok = 0;
  let failed = 0;
  let stopping = false;

  const idempotent = ['GET', 'HEAD', 'OPTIONS'].includes(options.method ?? 'GET');
  const once = (i: number, retry = false): Promise<void> =>
    new Promise((resolve) => {
      const started = performance.now();
      const body = options.body?.(i);
      const headers: Record<string, string> = { ...options.headers };
      if (body !== undefined) {
        headers['content-type'] ??= 'application/json';
        headers['content-length'] = String(Buffer.byteLength(body));
      }
      let settled = false;
      const done = (status: number, error?: string) => {
        if (settled) return;
        settled = true;
        latencies.push(performance.now() - started);
        const key = error ?? String(status);
        outcomes[key] = (outcomes[key] ?? 0) + 1;
        if (status >= 200 && status < 300) ok += 1;
        else {
          failed += 1;
          if (failures.length < 10_000) failures.push({ at: Math.round(started - t0), status, error });
        }
        resolve();
      };
      const req = request(target, { method: options.method ?? 'GET', headers, agent: retry ? false : agent, timeout: options.timeoutMs ?? 10_000 }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => done(res.statusCode ?? 0));
        res.on('error', (err: NodeJS.ErrnoException) => done(0, err.code ?? err.message));
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A kept-alive connection the server closed just as this request went out (nginx's old
        // workers do on a reload): an idempotent request is sent again once, on a new connection,
        // as browsers and undici do (RFC 9112 §9.3.1). Counted, so a test sees it.
        if (!retry && idempotent && req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE') && !settled) {
          settled = true;
          retried += 1;
          void once(i, true).then(resolve);
          return;
        }
        done(0, err.code ?? err.message);
      });
      req.end(body);
    });

  const worker = async () => {
    while (!stopping) {
      const i = sent;
      sent += 1;
      await once(i);
      if (options.pauseMs !== 0) await new Promise((r) => setTimeout(r, options.pauseMs ?? 5));
    }
  };
  const workers = Array.from({ length: concurrency }, () => worker());

  return {
    elapsed: () => Math.round(performance.now() - t0),
    counts: () => ({ sent, ok, failed }),
    async stop() {
      stopping = true;
      await Promise.all(workers);
      agent.destroy();
      const sorted = latencies.sort((a, b) => a - b);
      const pct = (p: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0);
      return {
        sent,
        retried,
        ok,
        failed,
        durationMs: Math.round(performance.now() - t0),
        outcomes,
        failures,
        p50Ms: pct(0.5),
        p99Ms: pct(0.99),
        maxMs: Math.round(sorted.at(-1) ?? 0),
      };
    },
  };
}

/** Failures grouped into outages: runs of failures less than `gapMs` apart. */
export function failureWindows(r: LoadResult, gapMs = 500): { from: number; to: number; count: number; outcomes: string }[] {
  const windows: { from: number; to: number; count: number; kinds: Set<string> }[] = [];
  for (const f of r.failures) {
    const last = windows.at(-1);
    const kind = f.error ?? String(f.status);
    if (last && f.at - last.to <= gapMs) {
      last.to = Math.max(last.to, f.at);
      last.count += 1;
      last.kinds.add(kind);
    } else {
      windows.push({ from: f.at, to: f.at, count: 1, kinds: new Set([kind]) });
    }
  }
  return windows.map((w) => ({ from: w.from, to: w.to, count: w.count, outcomes: [...w.kinds].join('/') }));
}

/** One line of figures for a test's output. */
export function describeLoad(label: string, r: LoadResult): string {
  const rate = r.durationMs > 0 ? Math.round((r.sent / r.durationMs) * 1000) : 0;
  const outcomes = Object.entries(r.outcomes).map(([k, v]) => `${k}:${v}`).join(' ');
  const windows = failureWindows(r).slice(0, 8).map((w) => `${w.from}-${w.to} ms: ${w.count} ${w.outcomes}`);
  return `${label}: ${r.sent} requests in ${(r.durationMs / 1000).toFixed(1)} s (${rate}/s), ${r.failed} failed [${outcomes}]${r.retried ? `, ${r.retried} sent again on a new connection` : ''}${windows.length ? ` (failures at ${windows.join('; ')})` : ''}, latency p50 ${r.p50Ms} ms p99 ${r.p99Ms} ms max ${r.maxMs} ms`;
}
