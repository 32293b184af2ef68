import type { GatehouseConfig, Redaction } from './schema.ts';
import { configKeys } from './schema.ts';

const REDACTED = '***';

/**
 * Hides the password of a URL's userinfo and any `password=` query parameter. The authority
 * ends at `/`, `?` or `#` as in the WHATWG URL parser the drivers use.
 */
export function redactUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/?#]*):[^@/?#]*@/i, `$1:${REDACTED}@`)
    .replace(/([?&]password=)[^&#]*/gi, `$1${REDACTED}`);
}

export function redactValue(value: unknown, redaction: Redaction | undefined): unknown {
  if (redaction === undefined) return value;
  if (redaction === 'secret') return value === '' ? '' : REDACTED;
  if (typeof value === 'string') return redactUrl(value);
  if (Array.isArray(value)) return value.map((v: unknown) => (typeof v === 'string' ? redactUrl(v) : v));
  return value;
}

/**
 * A copy of the config safe to log: secrets become `"***"` (an unset secret stays `""`, so the log
 * shows whether one was given), passwords inside URLs become `***`.
 *
 * @example
 * ```ts
 * logger.info({ config: describeConfig(config) }, 'starting');
 * ```
 */
export function describeConfig(config: GatehouseConfig): GatehouseConfig {
  const copy = structuredClone(config) as unknown as Record<string, unknown>;
  for (const { path, setting } of configKeys) {
    if (setting.redact === undefined) continue;
    const parts = path.split('.');
    const last = parts.pop() as string;
    let node: Record<string, unknown> | undefined = copy;
    for (const part of parts) node = node?.[part] as Record<string, unknown> | undefined;
    if (node !== undefined && last in node) node[last] = redactValue(node[last], setting.redact);
  }
  return copy as unknown as GatehouseConfig;
}
