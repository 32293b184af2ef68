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
  /**
   * Calls this gateway was granted for the key in this window so far, as it knows from the
   * replies it got (cumulative, including what the Traffic Manager accounted). When the Traffic
   * Manager granted more (a reply was lost: a replica died under the request, or the request
   * timed out and was sent again), the difference is granted again in this reply: quota reaches a
   * gateway exactly once, and none is stranded.
   */
  readonly granted?: number;
  /** This gateway process's run (random at start): a restarted gateway is not sent again what its previous run was granted. */
  readonly session?: string;
}

export interface LeaseReply {
  /** Calls the gateway may admit on top of what it was granted before (0: none left). */
  readonly granted: number;
  readonly windowStart: number;
  /** Quota of the window not yet leased to any gateway, after this grant. */
  readonly remaining: number;
}

/**
 * The event type of a throttle decision on `Topics.ThrottleData` (WSO2's throttle decision
 * stream): a key's quota for a window is spent, so every gateway refuses it until `until` without
 * asking. Published once per key and window, by the replica whose lease spent the last call.
 *
 * @example
 * ```ts
 * await hub.subscribe<ThrottleDecision>(Topics.ThrottleData, (e) => {
 *   if (e.type === ThrottleDecisionType) counter.decide(e.payload);
 * });
 * ```
 */
export const ThrottleDecisionType = 'THROTTLE_DECISION';

export interface ThrottleDecision {
  readonly key: string;
  readonly windowStart: number;
  readonly windowMs: number;
  /** Epoch ms the window ends: refuse the key until then. */
  readonly until: number;
  /** Epoch ms the Traffic Manager saw the limit reached (to measure propagation). */
  readonly reachedAt: number;
}
