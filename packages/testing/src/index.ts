export * from './services.ts';
export * from './clock.ts';
export * from './tmp.ts';
