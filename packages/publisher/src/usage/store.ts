import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { ApimSchema } from '@gatehouse/data';

export type UsageMinuteRow = ApimSchema['api_usage_minutes'];

/** One hub batch of the `analytics` topic, as the consumer identifies it. */
export interface BatchKey {
  readonly tenantId: number;
  readonly seq: number;
  /** The event's hub time (epoch ms). */
  readonly publishedAt: number;
  readonly source: string;
}

export const UsageIntervals = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;
export type UsageInterval = keyof typeof UsageIntervals;

export interface UsageFigures {
  calls: number;
  /** 4xx (other than 429) and 5xx answers. */
  errors: number;
  clientErrors: number;
  serverErrors: number;
  /** 429 answers. */
  throttled: number;
  /** Mean latency in ms, null without calls. */
  avgLatencyMs: number | null;
  maxLatencyMs: number | null;
  responseBytes: number;
}

export interface UsageReport {
  /** Bucket starts (epoch ms, UTC), every bucket of the range, empty ones included. */
  buckets: (UsageFigures & { start: number })[];
  totals: UsageFigures;
  topApplications: { applicationId: string | null; applicationName: string | null; calls: number; errors: number }[];
  topOperations: { operation: string; calls: number; errors: number; avgLatencyMs: number | null }[];
}

const CHUNK = 400;

/** Rows sorted by their key, so two writers upsert in one order (no PostgreSQL deadlock between them). */
function byKey(a: UsageMinuteRow, b: UsageMinuteRow): number {
  return a.tenant_id - b.tenant_id || cmp(a.api_id, b.api_id) || a.minute_start - b.minute_start || cmp(a.operation, b.operation) || cmp(a.application_id, b.application_id);
}
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const n = (v: unknown): number => Number(v ?? 0);

function figures(r: { calls: unknown; e4: unknown; e5: unknown; throttled: unknown; latency_sum: unknown; latency_max: unknown; bytes: unknown }): UsageFigures {
  const calls = n(r.calls);
  const clientErrors = n(r.e4);
  const serverErrors = n(r.e5);
  return {
    calls,
    errors: clientErrors + serverErrors,
    clientErrors,
    serverErrors,
    throttled: n(r.throttled),
    avgLatencyMs: calls > 0 ? Math.round((n(r.latency_sum) / calls) * 10) / 10 : null,
    maxLatencyMs: calls > 0 ? n(r.latency_max) : null,
    responseBytes: n(r.bytes),
  };
}

/**
 * The usage roll-ups (apim database): folding hub batches in exactly once, reading an API's
 * usage per interval, and retention. Every read is scoped by tenant id.
 */
export const usageStore = {
  /**
   * Records the batch and adds its rows, in one transaction. Returns false, writing nothing, when
   * the batch was recorded already (by this or another replica): the unique key on
   * `(seq, published_at)` decides, and on PostgreSQL a second replica's insert waits for the first
   * one's transaction, then finds the row.
   */
  async foldBatch(db: Kysely<ApimSchema>, batch: BatchKey, rows: readonly UsageMinuteRow[], counts: { events: number; skipped: number }, now: number): Promise<boolean> {
    return db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('analytics_batches')
        .values({ tenant_id: batch.tenantId, seq: batch.seq, published_at: batch.publishedAt, source: batch.source.slice(0, 255), events: counts.events, skipped: counts.skipped, recorded_at: now })
        .onConflict((oc) => oc.columns(['seq', 'published_at']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return false;
      const sorted = [...rows].sort(byKey);
      for (let i = 0; i < sorted.length; i += CHUNK) {
        await trx
          .insertInto('api_usage_minutes')
          .values(sorted.slice(i, i + CHUNK))
          .onConflict((oc) =>
            oc.columns(['tenant_id', 'api_id', 'minute_start', 'operation', 'application_id']).doUpdateSet((eb) => ({
              application_name: sql<string | null>`coalesce(excluded.application_name, api_usage_minutes.application_name)`,
              calls: eb('api_usage_minutes.calls', '+', eb.ref('excluded.calls')),
              errors_4xx: eb('api_usage_minutes.errors_4xx', '+', eb.ref('excluded.errors_4xx')),
              errors_5xx: eb('api_usage_minutes.errors_5xx', '+', eb.ref('excluded.errors_5xx')),
              throttled: eb('api_usage_minutes.throttled', '+', eb.ref('excluded.throttled')),
              latency_sum_ms: eb('api_usage_minutes.latency_sum_ms', '+', eb.ref('excluded.latency_sum_ms')),
              // GREATEST is PostgreSQL's, two-argument max() SQLite's: CASE is both.
              latency_max_ms: sql<number>`case when excluded.latency_max_ms > api_usage_minutes.latency_max_ms then excluded.latency_max_ms else api_usage_minutes.latency_max_ms end`,
              response_bytes: eb('api_usage_minutes.response_bytes', '+', eb.ref('excluded.response_bytes')),
            })),
          )
          .execute();
      }
      return true;
    });
  },

  /** The batch recorded last (by hub time), where a restarted consumer resumes. */
  async lastBatch(db: Kysely<ApimSchema>): Promise<{ seq: number; publishedAt: number } | undefined> {
    const row = await db.selectFrom('analytics_batches').select(['seq', 'published_at']).orderBy('published_at', 'desc').orderBy('seq', 'desc').limit(1).executeTakeFirst();
    return row ? { seq: Number(row.seq), publishedAt: Number(row.published_at) } : undefined;
  },

  /** Deletes minutes and batch records older than `before` (epoch ms); returns how many minutes went. */
  async deleteBefore(db: Kysely<ApimSchema>, before: number): Promise<number> {
    const minutes = await db.deleteFrom('api_usage_minutes').where('minute_start', '<', before).executeTakeFirst();
    await db.deleteFrom('analytics_batches').where('published_at', '<', before).execute();
    return Number(minutes.numDeletedRows);
  },

  /** One API's usage in `[from, to)`, `from` aligned down to the interval (UTC). */
  async report(db: Kysely<ApimSchema>, tenantId: number, apiId: string, range: { from: number; to: number; interval: UsageInterval }, top = 10): Promise<UsageReport> {
    const step = UsageIntervals[range.interval];
    const from = range.from - (range.from % step);
    const scope = db
      .selectFrom('api_usage_minutes')
      .where('tenant_id', '=', tenantId)
      .where('api_id', '=', apiId)
      .where('minute_start', '>=', from)
      .where('minute_start', '<', range.to);
    const sums = {
      calls: sql<number>`sum(calls)`,
      e4: sql<number>`sum(errors_4xx)`,
      e5: sql<number>`sum(errors_5xx)`,
      throttled: sql<number>`sum(throttled)`,
      latency_sum: sql<number>`sum(latency_sum_ms)`,
      latency_max: sql<number>`max(latency_max_ms)`,
      bytes: sql<number>`sum(response_bytes)`,
    };
    const select = (alias: keyof typeof sums) => sums[alias].as(alias);
    const all = Object.keys(sums).map((k) => select(k as keyof typeof sums));
    // The step is one of three constants, so it goes in as a literal (one statement text per interval).
    const bucket = sql<number>`minute_start - (minute_start % ${sql.lit(step)})`;
    const [rows, total, apps, ops] = await Promise.all([
      scope.select([bucket.as('bucket'), ...all]).groupBy(bucket).execute(),
      scope.select(all).executeTakeFirst(),
      scope
        .select(['application_id', sql<string | null>`max(application_name)`.as('application_name'), select('calls'), select('e4'), select('e5')])
        .groupBy('application_id')
        .orderBy(sql`sum(calls)`, 'desc')
        .orderBy('application_id')
        .limit(top)
        .execute(),
      scope
        .select(['operation', select('calls'), select('e4'), select('e5'), select('latency_sum')])
        .groupBy('operation')
        .orderBy(sql`sum(calls)`, 'desc')
        .orderBy('operation')
        .limit(top)
        .execute(),
    ]);
    const byStart = new Map(rows.map((r) => [n(r.bucket), figures(r)]));
    const empty = figures({ calls: 0, e4: 0, e5: 0, throttled: 0, latency_sum: 0, latency_max: 0, bytes: 0 });
    const buckets: UsageReport['buckets'] = [];
    for (let start = from; start < range.to; start += step) buckets.push({ start, ...(byStart.get(start) ?? empty) });
    return {
      buckets,
      totals: total ? figures(total) : empty,
      topApplications: apps.map((a) => ({ applicationId: a.application_id === '' ? null : a.application_id, applicationName: a.application_name, calls: n(a.calls), errors: n(a.e4) + n(a.e5) })),
      topOperations: ops.map((o) => ({ operation: o.operation, calls: n(o.calls), errors: n(o.e4) + n(o.e5), avgLatencyMs: n(o.calls) > 0 ? Math.round((n(o.latency_sum) / n(o.calls)) * 10) / 10 : null })),
    };
  },
};
