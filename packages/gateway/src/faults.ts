import type { OutgoingHttpHeaders } from 'node:http';

/**
 * A reply the gateway sends itself (Envoy's local reply, Kong's `kong.response.exit`): a policy
 * returns one to stop the chain. Bodies are WSO2's gateway fault JSON, with its numeric codes.
 */
export interface LocalReply {
  readonly status: number;
  readonly code: number;
  readonly message: string;
  readonly description: string;
  readonly headers?: OutgoingHttpHeaders;
}

/** WSO2's gateway fault codes (API Manager "Error Handling"). */
export const FaultCodes = {
  ApiBlocked: 700700,
  ThrottledOut: 900800,
  HardLimit: 900801,
  ResourceThrottled: 900802,
  ApplicationThrottled: 900803,
  SubscriptionThrottled: 900804,
  Blocked: 900805,
  CustomThrottled: 900806,
  BurstThrottled: 900807,
  AuthFailure: 900900,
  InvalidCredentials: 900901,
  MissingCredentials: 900902,
  NoMatchingResource: 900906,
  ApiTemporarilyBlocked: 900907,
  Forbidden: 900908,
  SubscriptionInactive: 900909,
  ScopeInsufficient: 900910,
  // Gatehouse's own, for conditions WSO2 reports through Synapse errors.
  BadRequest: 900400,
  MethodNotAllowed: 900405,
  PayloadTooLarge: 900413,
  MediationFailure: 900500,
  BackendUnavailable: 101503,
  BackendTimeout: 101504,
  /** WSO2's "Address endpoint ... State: SUSPENDED": every endpoint's circuit breaker is open. */
  EndpointSuspended: 303001,
} as const;

export function fault(status: number, code: number, message: string, description: string, headers?: OutgoingHttpHeaders): LocalReply {
  return { status, code, message, description, headers };
}

export const notFound = (description = 'No matching resource found for the given request'): LocalReply =>
  fault(404, FaultCodes.NoMatchingResource, 'No matching resource found for given API Request', description);

export const badRequest = (description: string): LocalReply => fault(400, FaultCodes.BadRequest, 'Bad Request', description);

export function serializeFault(reply: LocalReply): string {
  return JSON.stringify({ code: reply.code, message: reply.message, description: reply.description });
}
