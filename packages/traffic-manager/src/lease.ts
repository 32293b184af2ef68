import type { LeaseReply, LeaseRequest } from './protocol.ts';

/** What the Traffic Manager knows of one key in one window. Plain JSON: it is stored as is. */
export interface WindowState {
  readonly limit: number;
  readonly windowStart: number;
  readonly windowMs: number;
  /** Calls leased (or accounted after the fact) to every gateway together. */
  readonly granted: number;
  /** Per gateway: leased to it, admitted by it as it last reported, and the run (session) that asked. */
  readonly gateways: Readonly<Record<string, { readonly granted: number; readonly used: number; readonly session?: string }>>;
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
 * `reached` is true for the one request that takes the window's count to the limit.
 */
export function applyLease(state: WindowState | undefined, req: LeaseRequest, a: LeaseArithmetic, now: number): { state: WindowState | undefined; reply: LeaseReply; reached: boolean } {
  // A window already over (or a request for one not yet begun, beyond one window of clock skew)
  // gets nothing and changes nothing.
  if (req.windowStart + req.windowMs <= now || req.windowStart > now + req.windowMs) {
    return { state, reply: { granted: 0, windowStart: req.windowStart, remaining: 0 }, reached: false };
  }
  const base: WindowState = state ?? { limit: req.limit, windowStart: req.windowStart, windowMs: req.windowMs, granted: 0, gateways: {} };
  const gw = base.gateways[req.gatewayId] ?? { granted: 0, used: 0 };
  const used = Math.max(gw.used, req.used);
  // Granted before, never received (its reply was lost): sent again, not counted again.
  const resend = req.granted !== undefined && (gw.session === undefined || gw.session === req.session) ? Math.max(0, gw.granted - Math.max(req.granted, req.used)) : 0;
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
    gateways: { ...base.gateways, [req.gatewayId]: req.session === undefined ? { granted: gw.granted + accounted + slice, used } : { granted: gw.granted + accounted + slice, used, session: req.session } },
  };
  // `reached`: this request leased (or accounted) the window's last call: the one moment to tell
  // every gateway, once, that the key is spent until the window ends.
  return { state: next, reply: { granted: resend + slice, windowStart: req.windowStart, remaining: remaining - slice }, reached: base.granted < limit && next.granted >= limit };
}
