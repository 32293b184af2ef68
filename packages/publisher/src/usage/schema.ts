/** The answer of `GET /apis/{apiId}/usage` (a Gatehouse extension), as the OpenAPI document shows it. */
const usageFigures = {
  calls: { type: 'integer' },
  errors: { type: 'integer', description: '4xx (other than 429) and 5xx answers' },
  clientErrors: { type: 'integer', description: '4xx answers other than 429' },
  serverErrors: { type: 'integer', description: '5xx answers' },
  throttled: { type: 'integer', description: '429 answers' },
  avgLatencyMs: { type: ['number', 'null'] },
  maxLatencyMs: { type: ['number', 'null'] },
  responseBytes: { type: 'integer' },
} as const;

/** `GET /apis/{apiId}/usage` (a Gatehouse extension). */
export const usageReport = {
  type: 'object',
  properties: {
    apiId: { type: 'string' },
    from: { type: 'string', format: 'date-time', description: 'The first bucket\'s start (the requested from, aligned down to the interval, UTC)' },
    to: { type: 'string', format: 'date-time' },
    interval: { type: 'string', enum: ['minute', 'hour', 'day'] },
    totals: { type: 'object', properties: usageFigures },
    buckets: { type: 'array', items: { type: 'object', properties: { start: { type: 'string', format: 'date-time' }, ...usageFigures } } },
    topApplications: {
      type: 'array',
      items: { type: 'object', properties: { applicationId: { type: ['string', 'null'], description: 'null: calls without an application' }, applicationName: { type: ['string', 'null'] }, calls: { type: 'integer' }, errors: { type: 'integer' } } },
    },
    topOperations: {
      type: 'array',
      items: { type: 'object', properties: { operation: { type: 'string' }, calls: { type: 'integer' }, errors: { type: 'integer' }, avgLatencyMs: { type: ['number', 'null'] } } },
    },
  },
} as const;
