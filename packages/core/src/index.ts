export * from './errors.ts';
export * from './ids.ts';
export * from './clock.ts';
export * from './tenancy.ts';
export * from './secrets.ts';
