import { GatehouseError, isGatehouseError, registeredErrorCodes } from '@gatehouse/core';
import { EventsErrors } from './errors.ts';

// Both transports move payloads as JSON, so all-in-one catches a payload that would not survive NATS.

export function encodeJson(value: unknown, what: 'publish' | 'request' | 'reply'): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    const code = what === 'publish' ? 'EVENTS_ERR_PUBLISH_FAILED' : 'EVENTS_ERR_RESPONDER_FAILED';
    throw EventsErrors.create(code, { description: `the ${what} payload is not JSON-serialisable`, cause });
  }
  return text ?? 'null';
}

export function decodeJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

type Reply = { ok: true; result: unknown } | { ok: false; code?: string; message: string };

/** A responder's result or error, as the requester will see it. */
export function encodeReply(outcome: { result: unknown } | { error: unknown }): string {
  if ('result' in outcome) {
    try {
      return encodeJson({ ok: true, result: outcome.result ?? null }, 'reply');
    } catch (error) {
      return encodeReply({ error });
    }
  }
  const err = outcome.error;
  const reply: Reply = isGatehouseError(err)
    ? { ok: false, code: err.code, message: err.message }
    : { ok: false, message: err instanceof Error ? err.message : String(err) };
  return JSON.stringify(reply);
}

/**
 * The result, or the responder's error rethrown: a registered Gatehouse code comes back as that
 * code (callers `switch (err.code)` across the wire), anything else as EVENTS_ERR_RESPONDER_FAILED.
 */
export function decodeReply<T>(text: string): T {
  let reply: Reply;
  try {
    reply = JSON.parse(text) as Reply;
  } catch (cause) {
    throw EventsErrors.create('EVENTS_ERR_RESPONDER_FAILED', { description: 'the reply is not JSON', cause });
  }
  if (reply.ok) return reply.result as T;
  const spec = reply.code === undefined ? undefined : registeredErrorCodes().get(reply.code);
  if (reply.code !== undefined && spec) throw new GatehouseError(reply.code, spec, { message: reply.message });
  throw EventsErrors.create('EVENTS_ERR_RESPONDER_FAILED', { description: reply.message });
}
