import { sql } from 'kysely';
import { SUPER_TENANT_ID } from '@gatehouse/core';
import type { KmContext } from './context.ts';

/**
 * Brute-force protection (RFC 6749 §2.3.1, §4.3.2): failed client authentications are counted per
 * `client:<id>|<ip>` and failed passwords per `user:<name>|<ip>` in the apim database, so every
 * replica sees them. Past `lockout_threshold` failures within `lockout_window_ms`, the pair is
 * refused for `lockout_ms` with the same answer as a wrong secret; the same client from another
 * address is not affected (K16). Other components (the Developer Portal's map-keys) use the same
 * table with keys of their own prefix, so their lockouts are shared by every replica too.
 */
export interface AttemptLimiter {
  /** Whether any of the keys is locked out now. */
  locked(keys: readonly string[]): Promise<boolean>;
  /** When the latest lockout of the keys ends (epoch ms), or 0 when none is locked out now. */
  lockedUntil(keys: readonly string[]): Promise<number>;
  /**
   * Counts a failure; locks the key when it reaches `threshold` (default `lockout_threshold`).
   * Resolves true when this failure started a lockout (once per lockout, across replicas: the
   * counter is reset as the lock is set), so a caller can log it once.
   */
  fail(key: string, threshold?: number): Promise<boolean>;
  /** Forgets the failures of a key after a success. */
  succeed(key: string): Promise<void>;
}

const CLEAN_RECHECK_MS = 1000;

export function createAttemptLimiter(ctx: KmContext): AttemptLimiter {
  const db = ctx.databases.apim;
  const { lockout_threshold: defaultThreshold, lockout_window_ms: windowMs, lockout_ms: lockoutMs } = ctx.config.key_manager;
  // Keys with a row, so a success only writes when there was a failure before.
  const known = new Set<string>();
  // Keys seen clean recently: a lockout set by another replica is seen within CLEAN_RECHECK_MS;
  // one set here (fail) at once.
  const clean = new Map<string, number>();
  const lockedUntil = async (keys: readonly string[]): Promise<number> => {
    const now = ctx.clock.now();
    const unknown = keys.filter((k) => !(now - (clean.get(k) ?? -Infinity) < CLEAN_RECHECK_MS));
    if (unknown.length === 0) return 0;
    const rows = await db.selectFrom('km_failed_attempts').select(['key', 'locked_until']).where('key', 'in', unknown).execute();
    for (const r of rows) known.add(r.key);
    if (clean.size >= 50_000) clean.clear();
    for (const k of unknown) if (!rows.some((r) => r.key === k)) clean.set(k, now);
    const until = Math.max(0, ...rows.map((r) => Number(r.locked_until)));
    return until > now ? until : 0;
  };
  return {
    lockedUntil,
    async locked(keys) {
      return (await lockedUntil(keys)) > 0;
    },
    async fail(key, threshold = defaultThreshold) {
      const now = ctx.clock.now();
      const windowStart = now - windowMs;
      known.add(key);
      clean.delete(key);
      await db
        .insertInto('km_failed_attempts')
        .values({ tenant_id: SUPER_TENANT_ID, key, count: 1, window_start: now, locked_until: 0 })
        .onConflict((oc) =>
          oc.columns(['tenant_id', 'key']).doUpdateSet({
            count: sql<number>`case when km_failed_attempts.window_start < ${windowStart} then 1 else km_failed_attempts.count + 1 end`,
            window_start: sql<number>`case when km_failed_attempts.window_start < ${windowStart} then ${now} else km_failed_attempts.window_start end`,
          }),
        )
        .execute();
      const [locked] = await db
        .updateTable('km_failed_attempts')
        .set({ locked_until: now + lockoutMs, count: 0, window_start: now })
        .where('tenant_id', '=', SUPER_TENANT_ID)
        .where('key', '=', key)
        .where('count', '>=', threshold)
        .execute();
      return Number(locked?.numUpdatedRows ?? 0) > 0;
    },
    async succeed(key) {
      if (!known.has(key)) return;
      known.delete(key);
      await db.deleteFrom('km_failed_attempts').where('key', '=', key).where('locked_until', '<=', ctx.clock.now()).execute();
    },
  };
}
