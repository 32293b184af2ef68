import type { LeaseReply, LeaseRequest } from './protocol.ts';

/** What the Traffic Manager knows of one key in one window. Plain JSON: it is stored as is. */
export interface WindowState {
  readonly limit: number;
  readonly windowStart: number;
  readonly windowMs: number;
  /** Calls leased (or accounted after the fact) to every gateway together. */
  readonly granted: number;
  /** Per gateway: leased to it, and admitted by it as it last reported. */
  readonly gateways: Readonly<Record<string, { readonly granted: number; readonly used: number }>>;
}

export interface LeaseArithmetic {
  /** Slices are `remaining / (slicing · liveGateways)`: the larger, the smaller the slices. */
  readonly slicing: number;
  /** Gateways currently asking for quota (at least 1). */
  readonly liveGateways: number;
}

/**
 * One lease request against a window's state: the pure arithmetic every store applies (under a
 * compare-and-set when the state is shared). Never grants beyond `limit - granted`; slices shrink
 * as the window fills, down to 1, so the last calls of a window are spread one at a time.
 */
export function applyLease(state: WindowState | undefined, req: LeaseRequest, a: LeaseArithmetic, now: number): { state: WindowState | undefined; reply: LeaseReply } {
  // A window already over (or a request for one not yet begun, beyond one window of clock skew)
  // gets nothing and changes nothing.
  if (req.windowStart + req.windowMs <= now || req.windowStart > now + req.windowMs) {
    return { state, reply: { granted: 0, windowStart: req.windowStart, remaining: 0 } };
  }
  const base: WindowState = state ?? { limit: req.limit, windowStart: req.windowStart, windowMs: req.windowMs, granted: 0, gateways: {} };
  const gw = base.gateways[req.gatewayId] ?? { granted: 0, used: 0 };
  const used = Math.max(gw.used, req.used);
  // Admitted without a lease (first-hit allowance, fallback): counted now, even past the limit.
  const accounted = Math.max(0, used - gw.granted);
  const limit = Math.min(base.limit, req.limit);
  const before = base.granted + accounted;
  const remaining = Math.max(0, limit - before);
  const slice = remaining === 0 || req.want <= 0 ? 0 : Math.min(req.want, Math.max(1, Math.floor(remaining / (a.slicing * Math.max(1, a.liveGateways)))));
  const next: WindowState = {
    limit,
    windowStart: base.windowStart,
    windowMs: base.windowMs,
    granted: before + slice,
    gateways: { ...base.gateways, [req.gatewayId]: { granted: gw.granted + accounted + slice, used } },
  };
  return { state: next, reply: { granted: slice, windowStart: req.windowStart, remaining: remaining - slice } };
}
