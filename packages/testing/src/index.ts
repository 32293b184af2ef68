export * from './services.ts';
export * from './clock.ts';
export * from './tmp.ts';
export * from './ports.ts';
export * from './process.ts';
export * from './http.ts';
export * from './upstream.ts';
