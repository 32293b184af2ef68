import { defineErrors } from '@gatehouse/core';

/**
 * The event hub's error registry. Every transport throws these codes, so callers `switch (err.code)`
 * the same way in all-in-one and distributed mode. Documented in `docs/errors.md` ("## events").
 */
export const EventsErrors = defineErrors({
  EVENTS_ERR_UNAVAILABLE: { status: 503, wso2Code: 900503, message: 'The event hub is not reachable' },
  EVENTS_ERR_TIMEOUT: { status: 504, wso2Code: 900504, message: 'No reply came within the request timeout' },
  EVENTS_ERR_NO_RESPONDERS: { status: 503, wso2Code: 900503, message: 'No responder serves this subject' },
  EVENTS_ERR_CLOSED: { status: 503, wso2Code: 900503, message: 'The event hub is closed' },
  EVENTS_ERR_INVALID_TOPIC: { status: 400, wso2Code: 900400, message: 'Unknown topic or invalid subject' },
  EVENTS_ERR_PUBLISH_FAILED: { status: 503, wso2Code: 900503, message: 'The event could not be stored' },
  EVENTS_ERR_RESPONDER_FAILED: { status: 502, wso2Code: 900502, message: 'The responder failed to handle the request' },
});

export type EventsErrorCode = keyof typeof EventsErrors.specs;
