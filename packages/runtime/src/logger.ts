import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The process logger: JSON lines on stdout with the node id and profile on every line, one child
 * per component. Never a line per request by default (STYLE.md).
 */
export function createLogger(options: { level: string; nodeId: string; profile: string }): Logger {
  return pino({
    level: options.level,
    base: { node: options.nodeId, profile: options.profile },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
