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
  /** Body bytes of the response, as its `Content-Length` says (null when streamed without one), once sent. */
  responseBytes: number | null;
  /** The reply the gateway sent itself (a denial or an upstream fault); undefined for a backend's answer. */
  reply: LocalReply | undefined;
  /**
   * Set by throttling when the call went through past its subscription's quota (a tier with
   * `stopOnQuotaReach` false: WSO2's allow-and-mark); analytics records it.
   */
  overQuota: boolean;
}

/**
 * The hooks a policy contributes to one route, created once at deploy time. A hook that returns a
 * `LocalReply` stops the chain and the gateway answers with it; expected denials never throw.
 * Hooks are called as plain functions (`this` is undefined): write them as closures.
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
 * A gateway policy (Kong's plugin shape): `create` runs at deploy time and returns the hooks for
 * a route, or nothing when the policy does not apply to it. Higher priority runs first; a test
 * locks the order.
 *
 * Sharing: with `shareKey`, routes whose keys are equal share one hooks object, so 10,000 APIs
 * do not cost 30,000 copies of the same closures. Within one deploy, `create` runs for the first
 * route of each key only; the hooks then serve every route with that key, so they must depend on
 * nothing of the route the key does not cover, and read the rest from the request (`ctx.api`,
 * `ctx.operation`, the route's own objects). Per-API or per-operation values a hook needs on
 * every call are built on the route's first call and kept (`RouteMemo`), not at deploy time.
 * Without `shareKey` (or when it answers `undefined`), `create` runs once per route.
 *
 * @example
 * ```ts
 * const apiState: Policy = {
 *   name: 'api-state',
 *   priority: 1900,
 *   // every route of a BLOCKED API gets the same hooks; others get none
 *   shareKey: (api) => (api.status === 'BLOCKED' ? 'blocked' : ''),
 *   create: (api) => (api.status === 'BLOCKED' ? { access: () => blockedReply } : undefined),
 * };
 * ```
 */
export interface Policy {
  readonly name: string;
  readonly priority: number;
  /** JSON Schema of what the policy reads from the artifact (documentation; `create` checks it). */
  readonly configSchema?: Readonly<Record<string, unknown>>;
  /** What of the route `create` reads, as a string (see "Sharing" above); `undefined`: this route's own hooks. */
  shareKey?(api: RuntimeApi, operation: RuntimeOperation): string | undefined;
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

const NONE: readonly never[] = Object.freeze([]);

/**
 * What one deploy has compiled, so routes with the same policy keys share hooks and chains. Made
 * per deploy and dropped after it: nothing outlives the route table it built.
 */
export class ChainCache {
  /** Per policy (by index): share key → hooks (`null`: the policy gave none). */
  readonly #hooks: Map<string, PolicyHooks | null>[];
  /** Chains by the hooks they hold, one trie level per policy: no key string per route. */
  readonly #chains: ChainNode = { next: new Map(), chain: undefined };
  readonly #policies: readonly Policy[];
  #size = 0;

  constructor(policies: readonly Policy[]) {
    this.#policies = policies;
    this.#hooks = policies.map(() => new Map());
  }

  /** Distinct chains built so far. */
  get size(): number {
    return this.#size;
  }

  compile(api: RuntimeApi, operation: RuntimeOperation): CompiledChain {
    const policies = this.#policies;
    const hooks: (PolicyHooks | null)[] = [];
    let node = this.#chains;
    for (let i = 0; i < policies.length; i++) {
      const policy = policies[i];
      const shareKey = policy.shareKey?.(api, operation);
      let h: PolicyHooks | null | undefined;
      if (shareKey === undefined) {
        h = policy.create(api, operation) ?? null;
      } else {
        const byKey = this.#hooks[i];
        h = byKey.get(shareKey);
        if (h === undefined) byKey.set(shareKey, (h = policy.create(api, operation) ?? null));
      }
      hooks.push(h);
      let next = node.next.get(h);
      if (next === undefined) node.next.set(h, (next = { next: new Map(), chain: undefined }));
      node = next;
    }
    if (node.chain === undefined) {
      node.chain = chainOf(hooks);
      this.#size++;
    }
    return node.chain;
  }
}

interface ChainNode {
  readonly next: Map<PolicyHooks | null, ChainNode>;
  chain: CompiledChain | undefined;
}

function chainOf(list: readonly (PolicyHooks | null | undefined)[]): CompiledChain {
  const access: Access[] = [];
  const upstreamRequest: UpstreamRequest[] = [];
  const responseHeaders: ResponseHeaders[] = [];
  const log: Log[] = [];
  for (const hooks of list) {
    if (!hooks) continue;
    if (hooks.access) access.push(hooks.access);
    if (hooks.upstreamRequest) upstreamRequest.push(hooks.upstreamRequest);
    if (hooks.responseHeaders) responseHeaders.push(hooks.responseHeaders);
    if (hooks.log) log.push(hooks.log);
  }
  return {
    access: access.length > 0 ? access : NONE,
    upstreamRequest: upstreamRequest.length > 0 ? upstreamRequest : NONE,
    responseHeaders: responseHeaders.length > 0 ? responseHeaders : NONE,
    log: log.length > 0 ? log : NONE,
  };
}

/**
 * One route's chain. Pass the deploy's `ChainCache` to share hooks and chains between routes
 * (see `Policy.shareKey`); without one, every policy's `create` runs for this route.
 */
export function compileChain(policies: readonly Policy[], api: RuntimeApi, operation: RuntimeOperation, cache?: ChainCache): CompiledChain {
  if (cache !== undefined) return cache.compile(api, operation);
  return chainOf(policies.map((p) => p.create(api, operation)));
}

/**
 * Values a shared hook derives from its route (counter keys, metric children, names), built on
 * the route's first call and kept as long as the route's API object lives (a redeploy makes new
 * ones, and the old ones go with their table). A hit is one WeakMap lookup, with no allocation.
 */
export class RouteMemo<T> {
  readonly #byOperation = new WeakMap<RuntimeOperation, { readonly api: RuntimeApi; readonly value: T }>();
  /** Operations one object of which serves several APIs (a test's shared list): by API, then operation. */
  readonly #shared = new WeakMap<RuntimeApi, Map<RuntimeOperation, T>>();
  readonly #build: (api: RuntimeApi, operation: RuntimeOperation) => T;

  constructor(build: (api: RuntimeApi, operation: RuntimeOperation) => T) {
    this.#build = build;
  }

  get(api: RuntimeApi, operation: RuntimeOperation): T {
    const e = this.#byOperation.get(operation);
    if (e !== undefined && e.api === api) return e.value;
    return this.#miss(api, operation, e !== undefined);
  }

  #miss(api: RuntimeApi, operation: RuntimeOperation, taken: boolean): T {
    if (!taken) {
      const value = this.#build(api, operation);
      this.#byOperation.set(operation, { api, value });
      return value;
    }
    let byOp = this.#shared.get(api);
    if (byOp === undefined) this.#shared.set(api, (byOp = new Map()));
    let value = byOp.get(operation);
    if (value === undefined) byOp.set(operation, (value = this.#build(api, operation)));
    return value;
  }
}
