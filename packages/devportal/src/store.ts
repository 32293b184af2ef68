import { newId } from '@gatehouse/core';
import type { Clock } from '@gatehouse/core';
import type { ApimSchema } from '@gatehouse/data';
import type { Kysely, Selectable } from 'kysely';

type AppRow = Selectable<ApimSchema['dp_applications']>;
type SubRow = Selectable<ApimSchema['dp_subscriptions']>;
type KeyMappingRow = Selectable<ApimSchema['dp_key_mappings']>;

export const ApplicationStatuses = { Created: 'CREATED', Approved: 'APPROVED', Rejected: 'REJECTED' } as const;
export type ApplicationStatus = (typeof ApplicationStatuses)[keyof typeof ApplicationStatuses];

export const SubscriptionStatuses = {
  Unblocked: 'UNBLOCKED',
  Blocked: 'BLOCKED',
  ProdOnlyBlocked: 'PROD_ONLY_BLOCKED',
  OnHold: 'ON_HOLD',
  Rejected: 'REJECTED',
  TierUpdatePending: 'TIER_UPDATE_PENDING',
} as const;
export type SubscriptionStatus = (typeof SubscriptionStatuses)[keyof typeof SubscriptionStatuses];

export interface Application {
  id: string;
  tenantId: number;
  name: string;
  owner: string;
  throttlingPolicy: string;
  description: string | null;
  tokenType: 'JWT' | 'OAUTH';
  status: ApplicationStatus;
  groups: string[];
  attributes: Record<string, string>;
  createdAt: number;
  updatedAt: number;
}

export interface NewApplication {
  name: string;
  owner: string;
  throttlingPolicy: string;
  description?: string | null;
  tokenType: 'JWT' | 'OAUTH';
  status: ApplicationStatus;
  groups?: readonly string[];
  attributes?: Readonly<Record<string, string>>;
}

export interface Subscription {
  id: string;
  tenantId: number;
  applicationId: string;
  apiId: string;
  throttlingPolicy: string;
  requestedPolicy: string | null;
  status: SubscriptionStatus;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

export interface KeyMapping {
  id: string;
  tenantId: number;
  applicationId: string;
  keyType: 'PRODUCTION' | 'SANDBOX';
  keyManager: string;
  consumerKey: string;
  state: string;
  createdAt: number;
}

export interface Rating {
  id: string;
  apiId: string;
  username: string;
  rating: number;
}

export interface Comment {
  id: string;
  apiId: string;
  username: string;
  content: string;
  category: string;
  parentId: string | null;
  createdAt: number;
  updatedAt: number;
}

const toSub = (r: SubRow): Subscription => ({
  id: r.id,
  tenantId: Number(r.tenant_id),
  applicationId: r.application_id,
  apiId: r.api_id,
  throttlingPolicy: r.throttling_policy,
  requestedPolicy: r.requested_policy,
  status: r.status as SubscriptionStatus,
  createdBy: r.created_by,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

const toMapping = (r: KeyMappingRow): KeyMapping => ({
  id: r.id,
  tenantId: Number(r.tenant_id),
  applicationId: r.application_id,
  keyType: r.key_type as 'PRODUCTION' | 'SANDBOX',
  keyManager: r.key_manager,
  consumerKey: r.consumer_key,
  state: r.state,
  createdAt: Number(r.created_at),
});

/**
 * The Developer Portal's repositories over the apim database: applications (with attributes),
 * subscriptions, key mappings, issued API keys, ratings and comments. Every method takes the
 * tenant id and never sees another tenant's rows; reads of a user's objects also take the owner,
 * so an id guessed from another user's object is simply not found.
 *
 * @example
 * ```ts
 * const store = createDevPortalStore(dbs.apim, clock);
 * const app = await store.applications.create(tenantId, { name: 'Shop', owner: 'alice', throttlingPolicy: 'Unlimited', tokenType: 'JWT', status: 'APPROVED' });
 * await store.applications.get(tenantId, app.id, 'bob'); // undefined: not bob's
 * ```
 */
export function createDevPortalStore(db: Kysely<ApimSchema>, clock: Clock) {
  // Over a caller's transaction (an item written with its workflow), the writes join it: Kysely
  // starts no transaction inside another.
  const inTransaction = <T>(fn: (trx: Kysely<ApimSchema>) => Promise<T>): Promise<T> => (db.isTransaction ? fn(db) : db.transaction().execute(fn));
  const attributesOf = async (tenantId: number, ids: readonly string[]): Promise<Map<string, Record<string, string>>> => {
    const out = new Map<string, Record<string, string>>();
    if (ids.length === 0) return out;
    const rows = await db.selectFrom('dp_application_attributes').selectAll().where('tenant_id', '=', tenantId).where('application_id', 'in', ids).orderBy('name').execute();
    for (const r of rows) {
      const m = out.get(r.application_id) ?? {};
      m[r.name] = r.value;
      out.set(r.application_id, m);
    }
    return out;
  };
  const toApps = async (tenantId: number, rows: AppRow[]): Promise<Application[]> => {
    const attrs = await attributesOf(tenantId, rows.map((r) => r.id));
    return rows.map((r) => ({
      id: r.id,
      tenantId: Number(r.tenant_id),
      name: r.name,
      owner: r.owner,
      throttlingPolicy: r.throttling_policy,
      description: r.description,
      tokenType: r.token_type as 'JWT' | 'OAUTH',
      status: r.status as ApplicationStatus,
      groups: JSON.parse(r.groups) as string[],
      attributes: attrs.get(r.id) ?? {},
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
    }));
  };
  const writeAttributes = async (trx: Kysely<ApimSchema>, tenantId: number, appId: string, attributes: Readonly<Record<string, string>>) => {
    await trx.deleteFrom('dp_application_attributes').where('tenant_id', '=', tenantId).where('application_id', '=', appId).execute();
    const entries = Object.entries(attributes);
    if (entries.length > 0) {
      await trx.insertInto('dp_application_attributes').values(entries.map(([name, value]) => ({ tenant_id: tenantId, application_id: appId, name, value }))).execute();
    }
  };

  const applications = {
    /** Throws DATA_ERR_UNIQUE_VIOLATION when the owner already has an application of that name. */
    async create(tenantId: number, input: NewApplication): Promise<Application> {
      const now = clock.now();
      const id = newId();
      await inTransaction(async (trx) => {
        await trx
          .insertInto('dp_applications')
          .values({
            id, tenant_id: tenantId, name: input.name, owner: input.owner, throttling_policy: input.throttlingPolicy, description: input.description ?? null,
            token_type: input.tokenType, status: input.status, groups: JSON.stringify(input.groups ?? []), created_at: now, updated_at: now,
          })
          .execute();
        await writeAttributes(trx, tenantId, id, input.attributes ?? {});
      });
      return (await applications.get(tenantId, id))!;
    },
    /** The application when it exists and, with `owner`, belongs to that user. */
    async get(tenantId: number, id: string, owner?: string): Promise<Application | undefined> {
      let q = db.selectFrom('dp_applications').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id);
      if (owner !== undefined) q = q.where('owner', '=', owner);
      const row = await q.executeTakeFirst();
      return row ? (await toApps(tenantId, [row]))[0] : undefined;
    },
    /** An owner's applications by name, optionally filtered by a name substring. */
    async list(tenantId: number, owner: string, page: { limit: number; offset: number; query?: string }): Promise<{ items: Application[]; total: number }> {
      let q = db.selectFrom('dp_applications').where('tenant_id', '=', tenantId).where('owner', '=', owner);
      if (page.query) q = q.where('name', 'like', `%${page.query.replace(/[\\%_]/g, '')}%`);
      const [rows, count] = await Promise.all([
        q.selectAll().orderBy('name').orderBy('id').limit(page.limit).offset(page.offset).execute(),
        q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      ]);
      return { items: await toApps(tenantId, rows), total: Number(count.n) };
    },
    /** Throws DATA_ERR_UNIQUE_VIOLATION on a name clash. */
    async update(tenantId: number, id: string, patch: Omit<NewApplication, 'owner' | 'status'>): Promise<Application | undefined> {
      await inTransaction(async (trx) => {
        await trx
          .updateTable('dp_applications')
          .set({
            name: patch.name, throttling_policy: patch.throttlingPolicy, description: patch.description ?? null, token_type: patch.tokenType,
            groups: JSON.stringify(patch.groups ?? []), updated_at: clock.now(),
          })
          .where('tenant_id', '=', tenantId)
          .where('id', '=', id)
          .execute();
        await writeAttributes(trx, tenantId, id, patch.attributes ?? {});
      });
      return applications.get(tenantId, id);
    },
    /** Every application of the tenant, for the internal data API (gateway resync). */
    async listAll(tenantId: number): Promise<Application[]> {
      return toApps(tenantId, await db.selectFrom('dp_applications').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute());
    },
    /** Whether any application uses the tier (Admin's policy-in-use check). */
    async usesTier(tenantId: number, tier: string): Promise<boolean> {
      return (await db.selectFrom('dp_applications').select('id').where('tenant_id', '=', tenantId).where('throttling_policy', '=', tier).executeTakeFirst()) !== undefined;
    },
    /** With `from`, only an application still in that status changes: true for the one caller that moved it. */
    async setStatus(tenantId: number, id: string, status: ApplicationStatus, from?: ApplicationStatus): Promise<boolean> {
      let q = db.updateTable('dp_applications').set({ status, updated_at: clock.now() }).where('tenant_id', '=', tenantId).where('id', '=', id);
      if (from !== undefined) q = q.where('status', '=', from);
      return Number((await q.executeTakeFirst()).numUpdatedRows) === 1;
    },
    /** The tenant's applications in `status` (those awaiting a workflow decision: CREATED), with when each was stored. */
    async withStatus(tenantId: number, status: ApplicationStatus): Promise<{ id: string; createdAt: number }[]> {
      const rows = await db.selectFrom('dp_applications').select(['id', 'created_at']).where('tenant_id', '=', tenantId).where('status', '=', status).execute();
      return rows.map((r) => ({ id: r.id, createdAt: Number(r.created_at) }));
    },
    /** Removes the application with its attributes, subscriptions, key mappings and API key records. */
    async delete(tenantId: number, id: string): Promise<boolean> {
      return inTransaction(async (trx) => {
        await trx.deleteFrom('dp_application_attributes').where('tenant_id', '=', tenantId).where('application_id', '=', id).execute();
        await trx.deleteFrom('dp_subscriptions').where('tenant_id', '=', tenantId).where('application_id', '=', id).execute();
        await trx.deleteFrom('dp_key_mappings').where('tenant_id', '=', tenantId).where('application_id', '=', id).execute();
        await trx.deleteFrom('dp_api_keys').where('tenant_id', '=', tenantId).where('application_id', '=', id).execute();
        const r = await trx.deleteFrom('dp_applications').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
        return Number(r.numDeletedRows) === 1;
      });
    },
  };

  const subscriptions = {
    /** Throws DATA_ERR_UNIQUE_VIOLATION when the application is already subscribed to the API. */
    async create(tenantId: number, input: { applicationId: string; apiId: string; throttlingPolicy: string; requestedPolicy?: string | null; status: SubscriptionStatus; createdBy: string }): Promise<Subscription> {
      const now = clock.now();
      const row = {
        id: newId(), tenant_id: tenantId, application_id: input.applicationId, api_id: input.apiId, throttling_policy: input.throttlingPolicy,
        requested_policy: input.requestedPolicy ?? null, status: input.status, created_by: input.createdBy, created_at: now, updated_at: now,
      };
      await db.insertInto('dp_subscriptions').values(row).execute();
      return toSub(row);
    },
    async get(tenantId: number, id: string): Promise<Subscription | undefined> {
      const row = await db.selectFrom('dp_subscriptions').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return row && toSub(row);
    },
    /** A subscription whose application belongs to `owner`. */
    async getOwned(tenantId: number, id: string, owner: string): Promise<Subscription | undefined> {
      const row = await db
        .selectFrom('dp_subscriptions')
        .innerJoin('dp_applications', 'dp_applications.id', 'dp_subscriptions.application_id')
        .selectAll('dp_subscriptions')
        .where('dp_subscriptions.tenant_id', '=', tenantId)
        .where('dp_applications.tenant_id', '=', tenantId)
        .where('dp_subscriptions.id', '=', id)
        .where('dp_applications.owner', '=', owner)
        .executeTakeFirst();
      return row && toSub(row);
    },
    async list(tenantId: number, filter: { applicationId?: string; apiId?: string; owner?: string }): Promise<Subscription[]> {
      let q = db
        .selectFrom('dp_subscriptions')
        .innerJoin('dp_applications', 'dp_applications.id', 'dp_subscriptions.application_id')
        .selectAll('dp_subscriptions')
        .where('dp_subscriptions.tenant_id', '=', tenantId)
        .where('dp_applications.tenant_id', '=', tenantId);
      if (filter.applicationId !== undefined) q = q.where('dp_subscriptions.application_id', '=', filter.applicationId);
      if (filter.apiId !== undefined) q = q.where('dp_subscriptions.api_id', '=', filter.apiId);
      if (filter.owner !== undefined) q = q.where('dp_applications.owner', '=', filter.owner);
      return (await q.orderBy('dp_subscriptions.created_at').orderBy('dp_subscriptions.id').execute()).map(toSub);
    },
    async update(tenantId: number, id: string, set: { throttlingPolicy?: string; requestedPolicy?: string | null; status?: SubscriptionStatus }): Promise<Subscription | undefined> {
      await db
        .updateTable('dp_subscriptions')
        .set({
          ...(set.throttlingPolicy !== undefined ? { throttling_policy: set.throttlingPolicy } : {}),
          ...(set.requestedPolicy !== undefined ? { requested_policy: set.requestedPolicy } : {}),
          ...(set.status !== undefined ? { status: set.status } : {}),
          updated_at: clock.now(),
        })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .execute();
      return subscriptions.get(tenantId, id);
    },
    /** Only a subscription still in status `from` changes: true for the one caller that moved it. */
    async setStatus(tenantId: number, id: string, status: SubscriptionStatus, from: SubscriptionStatus): Promise<boolean> {
      const r = await db
        .updateTable('dp_subscriptions')
        .set({ status, updated_at: clock.now() })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('status', '=', from)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    /** The tenant's subscriptions in `status` (those awaiting a workflow decision: ON_HOLD), with when each was stored. */
    async withStatus(tenantId: number, status: SubscriptionStatus): Promise<{ id: string; createdAt: number }[]> {
      const rows = await db.selectFrom('dp_subscriptions').select(['id', 'created_at']).where('tenant_id', '=', tenantId).where('status', '=', status).execute();
      return rows.map((r) => ({ id: r.id, createdAt: Number(r.created_at) }));
    },
    async delete(tenantId: number, id: string): Promise<boolean> {
      const r = await db.deleteFrom('dp_subscriptions').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
    /** Every subscription of the tenant, for the internal data API (gateway resync). */
    async listAll(tenantId: number): Promise<Subscription[]> {
      return (await db.selectFrom('dp_subscriptions').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute()).map(toSub);
    },
    /** Whether the API has subscriptions (the Publisher refuses to delete it then). */
    async apiHasSubscriptions(tenantId: number, apiId: string): Promise<boolean> {
      return (await db.selectFrom('dp_subscriptions').select('id').where('tenant_id', '=', tenantId).where('api_id', '=', apiId).executeTakeFirst()) !== undefined;
    },
    /** Whether any subscription uses the tier (Admin's policy-in-use check). */
    async usesTier(tenantId: number, tier: string): Promise<boolean> {
      const row = await db.selectFrom('dp_subscriptions').select('id').where('tenant_id', '=', tenantId).where('throttling_policy', '=', tier).executeTakeFirst();
      return row !== undefined;
    },
  };

  const keyMappings = {
    /** Throws DATA_ERR_UNIQUE_VIOLATION when the application has keys of this type at this key manager. */
    async create(tenantId: number, input: { applicationId: string; keyType: 'PRODUCTION' | 'SANDBOX'; keyManager: string; consumerKey: string; state?: string }): Promise<KeyMapping> {
      const row = {
        id: newId(), tenant_id: tenantId, application_id: input.applicationId, key_type: input.keyType, key_manager: input.keyManager,
        consumer_key: input.consumerKey, state: input.state ?? 'COMPLETED', created_at: clock.now(),
      };
      await db.insertInto('dp_key_mappings').values(row).execute();
      return toMapping(row);
    },
    /** Every key mapping of the tenant, for the internal data API (gateway resync). */
    async listAll(tenantId: number): Promise<KeyMapping[]> {
      return (await db.selectFrom('dp_key_mappings').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute()).map(toMapping);
    },
    async list(tenantId: number, applicationId: string): Promise<KeyMapping[]> {
      const rows = await db.selectFrom('dp_key_mappings').selectAll().where('tenant_id', '=', tenantId).where('application_id', '=', applicationId).orderBy('key_type').orderBy('key_manager').execute();
      return rows.map(toMapping);
    },
    async get(tenantId: number, applicationId: string, id: string): Promise<KeyMapping | undefined> {
      const row = await db.selectFrom('dp_key_mappings').selectAll().where('tenant_id', '=', tenantId).where('application_id', '=', applicationId).where('id', '=', id).executeTakeFirst();
      return row && toMapping(row);
    },
    async delete(tenantId: number, id: string): Promise<boolean> {
      const r = await db.deleteFrom('dp_key_mappings').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
  };

  const apiKeys = {
    async record(tenantId: number, input: { jti: string; applicationId: string; keyType: string; issuedBy: string; expiresAt: number | null }): Promise<void> {
      await db
        .insertInto('dp_api_keys')
        .values({ jti: input.jti, tenant_id: tenantId, application_id: input.applicationId, key_type: input.keyType, issued_by: input.issuedBy, expires_at: input.expiresAt, revoked_at: null, created_at: clock.now() })
        .execute();
    },
    async get(tenantId: number, applicationId: string, jti: string) {
      return db.selectFrom('dp_api_keys').selectAll().where('tenant_id', '=', tenantId).where('application_id', '=', applicationId).where('jti', '=', jti).executeTakeFirst();
    },
    /** Marks the key revoked; false when it was unknown or already revoked. */
    async revoke(tenantId: number, applicationId: string, jti: string): Promise<boolean> {
      const r = await db
        .updateTable('dp_api_keys')
        .set({ revoked_at: clock.now() })
        .where('tenant_id', '=', tenantId)
        .where('application_id', '=', applicationId)
        .where('jti', '=', jti)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
  };

  const ratings = {
    async put(tenantId: number, apiId: string, username: string, rating: number): Promise<Rating> {
      const now = clock.now();
      const existing = await ratings.get(tenantId, apiId, username);
      if (existing) {
        await db.updateTable('dp_ratings').set({ rating, updated_at: now }).where('tenant_id', '=', tenantId).where('id', '=', existing.id).execute();
        return { ...existing, rating };
      }
      const id = newId();
      await db.insertInto('dp_ratings').values({ id, tenant_id: tenantId, api_id: apiId, username, rating, created_at: now, updated_at: now }).execute();
      return { id, apiId, username, rating };
    },
    async get(tenantId: number, apiId: string, username: string): Promise<Rating | undefined> {
      const r = await db.selectFrom('dp_ratings').selectAll().where('tenant_id', '=', tenantId).where('api_id', '=', apiId).where('username', '=', username).executeTakeFirst();
      return r && { id: r.id, apiId: r.api_id, username: r.username, rating: Number(r.rating) };
    },
    async list(tenantId: number, apiId: string, page: { limit: number; offset: number }): Promise<{ items: Rating[]; total: number; average: number }> {
      const q = db.selectFrom('dp_ratings').where('tenant_id', '=', tenantId).where('api_id', '=', apiId);
      const [rows, agg] = await Promise.all([
        q.selectAll().orderBy('created_at').orderBy('id').limit(page.limit).offset(page.offset).execute(),
        q.select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.avg<number>('rating').as('avg')]).executeTakeFirstOrThrow(),
      ]);
      return { items: rows.map((r) => ({ id: r.id, apiId: r.api_id, username: r.username, rating: Number(r.rating) })), total: Number(agg.n), average: Number(agg.avg ?? 0) };
    },
    async delete(tenantId: number, apiId: string, username: string): Promise<boolean> {
      const r = await db.deleteFrom('dp_ratings').where('tenant_id', '=', tenantId).where('api_id', '=', apiId).where('username', '=', username).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
  };

  const toComment = (r: Selectable<ApimSchema['dp_comments']>): Comment => ({
    id: r.id, apiId: r.api_id, username: r.username, content: r.content, category: r.category, parentId: r.parent_id, createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
  });
  const comments = {
    async create(tenantId: number, input: { apiId: string; username: string; content: string; category: string; parentId: string | null }): Promise<Comment> {
      const now = clock.now();
      const row = { id: newId(), tenant_id: tenantId, api_id: input.apiId, username: input.username, content: input.content, category: input.category, parent_id: input.parentId, created_at: now, updated_at: now };
      await db.insertInto('dp_comments').values(row).execute();
      return toComment(row);
    },
    async get(tenantId: number, apiId: string, id: string): Promise<Comment | undefined> {
      const r = await db.selectFrom('dp_comments').selectAll().where('tenant_id', '=', tenantId).where('api_id', '=', apiId).where('id', '=', id).executeTakeFirst();
      return r && toComment(r);
    },
    /** Top-level comments (or the replies of `parentId`), oldest first. */
    async list(tenantId: number, apiId: string, page: { limit: number; offset: number; parentId?: string }): Promise<{ items: Comment[]; total: number }> {
      let q = db.selectFrom('dp_comments').where('tenant_id', '=', tenantId).where('api_id', '=', apiId);
      q = page.parentId === undefined ? q.where('parent_id', 'is', null) : q.where('parent_id', '=', page.parentId);
      const [rows, count] = await Promise.all([
        q.selectAll().orderBy('created_at').orderBy('id').limit(page.limit).offset(page.offset).execute(),
        q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      ]);
      return { items: rows.map(toComment), total: Number(count.n) };
    },
    /** Deletes the comment and its replies. */
    async delete(tenantId: number, apiId: string, id: string): Promise<boolean> {
      await db.deleteFrom('dp_comments').where('tenant_id', '=', tenantId).where('api_id', '=', apiId).where('parent_id', '=', id).execute();
      const r = await db.deleteFrom('dp_comments').where('tenant_id', '=', tenantId).where('api_id', '=', apiId).where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
  };

  return { applications, subscriptions, keyMappings, apiKeys, ratings, comments };
}

export type DevPortalStore = ReturnType<typeof createDevPortalStore>;
