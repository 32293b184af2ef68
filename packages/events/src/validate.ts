import { EventsErrors } from './errors.ts';
import { allTopics } from './types.ts';
import type { Logger, Topic } from './types.ts';

const topicSet: ReadonlySet<string> = new Set(allTopics);
// One or more NATS subject tokens; no wildcards or whitespace, so a subject means the same on both transports.
const subjectPattern = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export function assertTopic(topic: string): asserts topic is Topic {
  if (!topicSet.has(topic)) {
    throw EventsErrors.create('EVENTS_ERR_INVALID_TOPIC', { description: `unknown topic ${JSON.stringify(topic)}; one of ${allTopics.join(', ')}` });
  }
}

export function assertSubject(subject: string): void {
  if (typeof subject !== 'string' || !subjectPattern.test(subject)) {
    throw EventsErrors.create('EVENTS_ERR_INVALID_TOPIC', { description: `invalid subject ${JSON.stringify(subject)}: dot-separated [A-Za-z0-9_-] tokens` });
  }
}

/** `fromSeq` as the first sequence to deliver (0 and 1 both mean "from the beginning"). */
export function normalizeFromSeq(fromSeq: number): number {
  if (!Number.isFinite(fromSeq)) throw new RangeError(`fromSeq must be a finite number, got ${fromSeq}`);
  return Math.max(1, Math.floor(fromSeq));
}

export const noopLogger: Logger = Object.freeze({ info() {}, warn() {}, error() {}, debug() {} });

export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
