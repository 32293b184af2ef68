import type { OutgoingHttpHeaders } from 'node:http';
import { fault, FaultCodes, type LocalReply } from '../faults.ts';
import type { Policy, RequestContext } from '../policy.ts';
import type { GatewayData } from '../security/gateway-data.ts';
import type { Decision, RateCounter } from '../throttle/counter.ts';
import type { Limit } from '../throttle/limits.ts';

function throttled(code: number, level: string, d: Decision, now: number): LocalReply {
  const retryAfter = Math.max(1, Math.ceil((d.resetAt - now) / 1000));
  return fault(429, code, 'Message throttled out', `You have exceeded your quota (${level} level). Try again in ${retryAfter} s.`, {
    'retry-after': String(retryAfter),
    'x-ratelimit-limit': String(d.limit),
    'x-ratelimit-remaining': '0',
    'x-ratelimit-reset': String(Math.ceil(d.resetAt / 1000)),
  });
}

/**
 * WSO2's ThrottleHandler, decided in memory: resource and API level (advanced policies), then
 * the subscription tier (with its burst control) and the application tier, each with WSO2's key
 * and fault code. Limits come from Admin's policies by name; `Unlimited` counts nothing. The
 * counter is local here; the Traffic Manager's leases make it cluster-wide.
 */
export function createThrottlingPolicy(deps: { data: GatewayData; counter: RateCounter; now?: () => number }): Policy {
  const { data, counter } = deps;
  const now = deps.now ?? Date.now;
  return {
    name: 'throttling',
    priority: 1500,
    create(api, operation) {
      const resourceKey = `res|${api.id}|${operation.verb}|${operation.target}`;
      const apiKey = `api|${api.id}`;
      const check = (ctx: RequestContext, key: string, limit: Limit | undefined, code: number, level: string, t: number): LocalReply | undefined => {
        if (limit === undefined) return undefined;
        const d = counter.hit(key, limit, t);
        if (!d.allowed) return throttled(code, level, d, t);
        if (ctx.rateLimit === undefined || d.remaining < ctx.rateLimit.remaining) ctx.rateLimit = d;
        return undefined;
      };
      return {
        access(ctx) {
          const t = now();
          const resource = operation.throttlingPolicy ? data.policy('advanced', operation.throttlingPolicy)?.limit : undefined;
          const apiLevel = api.apiThrottlingPolicy ? data.policy('advanced', api.apiThrottlingPolicy)?.limit : undefined;
          const r = check(ctx, resourceKey, resource, FaultCodes.ResourceThrottled, 'resource', t) ?? check(ctx, apiKey, apiLevel, FaultCodes.ThrottledOut, 'API', t);
          if (r) return r;
          const app = ctx.token?.application;
          if (app === undefined) return undefined; // unsecured operation: no subscription, no application
          const sub = data.subscription(app.id, api.id);
          const tier = sub ? data.policy('subscription', sub.tier) : undefined;
          if (tier) {
            const subKey = `sub|${app.id}|${api.id}`;
            const burst = check(ctx, `burst|${subKey}`, tier.burst, FaultCodes.BurstThrottled, 'burst', t);
            if (burst) return burst;
            const s = check(ctx, subKey, tier.limit, FaultCodes.SubscriptionThrottled, 'subscription', t);
            if (s && tier.stopOnQuotaReach) return s;
          }
          const appTier = data.policy('application', app.tier)?.limit;
          return check(ctx, `app|${app.id}|${ctx.token?.subject ?? ''}`, appTier, FaultCodes.ApplicationThrottled, 'application', t);
        },
        responseHeaders(ctx: RequestContext, headers: OutgoingHttpHeaders) {
          const d = ctx.rateLimit;
          if (d === undefined || headers['x-ratelimit-limit'] !== undefined) return;
          headers['x-ratelimit-limit'] = String(d.limit);
          headers['x-ratelimit-remaining'] = String(d.remaining);
          headers['x-ratelimit-reset'] = String(Math.ceil(d.resetAt / 1000));
        },
      };
    },
  };
}
