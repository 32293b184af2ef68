export * from './types.ts';
export * from './errors.ts';
export { createEventHub, createInProcessBus, createInProcessHub, createNatsHub } from './hub.ts';
export type { EventHubConfig } from './hub.ts';
export { createQueuedHub } from './outbox.ts';
export type { PublishQueueOptions, PublishQueueStats, QueuedEventHub } from './outbox.ts';
