import type { Clock } from '@gatehouse/core';
import type { ApimSchema } from '@gatehouse/data';
import type { Kysely } from 'kysely';

export interface GatewayRegistration {
  gatewayId: string;
  /** Environment names this gateway serves. */
  labels: string[];
  registeredAt: number;
  lastHeartbeat: number;
}

/**
 * Gateways that registered or sent a heartbeat (apim database).
 *
 * @example
 * ```ts
 * await store.heartbeat(tenantId, 'gw-eu-1', ['Default']);
 * const live = (await store.list(tenantId)).filter((g) => g.labels.includes('Default'));
 * ```
 */
export interface GatewayStore {
  /** Registers the gateway, or refreshes its labels and heartbeat. Safe under concurrent calls. */
  heartbeat(tenantId: number, gatewayId: string, labels: readonly string[]): Promise<GatewayRegistration>;
  list(tenantId: number): Promise<GatewayRegistration[]>;
}

export function createGatewayStore(db: Kysely<ApimSchema>, clock: Clock): GatewayStore {
  const table = 'admin_gateways' as const;
  return {
    async heartbeat(tenantId, gatewayId, labels) {
      const now = clock.now();
      const json = JSON.stringify([...labels]);
      await db
        .insertInto(table)
        .values({ tenant_id: tenantId, gateway_id: gatewayId, labels: json, registered_at: now, last_heartbeat: now })
        .onConflict((oc) => oc.columns(['tenant_id', 'gateway_id']).doUpdateSet({ labels: json, last_heartbeat: now }))
        .execute();
      const row = await db.selectFrom(table).selectAll().where('tenant_id', '=', tenantId).where('gateway_id', '=', gatewayId).executeTakeFirstOrThrow();
      return { gatewayId, labels: JSON.parse(row.labels) as string[], registeredAt: Number(row.registered_at), lastHeartbeat: Number(row.last_heartbeat) };
    },
    async list(tenantId) {
      const rows = await db.selectFrom(table).selectAll().where('tenant_id', '=', tenantId).orderBy('gateway_id').execute();
      return rows.map((r) => ({ gatewayId: r.gateway_id, labels: JSON.parse(r.labels) as string[], registeredAt: Number(r.registered_at), lastHeartbeat: Number(r.last_heartbeat) }));
    },
  };
}
