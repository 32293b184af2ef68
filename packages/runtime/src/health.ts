import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthCheck {
  readonly name: string;
  /** Throws (or rejects) when the dependency cannot serve. */
  check(): Promise<void>;
}

export interface ReadinessReport {
  status: 'UP' | 'DOWN';
  checks: { name: string; status: 'UP' | 'DOWN'; error?: string }[];
}

/**
 * Liveness is the process answering; readiness is every dependency answering (database, event
 * hub, components) and the process not draining. Each check is bounded so a hung database makes
 * the probe answer 503, never hang.
 */
export class Health {
  #checks: HealthCheck[] = [];
  #draining = false;
  readonly #timeoutMs: number;

  constructor(timeoutMs = 2_000) {
    this.#timeoutMs = timeoutMs;
  }

  add(check: HealthCheck): void {
    this.#checks.push(check);
  }

  startDraining(): void {
    this.#draining = true;
  }

  get draining(): boolean {
    return this.#draining;
  }

  async readiness(): Promise<ReadinessReport> {
    const checks = await Promise.all(
      this.#checks.map(async ({ name, check }) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            check(),
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new Error(`no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
            }),
          ]);
          return { name, status: 'UP' as const };
        } catch (err) {
          return { name, status: 'DOWN' as const, error: err instanceof Error ? err.message : String(err) };
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    if (this.#draining) checks.push({ name: 'shutdown', status: 'DOWN', error: 'draining for shutdown' });
    return { status: checks.every((c) => c.status === 'UP') ? 'UP' : 'DOWN', checks };
  }
}

/**
 * `/health/live`, `/health/ready` and `/metrics` for listeners that are not the control plane's
 * fastify server (gateway, traffic manager). Returns false when the path is not one of them.
 */
export function serveOps(req: IncomingMessage, res: ServerResponse, health: Health, metrics: Registry | undefined): boolean {
  const path = req.url?.split('?', 1)[0];
  if (path === '/health/live') {
    sendJson(res, 200, { status: 'UP' });
    return true;
  }
  if (path === '/health/ready') {
    health.readiness().then(
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
