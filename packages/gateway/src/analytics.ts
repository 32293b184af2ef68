import { Topics, type EventHub } from '@gatehouse/events';
import type { Logger } from '@gatehouse/runtime';

/** One API call, as the analytics pipeline receives it (WSO2's request/response event, trimmed). */
export interface CallEvent {
  readonly time: number;
  readonly gatewayId: string;
  readonly apiId: string;
  readonly apiName: string;
  readonly apiVersion: string;
  readonly apiContext: string;
  readonly operation: string;
  readonly applicationId: string | null;
  readonly applicationName: string | null;
  readonly applicationOwner: string | null;
  readonly user: string | null;
  readonly keyType: string;
  readonly status: number;
  readonly latencyMs: number;
  readonly responseBytes: number | null;
  /** Let through past its subscription's quota (a tier with `stopOnQuotaReach` false, WSO2's allow-and-mark). */
  readonly overQuota: boolean;
}

/**
 * Collects call events in memory and publishes them in batches on the `analytics` topic, off the
 * request path: recording is an array push; a full buffer drops (and counts) rather than grow.
 */
export class AnalyticsCollector {
  #buffer: CallEvent[] = [];
  #dropped = 0;
  #published = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  readonly #hub: EventHub;
  readonly #logger: Logger;
  readonly #maxBuffer: number;
  readonly #batchSize: number;

  constructor(hub: EventHub, logger: Logger, options: { intervalMs?: number; maxBuffer?: number; batchSize?: number } = {}) {
    this.#hub = hub;
    this.#logger = logger;
    this.#maxBuffer = options.maxBuffer ?? 10_000;
    this.#batchSize = options.batchSize ?? 500;
    this.#timer = setInterval(() => void this.flush(), options.intervalMs ?? 1_000);
    this.#timer.unref();
  }

  record(event: CallEvent): void {
    if (this.#buffer.length >= this.#maxBuffer) {
      this.#dropped += 1;
      return;
    }
    this.#buffer.push(event);
  }

  /** Publishes what is buffered, in batches; one flush at a time. */
  flush(): Promise<void> {
    this.#flushing ??= (async () => {
      try {
        while (this.#buffer.length > 0) {
          const batch = this.#buffer.splice(0, this.#batchSize);
          try {
            await this.#hub.publish(Topics.Analytics, 'API_CALLS', { events: batch });
            this.#published += batch.length;
          } catch (err) {
            this.#dropped += batch.length;
            this.#logger.warn({ err, lost: batch.length }, 'analytics batch not published');
            return;
          }
        }
      } finally {
        this.#flushing = undefined;
      }
    })();
    return this.#flushing;
  }

  get stats(): { buffered: number; published: number; dropped: number } {
    return { buffered: this.#buffer.length, published: this.#published, dropped: this.#dropped };
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
