import { createInProcessBus, createInProcessHub } from './transports/in-process/hub.ts';
import type { EventHub, Logger, NatsHubOptions } from './types.ts';
import type { Clock } from '@gatehouse/core';

export { createInProcessBus, createInProcessHub };

/**
 * The NATS JetStream transport, loaded on first use so an all-in-one process never loads the NATS
 * client. See `transports/nats/hub.ts` for the stream layout.
 *
 * @example
 * ```ts
 * const hub = await createNatsHub({ servers: ['nats://nats-1:4222'], credsFile: '/etc/gatehouse/gw.creds', source: 'gw-1' });
 * ```
 */
export async function createNatsHub(opts: NatsHubOptions): Promise<EventHub> {
  const nats = await import('./transports/nats/hub.ts');
  return nats.createNatsHub(opts);
}

/** The `event_hub` section of the config. Empty strings mean "not set". */
export interface EventHubConfig {
  type: 'in-process' | 'nats';
  servers: readonly string[];
  user: string;
  password: string;
  token: string;
  creds_file: string;
  stream_prefix: string;
  /** JetStream replicas per stream (absent: 1). */
  replicas?: number;
}

/**
 * The hub a profile's config asks for; what the CLI calls.
 *
 * @example
 * ```ts
 * const hub = await createEventHub(config.event_hub, { source: `gateway-${hostname()}`, logger });
 * ```
 */
export async function createEventHub(
  config: EventHubConfig,
  deps: { source: string; logger?: Logger; clock?: Clock; /** NATS only: see `NatsHubOptions.waitOnFirstConnect`. */ waitOnFirstConnect?: boolean },
): Promise<EventHub> {
  if (config.type === 'in-process') return createInProcessHub({ source: deps.source, logger: deps.logger, clock: deps.clock });
  if (config.type !== 'nats') throw new RangeError(`event_hub.type must be 'in-process' or 'nats', got ${JSON.stringify(config.type)}`);
  return createNatsHub({
    servers: config.servers,
    user: config.user || undefined,
    pass: config.password || undefined,
    token: config.token || undefined,
    credsFile: config.creds_file || undefined,
    prefix: config.stream_prefix || undefined,
    streamReplicas: config.replicas,
    source: deps.source,
    logger: deps.logger,
    clock: deps.clock,
    waitOnFirstConnect: deps.waitOnFirstConnect,
  });
}
