export * from './processes.ts';
export * from './postgres.ts';
export * from './nats.ts';
export * from './nginx.ts';
export * from './cluster.ts';
export * from './load.ts';
export * from './prerequisites.ts';
export * from './fixture.ts';
