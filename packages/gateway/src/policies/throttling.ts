import type { OutgoingHttpHeaders } from 'node:http';
import { Counter, type Registry } from 'prom-client';
import { fault, FaultCodes, type LocalReply } from '../faults.ts';
import { RouteMemo, type Policy, type PolicyHooks, type RequestContext } from '../policy.ts';
import { basePaths, type RuntimeApi } from '../runtime-api.ts';
import type { GatewayData } from '../security/gateway-data.ts';
import { clientAddress } from '../security/ip.ts';
import type { KeyVariable, RequestFacts } from '../throttle/conditions.ts';
import { Pending, type Decision, type RateCounter } from '../throttle/counter.ts';
import type { Limit } from '../throttle/limits.ts';

export interface ThrottlingDeps {
  readonly data: GatewayData;
  readonly counter: RateCounter;
  readonly now?: () => number;
  /** Client addresses for IP conditions and `$clientIp` from X-Forwarded-For (trusted proxy only). */
  readonly trustForwardedFor?: boolean;
  readonly metrics?: Registry;
  /**
   * Longest a call waits for leases, all its checks together, before a 429 (Retry-After 1). A
   * lease takes one round trip to the Traffic Manager; a failed one ends the wait at once (local
   * limits apply). Default 1000 ms.
   */
  readonly maxWaitMs?: number;
}

function throttled(status: number, code: number, message: string, level: string, d: Pick<Decision, 'limit' | 'resetAt'>, now: number): LocalReply {
  const retryAfter = Math.max(1, Math.ceil((d.resetAt - now) / 1000));
  return fault(status, code, message, `You have exceeded your quota (${level} level). Try again in ${retryAfter} s.`, {
    'retry-after': String(retryAfter),
    'x-ratelimit-limit': String(d.limit),
    'x-ratelimit-remaining': '0',
    'x-ratelimit-reset': String(Math.ceil(d.resetAt / 1000)),
  });
}

/** A check found its key without quota and a lease on its way: wait for it, then check again. */
class Waiting {
  readonly key: string;
  constructor(key: string) {
    this.key = key;
  }
}

type Outcome = LocalReply | undefined | Waiting;
/**
 * One check of the chain, built per route at deploy time. `facts` is there when the route needs
 * it. With `probe`, a step counts nothing: it only finds the keys it would count that are not
 * ready (a lease on its way) and answers `Waiting` for the first; without, it counts.
 */
type Step = (ctx: RequestContext, t: number, facts: CallFacts | undefined, probe: boolean) => Outcome;

const WSO2_CLAIMS = 'http://wso2.org/claims/';

/**
 * Counter keys by what they are made of: a call reuses one string, and with it the hash V8 keeps
 * in it, for every lookup (the probe and the count), instead of concatenating a new one each time.
 */
class Keys {
  readonly #keys = new Map<string, string>();
  readonly #make: (part: string) => string;
  constructor(make: (part: string) => string) {
    this.#make = make;
  }
  get(part: string): string {
    let key = this.#keys.get(part);
    if (key === undefined) {
      if (this.#keys.size >= 10_000) this.#keys.clear();
      key = this.#make(part);
      this.#keys.set(part, key);
    }
    return key;
  }
}

/** What conditions and key templates read of one call, computed on first use. */
class CallFacts implements RequestFacts {
  readonly #ctx: RequestContext;
  readonly #trust: boolean;
  readonly #route: RouteFacts;
  #ip: string | undefined;
  #query: URLSearchParams | undefined;

  constructor(ctx: RequestContext, trust: boolean, route: RouteFacts) {
    this.#ctx = ctx;
    this.#trust = trust;
    this.#route = route;
  }

  clientIp(): string {
    return (this.#ip ??= clientAddress(this.#ctx.req, this.#trust));
  }

  header(name: string): string | undefined {
    const v = this.#ctx.req.headers[name];
    return Array.isArray(v) ? v.join(',') : v;
  }

  query(name: string): string | undefined {
    this.#query ??= new URLSearchParams(this.#ctx.query.startsWith('?') ? this.#ctx.query.slice(1) : this.#ctx.query);
    return this.#query.get(name) ?? undefined;
  }

  claim(uri: string): string | undefined {
    const token = this.#ctx.token;
    if (token === undefined) return undefined;
    if (uri.startsWith(WSO2_CLAIMS)) {
      // WSO2's backend-JWT claim URIs, read from what the token says.
      switch (uri.slice(WSO2_CLAIMS.length)) {
        case 'applicationname': return token.application?.name;
        case 'applicationid': return token.application?.id;
        case 'applicationtier': return token.application?.tier;
        case 'subscriber':
        case 'enduser': return token.subject;
        case 'keytype': return token.keyType;
        case 'client_id': return token.clientId;
        case 'apiname': return this.#route.api.name;
        case 'version': return this.#route.api.version;
        case 'apicontext': return this.#route.context;
      }
    }
    const v = token.claims[uri] ?? token.claims[uri.slice(uri.lastIndexOf('/') + 1)];
    if (v === undefined || v === null) return undefined;
    return typeof v === 'string' ? v : Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }

  variable(name: KeyVariable): string {
    const token = this.#ctx.token;
    switch (name) {
      case 'userId': {
        // WSO2's userId carries the tenant domain: `alice@carbon.super`.
        const sub = token?.subject;
        return sub === undefined ? 'anonymous' : sub.includes('@') ? sub : `${sub}@carbon.super`;
      }
      case 'apiContext': return this.#route.context;
      case 'apiVersion': return this.#route.api.version;
      case 'resourceKey': return this.#route.resourceKey;
      case 'appTenant':
      case 'apiTenant': return 'carbon.super';
      case 'appId': return token?.application?.id ?? '';
      case 'clientIp': return this.clientIp();
      case 'apiName': return this.#route.api.name;
    }
  }
}

/** What the routes of one API share: subscription counter keys, the subscription and application check, backend TPS. */
interface ApiChecks {
  readonly subKeys: Keys;
  readonly subscription: Step;
  readonly tps: Step | undefined;
}

/** One route's checks in order, and what conditions and key templates read of the route. */
interface RouteChecks {
  readonly steps: readonly Step[];
  /** An advanced policy applies, whose conditional groups may read the call's facts. */
  readonly usesFacts: boolean;
  readonly facts: RouteFacts;
}

interface RouteFacts {
  readonly api: RuntimeApi;
  /** The versioned context (`/pizzashack/1.0.0`), as WSO2's `apiContext`. */
  readonly context: string;
  /** `/pizzashack/1.0.0/menu:GET`, as WSO2's `resourceKey`. */
  readonly resourceKey: string;
}

const LEVELS = ['resource', 'api', 'subscription', 'burst', 'application', 'custom', 'backend'] as const;
type Level = (typeof LEVELS)[number];

/**
 * WSO2's ThrottleHandler, decided in memory, in WSO2's order: the advanced policy (API level when
 * the API has one, else the operation's: WSO2 lets one replace the other), with its conditional
 * groups on IP, header, query parameter and JWT claim; the subscription tier (burst control, then
 * its request count or bandwidth quota; `stopOnQuotaReach: false` lets calls past it through,
 * marked with `X-RateLimit-Remaining: 0`, `ctx.overQuota` (in the call's analytics event) and
 * `gatehouse_throttle_over_quota_total`); the application tier; Admin's custom rules (a key
 * template over user, application, API and client address); and the API's backend maximum TPS
 * (Publisher's `maxTps`). Each refuses with WSO2's fault code, `Retry-After` and `X-RateLimit-*`.
 *
 * Counters: the advanced, subscription, application and custom limits count on `counter` (the
 * Traffic Manager's leases by default, so cluster-wide). Burst control and backend TPS, per second
 * or minute, count on this gateway's share of the limit (`counter.local`), as WSO2 counts them per
 * node: a lease round trip every second per key would cost more than it saves.
 */
export function createThrottlingPolicy(deps: ThrottlingDeps): Policy {
  const { data, counter } = deps;
  const now = deps.now ?? Date.now;
  const trust = deps.trustForwardedFor ?? false;
  const maxWaitMs = deps.maxWaitMs ?? 1000;
  const registry = deps.metrics;
  const refused = registry
    ? ((registry.getSingleMetric('gatehouse_throttle_throttled_total') as Counter<'level'> | undefined) ??
      new Counter({ name: 'gatehouse_throttle_throttled_total', help: 'Calls refused by throttling, by level', labelNames: ['level'], registers: [registry] }))
    : undefined;
  const overQuota = registry
    ? ((registry.getSingleMetric('gatehouse_throttle_over_quota_total') as Counter | undefined) ??
      new Counter({ name: 'gatehouse_throttle_over_quota_total', help: 'Calls let through past a subscription quota (stopOnQuotaReach false), marked', registers: [registry] }))
    : undefined;
  const CODES: Record<Level, number> = {
    resource: FaultCodes.ResourceThrottled,
    api: FaultCodes.ThrottledOut,
    subscription: FaultCodes.SubscriptionThrottled,
    burst: FaultCodes.BurstThrottled,
    application: FaultCodes.ApplicationThrottled,
    custom: FaultCodes.CustomThrottled,
    backend: FaultCodes.HardLimit,
  };
  /** fault code → the level's child of `gatehouse_throttle_throttled_total`, made once. */
  const refusedBy = new Map(LEVELS.map((l) => [CODES[l], refused?.labels(l)]));

  const ready = counter.ready?.bind(counter);
  /** `app|<app>|<user>`, by application then user. */
  const appKeys = new Keys((app) => app);
  const appUserKeys = new Map<string, Keys>();
  const appKey = (app: string, user: string): string => {
    let byUser = appUserKeys.get(app);
    if (byUser === undefined) {
      if (appUserKeys.size >= 10_000) appUserKeys.clear();
      const prefix = `app|${appKeys.get(app)}|`;
      appUserKeys.set(app, (byUser = new Keys((u) => prefix + u)));
    }
    return byUser.get(user);
  };
  /** Counts one call against `key` (with `probe`, only checks it is ready); a refusal is WSO2's fault for that level. */
  const count = (ctx: RequestContext, key: string, limit: Limit, cost: number, code: number, level: Level, t: number, probe: boolean): Outcome => {
    if (probe) return ready === undefined || ready(key, limit, t) ? undefined : new Waiting(key);
    const d = counter.hit(key, limit, t, cost);
    // Not after a probe found every key ready; should a lease be lost in between, ask again soon.
    if (d === Pending) return throttled(429, FaultCodes.ThrottledOut, 'Message throttled out', level, { limit: limit.count, resetAt: t + 1000 }, t);
    if (!d.allowed) return throttled(429, code, 'Message throttled out', level, d, t);
    if (!limit.bytes && (ctx.rateLimit === undefined || d.remaining < ctx.rateLimit.remaining)) ctx.rateLimit = d;
    return undefined;
  };
  const requestBytes = (ctx: RequestContext): number => {
    const len = ctx.req.headers['content-length'];
    return len === undefined ? 0 : Number(len) || 0;
  };

  /** An advanced policy: every matching conditional group counts on its own key; none matching, the default limit. */
  const advanced = (policyName: string, key: string, code: number, level: Level): Step => {
    const groupKeys: string[] = [];
    return (ctx, t, facts, probe) => {
      const p = data.policy('advanced', policyName);
      if (p === undefined) return undefined;
      let matched = false;
      if (p.groups !== undefined && facts !== undefined) {
        for (let i = 0; i < p.groups.length; i++) {
          const g = p.groups[i];
          let all = true;
          for (const c of g.conditions) {
            if (!c.matches(facts)) {
              all = false;
              break;
            }
          }
          if (!all) continue;
          matched = true;
          const r = count(ctx, (groupKeys[i] ??= `${key}|c${i}`), g.limit, g.limit.bytes ? requestBytes(ctx) : 1, code, level, t, probe);
          if (r !== undefined) return r;
        }
      }
      if (matched || p.limit === undefined) return undefined;
      return count(ctx, key, p.limit, p.limit.bytes ? requestBytes(ctx) : 1, code, level, t, probe);
    };
  };

  /** What the routes of one API share, built on the first call of any of them. */
  const apis = new WeakMap<RuntimeApi, ApiChecks>();
  const checksOf = (api: RuntimeApi): ApiChecks => {
    let c = apis.get(api);
    if (c === undefined) {
      const subKeys = new Keys((app) => `sub|${app}|${api.id}`);
      const burstKeys = new Keys((app) => `burst|sub|${app}|${api.id}`);
      apis.set(api, (c = { subKeys, subscription: subscriptionAndApplication(api, subKeys, burstKeys), tps: backendTps(api) }));
    }
    return c;
  };
  /** One route's checks, in order, built on its first call (a deploy of 10,000 APIs builds none). */
  const routes = new RouteMemo<RouteChecks>((api, operation) => {
    const context = basePaths(api)[0];
    const steps: Step[] = [];
    // Advanced policies: the API's replaces the operation's, as in WSO2.
    const level = api.apiThrottlingPolicy
      ? advanced(api.apiThrottlingPolicy, `api|${api.id}`, FaultCodes.ThrottledOut, 'api')
      : operation.throttlingPolicy
        ? advanced(operation.throttlingPolicy, `res|${api.id}|${operation.verb}|${operation.target}`, FaultCodes.ResourceThrottled, 'resource')
        : undefined;
    if (level) steps.push(level);
    const shared = checksOf(api);
    steps.push(shared.subscription);
    steps.push(custom);
    if (shared.tps) steps.push(shared.tps);
    return { steps, usesFacts: level !== undefined, facts: { api, context, resourceKey: `${context}${operation.target}:${operation.verb}` } };
  });

  // Every key the call counts on is ready (holds quota, or is known spent) before any is
  // counted, so a call that waits for a lease never counts a key twice.
  const run = (ctx: RequestContext, route: RouteChecks, facts: CallFacts | undefined, deadline: number): LocalReply | undefined | Promise<LocalReply | undefined> => {
    const t = now();
    const steps = route.steps;
    if (ready !== undefined) {
      for (let i = 0; i < steps.length; i++) {
        const w = steps[i](ctx, t, facts, true);
        if (w instanceof Waiting) return wait(ctx, route, facts, deadline < 0 ? t + maxWaitMs : deadline, w.key);
      }
    }
    for (let i = 0; i < steps.length; i++) {
      const r = steps[i](ctx, t, facts, false);
      if (r !== undefined) {
        refusedBy.get((r as LocalReply).code)?.inc();
        return r as LocalReply;
      }
    }
    return undefined;
  };
  const wait = async (ctx: RequestContext, route: RouteChecks, facts: CallFacts | undefined, deadline: number, key: string): Promise<LocalReply | undefined> => {
    await counter.settled(key);
    const t = now();
    // Leases keep coming but never enough for this call (a crowd on one key): let it retry.
    if (t >= deadline) return throttled(429, FaultCodes.ThrottledOut, 'Message throttled out', 'cluster', { limit: 0, resetAt: t + 1000 }, t);
    return run(ctx, route, facts, deadline);
  };

  // One hooks object for every route: what differs between routes is built per route on its
  // first call (`routes`), so a deploy compiles nothing here.
  const hooks: PolicyHooks = {
    access(ctx) {
      const route = routes.get(ctx.api, ctx.operation);
      // Custom rules read facts too; built only when some rule or condition may read them.
      const facts = route.usesFacts || data.customPolicies.length > 0 ? new CallFacts(ctx, trust, route.facts) : undefined;
      return run(ctx, route, facts, -1);
    },
    responseHeaders(ctx: RequestContext, headers: OutgoingHttpHeaders) {
      if (ctx.reply === undefined) bandwidth(ctx, headers);
      const d = ctx.rateLimit;
      if (d === undefined || headers['x-ratelimit-limit'] !== undefined) return;
      headers['x-ratelimit-limit'] = String(d.limit);
      headers['x-ratelimit-remaining'] = String(d.remaining);
      headers['x-ratelimit-reset'] = String(Math.ceil(d.resetAt / 1000));
    },
  };

  return {
    name: 'throttling',
    priority: 1500,
    shareKey: () => '',
    create: () => hooks,
  };

  /** The subscription tier (burst, then quota) and the application tier; nothing for an unsecured call. */
  function subscriptionAndApplication(api: RuntimeApi, subKeys: Keys, burstKeys: Keys): Step {
    return (ctx, t, _facts, probe) => {
      const app = ctx.token?.application;
      if (app === undefined) return undefined;
      const sub = data.subscription(app.id, api.id);
      const tier = sub ? data.policy('subscription', sub.tier) : undefined;
      if (tier) {
        const subKey = subKeys.get(app.id);
        if (tier.burst && !probe) {
          const b = counter.local(burstKeys.get(app.id), tier.burst, t);
          if (!b.allowed) return throttled(429, FaultCodes.BurstThrottled, 'Message throttled out', 'burst', b, t);
        }
        if (tier.limit) {
          const s = count(ctx, subKey, tier.limit, tier.limit.bytes ? requestBytes(ctx) : 1, FaultCodes.SubscriptionThrottled, 'subscription', t, probe);
          if (s instanceof Waiting) return s;
          if (s !== undefined) {
            if (tier.stopOnQuotaReach) return s;
            // WSO2's allow-and-mark: the call goes on, shown as over quota (and so in analytics).
            ctx.overQuota = true;
            overQuota?.inc();
            if (!tier.limit.bytes) ctx.rateLimit = { limit: tier.limit.count, remaining: 0, resetAt: t - (t % tier.limit.windowMs) + tier.limit.windowMs };
          }
        }
      }
      const appTier = data.policy('application', app.tier)?.limit;
      if (appTier === undefined) return undefined;
      return count(ctx, appKey(app.id, ctx.token?.subject ?? ''), appTier, appTier.bytes ? requestBytes(ctx) : 1, FaultCodes.ApplicationThrottled, 'application', t, probe);
    };
  }

  /** Admin's custom rules: each eligible call counts on the rule's key template. */
  function custom(ctx: RequestContext, t: number, facts: CallFacts | undefined, probe: boolean): Outcome {
    const rules = data.customPolicies;
    if (rules.length === 0 || facts === undefined) return undefined;
    for (const p of rules) {
      const rule = p.custom;
      if (rule === undefined || !rule.eligible(facts)) continue;
      let key = `custom|${p.name}|`;
      for (let i = 0; i < rule.keyTemplate.length; i++) key += (i > 0 ? ':' : '') + facts.variable(rule.keyTemplate[i]);
      const r = count(ctx, key, rule.limit, 1, FaultCodes.CustomThrottled, 'custom', t, probe);
      if (r !== undefined) return r;
    }
    return undefined;
  }

  /** Publisher's maximum backend throughput, per endpoint type, in calls per second. */
  function backendTps(api: RuntimeApi): Step | undefined {
    const max = api.maxTps;
    if (!max || (!(max.production ?? 0) && !(max.sandbox ?? 0))) return undefined;
    const production: Limit | undefined = max.production ? { count: max.production, windowMs: 1000 } : undefined;
    const sandbox: Limit | undefined = max.sandbox ? { count: max.sandbox, windowMs: 1000 } : undefined;
    const keys = { PRODUCTION: `tps|${api.id}|PRODUCTION`, SANDBOX: `tps|${api.id}|SANDBOX` };
    return (ctx, t, _facts, probe) => {
      const limit = ctx.keyType === 'SANDBOX' ? sandbox : production;
      if (limit === undefined || probe) return undefined;
      const d = counter.local(keys[ctx.keyType], limit, t);
      if (d.allowed) return undefined;
      // WSO2's hard limit: the backend, not the caller, is at its limit.
      return fault(503, FaultCodes.HardLimit, 'API Limit Reached', 'API not accepting requests', {
        'retry-after': String(Math.max(1, Math.ceil((d.resetAt - t) / 1000))),
      });
    };
  }

  /** Response bytes of a bandwidth subscription tier, counted once the backend answers. */
  function bandwidth(ctx: RequestContext, headers: OutgoingHttpHeaders): void {
    const app = ctx.token?.application;
    if (app === undefined) return;
    const sub = data.subscription(app.id, ctx.api.id);
    const limit = sub ? data.policy('subscription', sub.tier)?.limit : undefined;
    if (limit?.bytes !== true) return;
    const len = Number(headers['content-length']);
    if (len > 0) counter.charge(checksOf(ctx.api).subKeys.get(app.id), limit, now(), len);
  }
}
