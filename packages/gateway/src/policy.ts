import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { LocalReply } from './faults.ts';
import type { RuntimeApi, RuntimeOperation } from './runtime-api.ts';
import type { VerifiedToken } from './security/token-verifier.ts';

/** What one request carries through the chain. One object per request; policies add to it. */
export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly api: RuntimeApi;
  readonly operation: RuntimeOperation;
  readonly basePath: string;
  /** The path below the API's base path, as matched (`/pets/7`). */
  readonly resourcePath: string;
  /** The query string with its `?`, or ''. */
  readonly query: string;
  readonly params: Readonly<Record<string, string>>;
  readonly startedAt: number;
  /** Which endpoint group serves the call; authentication may switch it to SANDBOX. */
  keyType: 'PRODUCTION' | 'SANDBOX';
  /** Request headers (lower case) not to forward, e.g. the credentials authentication consumed. */
  dropHeaders: string[] | undefined;
  /** Headers to add to the upstream request, e.g. a backend JWT. */
  addHeaders: [string, string][] | undefined;
  /** The most restrictive rate limit that admitted the call (for X-RateLimit-* headers). */
  rateLimit: { readonly limit: number; readonly remaining: number; readonly resetAt: number } | undefined;
  /** The verified access token, once authentication ran. */
  token: VerifiedToken | undefined;
  /** Status sent to the client, once known (for the log phase). */
  status: number;
  /** The reply the gateway sent itself (a denial or an upstream fault); undefined for a backend's answer. */
  reply: LocalReply | undefined;
}

/**
 * The hooks a policy contributes to one route, created once at deploy time. A hook that returns a
 * `LocalReply` stops the chain and the gateway answers with it; expected denials never throw.
 */
export interface PolicyHooks {
  access?(ctx: RequestContext): LocalReply | undefined | Promise<LocalReply | undefined>;
  /**
   * The headers about to go to the backend, flat (`[name, value, name, value, ...]`, names as
   * sent), hop-by-hop ones already removed; edit in place. Runs once per attempt, after `access`.
   */
  upstreamRequest?(ctx: RequestContext, headers: string[]): void;
  responseHeaders?(ctx: RequestContext, headers: OutgoingHttpHeaders): void;
  log?(ctx: RequestContext): void;
}

/**
 * A gateway policy (Kong's plugin shape): `create` runs once per route at deploy time and returns
 * the hooks for that route, or nothing when the policy does not apply to it. Higher priority runs
 * first; a test locks the order.
 *
 * @example
 * ```ts
 * const apiState: Policy = {
 *   name: 'api-state',
 *   priority: 1900,
 *   create: (api) => (api.status === 'BLOCKED' ? { access: () => blockedReply } : undefined),
 * };
 * ```
 */
export interface Policy {
  readonly name: string;
  readonly priority: number;
  /** JSON Schema of what the policy reads from the artifact (documentation; `create` checks it). */
  readonly configSchema?: Readonly<Record<string, unknown>>;
  create(api: RuntimeApi, operation: RuntimeOperation): PolicyHooks | undefined;
}

type Access = NonNullable<PolicyHooks['access']>;
type UpstreamRequest = NonNullable<PolicyHooks['upstreamRequest']>;
type ResponseHeaders = NonNullable<PolicyHooks['responseHeaders']>;
type Log = NonNullable<PolicyHooks['log']>;

/** A route's prebuilt chain: one array per phase, empty phases skipped by the caller. */
export interface CompiledChain {
  readonly access: readonly Access[];
  readonly upstreamRequest: readonly UpstreamRequest[];
  readonly responseHeaders: readonly ResponseHeaders[];
  readonly log: readonly Log[];
}

export function sortPolicies(policies: readonly Policy[]): Policy[] {
  const sorted = [...policies].sort((a, b) => b.priority - a.priority);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].priority === sorted[i - 1].priority) throw new Error(`policies ${sorted[i - 1].name} and ${sorted[i].name} share priority ${sorted[i].priority}`);
  }
  return sorted;
}

export function compileChain(policies: readonly Policy[], api: RuntimeApi, operation: RuntimeOperation): CompiledChain {
  const access: Access[] = [];
  const upstreamRequest: UpstreamRequest[] = [];
  const responseHeaders: ResponseHeaders[] = [];
  const log: Log[] = [];
  for (const policy of policies) {
    const hooks = policy.create(api, operation);
    if (!hooks) continue;
    if (hooks.access) access.push(hooks.access.bind(hooks));
    if (hooks.upstreamRequest) upstreamRequest.push(hooks.upstreamRequest.bind(hooks));
    if (hooks.responseHeaders) responseHeaders.push(hooks.responseHeaders.bind(hooks));
    if (hooks.log) log.push(hooks.log.bind(hooks));
  }
  return { access, upstreamRequest, responseHeaders, log };
}
