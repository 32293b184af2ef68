import { CoreErrors } from '@gatehouse/core';
import { UsageIntervals } from './store.ts';
import type { UsageInterval } from './store.ts';

/** Most buckets one answer has: a day of minutes, 60 days of hours, about 4 years of days. */
export const MAX_USAGE_BUCKETS = 1440;
const DAY = 86_400_000;

/** ISO 8601 (`2026-11-26T10:00:00Z`, `2026-11-26`) or epoch milliseconds. */
function parseInstant(value: string): number | undefined {
  if (/^\d{1,15}$/.test(value)) return Number(value);
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) return undefined;
  const t = Date.parse(value);
  return Number.isFinite(t) ? t : undefined;
}

/**
 * `from`, `to` and `interval` of `GET /apis/{apiId}/usage`, checked: defaults (the last 24 hours;
 * the interval by the range's length: minutes up to 6 hours, hours up to 14 days, days beyond),
 * then every problem in one CORE_ERR_VALIDATION (400) with a detail per field.
 */
export function usageRange(query: { from?: string; to?: string; interval?: string }, now: number): { from: number; to: number; interval: UsageInterval } {
  const details: { field: string; message: string }[] = [];
  const to = query.to === undefined || query.to === '' ? now : parseInstant(query.to);
  if (to === undefined) details.push({ field: 'querystring.to', message: 'is not an ISO 8601 date-time or epoch milliseconds' });
  const from = query.from === undefined || query.from === '' ? (to ?? now) - DAY : parseInstant(query.from);
  if (from === undefined) details.push({ field: 'querystring.from', message: 'is not an ISO 8601 date-time or epoch milliseconds' });
  if (from !== undefined && to !== undefined && from >= to) details.push({ field: 'querystring.from', message: 'must be before to' });
  let interval: UsageInterval | undefined;
  if (query.interval !== undefined && query.interval !== '') {
    if (Object.hasOwn(UsageIntervals, query.interval)) interval = query.interval as UsageInterval;
    else details.push({ field: 'querystring.interval', message: 'must be one of minute, hour, day' });
  }
  if (details.length === 0 && from !== undefined && to !== undefined) {
    const span = to - from;
    interval ??= span <= DAY / 4 ? 'minute' : span <= 14 * DAY ? 'hour' : 'day';
    const step = UsageIntervals[interval];
    const buckets = Math.ceil((to - (from - (from % step))) / step);
    if (buckets > MAX_USAGE_BUCKETS) details.push({ field: 'querystring.interval', message: `gives ${buckets} buckets over this range, more than ${MAX_USAGE_BUCKETS}: choose a larger interval or a shorter range` });
    else return { from, to, interval };
  }
  throw CoreErrors.create('CORE_ERR_VALIDATION', { message: 'Bad Request', description: details.map((d) => `${d.field}: ${d.message}`).join('; '), details });
}
