import { fault, FaultCodes } from '../faults.ts';
import type { Policy } from '../policy.ts';
import { basePaths, type RuntimeApi } from '../runtime-api.ts';
import type { GatewayData } from '../security/gateway-data.ts';
import { clientAddress } from '../security/ip.ts';

const blocked = fault(403, FaultCodes.Blocked, 'Message blocked', 'You have been blocked from accessing the resource');

/**
 * WSO2's blocking conditions (Admin's deny policies), decided in memory after authentication and
 * before throttling: the API context, the calling application, the client address or the user.
 * The client address is the socket's peer; `X-Forwarded-For` counts only when the gateway is told
 * it sits behind a trusted proxy (`trustForwardedFor`). With no condition in force, one check.
 */
export function createBlockingPolicy(deps: { data: GatewayData; trustForwardedFor?: boolean }): Policy {
  const { data } = deps;
  const trustForwardedFor = deps.trustForwardedFor ?? false;
  return {
    name: 'blocking',
    priority: 1700,
    // One hooks object for every route: the API's contexts are derived on the first call that
    // needs them (only while some API condition is in force).
    shareKey: () => '',
    create() {
      return {
        access(ctx) {
          const rules = data.blocking;
          if (rules.empty) return undefined;
          if (rules.apis.size > 0) for (const c of contextsOf(ctx.api)) if (rules.apis.has(c)) return blocked;
          const token = ctx.token;
          if (token !== undefined) {
            if (token.application !== undefined && rules.applicationBlocked(token.application)) return blocked;
            if (rules.userBlocked(token.subject)) return blocked;
          }
          if (rules.ipRanges.length > 0 && rules.ipBlocked(clientAddress(ctx.req, trustForwardedFor))) return blocked;
          return undefined;
        },
      };
    },
  };
}

const contexts = new WeakMap<RuntimeApi, readonly string[]>();

/** What an API condition may name: the context as published, with its version, unversioned. */
function contextsOf(api: RuntimeApi): readonly string[] {
  let c = contexts.get(api);
  if (c === undefined) contexts.set(api, (c = [...new Set([trimSlash(api.context), ...basePaths(api)])]));
  return c;
}

function trimSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}
