import type { Clock } from '@gatehouse/core';
import type { Databases } from '@gatehouse/data';
import { Topics } from '@gatehouse/events';
import type { EventHub, HubEvent, Subscription } from '@gatehouse/events';
import { usageStore } from './store.ts';
import type { UsageMinuteRow } from './store.ts';

type Log = (obj: object, msg?: string) => void;

export interface UsageConsumerDeps {
  readonly databases: Pick<Databases, 'apim'>;
  readonly hub: EventHub;
  readonly clock: Clock;
  readonly logger: { info: Log; warn: Log; error: Log };
}

export interface UsageConsumerOptions {
  /** Minutes (and batch records) older than this are deleted. */
  readonly retentionDays: number;
  /** How often retention runs (and once at start). Default one hour. */
  readonly sweepIntervalMs?: number;
  /** Attempts per batch while the database fails (then the batch is given up and counted). Default 5. */
  readonly attempts?: number;
  /** First wait between attempts, doubled each time. Default 200 ms. */
  readonly retryDelayMs?: number;
}

export interface UsageConsumerStats {
  /** Batches this replica folded in. */
  batches: number;
  /** Batches another replica (or an earlier run) had folded in already. */
  duplicates: number;
  /** Call events counted. */
  events: number;
  /** Events skipped as malformed (a missing or wrong field) or older than the retention. */
  skipped: number;
  /** Batches given up after the database kept failing. */
  failed: number;
  /** Batches the hub no longer had when this replica asked for them (a gap). */
  lost: number;
}

export interface UsageConsumer {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly stats: Readonly<UsageConsumerStats>;
}

const MAX_INT = 2_147_483_647;
const str = (v: unknown, max: number): string | undefined => (typeof v === 'string' && v.length <= max ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * Adds a batch's call events up per tenant, API, minute, operation and application. Events with a
 * missing or malformed field, or older than `notBefore`, are skipped and counted, never thrown.
 */
export function foldEvents(tenantId: number, events: readonly unknown[], notBefore: number): { rows: UsageMinuteRow[]; counted: number; skipped: number } {
  const rows = new Map<string, UsageMinuteRow>();
  let skipped = 0;
  for (const raw of events) {
    const e = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const apiId = str(e.apiId, 36);
    const time = num(e.time);
    const status = num(e.status);
    const latency = num(e.latencyMs);
    const operation = e.operation === undefined || e.operation === null ? '' : str(e.operation, 512);
    const applicationId = e.applicationId === undefined || e.applicationId === null ? '' : str(e.applicationId, 64);
    if (!apiId || time === undefined || time < notBefore || status === undefined || !Number.isInteger(status) || status < 100 || status > 599 || latency === undefined || latency < 0 || operation === undefined || applicationId === undefined) {
      skipped += 1;
      continue;
    }
    const minute = time - (time % 60_000);
    const key = `${apiId}\n${minute}\n${operation}\n${applicationId}`;
    let row = rows.get(key);
    if (row === undefined) {
      row = { tenant_id: tenantId, api_id: apiId, minute_start: minute, operation, application_id: applicationId, application_name: null, calls: 0, errors_4xx: 0, errors_5xx: 0, throttled: 0, latency_sum_ms: 0, latency_max_ms: 0, response_bytes: 0 };
      rows.set(key, row);
    }
    const ms = Math.min(MAX_INT, Math.round(latency));
    const name = typeof e.applicationName === 'string' ? e.applicationName.slice(0, 255) : undefined;
    if (name !== undefined && applicationId !== '') row.application_name = name;
    row.calls += 1;
    if (status === 429) row.throttled += 1;
    else if (status >= 500) row.errors_5xx += 1;
    else if (status >= 400) row.errors_4xx += 1;
    row.latency_sum_ms += ms;
    if (ms > row.latency_max_ms) row.latency_max_ms = ms;
    const bytes = num(e.responseBytes);
    if (bytes !== undefined && bytes > 0) row.response_bytes += Math.round(bytes);
  }
  return { rows: [...rows.values()], counted: events.length - skipped, skipped };
}

/**
 * Folds the gateways' `analytics` batches into `api_usage_minutes`. Every control-plane replica
 * receives every batch (hub subscriptions fan out); each batch is counted once, by whichever
 * replica records its `(seq, published_at)` first, in the transaction that adds its rows.
 *
 * Where it starts reading: after the batch recorded last, by any replica (the table is shared, so
 * the cluster's progress, not this replica's); replicas process in hub order, so every batch up
 * to that one has been folded in. With nothing recorded yet, or when the hub's sequence is below
 * that batch's (an in-process hub restarts from 1 with the process; a NATS stream was recreated),
 * it reads everything the hub still retains: what was folded in already is skipped by its key,
 * so starting early costs time, never a double count. Batches the hub dropped meanwhile are
 * counted as lost (`stats.lost`): analytics cannot be pulled again from anywhere.
 *
 * @example
 * ```ts
 * const consumer = createUsageConsumer({ databases, hub, clock, logger }, { retentionDays: 30 });
 * await consumer.start();
 * ```
 */
export function createUsageConsumer(deps: UsageConsumerDeps, options: UsageConsumerOptions): UsageConsumer {
  const { hub, clock, logger } = deps;
  const db = deps.databases.apim;
  const retentionMs = options.retentionDays * 86_400_000;
  const attempts = options.attempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 200;
  const stats: UsageConsumerStats = { batches: 0, duplicates: 0, events: 0, skipped: 0, failed: 0, lost: 0 };
  let subscription: Subscription | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const sweep = async (): Promise<void> => {
    try {
      const deleted = await usageStore.deleteBefore(db, clock.now() - retentionMs);
      if (deleted > 0) logger.info({ deleted, retentionDays: options.retentionDays }, 'usage minutes past retention deleted');
    } catch (err) {
      logger.warn({ err }, 'usage retention did not run; next time');
    }
  };

  // Reading from the start of what the hub retains, its first gap is the retention, not a loss.
  let fromStart = false;

  const onBatch = async (e: HubEvent<{ events?: unknown }>): Promise<void> => {
    fromStart = false;
    if (e.type !== 'API_CALLS') return;
    const notBefore = clock.now() - retentionMs;
    // Published before the retention: its record may be gone, so it cannot be told apart from a
    // batch never seen; whatever it counted has been deleted anyway.
    if (e.time < notBefore) return;
    const events = typeof e.payload === 'object' && e.payload !== null && Array.isArray(e.payload.events) ? (e.payload.events as unknown[]) : undefined;
    const folded = events ? foldEvents(e.tenantId, events, notBefore) : { rows: [], counted: 0, skipped: 1 };
    if (folded.skipped > 0) logger.warn({ seq: e.seq, source: e.source, skipped: folded.skipped }, events ? 'analytics events skipped: a field is missing or not valid' : 'analytics batch skipped: no events array');
    for (let attempt = 1; ; attempt++) {
      try {
        const fresh = await usageStore.foldBatch(db, { tenantId: e.tenantId, seq: e.seq, publishedAt: e.time, source: e.source }, folded.rows, { events: folded.counted, skipped: folded.skipped }, clock.now());
        if (fresh) {
          stats.batches += 1;
          stats.events += folded.counted;
          stats.skipped += folded.skipped;
        } else {
          stats.duplicates += 1;
        }
        return;
      } catch (err) {
        if (attempt >= attempts || stopped) {
          stats.failed += 1;
          logger.error({ err, seq: e.seq, events: folded.counted }, 'analytics batch not recorded: the database kept failing');
          return;
        }
        // In order: later batches wait behind this one (the hub delivers the next once it returns).
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs * 2 ** (attempt - 1)));
      }
    }
  };

  return {
    stats,
    async start() {
      stopped = false;
      const last = await usageStore.lastBatch(db);
      let hubLast: number | undefined;
      try {
        hubLast = await hub.lastSeq(Topics.Analytics);
      } catch {
        hubLast = undefined; // NATS not connected yet: trust the table
      }
      const fromSeq = last !== undefined && (hubLast === undefined || hubLast >= last.seq) ? last.seq + 1 : 1;
      fromStart = fromSeq === 1;
      subscription = await hub.subscribe<{ events?: unknown }>(Topics.Analytics, onBatch, {
        fromSeq,
        onGap: (gap) => {
          if (fromStart) return;
          stats.lost += gap.next - gap.expected;
          logger.warn({ expected: gap.expected, next: gap.next }, 'analytics batches dropped by the hub before this replica read them: their calls are not counted');
        },
      });
      logger.info({ fromSeq }, 'usage analytics consumer started');
      void sweep();
      timer = setInterval(() => void sweep(), options.sweepIntervalMs ?? 3_600_000);
      timer.unref();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      timer = undefined;
      await subscription?.unsubscribe();
      subscription = undefined;
    },
  };
}
