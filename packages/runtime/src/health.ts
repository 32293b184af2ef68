import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthCheck {
  readonly name: string;
  /** Throws (or rejects) when the dependency cannot serve. */
  check(): Promise<void>;
  /**
   * `false`: the check is reported (`/health`, `/health/ready`'s list) but a failure does not make
   * the process unready, for a dependency the process can serve without for a while (a gateway
   * without its event hub serves on the state it has). Default `true`.
   */
  readonly critical?: boolean;
}

export interface ReadinessReport {
  status: 'UP' | 'DOWN';
  checks: { name: string; status: 'UP' | 'DOWN'; critical?: false; error?: string }[];
  /** What `addDetails` providers say (`GET /health` only). */
  details?: Record<string, unknown>;
}

/**
 * Liveness is the process answering; readiness is every critical dependency answering (database,
 * event hub, components) and the process not draining. Each check is bounded so a hung database
 * makes the probe answer 503, never hang. `GET /health` is the same report with details, for
 * people and dashboards rather than load balancers.
 *
 * @example
 * ```ts
 * const health = new Health();
 * health.add({ name: 'databases', check: () => dbs.ping() });
 * health.add({ name: 'event-hub', critical: false, check: () => hub.ping() }); // reported, never unready
 * health.addDetails('sync', () => ({ source: 'snapshot' }));
 * ```
 */
export class Health {
  #checks: HealthCheck[] = [];
  readonly #details = new Map<string, () => unknown>();
  #draining = false;
  readonly #timeoutMs: number;

  constructor(timeoutMs = 2_000) {
    this.#timeoutMs = timeoutMs;
  }

  /** Adds a check; one of the same name is replaced. */
  add(check: HealthCheck): void {
    this.#checks = [...this.#checks.filter((c) => c.name !== check.name), check];
  }

  /** A section of `GET /health`'s `details` (same name: replaced). */
  addDetails(name: string, provide: () => unknown): void {
    this.#details.set(name, provide);
  }

  /** The readiness report with every details section. */
  async report(): Promise<ReadinessReport> {
    const report = await this.readiness();
    const details: Record<string, unknown> = {};
    for (const [name, provide] of this.#details) {
      try {
        details[name] = provide();
      } catch (err) {
        details[name] = { error: err instanceof Error ? err.message : String(err) };
      }
    }
    return { ...report, details };
  }

  startDraining(): void {
    this.#draining = true;
  }

  get draining(): boolean {
    return this.#draining;
  }

  async readiness(): Promise<ReadinessReport> {
    const checks = await Promise.all(
      this.#checks.map(async ({ name, check, critical }) => {
        const optional = critical === false ? { critical: false as const } : {};
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            check(),
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new Error(`no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
            }),
          ]);
          return { name, status: 'UP' as const, ...optional };
        } catch (err) {
          return { name, status: 'DOWN' as const, ...optional, error: err instanceof Error ? err.message : String(err) };
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    if (this.#draining) checks.push({ name: 'shutdown', status: 'DOWN', error: 'draining for shutdown' });
    return { status: checks.every((c) => c.status === 'UP' || c.critical === false) ? 'UP' : 'DOWN', checks };
  }
}

/**
 * `/health/live`, `/health/ready`, `/health` (the readiness report with details) and `/metrics` for listeners that are not the control plane's
 * fastify server (gateway, traffic manager). Returns false when the path is not one of them.
 */
export function serveOps(req: IncomingMessage, res: ServerResponse, health: Health, metrics: Registry | undefined): boolean {
  const path = req.url?.split('?', 1)[0];
  if (path === '/health/live') {
    sendJson(res, 200, { status: 'UP' });
    return true;
  }
  if (path === '/health/ready' || path === '/health') {
    (path === '/health' ? health.report() : health.readiness()).then(
      (report) => sendJson(res, report.status === 'UP' ? 200 : 503, report),
      (err: unknown) => sendJson(res, 503, { status: 'DOWN', error: String(err) }),
    );
    return true;
  }
  if (path === '/metrics' && metrics) {
    metrics.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.contentType });
        res.end(text);
      },
      () => sendJson(res, 500, { status: 'error' }),
    );
    return true;
  }
  return false;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
