/**
 * The lease protocol between gateways and the Traffic Manager, on the event hub's request/reply
 * (`hub.request(LeaseSubject, …)`). A gateway asks for a slice of a key's quota in one window and
 * reports, on every request, how many calls it has admitted for that key in that window so far.
 *
 * @example
 * ```ts
 * const reply = await hub.request<LeaseRequest, LeaseReply>(LeaseSubject, {
 *   key: 'sub|app-1|api-1', limit: 1000, windowMs: 60_000, windowStart: 1767268800000,
 *   want: 50, gatewayId: 'gw-1', used: 12,
 * }, { timeoutMs: 250 });
 * // reply.granted calls more may be admitted by gw-1 for that key in that window
 * ```
 */
export const LeaseSubject = 'throttle.lease';

export interface LeaseRequest {
  /** The counter key (`sub|<app>|<api>`, `api|<api>`, …): counted once cluster-wide. */
  readonly key: string;
  /** Calls allowed per window, cluster-wide. */
  readonly limit: number;
  readonly windowMs: number;
  /** Epoch ms, a multiple of `windowMs` (windows aligned to the epoch, as WSO2's). */
  readonly windowStart: number;
  /** How many calls the gateway would like to be able to admit next; 0 only reports `used`. */
  readonly want: number;
  readonly gatewayId: string;
  /**
   * Calls this gateway admitted for the key in this window so far (cumulative). What it admitted
   * beyond what it was granted (a first-hit allowance, or local limits while the Traffic Manager
   * was unreachable) is added to the window's count, so the rest of the window is exact.
   */
  readonly used: number;
}

export interface LeaseReply {
  /** Calls the gateway may admit on top of what it was granted before (0: none left). */
  readonly granted: number;
  readonly windowStart: number;
  /** Quota of the window not yet leased to any gateway, after this grant. */
  readonly remaining: number;
}
