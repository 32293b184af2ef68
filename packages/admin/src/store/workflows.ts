import { newId } from '@gatehouse/core';
import type { Clock } from '@gatehouse/core';
import type { ApimSchema } from '@gatehouse/data';
import type { Kysely, Selectable } from 'kysely';

type AdminWorkflowsTable = ApimSchema['admin_workflows'];

/** WSO2's workflow types (Admin API `WorkflowInfo.workflowType`). */
export const WorkflowTypes = [
  'APPLICATION_CREATION',
  'SUBSCRIPTION_CREATION',
  'USER_SIGNUP',
  'APPLICATION_REGISTRATION_PRODUCTION',
  'APPLICATION_REGISTRATION_SANDBOX',
  'APPLICATION_DELETION',
  'API_STATE',
  'SUBSCRIPTION_DELETION',
  'SUBSCRIPTION_UPDATE',
  'API_PRODUCT_STATE',
] as const;
export type WorkflowType = (typeof WorkflowTypes)[number];

export const WorkflowStatuses = { Created: 'CREATED', Approved: 'APPROVED', Rejected: 'REJECTED' } as const;
export type WorkflowStatus = (typeof WorkflowStatuses)[keyof typeof WorkflowStatuses];

export interface Workflow {
  id: string;
  tenantId: number;
  /** WSO2's external workflow reference, the id approvers use. */
  referenceId: string;
  workflowType: WorkflowType;
  status: WorkflowStatus;
  /** The id of what the workflow is about (an application, a subscription, a user...). */
  subjectRef: string;
  createdBy: string | null;
  description: string | null;
  properties: Record<string, unknown>;
  /** Attributes given by the approver. */
  attributes: Record<string, string>;
  decisionNote: string | null;
  createdAt: number;
  updatedAt: number;
}

/**
 * Workflows of a tenant (apim database).
 *
 * @example
 * ```ts
 * const wf = await store.create(tenantId, { workflowType: 'SUBSCRIPTION_CREATION', subjectRef: subscriptionId, properties: { apiName } });
 * await store.complete(tenantId, wf.referenceId, 'APPROVED', {}, 'ok'); // false if it was no longer CREATED
 * ```
 */
export interface WorkflowStore {
  create(
    tenantId: number,
    input: { workflowType: WorkflowType; subjectRef: string; referenceId?: string; createdBy?: string | null; description?: string | null; properties?: Record<string, unknown> },
  ): Promise<Workflow>;
  get(tenantId: number, referenceId: string): Promise<Workflow | undefined>;
  /** Newest first; `status` and `workflowType` filter. */
  list(tenantId: number, filter: { status?: WorkflowStatus; workflowType?: WorkflowType; limit: number; offset: number }): Promise<{ items: Workflow[]; total: number }>;
  /**
   * The newest workflow of `type` about each of `subjectRefs`, by subject. A subject can have had
   * several: a sign-up rejected (the user deleted), then made again under the same username.
   */
  latestBySubject(tenantId: number, type: WorkflowType, subjectRefs: readonly string[]): Promise<Map<string, Workflow>>;
  /** Moves a CREATED workflow to APPROVED or REJECTED; false when it was not CREATED (a concurrent decision wins once). */
  complete(tenantId: number, referenceId: string, status: 'APPROVED' | 'REJECTED', attributes: Record<string, string>, note: string | null): Promise<boolean>;
}

function toWorkflow(row: Selectable<AdminWorkflowsTable>): Workflow {
  return {
    id: row.id,
    tenantId: Number(row.tenant_id),
    referenceId: row.reference_id,
    workflowType: row.workflow_type as WorkflowType,
    status: row.status as WorkflowStatus,
    subjectRef: row.subject_ref,
    createdBy: row.created_by,
    description: row.description,
    properties: JSON.parse(row.properties) as Record<string, unknown>,
    attributes: JSON.parse(row.attributes) as Record<string, string>,
    decisionNote: row.decision_note,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

// Bound parameters per `in (...)` list, far below SQLite's and PostgreSQL's limits.
const IN_LIST_CHUNK = 500;

export function createWorkflowStore(db: Kysely<ApimSchema>, clock: Clock): WorkflowStore {
  const table = 'admin_workflows' as const;
  return {
    async create(tenantId, input) {
      const now = clock.now();
      const row: AdminWorkflowsTable = {
        id: newId(),
        tenant_id: tenantId,
        reference_id: input.referenceId ?? newId(),
        workflow_type: input.workflowType,
        status: WorkflowStatuses.Created,
        subject_ref: input.subjectRef,
        created_by: input.createdBy ?? null,
        description: input.description ?? null,
        properties: JSON.stringify(input.properties ?? {}),
        attributes: '{}',
        decision_note: null,
        created_at: now,
        updated_at: now,
      };
      await db.insertInto(table).values(row).execute();
      return toWorkflow(row);
    },
    async get(tenantId, referenceId) {
      const row = await db.selectFrom(table).selectAll().where('tenant_id', '=', tenantId).where('reference_id', '=', referenceId).executeTakeFirst();
      return row && toWorkflow(row);
    },
    async list(tenantId, filter) {
      let query = db.selectFrom(table).where('tenant_id', '=', tenantId);
      if (filter.status) query = query.where('status', '=', filter.status);
      if (filter.workflowType) query = query.where('workflow_type', '=', filter.workflowType);
      const count = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
      const rows = await query.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(filter.limit).offset(filter.offset).execute();
      return { items: rows.map(toWorkflow), total: Number(count?.n ?? 0) };
    },
    async latestBySubject(tenantId, type, subjectRefs) {
      const out = new Map<string, Workflow>();
      for (let i = 0; i < subjectRefs.length; i += IN_LIST_CHUNK) {
        const rows = await db
          .selectFrom(table)
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .where('workflow_type', '=', type)
          .where('subject_ref', 'in', subjectRefs.slice(i, i + IN_LIST_CHUNK))
          .orderBy('created_at')
          .orderBy('id')
          .execute();
        for (const row of rows) out.set(row.subject_ref, toWorkflow(row));
      }
      return out;
    },
    async complete(tenantId, referenceId, status, attributes, note) {
      const result = await db
        .updateTable(table)
        .set({ status, attributes: JSON.stringify(attributes), decision_note: note, updated_at: clock.now() })
        .where('tenant_id', '=', tenantId)
        .where('reference_id', '=', referenceId)
        .where('status', '=', WorkflowStatuses.Created)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}
