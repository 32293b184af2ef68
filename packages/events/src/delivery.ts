import type { Gap, HubEvent, Logger, Topic } from './types.ts';

/**
 * One subscription's delivery discipline, shared by the transports: callers await `deliver` one
 * event at a time; it drops redeliveries, reports gaps, and contains handler errors.
 */
export class Delivery<T> {
  readonly #topic: Topic;
  readonly #handler: (e: HubEvent<T>) => void | Promise<void>;
  readonly #onGap: ((gap: Gap) => void | Promise<void>) | undefined;
  readonly #logger: Logger;
  #next: number;
  #lastSeq = 0;

  constructor(
    topic: Topic,
    startSeq: number,
    handler: (e: HubEvent<T>) => void | Promise<void>,
    onGap: ((gap: Gap) => void | Promise<void>) | undefined,
    logger: Logger,
  ) {
    this.#topic = topic;
    this.#next = startSeq;
    this.#handler = handler;
    this.#onGap = onGap;
    this.#logger = logger;
  }

  get lastSeq(): number {
    return this.#lastSeq;
  }

  async deliver(e: HubEvent<T>): Promise<void> {
    if (e.seq < this.#next) {
      // A transport that recreated its consumer may resend what was already handled.
      this.#logger.debug({ topic: this.#topic, seq: e.seq, expected: this.#next }, 'event hub: dropped a redelivered event');
      return;
    }
    if (e.seq > this.#next) {
      const gap: Gap = { topic: this.#topic, expected: this.#next, next: e.seq };
      this.#logger.warn(gap, 'event hub: events were dropped by retention before this subscriber saw them');
      if (this.#onGap) {
        try {
          await this.#onGap(gap);
        } catch (err) {
          this.#logger.error({ err, ...gap }, 'event hub: gap handler failed');
        }
      }
    }
    this.#next = e.seq + 1;
    this.#lastSeq = e.seq;
    try {
      await this.#handler(e);
    } catch (err) {
      this.#logger.error({ err, topic: e.topic, type: e.type, seq: e.seq }, 'event hub: event handler failed');
    }
  }
}
