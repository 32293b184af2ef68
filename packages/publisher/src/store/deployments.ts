import type { Kysely } from 'kysely';
import type { ApimSchema } from '@gatehouse/data';

export type RevisionRow = ApimSchema['api_revisions'];
export type DeploymentRow = ApimSchema['api_deployments'];
export type AckRow = ApimSchema['api_deployment_acks'];
export type ArtifactRow = ApimSchema['runtime_artifacts'];
export type HistoryRow = ApimSchema['api_lifecycle_history'];
export type ScopeRow = ApimSchema['shared_scopes'];

/**
 * Lifecycle history, revisions, deployments (with per-gateway acknowledgements), runtime
 * artifacts and shared scopes (apim database). Every query is scoped by tenant id.
 */
export const deploymentStore = {
  async addHistory(db: Kysely<ApimSchema>, row: HistoryRow): Promise<void> {
    await db.insertInto('api_lifecycle_history').values(row).execute();
  },

  async history(db: Kysely<ApimSchema>, tenantId: number, apiId: string): Promise<HistoryRow[]> {
    return db.selectFrom('api_lifecycle_history').selectAll().where('tenant_id', '=', tenantId).where('api_id', '=', apiId).orderBy('created_at').orderBy('id').execute();
  },

  async revisions(db: Kysely<ApimSchema>, tenantId: number, apiId: string): Promise<RevisionRow[]> {
    return db.selectFrom('api_revisions').selectAll().where('tenant_id', '=', tenantId).where('api_id', '=', apiId).orderBy('revision_number').execute();
  },

  async revision(db: Kysely<ApimSchema>, tenantId: number, apiId: string, id: string): Promise<RevisionRow | undefined> {
    return db.selectFrom('api_revisions').selectAll().where('tenant_id', '=', tenantId).where('api_id', '=', apiId).where('id', '=', id).executeTakeFirst();
  },

  async nextRevisionNumber(db: Kysely<ApimSchema>, tenantId: number, apiId: string): Promise<number> {
    const row = await db
      .selectFrom('api_revisions')
      .select((eb) => eb.fn.max<number>('revision_number').as('n'))
      .where('tenant_id', '=', tenantId)
      .where('api_id', '=', apiId)
      .executeTakeFirst();
    return Number(row?.n ?? 0) + 1;
  },

  async insertRevision(db: Kysely<ApimSchema>, row: RevisionRow): Promise<void> {
    await db.insertInto('api_revisions').values(row).execute();
  },

  async deleteRevision(db: Kysely<ApimSchema>, tenantId: number, id: string): Promise<void> {
    await db.deleteFrom('runtime_artifacts').where('tenant_id', '=', tenantId).where('revision_id', '=', id).execute();
    await db.deleteFrom('api_revisions').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },

  /** By environment; with `onDevportal`, only the deployments marked to show on the Developer Portal. */
  async deployments(db: Kysely<ApimSchema>, tenantId: number, apiId: string, filter: { onDevportal?: boolean } = {}): Promise<DeploymentRow[]> {
    let q = db.selectFrom('api_deployments').selectAll().where('tenant_id', '=', tenantId).where('api_id', '=', apiId);
    if (filter.onDevportal) q = q.where('display_on_devportal', '=', 1);
    return q.orderBy('environment').execute();
  },

  async acks(db: Kysely<ApimSchema>, tenantId: number, deploymentIds: readonly string[]): Promise<AckRow[]> {
    if (deploymentIds.length === 0) return [];
    return db.selectFrom('api_deployment_acks').selectAll().where('tenant_id', '=', tenantId).where('deployment_id', 'in', deploymentIds).orderBy('gateway_id').execute();
  },

  /** The acknowledgements with the last heartbeat of their gateway (null: it never registered, or is gone from the registry). */
  async acksWithHeartbeat(db: Kysely<ApimSchema>, tenantId: number, deploymentIds: readonly string[]): Promise<(AckRow & { last_heartbeat: number | null })[]> {
    if (deploymentIds.length === 0) return [];
    const rows = await db
      .selectFrom('api_deployment_acks as a')
      .leftJoin('admin_gateways as g', (j) => j.onRef('g.tenant_id', '=', 'a.tenant_id').onRef('g.gateway_id', '=', 'a.gateway_id'))
      .selectAll('a')
      .select('g.last_heartbeat')
      .where('a.tenant_id', '=', tenantId)
      .where('a.deployment_id', 'in', deploymentIds)
      .orderBy('a.gateway_id')
      .execute();
    return rows.map((r) => ({ ...r, last_heartbeat: r.last_heartbeat === null ? null : Number(r.last_heartbeat) }));
  },

  /** Replaces whatever revision of the API was deployed to the environment. */
  async putDeployment(db: Kysely<ApimSchema>, row: DeploymentRow): Promise<void> {
    await db.deleteFrom('api_deployments').where('tenant_id', '=', row.tenant_id).where('api_id', '=', row.api_id).where('environment', '=', row.environment).execute();
    await db.insertInto('api_deployments').values(row).execute();
  },

  async deleteDeployment(db: Kysely<ApimSchema>, tenantId: number, id: string): Promise<void> {
    await db.deleteFrom('api_deployment_acks').where('tenant_id', '=', tenantId).where('deployment_id', '=', id).execute();
    await db.deleteFrom('api_deployments').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },

  /** A gateway's latest outcome of a deployment; an upsert, as every control-plane replica records every acknowledgement, at once. */
  async putAck(db: Kysely<ApimSchema>, row: AckRow): Promise<void> {
    await db
      .insertInto('api_deployment_acks')
      .values(row)
      .onConflict((oc) => oc.columns(['deployment_id', 'gateway_id']).doUpdateSet({ status: row.status, message: row.message, acked_at: row.acked_at }))
      .execute();
  },

  async putArtifact(db: Kysely<ApimSchema>, row: ArtifactRow): Promise<void> {
    await db.deleteFrom('runtime_artifacts').where('revision_id', '=', row.revision_id).execute();
    await db.insertInto('runtime_artifacts').values(row).execute();
  },

  /** The artifacts deployed to an environment (optionally one API's), with their deployment. */
  async deployedArtifacts(db: Kysely<ApimSchema>, tenantId: number, environment: string | undefined, apiId: string | undefined) {
    let q = db
      .selectFrom('api_deployments')
      .innerJoin('runtime_artifacts', 'runtime_artifacts.revision_id', 'api_deployments.revision_id')
      .innerJoin('apis', 'apis.id', 'api_deployments.api_id')
      .select([
        'api_deployments.environment', 'api_deployments.vhost', 'api_deployments.api_id', 'api_deployments.revision_id',
        'runtime_artifacts.artifact', 'runtime_artifacts.checksum', 'apis.lifecycle_status',
      ])
      .where('api_deployments.tenant_id', '=', tenantId);
    if (environment !== undefined) q = q.where('api_deployments.environment', '=', environment);
    if (apiId !== undefined) q = q.where('api_deployments.api_id', '=', apiId);
    return q.orderBy('api_deployments.api_id').orderBy('api_deployments.environment').execute();
  },

  async listScopes(db: Kysely<ApimSchema>, tenantId: number, page: { limit: number; offset: number }): Promise<{ items: ScopeRow[]; total: number }> {
    const q = db.selectFrom('shared_scopes').where('tenant_id', '=', tenantId);
    const [items, count] = await Promise.all([
      q.selectAll().orderBy('name').limit(page.limit).offset(page.offset).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(count.n) };
  },

  async getScope(db: Kysely<ApimSchema>, tenantId: number, id: string): Promise<ScopeRow | undefined> {
    return db.selectFrom('shared_scopes').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  },

  async getScopeByName(db: Kysely<ApimSchema>, tenantId: number, name: string): Promise<ScopeRow | undefined> {
    return db.selectFrom('shared_scopes').selectAll().where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
  },

  async insertScope(db: Kysely<ApimSchema>, row: ScopeRow): Promise<void> {
    await db.insertInto('shared_scopes').values(row).execute();
  },

  async updateScope(db: Kysely<ApimSchema>, row: ScopeRow): Promise<void> {
    await db
      .updateTable('shared_scopes')
      .set({ display_name: row.display_name, description: row.description, bindings: row.bindings, updated_at: row.updated_at })
      .where('tenant_id', '=', row.tenant_id)
      .where('id', '=', row.id)
      .execute();
  },

  async deleteScope(db: Kysely<ApimSchema>, tenantId: number, id: string): Promise<boolean> {
    const res = await db.deleteFrom('shared_scopes').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) === 1;
  },
};
