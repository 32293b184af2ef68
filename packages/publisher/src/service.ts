import { CoreErrors, newId } from '@gatehouse/core';
import type { Clock, ServerKeys } from '@gatehouse/core';
import type { Databases, Repositories, ApimSchema, SharedSchema } from '@gatehouse/data';
import { DataErrors } from '@gatehouse/data';
import { Topics } from '@gatehouse/events';
import type { EventHub } from '@gatehouse/events';
import type { Kysely } from 'kysely';
import { compileArtifact } from './artifact.ts';
import type { RuntimeArtifact } from './artifact.ts';
import { PublisherErrors } from './errors.ts';
import { CheckItems, LifecycleStates, etagOf, lifecycleTransitions, splitBody, stateLabel, toApiDto, withDefaults } from './model.ts';
import type { ApiBody, LifecycleState } from './model.ts';
import { definitionFromOperations, operationsFromDefinition } from './openapi.ts';
import type { ApiOperation, ParsedDefinition } from './openapi.ts';
import { checkOperationPolicies } from './operation-policies.ts';
import { apiStore } from './store/apis.ts';
import type { ApiRecord, ApiSearch } from './store/apis.ts';
import { deploymentStore } from './store/deployments.ts';
import type { DeploymentRow, RevisionRow } from './store/deployments.ts';
import { registryStore } from './store/registry.ts';

/** What the Publisher's logic needs: structurally a subset of the CLI's `ComponentDeps`. */
export interface PublisherServiceDeps {
  readonly databases: Pick<Databases, 'apim' | 'shared'>;
  readonly repositories: Pick<Repositories, 'gatewayEnvironments'>;
  readonly keys: ServerKeys;
  readonly hub: Pick<EventHub, 'publish'>;
  readonly clock: Clock;
  /** `admin_api.gateway_expiry_ms`: a gateway heard from within it counts in `liveGatewayCount` (default 90 s). */
  readonly gatewayExpiryMs?: number;
}

/** Who is acting: the token's user and tenant. */
export interface Actor {
  username: string;
  tenantId: number;
}

export const MAX_REVISIONS = 5;

/** Event types on `Topics.Notification` (WSO2's notification event names). */
export const PublisherEvents = {
  LifecycleChange: 'API_LIFECYCLE_CHANGE',
  Deploy: 'DEPLOY_API_IN_GATEWAY',
  Remove: 'REMOVE_API_FROM_GATEWAY',
  Create: 'API_CREATE',
  Update: 'API_UPDATE',
  Delete: 'API_DELETE',
} as const;

interface Snapshot {
  api: ApiRecord;
  definition: string | null;
}

const notFound = (apiId: string) => PublisherErrors.create('PUB_ERR_API_NOT_FOUND', { description: `No API with id ${apiId}` });

/** `/pets/{version}` with 1.0 → `/pets/1.0`; `/pets` with 1.0 → `/pets/1.0`: the path a gateway serves. */
export function effectiveContext(context: string, version: string): string {
  return context.includes('{version}') ? context.replace('{version}', version) : `${context}/${version}`;
}

export function normalizeContext(context: string): string {
  const c = context.trim().replace(/\/+$/, '');
  if (!c.startsWith('/') || c.length < 2) {
    throw PublisherErrors.create('PUB_ERR_INVALID_CONTEXT', { description: `The context "${context}" must start with "/" and name a path`, details: [{ field: 'context', message: 'must start with /' }] });
  }
  if (!/^\/[A-Za-z0-9_.~\-/{}]*$/.test(c) || c.includes('//')) {
    throw PublisherErrors.create('PUB_ERR_INVALID_CONTEXT', { description: `The context "${context}" has characters a URL path cannot carry` });
  }
  const templates = c.match(/\{[^}]*\}/g) ?? [];
  if (templates.some((t) => t !== '{version}') || templates.length > 1) {
    throw PublisherErrors.create('PUB_ERR_INVALID_CONTEXT', { description: `The context "${context}" may hold the template {version} once, and no other template` });
  }
  return c;
}

/** The keys of WSO2's search syntax. */
export type QueryKey = 'name' | 'context' | 'version' | 'provider' | 'status' | 'tag' | 'description';

/**
 * WSO2's search syntax: `name:pet tag:"x y" status:PUBLISHED free words`; a quoted value matches
 * exactly. `aliases` adds other spellings of a key (the Developer Portal also takes `tags:`).
 */
export function parseQuery(query: string | undefined, options: { aliases?: Readonly<Record<string, QueryKey>> } = {}): ApiSearch {
  const s: ApiSearch = {};
  const exact = new Set<string>();
  const free: string[] = [];
  const re = /(\w+):("([^"]*)"|\S+)|"([^"]*)"|(\S+)/g;
  const known = new Map<string, QueryKey>((['name', 'context', 'version', 'provider', 'status', 'tag', 'description'] as const).map((k) => [k, k]));
  for (const [alias, key] of Object.entries(options.aliases ?? {})) known.set(alias.toLowerCase(), key);
  for (const m of (query ?? '').matchAll(re)) {
    const key = m[1] === undefined ? undefined : known.get(m[1].toLowerCase());
    if (key) {
      s[key] = m[3] ?? m[2]!;
      if (m[3] !== undefined) exact.add(key);
    } else {
      free.push(m[4] ?? m[5] ?? m[0]);
    }
  }
  if (free.length > 0) s.text = free.join(' ');
  s.exact = exact;
  return s;
}

export function createPublisherService(deps: PublisherServiceDeps) {
  const { databases: dbs, keys, hub, clock } = deps;
  const sameDb = (dbs.apim as unknown) === (dbs.shared as unknown);

  /**
   * One write, one transaction per database: the shared-database transaction runs (and commits)
   * inside the apim one, so a failure anywhere before the end rolls both back. (Two databases
   * cannot commit atomically; the apim commit is the last step and rarely fails alone.)
   */
  const write = <T>(fn: (apim: Kysely<ApimSchema>, shared: Kysely<SharedSchema>) => Promise<T>): Promise<T> =>
    dbs.apim.transaction().execute((apim) => (sameDb ? fn(apim, apim as unknown as Kysely<SharedSchema>) : dbs.shared.transaction().execute((shared) => fn(apim, shared))));

  const load = async (tenantId: number, apiId: string, db: Kysely<ApimSchema> = dbs.apim): Promise<ApiRecord> => {
    const r = await apiStore.get(db, tenantId, apiId);
    if (!r) throw notFound(apiId);
    return r;
  };

  const checkIfMatch = (r: ApiRecord, ifMatch: string | undefined) => {
    if (ifMatch === undefined || ifMatch.trim() === '*') return;
    const tags = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, ''));
    if (!tags.includes(etagOf(r))) throw PublisherErrors.create('PUB_ERR_PRECONDITION_FAILED', { description: `If-Match ${ifMatch} does not match the current ETag ${etagOf(r)}` });
  };

  const assertUnique = async (db: Kysely<ApimSchema>, tenantId: number, context: string, version: string, exceptId?: string) => {
    const candidates = context.includes('{version}')
      ? [context, context.replace('/{version}', '')]
      : [context, `${context}/{version}`];
    for (const c of candidates) {
      if (await apiStore.contextTaken(db, tenantId, c, version, exceptId)) {
        throw PublisherErrors.create('PUB_ERR_API_EXISTS', { description: `Another API already serves ${effectiveContext(context, version)}` });
      }
    }
  };

  const mapUnique = (err: unknown): never => {
    if (DataErrors.is(err, 'DATA_ERR_UNIQUE_VIOLATION')) throw PublisherErrors.create('PUB_ERR_API_EXISTS', { description: 'An API with this name and version, or context and version, exists', cause: err });
    throw err;
  };

  const notify = async (type: string, tenantId: number, payload: Record<string, unknown>) => {
    await hub.publish(Topics.Notification, type, payload, { tenantId });
  };

  const buildRecord = (actor: Actor, raw: ApiBody, base: ApiRecord | undefined, now: number): ApiRecord => {
    // WSO2 fills an operation's missing auth type, tier and scopes with its defaults.
    const input: ApiBody = raw.operations
      ? { ...raw, operations: raw.operations.map((o) => ({ ...o, authType: o.authType ?? 'Application & Application User', throttlingPolicy: o.throttlingPolicy ?? 'Unlimited', scopes: o.scopes ?? [] })) }
      : raw;
    const merged = base ? input : (withDefaults(input) as ApiBody);
    const { body, endpointSecurity } = splitBody(merged, keys, base?.endpointSecurity ?? null);
    if (base && !('endpointConfig' in input)) {
      body.endpointConfig = base.body.endpointConfig;
    }
    return {
      id: base?.id ?? newId(),
      tenantId: actor.tenantId,
      name: input.name ?? base!.name,
      context: normalizeContext(input.context ?? base!.context),
      version: input.version ?? base!.version,
      provider: base?.provider ?? input.provider ?? actor.username,
      type: input.type ?? base?.type ?? 'HTTP',
      lifeCycleStatus: base?.lifeCycleStatus ?? LifecycleStates.Created,
      description: input.description ?? base?.description ?? null,
      visibility: input.visibility ?? base?.visibility ?? 'PUBLIC',
      isDefaultVersion: input.isDefaultVersion ?? base?.isDefaultVersion ?? false,
      tags: input.tags ?? base?.tags ?? [],
      body: base ? { ...base.body, ...body } : body,
      endpointSecurity: endpointSecurity ?? (base && !('endpointConfig' in input) ? base.endpointSecurity : null),
      createdAt: base?.createdAt ?? now,
      updatedAt: now,
      rowVersion: (base?.rowVersion ?? 0) + 1,
    };
  };

  /** Only one default version per API name and provider. */
  const clearOtherDefaults = async (db: Kysely<ApimSchema>, r: ApiRecord) => {
    if (!r.isDefaultVersion) return;
    for (const other of await apiStore.versionsOf(db, r.tenantId, r.name, r.provider)) {
      if (other.id !== r.id && other.isDefaultVersion) {
        await apiStore.update(db, { ...other, isDefaultVersion: false, rowVersion: other.rowVersion + 1, updatedAt: clock.now() }, other.rowVersion);
      }
    }
  };

  const createApi = async (actor: Actor, input: ApiBody, definition?: ParsedDefinition): Promise<ApiRecord> => {
    checkOperationPolicies(input.operations);
    const now = clock.now();
    const ops: ApiOperation[] | undefined = input.operations ?? (definition ? operationsFromDefinition(definition.document) : undefined);
    const record = buildRecord(actor, { ...input, ...(ops ? { operations: ops } : {}) }, undefined, now);
    const defText = JSON.stringify(definition?.document ?? definitionFromOperations(record, (record.body.operations as ApiOperation[]) ?? []));
    await write(async (apim, shared) => {
      await assertUnique(apim, actor.tenantId, record.context, record.version);
      await apiStore.insert(apim, record).catch(mapUnique);
      await clearOtherDefaults(apim, record);
      await deploymentStore.addHistory(apim, { id: newId(), tenant_id: actor.tenantId, api_id: record.id, previous_state: null, post_state: record.lifeCycleStatus, username: actor.username, created_at: now });
      await registryStore.putDefinition(shared, actor.tenantId, record.id, defText, now);
    });
    await notify(PublisherEvents.Create, actor.tenantId, { apiId: record.id, name: record.name, version: record.version, context: record.context });
    return record;
  };

  const revisionDto = (rev: RevisionRow, deployments: DeploymentRow[]) => ({
    id: rev.id,
    displayName: `Revision ${rev.revision_number}`,
    description: rev.description ?? '',
    createdTime: String(rev.created_at),
    apiInfo: { id: rev.api_id },
    deploymentInfo: deployments.filter((d) => d.revision_id === rev.id).map((d) => deploymentDto(d, [])),
  });

  /**
   * `deployedGatewayCount` and `failedGatewayCount` count every gateway that acknowledged (a
   * restarted one under a new id too); `liveGatewayCount`, those deployed and heard from within
   * `gatewayExpiryMs` (its heartbeat, every 10 s).
   */
  const deploymentDto = (d: DeploymentRow, acks: { deployment_id: string; status: string; last_heartbeat?: number | null }[]) => {
    const mine = acks.filter((a) => a.deployment_id === d.id);
    const deployed = mine.filter((a) => a.status === 'DEPLOYED');
    const liveSince = clock.now() - (deps.gatewayExpiryMs ?? 90_000);
    const live = deployed.filter((a) => a.last_heartbeat != null && a.last_heartbeat >= liveSince).length;
    const failed = mine.filter((a) => a.status === 'FAILED').length;
    return {
      revisionUuid: d.revision_id,
      name: d.environment,
      vhost: d.vhost,
      displayOnDevportal: Number(d.display_on_devportal) === 1,
      deployedTime: String(d.deployed_at),
      ...(d.success_deployed_at !== null ? { successDeployedTime: String(d.success_deployed_at) } : {}),
      status: d.status,
      liveGatewayCount: live,
      deployedGatewayCount: deployed.length,
      failedGatewayCount: failed,
    };
  };

  return {
    etagOf,
    toDto: (r: ApiRecord) => toApiDto(r, keys),

    get: (tenantId: number, apiId: string) => load(tenantId, apiId),

    /** WSO2's `sortBy` (apiName, version, createdTime, status) and `sortOrder` (asc, desc). */
    search: (tenantId: number, query: string | undefined, page: { limit: number; offset: number }, sortBy?: string, sortOrder?: string) => {
      const columns: Record<string, 'name' | 'version' | 'created_at' | 'lifecycle_status'> = { apiName: 'name', version: 'version', createdTime: 'created_at', status: 'lifecycle_status' };
      const by = (sortBy !== undefined && Object.hasOwn(columns, sortBy) ? columns[sortBy] : undefined) ?? 'created_at';
      const direction = sortOrder === 'asc' || sortOrder === 'desc' ? sortOrder : by === 'created_at' ? 'desc' : 'asc';
      return apiStore.search(dbs.apim, tenantId, parseQuery(query), page, { by, direction });
    },

    createApi,

    async updateApi(actor: Actor, apiId: string, input: ApiBody, ifMatch: string | undefined): Promise<ApiRecord> {
      checkOperationPolicies(input.operations);
      const now = clock.now();
      const updated = await write(async (apim) => {
        const base = await load(actor.tenantId, apiId, apim);
        checkIfMatch(base, ifMatch);
        // As WSO2: a new version is a copy (copy-api), and the name stays; provider and lifecycle status are ignored here.
        for (const field of ['name', 'version'] as const) {
          if (input[field] !== undefined && input[field] !== base[field]) {
            throw CoreErrors.create('CORE_ERR_VALIDATION', {
              message: 'Bad Request',
              description: `The API ${field} cannot be changed (it is "${base[field]}")${field === 'version' ? '; create a new version with POST /apis/copy-api' : ''}`,
              details: [{ field: `body.${field}`, message: 'cannot be changed' }],
            });
          }
        }
        const record = buildRecord(actor, input, base, now);
        await assertUnique(apim, actor.tenantId, record.context, record.version, record.id);
        const ok = await apiStore.update(apim, record, base.rowVersion).catch(mapUnique);
        if (!ok) throw PublisherErrors.create('PUB_ERR_PRECONDITION_FAILED', { description: 'The API changed while it was being updated; read it again' });
        await clearOtherDefaults(apim, record);
        return record;
      });
      await notify(PublisherEvents.Update, actor.tenantId, { apiId, name: updated.name, version: updated.version });
      return updated;
    },

    async deleteApi(actor: Actor, apiId: string, ifMatch: string | undefined): Promise<void> {
      const environments = await write(async (apim, shared) => {
        const base = await load(actor.tenantId, apiId, apim);
        checkIfMatch(base, ifMatch);
        // WSO2 refuses to delete an API that applications are subscribed to (the Developer Portal's table).
        const subscribed = await apim.selectFrom('dp_subscriptions').select('id').where('tenant_id', '=', actor.tenantId).where('api_id', '=', apiId).limit(1).executeTakeFirst();
        if (subscribed) throw PublisherErrors.create('PUB_ERR_API_IN_USE', { description: `API ${apiId} has subscriptions; unsubscribe them or retire the API instead` });
        const deployments = await deploymentStore.deployments(apim, actor.tenantId, apiId);
        for (const d of deployments) await deploymentStore.deleteDeployment(apim, actor.tenantId, d.id);
        for (const rev of await deploymentStore.revisions(apim, actor.tenantId, apiId)) await deploymentStore.deleteRevision(apim, actor.tenantId, rev.id);
        await apim.deleteFrom('api_lifecycle_history').where('tenant_id', '=', actor.tenantId).where('api_id', '=', apiId).execute();
        await apiStore.delete(apim, actor.tenantId, apiId);
        await registryStore.deleteApi(shared, actor.tenantId, apiId);
        return deployments.map((d) => d.environment);
      });
      if (environments.length > 0) await notify(PublisherEvents.Remove, actor.tenantId, { apiId, revisionId: null, environments });
      await notify(PublisherEvents.Delete, actor.tenantId, { apiId });
    },

    async getDefinition(tenantId: number, apiId: string): Promise<string> {
      await load(tenantId, apiId);
      return (await registryStore.getDefinition(dbs.shared, tenantId, apiId)) ?? '{}';
    },

    /** Replaces the definition and regenerates the operations from it (WSO2 does the same). */
    async putDefinition(actor: Actor, apiId: string, definition: ParsedDefinition, ifMatch: string | undefined): Promise<string> {
      const now = clock.now();
      const text = JSON.stringify(definition.document);
      await write(async (apim, shared) => {
        const base = await load(actor.tenantId, apiId, apim);
        checkIfMatch(base, ifMatch);
        const record = { ...base, body: { ...base.body, operations: operationsFromDefinition(definition.document) }, updatedAt: now, rowVersion: base.rowVersion + 1 };
        if (!(await apiStore.update(apim, record, base.rowVersion))) throw PublisherErrors.create('PUB_ERR_PRECONDITION_FAILED');
        await registryStore.putDefinition(shared, actor.tenantId, apiId, text, now);
      });
      return text;
    },

    // --- lifecycle --------------------------------------------------------------------------

    lifecycleState(r: ApiRecord) {
      const transitions = lifecycleTransitions[r.lifeCycleStatus as LifecycleState] ?? {};
      const checkable = r.lifeCycleStatus === LifecycleStates.Created || r.lifeCycleStatus === LifecycleStates.Prototyped;
      return {
        state: stateLabel(r.lifeCycleStatus),
        checkItems: checkable ? Object.values(CheckItems).map((name) => ({ name, value: false, requiredStates: [] })) : [],
        availableTransitions: Object.entries(transitions).map(([event, target]) => ({ event, targetState: stateLabel(target) })),
      };
    },

    async changeLifecycle(actor: Actor, apiId: string, action: string, checklist: string | undefined, ifMatch: string | undefined) {
      const checks = new Map<string, boolean>();
      for (const item of (checklist ?? '').split(',').filter(Boolean)) {
        const i = item.lastIndexOf(':');
        if (i > 0) checks.set(item.slice(0, i).trim(), item.slice(i + 1).trim() === 'true');
      }
      const now = clock.now();
      const changed: { record: ApiRecord; previous: string }[] = [];
      const record = await write(async (apim) => {
        const base = await load(actor.tenantId, apiId, apim);
        checkIfMatch(base, ifMatch);
        const transitions = lifecycleTransitions[base.lifeCycleStatus as LifecycleState] ?? {};
        const target = Object.entries(transitions).find(([event]) => event.toLowerCase() === action.trim().toLowerCase())?.[1];
        if (!target) {
          const allowed = Object.keys(transitions);
          throw PublisherErrors.create('PUB_ERR_INVALID_LIFECYCLE_ACTION', {
            message: `Cannot "${action}" an API in state ${stateLabel(base.lifeCycleStatus)}`,
            description: allowed.length > 0 ? `From ${stateLabel(base.lifeCycleStatus)} the allowed actions are: ${allowed.join(', ')}` : `${stateLabel(base.lifeCycleStatus)} is a final state`,
          });
        }
        const next = { ...base, lifeCycleStatus: target, updatedAt: now, rowVersion: base.rowVersion + 1 };
        if (checks.get(CheckItems.RequireResubscription)) next.body = { ...next.body, requiresResubscription: true };
        if (!(await apiStore.update(apim, next, base.rowVersion))) throw PublisherErrors.create('PUB_ERR_PRECONDITION_FAILED');
        await deploymentStore.addHistory(apim, { id: newId(), tenant_id: actor.tenantId, api_id: apiId, previous_state: base.lifeCycleStatus, post_state: target, username: actor.username, created_at: now });
        changed.push({ record: next, previous: base.lifeCycleStatus });
        if (target === LifecycleStates.Published && checks.get(CheckItems.DeprecateOldVersions)) {
          for (const other of await apiStore.versionsOf(apim, actor.tenantId, base.name, base.provider)) {
            if (other.id === apiId || other.lifeCycleStatus !== LifecycleStates.Published) continue;
            const dep = { ...other, lifeCycleStatus: LifecycleStates.Deprecated, updatedAt: now, rowVersion: other.rowVersion + 1 };
            await apiStore.update(apim, dep, other.rowVersion);
            await deploymentStore.addHistory(apim, { id: newId(), tenant_id: actor.tenantId, api_id: other.id, previous_state: other.lifeCycleStatus, post_state: dep.lifeCycleStatus, username: actor.username, created_at: now });
            changed.push({ record: dep, previous: other.lifeCycleStatus });
          }
        }
        return next;
      });
      for (const c of changed) {
        await notify(PublisherEvents.LifecycleChange, actor.tenantId, {
          apiId: c.record.id, name: c.record.name, version: c.record.version, context: c.record.context, provider: c.record.provider,
          previousState: c.previous, newState: c.record.lifeCycleStatus,
        });
      }
      return record;
    },

    async lifecycleHistory(tenantId: number, apiId: string) {
      await load(tenantId, apiId);
      const rows = await deploymentStore.history(dbs.apim, tenantId, apiId);
      return rows.map((h) => ({
        ...(h.previous_state ? { previousState: stateLabel(h.previous_state) } : {}),
        postState: stateLabel(h.post_state),
        user: h.username,
        updatedTime: String(h.created_at),
      }));
    },

    // --- revisions and deployments ---------------------------------------------------------

    async listRevisions(tenantId: number, apiId: string, query: string | undefined) {
      await load(tenantId, apiId);
      const [revs, deps] = await Promise.all([deploymentStore.revisions(dbs.apim, tenantId, apiId), deploymentStore.deployments(dbs.apim, tenantId, apiId)]);
      const deployedOnly = /deployed:\s*true/i.test(query ?? '');
      const undeployedOnly = /deployed:\s*false/i.test(query ?? '');
      return revs
        .filter((r) => (deployedOnly ? deps.some((d) => d.revision_id === r.id) : undeployedOnly ? !deps.some((d) => d.revision_id === r.id) : true))
        .map((r) => revisionDto(r, deps));
    },

    async getRevision(tenantId: number, apiId: string, revisionId: string) {
      const rev = await deploymentStore.revision(dbs.apim, tenantId, apiId, revisionId);
      if (!rev) throw PublisherErrors.create('PUB_ERR_REVISION_NOT_FOUND', { description: `No revision ${revisionId} of API ${apiId}` });
      return revisionDto(rev, await deploymentStore.deployments(dbs.apim, tenantId, apiId));
    },

    async createRevision(actor: Actor, apiId: string, description: string | undefined) {
      const now = clock.now();
      const rev = await write(async (apim, shared) => {
        const api = await load(actor.tenantId, apiId, apim);
        const existing = await deploymentStore.revisions(apim, actor.tenantId, apiId);
        if (existing.length >= MAX_REVISIONS) {
          throw PublisherErrors.create('PUB_ERR_REVISION_LIMIT', { description: `API ${apiId} already has ${existing.length} revisions` });
        }
        const snapshot: Snapshot = { api, definition: (await registryStore.getDefinition(shared, actor.tenantId, apiId)) ?? null };
        const row: RevisionRow = {
          id: newId(), tenant_id: actor.tenantId, api_id: apiId, revision_number: await deploymentStore.nextRevisionNumber(apim, actor.tenantId, apiId),
          description: description ?? null, snapshot: JSON.stringify(snapshot), created_by: actor.username, created_at: now,
        };
        await deploymentStore.insertRevision(apim, row);
        return row;
      });
      return revisionDto(rev, []);
    },

    async deleteRevision(actor: Actor, apiId: string, revisionId: string) {
      await write(async (apim) => {
        const rev = await deploymentStore.revision(apim, actor.tenantId, apiId, revisionId);
        if (!rev) throw PublisherErrors.create('PUB_ERR_REVISION_NOT_FOUND', { description: `No revision ${revisionId} of API ${apiId}` });
        const deployments = await deploymentStore.deployments(apim, actor.tenantId, apiId);
        if (deployments.some((d) => d.revision_id === revisionId)) {
          throw PublisherErrors.create('PUB_ERR_REVISION_DEPLOYED', { description: `Revision ${rev.revision_number} is deployed to ${deployments.filter((d) => d.revision_id === revisionId).map((d) => d.environment).join(', ')}` });
        }
        await deploymentStore.deleteRevision(apim, actor.tenantId, revisionId);
      });
      return this.listRevisions(actor.tenantId, apiId, undefined);
    },

    async restoreRevision(actor: Actor, apiId: string, revisionId: string): Promise<ApiRecord> {
      const now = clock.now();
      return write(async (apim, shared) => {
        const base = await load(actor.tenantId, apiId, apim);
        const rev = await deploymentStore.revision(apim, actor.tenantId, apiId, revisionId);
        if (!rev) throw PublisherErrors.create('PUB_ERR_REVISION_NOT_FOUND', { description: `No revision ${revisionId} of API ${apiId}` });
        const snap = JSON.parse(rev.snapshot) as Snapshot;
        // The lifecycle state is not part of what a revision restores (WSO2 keeps the current one).
        const record: ApiRecord = { ...snap.api, lifeCycleStatus: base.lifeCycleStatus, createdAt: base.createdAt, updatedAt: now, rowVersion: base.rowVersion + 1 };
        if (!(await apiStore.update(apim, record, base.rowVersion).catch(mapUnique))) throw PublisherErrors.create('PUB_ERR_PRECONDITION_FAILED');
        if (snap.definition !== null) await registryStore.putDefinition(shared, actor.tenantId, apiId, snap.definition, now);
        return record;
      });
    },

    async deploy(actor: Actor, apiId: string, revisionId: string, targets: { name: string; vhost?: string; displayOnDevportal?: boolean }[]) {
      const now = clock.now();
      const resolved: { name: string; vhost: string; displayOnDevportal: boolean }[] = [];
      for (const t of targets) {
        const env = await deps.repositories.gatewayEnvironments.getByName(actor.tenantId, t.name);
        if (!env) throw PublisherErrors.create('PUB_ERR_ENVIRONMENT_NOT_FOUND', { description: `No gateway environment named "${t.name}"` });
        const hosts = env.vhosts.map((v) => v.host);
        const vhost = t.vhost ?? hosts[0] ?? 'localhost';
        if (hosts.length > 0 && !hosts.includes(vhost)) {
          throw PublisherErrors.create('PUB_ERR_INVALID_VHOST', { description: `"${vhost}" is not a vhost of ${t.name}; one of ${hosts.join(', ')}` });
        }
        resolved.push({ name: t.name, vhost, displayOnDevportal: t.displayOnDevportal ?? true });
      }
      const { checksum, rows } = await write(async (apim) => {
        await load(actor.tenantId, apiId, apim);
        const rev = await deploymentStore.revision(apim, actor.tenantId, apiId, revisionId);
        if (!rev) throw PublisherErrors.create('PUB_ERR_REVISION_NOT_FOUND', { description: `No revision ${revisionId} of API ${apiId}` });
        const snap = JSON.parse(rev.snapshot) as Snapshot;
        // The lifecycle state a gateway enforces (blocked, prototype) is the API's current one.
        const current = await load(actor.tenantId, apiId, apim);
        const compiled = compileArtifact({ ...snap.api, lifeCycleStatus: current.lifeCycleStatus }, { id: rev.id, number: Number(rev.revision_number) });
        await deploymentStore.putArtifact(apim, {
          revision_id: rev.id, tenant_id: actor.tenantId, api_id: apiId, schema_version: compiled.artifact.schemaVersion, artifact: compiled.json, checksum: compiled.checksum, created_at: now,
        });
        const out: DeploymentRow[] = [];
        for (const t of resolved) {
          const row: DeploymentRow = {
            id: newId(), tenant_id: actor.tenantId, api_id: apiId, revision_id: rev.id, environment: t.name, vhost: t.vhost,
            display_on_devportal: t.displayOnDevportal ? 1 : 0, status: 'CREATED', deployed_at: now, success_deployed_at: null,
          };
          await deploymentStore.putDeployment(apim, row);
          out.push(row);
        }
        return { checksum: compiled.checksum, rows: out };
      });
      // Sent only after the database commit, as WSO2 does: a gateway that reacts finds the artifact.
      await notify(PublisherEvents.Deploy, actor.tenantId, { apiId, revisionId, environments: resolved.map((r) => r.name), checksum });
      return rows.map((d) => deploymentDto(d, []));
    },

    async undeploy(actor: Actor, apiId: string, revisionId: string | undefined, targets: { name: string; vhost?: string }[], all: boolean) {
      const removed = await write(async (apim) => {
        await load(actor.tenantId, apiId, apim);
        const deployments = await deploymentStore.deployments(apim, actor.tenantId, apiId);
        const names = new Set(targets.map((t) => t.name));
        const matching = deployments.filter((d) => (all || names.has(d.environment)) && (revisionId === undefined || d.revision_id === revisionId));
        if (matching.length === 0) {
          throw PublisherErrors.create('PUB_ERR_DEPLOYMENT_NOT_FOUND', { description: `API ${apiId}${revisionId ? ` revision ${revisionId}` : ''} is not deployed to ${all ? 'any environment' : [...names].join(', ')}` });
        }
        for (const d of matching) await deploymentStore.deleteDeployment(apim, actor.tenantId, d.id);
        return matching;
      });
      for (const revId of new Set(removed.map((d) => d.revision_id))) {
        await notify(PublisherEvents.Remove, actor.tenantId, { apiId, revisionId: revId, environments: removed.filter((d) => d.revision_id === revId).map((d) => d.environment) });
      }
      return this.deployments(actor.tenantId, apiId);
    },

    async deployments(tenantId: number, apiId: string) {
      await load(tenantId, apiId);
      const rows = await deploymentStore.deployments(dbs.apim, tenantId, apiId);
      const acks = await deploymentStore.acksWithHeartbeat(dbs.apim, tenantId, rows.map((d) => d.id));
      return rows.map((d) => deploymentDto(d, acks));
    },

    async runtimeArtifacts(tenantId: number, gatewayLabel: string | undefined, apiId: string | undefined) {
      const rows = await deploymentStore.deployedArtifacts(dbs.apim, tenantId, gatewayLabel, apiId);
      // The lifecycle state is the API's current one (blocking or retiring needs no new revision);
      // the checksum covers the stored artifact.
      return rows.map((r) => ({ ...(JSON.parse(r.artifact) as RuntimeArtifact), lifeCycleStatus: r.lifecycle_status, environment: r.environment, vhost: r.vhost, checksum: r.checksum }));
    },

    // --- copy ------------------------------------------------------------------------------

    async copyApi(actor: Actor, apiId: string, newVersion: string, defaultVersion: boolean): Promise<ApiRecord> {
      const source = await load(actor.tenantId, apiId);
      const now = clock.now();
      const def = await registryStore.getDefinition(dbs.shared, actor.tenantId, apiId);
      const copy: ApiRecord = {
        ...structuredClone(source), id: newId(), version: newVersion, isDefaultVersion: defaultVersion, lifeCycleStatus: LifecycleStates.Created,
        createdAt: now, updatedAt: now, rowVersion: 1,
      };
      let defText = def ?? null;
      if (defText) {
        const d = JSON.parse(defText) as { info?: { version?: string } };
        if (d.info) d.info.version = newVersion;
        defText = JSON.stringify(d);
      }
      await write(async (apim, shared) => {
        await assertUnique(apim, actor.tenantId, copy.context, copy.version);
        await apiStore.insert(apim, copy).catch(mapUnique);
        await clearOtherDefaults(apim, copy);
        await deploymentStore.addHistory(apim, { id: newId(), tenant_id: actor.tenantId, api_id: copy.id, previous_state: null, post_state: copy.lifeCycleStatus, username: actor.username, created_at: now });
        if (defText) await registryStore.putDefinition(shared, actor.tenantId, copy.id, defText, now);
      });
      await notify(PublisherEvents.Create, actor.tenantId, { apiId: copy.id, name: copy.name, version: copy.version, context: copy.context });
      return copy;
    },
  };
}

export type PublisherService = ReturnType<typeof createPublisherService>;

/**
 * Records a gateway's acknowledgement of a deployment (the Gateway calls it through the internal
 * data API): the deployment turns DEPLOYED on the first success, FAILED when every gateway that
 * answered failed. Unknown deployments are ignored (they were undeployed meanwhile) and reported
 * as `false`.
 *
 * @example
 * ```ts
 * await recordGatewayAcknowledgement(deps, { tenantId, apiId, revisionId, environment: 'Default', gatewayId: 'gw-1', status: 'DEPLOYED' });
 * ```
 */
export async function recordGatewayAcknowledgement(
  deps: { databases: Pick<Databases, 'apim'>; clock: Clock },
  ack: { tenantId: number; apiId: string; revisionId: string; environment: string; gatewayId: string; status: 'DEPLOYED' | 'FAILED'; message?: string },
): Promise<boolean> {
  const now = deps.clock.now();
  return deps.databases.apim.transaction().execute(async (apim) => {
    // A no-op update first, so the deployment row is locked (PostgreSQL; SQLite takes its write
    // lock) before the acknowledgements are read: two gateways' at once then decide one after the
    // other, the second seeing the first's, and a failure cannot overwrite a success.
    const d = await apim
      .updateTable('api_deployments')
      .set((eb) => ({ status: eb.ref('status') }))
      .where('tenant_id', '=', ack.tenantId)
      .where('api_id', '=', ack.apiId)
      .where('revision_id', '=', ack.revisionId)
      .where('environment', '=', ack.environment)
      .returningAll()
      .executeTakeFirst();
    if (!d) return false;
    await deploymentStore.putAck(apim, { deployment_id: d.id, tenant_id: ack.tenantId, gateway_id: ack.gatewayId, status: ack.status, message: ack.message ?? null, acked_at: now });
    const acks = await deploymentStore.acks(apim, ack.tenantId, [d.id]);
    const anyOk = acks.some((a) => a.status === 'DEPLOYED');
    await apim
      .updateTable('api_deployments')
      .set({ status: anyOk ? 'DEPLOYED' : 'FAILED', success_deployed_at: anyOk ? (d.success_deployed_at ?? now) : d.success_deployed_at })
      .where('id', '=', d.id)
      .execute();
    return true;
  });
}
