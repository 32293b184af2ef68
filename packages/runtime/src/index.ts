export * from './listeners.ts';
export * from './health.ts';
export * from './logger.ts';
export * from './metrics.ts';
export * from './tls.ts';
export * from './validation.ts';
