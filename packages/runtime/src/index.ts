export * from './listeners.ts';
export * from './health.ts';
export * from './logger.ts';
export * from './metrics.ts';
export * from './tls.ts';
export * from './validation.ts';
export * from './schema-compilers.ts';
export * from './memory.ts';
