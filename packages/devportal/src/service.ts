import { createHash, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { constantTimeEqual, Roles } from '@gatehouse/core';
import type { Clock, ServerKeys } from '@gatehouse/core';
import type { GatehouseConfig } from '@gatehouse/config';
import { DataErrors } from '@gatehouse/data';
import type { Databases, Repositories, User } from '@gatehouse/data';
import { Topics } from '@gatehouse/events';
import type { EventHub, Logger } from '@gatehouse/events';
import { AdminErrors, createAdminService, RESIDENT_KEY_MANAGER, WorkflowStatuses } from '@gatehouse/admin';
import type { NewWorkflow, PolicyKind, ThrottlePolicy, Workflow, WorkflowType } from '@gatehouse/admin';
import { createAttemptLimiter, createClient, findClient, isInternalClient, issueAccessToken, kmContext, newClientSecret, revokeJwt } from '@gatehouse/key-manager';
import type { KmContext, OAuthClient } from '@gatehouse/key-manager';
import { effectiveContext } from '@gatehouse/publisher';
import { canSee, createCatalog } from './catalog.ts';
import type { CatalogApi, Viewer } from './catalog.ts';
import { DevPortalErrors, invalid, tooManyAttempts } from './errors.ts';
import { proveClientOwnership } from './external-keys.ts';
import { ApplicationStatuses, createDevPortalStore, SubscriptionStatuses } from './store.ts';
import type { Application, DevPortalStore, KeyMapping, Subscription, SubscriptionStatus } from './store.ts';

/** What the Developer Portal needs from its host: structurally a subset of the CLI's `ComponentDeps`. */
export interface DevPortalDeps {
  readonly databases: Databases;
  readonly repositories: Repositories;
  readonly keys: ServerKeys;
  readonly hub: EventHub;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** Who is acting: the token's user, tenant and roles. */
export interface Caller extends Viewer {
  tenantId: number;
}

/** Event types on `Topics.Notification` (WSO2's notifier event names). */
export const DevPortalEvents = {
  ApplicationCreate: 'APPLICATION_CREATE',
  ApplicationUpdate: 'APPLICATION_UPDATE',
  ApplicationDelete: 'APPLICATION_DELETE',
  SubscriptionCreate: 'SUBSCRIPTIONS_CREATE',
  SubscriptionUpdate: 'SUBSCRIPTIONS_UPDATE',
  SubscriptionDelete: 'SUBSCRIPTIONS_DELETE',
  KeyMappingCreate: 'APPLICATION_REGISTRATION_CREATE',
  KeyMappingRemove: 'REMOVE_APPLICATION_KEYMAPPING',
} as const;

export const KeyTypes = ['PRODUCTION', 'SANDBOX'] as const;
export type KeyType = (typeof KeyTypes)[number];

/** Grant types an application's client may get (what the Key Manager implements). */
export const SUPPORTED_GRANTS = ['client_credentials', 'password', 'refresh_token', 'authorization_code'] as const;
// RFC 9700 §2.4: the password grant only when an application asks for it.
const DEFAULT_GRANTS = ['client_credentials'];
// map-keys failures per user over all external key managers, as a multiple of the per key manager threshold.
const MAP_KEYS_USER_FACTOR = 3;
// Rows per page when the reconciler lists PENDING users (the repository's largest page).
const USERS_PAGE = 500;
const WORKFLOW_NAMESPACE = Buffer.from('c8142c55720145c88ca959234b5281c2', 'hex');

/**
 * The reference of the approval workflow of an item (an application's or subscription's id, a
 * user's id: not the username, which a new sign-up may take again): a name-based UUIDv8 over
 * SHA-256 (RFC 9562 Appendix B.2). Every replica derives the same one, so admin_workflows' unique
 * (tenant_id, reference_id) lets the requests and reconcilers that open an item's workflow write
 * one row between them.
 */
export function workflowReference(type: WorkflowType, itemId: string): string {
  const h = createHash('sha256').update(WORKFLOW_NAMESPACE).update(`${type}:${itemId}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.toString('hex', 0, 16);
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** An item that waits for a workflow decision, as the reconciler finds it. */
interface Waiting {
  /** Its id (a user's id for a sign-up). */
  id: string;
  /** What its workflow is about: the id, or the username of a sign-up. */
  subjectRef: string;
  createdAt: number;
}

export function createDevPortalService(config: GatehouseConfig, deps: DevPortalDeps) {
  const { databases, repositories, hub, clock } = deps;
  const store = createDevPortalStore(databases.apim, clock);
  const catalog = createCatalog(databases, repositories);
  const admin = createAdminService({ databases, repositories, keys: deps.keys, hub, clock, logger: deps.logger });
  const km: KmContext = kmContext(config, { databases, repositories, keys: deps.keys, hub, logger: deps.logger, clock });
  // The Key Manager's lockout table (apim database), so every portal replica shares the counts.
  const attempts = createAttemptLimiter(km);

  const notify = async (type: string, tenantId: number, payload: Record<string, unknown>) => {
    try {
      await hub.publish(Topics.Notification, type, payload, { tenantId });
    } catch (err) {
      // Stored first: gateways that miss the event resync from the internal data API.
      deps.logger.error({ err, type }, 'could not publish a devportal notification');
    }
  };

  /** WSO2 always has Unlimited; until Admin seeded its tiers, that is the one tier accepted. */
  const tierExists = async (tenantId: number, kind: PolicyKind, name: string): Promise<boolean> => {
    if (await admin.stores.policies.getByName(tenantId, kind, name)) return true;
    return name === 'Unlimited' && (await admin.stores.policies.list(tenantId, kind)).length === 0;
  };

  const appNotFound = (id: string) => DevPortalErrors.create('DEVPORTAL_ERR_APPLICATION_NOT_FOUND', { description: `No application with id ${id}` });
  const subNotFound = (id: string) => DevPortalErrors.create('DEVPORTAL_ERR_SUBSCRIPTION_NOT_FOUND', { description: `No subscription with id ${id}` });
  const apiNotFound = (id: string) => DevPortalErrors.create('DEVPORTAL_ERR_API_NOT_FOUND', { description: `No API with id ${id}` });

  /** The caller's own application, else 404 (never 403: another user's ids must not be confirmed). */
  const ownApp = async (caller: Caller, id: string): Promise<Application> => {
    const app = await store.applications.get(caller.tenantId, id, caller.username);
    if (!app) throw appNotFound(id);
    return app;
  };

  const visibleApi = async (viewer: Viewer | undefined, tenantId: number, apiId: string): Promise<CatalogApi> => {
    const api = await catalog.get(tenantId, apiId);
    if (!api || !canSee(api, viewer)) throw apiNotFound(apiId);
    return api;
  };

  const applicationEvent = (app: Application) => ({
    applicationId: app.id, applicationUuid: app.id, name: app.name, subscriber: app.owner, tier: app.throttlingPolicy, tokenType: app.tokenType,
    groupIds: app.groups, attributes: app.attributes, status: app.status, tenantId: app.tenantId,
  });

  const subscriptionEvent = (sub: Subscription, api: CatalogApi | undefined, app: Application | undefined) => ({
    subscriptionId: sub.id, subscriptionUuid: sub.id, applicationId: sub.applicationId, applicationUuid: sub.applicationId, applicationName: app?.name,
    apiId: sub.apiId, apiUuid: sub.apiId, apiName: api?.name, apiContext: api ? effectiveContext(api.context, api.version) : undefined, apiVersion: api?.version,
    apiProvider: api?.provider, policyId: sub.throttlingPolicy, tier: sub.throttlingPolicy, subscriptionState: sub.status, status: sub.status, tenantId: sub.tenantId,
  });

  const applicationWorkflow = (app: Application): NewWorkflow => ({
    workflowType: 'APPLICATION_CREATION', subjectRef: app.id, referenceId: workflowReference('APPLICATION_CREATION', app.id), createdBy: app.owner,
    description: `Application ${app.name} of ${app.owner}`, properties: { applicationName: app.name, tier: app.throttlingPolicy },
  });
  const subscriptionWorkflow = (sub: Subscription, app: Application | undefined, api: CatalogApi | undefined): NewWorkflow => ({
    workflowType: 'SUBSCRIPTION_CREATION', subjectRef: sub.id, referenceId: workflowReference('SUBSCRIPTION_CREATION', sub.id), createdBy: sub.createdBy,
    description: `Subscription of ${app?.name ?? sub.applicationId} to ${api ? `${api.name} ${api.version}` : sub.apiId}`,
    properties: { applicationName: app?.name, apiName: api?.name, apiVersion: api?.version, apiContext: api?.context, tier: sub.throttlingPolicy },
  });
  const signUpWorkflow = (user: User): NewWorkflow => ({
    workflowType: 'USER_SIGNUP', subjectRef: user.username, referenceId: workflowReference('USER_SIGNUP', user.id), createdBy: user.username,
    description: `Self sign-up of ${user.username}`, properties: { username: user.username, email: user.email },
  });

  const announce = async (wf: Workflow) => {
    try {
      await admin.announceWorkflow(wf);
    } catch (err) {
      // Stored first: Admin lists pending workflows from the database.
      deps.logger.error({ err, referenceId: wf.referenceId, workflowType: wf.workflowType }, 'could not publish WORKFLOW_CREATE');
    }
  };

  /** Writes a workflow on its own; only a failed write throws (the item's fate hangs on it, not on the event). */
  const openWorkflow = async (tenantId: number, input: NewWorkflow): Promise<Workflow> => {
    const wf = await admin.writeWorkflow(databases.apim, tenantId, input);
    await announce(wf);
    return wf;
  };

  /**
   * Stores an item held for approval and its workflow in one apim transaction, so neither exists
   * without the other: WSO2 (APIConsumerImpl.addSubscription) removes the item when its workflow
   * fails to start; a transaction also covers a crash between the two writes.
   */
  const holdForApproval = async <T>(tenantId: number, write: (tx: DevPortalStore) => Promise<T>, workflowOf: (item: T) => NewWorkflow): Promise<T> => {
    const [item, wf] = await databases.apim.transaction().execute(async (trx) => {
      const held = await write(createDevPortalStore(trx, clock));
      return [held, await admin.writeWorkflow(trx, tenantId, workflowOf(held))] as const;
    });
    await announce(wf);
    return item;
  };

  // ---- applications ----------------------------------------------------------------------

  interface ApplicationInput {
    name: string;
    throttlingPolicy: string;
    description?: string;
    tokenType?: string;
    attributes?: Record<string, string>;
    groups?: string[];
  }

  const checkApplicationInput = async (tenantId: number, input: ApplicationInput) => {
    const name = input.name.trim();
    if (name === '') throw invalid('body.name', 'must not be empty');
    if (!(await tierExists(tenantId, 'application', input.throttlingPolicy))) {
      throw DevPortalErrors.create('DEVPORTAL_ERR_UNKNOWN_TIER', { description: `No application throttling policy named ${input.throttlingPolicy}` });
    }
    const tokenType = input.tokenType === 'OAUTH' || input.tokenType === 'DEFAULT' ? 'OAUTH' : 'JWT';
    return { name, tokenType } as const;
  };

  const duplicateName = (name: string) => DevPortalErrors.create('DEVPORTAL_ERR_APPLICATION_EXISTS', { description: `An application named ${name} already exists` });

  const applications = {
    async create(caller: Caller, input: ApplicationInput): Promise<Application> {
      const { name, tokenType } = await checkApplicationInput(caller.tenantId, input);
      const pending = await admin.isWorkflowEnabled(caller.tenantId, 'APPLICATION_CREATION');
      const write = (tx: DevPortalStore) =>
        tx.applications.create(caller.tenantId, {
          name, owner: caller.username, throttlingPolicy: input.throttlingPolicy, description: input.description ?? null, tokenType,
          status: pending ? ApplicationStatuses.Created : ApplicationStatuses.Approved, groups: input.groups ?? [], attributes: input.attributes ?? {},
        });
      let app: Application;
      try {
        app = pending ? await holdForApproval(caller.tenantId, write, applicationWorkflow) : await write(store);
      } catch (err) {
        if (DataErrors.is(err, 'DATA_ERR_UNIQUE_VIOLATION')) throw duplicateName(name);
        throw err;
      }
      await notify(DevPortalEvents.ApplicationCreate, caller.tenantId, applicationEvent(app));
      return app;
    },
    get: ownApp,
    list: (caller: Caller, page: { limit: number; offset: number; query?: string }) => store.applications.list(caller.tenantId, caller.username, page),
    async update(caller: Caller, id: string, input: ApplicationInput): Promise<Application> {
      const base = await ownApp(caller, id);
      const { name, tokenType } = await checkApplicationInput(caller.tenantId, input);
      let app: Application | undefined;
      try {
        app = await store.applications.update(caller.tenantId, base.id, {
          name, throttlingPolicy: input.throttlingPolicy, description: input.description ?? base.description, tokenType,
          groups: input.groups ?? base.groups, attributes: input.attributes ?? base.attributes,
        });
      } catch (err) {
        if (DataErrors.is(err, 'DATA_ERR_UNIQUE_VIOLATION')) throw duplicateName(name);
        throw err;
      }
      if (!app) throw appNotFound(id);
      // The application's facts live in its clients too (they go into every token).
      await databases.apim
        .updateTable('km_oauth_clients')
        .set({ application_name: app.name, application_tier: app.throttlingPolicy, updated_at: clock.now() })
        .where('tenant_id', '=', caller.tenantId)
        .where('application_id', '=', app.id)
        .execute();
      await notify(DevPortalEvents.ApplicationUpdate, caller.tenantId, applicationEvent(app));
      return app;
    },
    async delete(caller: Caller, id: string): Promise<void> {
      const app = await ownApp(caller, id);
      const subs = await store.subscriptions.list(caller.tenantId, { applicationId: app.id });
      const mappings = await store.keyMappings.list(caller.tenantId, app.id);
      const apis = await catalog.getMany(caller.tenantId, subs.map((s) => s.apiId));
      await store.applications.delete(caller.tenantId, app.id);
      for (const m of mappings) await removeClient(caller.tenantId, m);
      for (const s of subs) await notify(DevPortalEvents.SubscriptionDelete, caller.tenantId, subscriptionEvent(s, apis.get(s.apiId), app));
      for (const m of mappings) await notify(DevPortalEvents.KeyMappingRemove, caller.tenantId, keyMappingEvent(m));
      await notify(DevPortalEvents.ApplicationDelete, caller.tenantId, applicationEvent(app));
    },
  };

  // ---- subscriptions ---------------------------------------------------------------------

  const checkSubscribable = async (caller: Caller, apiId: string, tier: string): Promise<CatalogApi> => {
    const api = await visibleApi(caller, caller.tenantId, apiId);
    // WSO2 (APIConsumerImpl.addSubscription): only PUBLISHED and PROTOTYPED APIs take subscriptions.
    if (api.lifeCycleStatus !== 'PUBLISHED' && api.lifeCycleStatus !== 'PROTOTYPED') {
      throw DevPortalErrors.create('DEVPORTAL_ERR_API_NOT_SUBSCRIBABLE', { description: `Subscriptions are not allowed on APIs in the state ${api.lifeCycleStatus}` });
    }
    const tiers = (api.body.policies as string[] | undefined) ?? [];
    if (!tiers.includes(tier)) {
      throw DevPortalErrors.create('DEVPORTAL_ERR_UNKNOWN_TIER', { description: `The API offers the tiers ${tiers.join(', ') || '(none)'}, not ${tier}` });
    }
    if (!(await tierExists(caller.tenantId, 'subscription', tier))) {
      throw DevPortalErrors.create('DEVPORTAL_ERR_UNKNOWN_TIER', { description: `No subscription throttling policy named ${tier}` });
    }
    return api;
  };

  const subscriptions = {
    async create(caller: Caller, input: { applicationId: string; apiId: string; throttlingPolicy: string; requestedThrottlingPolicy?: string }): Promise<Subscription> {
      const app = await ownApp(caller, input.applicationId);
      if (app.status !== ApplicationStatuses.Approved) {
        throw DevPortalErrors.create('DEVPORTAL_ERR_APPLICATION_NOT_APPROVED', { description: `Application ${app.name} is ${app.status}; it can subscribe once approved` });
      }
      const api = await checkSubscribable(caller, input.apiId, input.throttlingPolicy);
      const pending = await admin.isWorkflowEnabled(caller.tenantId, 'SUBSCRIPTION_CREATION');
      const write = (tx: DevPortalStore) =>
        tx.subscriptions.create(caller.tenantId, {
          applicationId: app.id, apiId: api.id, throttlingPolicy: input.throttlingPolicy, requestedPolicy: input.requestedThrottlingPolicy ?? input.throttlingPolicy,
          status: pending ? SubscriptionStatuses.OnHold : SubscriptionStatuses.Unblocked, createdBy: caller.username,
        });
      let sub: Subscription;
      try {
        sub = pending ? await holdForApproval(caller.tenantId, write, (held) => subscriptionWorkflow(held, app, api)) : await write(store);
      } catch (err) {
        if (DataErrors.is(err, 'DATA_ERR_UNIQUE_VIOLATION')) {
          throw DevPortalErrors.create('DEVPORTAL_ERR_SUBSCRIPTION_EXISTS', { description: `Application ${app.name} is already subscribed to ${api.name} ${api.version}` });
        }
        throw err;
      }
      await notify(DevPortalEvents.SubscriptionCreate, caller.tenantId, subscriptionEvent(sub, api, app));
      return sub;
    },
    async get(caller: Caller, id: string): Promise<Subscription> {
      const sub = await store.subscriptions.getOwned(caller.tenantId, id, caller.username);
      if (!sub) throw subNotFound(id);
      return sub;
    },
    async list(caller: Caller, filter: { applicationId?: string; apiId?: string }): Promise<Subscription[]> {
      if (filter.applicationId !== undefined) await ownApp(caller, filter.applicationId);
      return store.subscriptions.list(caller.tenantId, { ...filter, owner: caller.username });
    },
    async update(caller: Caller, id: string, input: { throttlingPolicy: string; requestedThrottlingPolicy?: string }): Promise<Subscription> {
      const sub = await subscriptions.get(caller, id);
      if (sub.status === SubscriptionStatuses.Blocked || sub.status === SubscriptionStatuses.OnHold || sub.status === SubscriptionStatuses.Rejected) {
        throw DevPortalErrors.create('DEVPORTAL_ERR_VALIDATION', { description: `A subscription in state ${sub.status} cannot change its tier` });
      }
      const tier = input.requestedThrottlingPolicy ?? input.throttlingPolicy;
      const api = await checkSubscribable(caller, sub.apiId, tier);
      const updated = (await store.subscriptions.update(caller.tenantId, id, { throttlingPolicy: tier, requestedPolicy: tier }))!;
      await notify(DevPortalEvents.SubscriptionUpdate, caller.tenantId, subscriptionEvent(updated, api, await store.applications.get(caller.tenantId, sub.applicationId)));
      return updated;
    },
    async delete(caller: Caller, id: string): Promise<void> {
      const sub = await subscriptions.get(caller, id);
      await store.subscriptions.delete(caller.tenantId, id);
      const [api, app] = await Promise.all([catalog.get(caller.tenantId, sub.apiId), store.applications.get(caller.tenantId, sub.applicationId)]);
      await notify(DevPortalEvents.SubscriptionDelete, caller.tenantId, subscriptionEvent(sub, api, app));
    },
    /** Publisher side: every subscription of an API (any owner). */
    async listForApi(tenantId: number, apiId: string) {
      if (!(await catalog.get(tenantId, apiId))) throw apiNotFound(apiId);
      const subs = await store.subscriptions.list(tenantId, { apiId });
      const apps = new Map<string, Application>();
      for (const s of subs) {
        const app = apps.get(s.applicationId) ?? (await store.applications.get(tenantId, s.applicationId));
        if (app) apps.set(app.id, app);
      }
      return { subs, apps };
    },
    /** Publisher side: block, block production only, or unblock. */
    async setBlockState(tenantId: number, id: string, status: SubscriptionStatus): Promise<Subscription> {
      const sub = await store.subscriptions.get(tenantId, id);
      if (!sub) throw subNotFound(id);
      if (sub.status === SubscriptionStatuses.OnHold || sub.status === SubscriptionStatuses.Rejected) {
        throw DevPortalErrors.create('DEVPORTAL_ERR_VALIDATION', { description: `A subscription in state ${sub.status} cannot be blocked or unblocked` });
      }
      const updated = (await store.subscriptions.update(tenantId, id, { status }))!;
      const [api, app] = await Promise.all([catalog.get(tenantId, sub.apiId), store.applications.get(tenantId, sub.applicationId)]);
      await notify(DevPortalEvents.SubscriptionUpdate, tenantId, subscriptionEvent(updated, api, app));
      return updated;
    },
  };

  // ---- keys ------------------------------------------------------------------------------

  const keyMappingEvent = (m: KeyMapping) => ({
    applicationId: m.applicationId, applicationUuid: m.applicationId, consumerKey: m.consumerKey, keyType: m.keyType, keyManager: m.keyManager, keyMappingId: m.id, tenantId: m.tenantId,
  });

  const clientOf = async (m: KeyMapping): Promise<OAuthClient> => {
    const client = await findClient(km, m.consumerKey);
    if (!client) throw DevPortalErrors.create('DEVPORTAL_ERR_KEY_MAPPING_NOT_FOUND', { description: `The OAuth client of key mapping ${m.id} no longer exists` });
    return client;
  };

  /** Deletes the client generate-keys created for the mapping; a mapped client (ours or external) is not the portal's to delete. */
  async function removeClient(tenantId: number, m: KeyMapping): Promise<void> {
    if (m.keyManager !== RESIDENT_KEY_MANAGER) return;
    await databases.apim.deleteFrom('km_oauth_clients').where('tenant_id', '=', tenantId).where('client_id', '=', m.consumerKey).where('application_id', '=', m.applicationId).execute();
  }

  /** The local OAuth client behind a mapping; keys of an external key manager are managed there. */
  const localClientOf = async (m: KeyMapping): Promise<OAuthClient> => {
    if (m.keyManager !== RESIDENT_KEY_MANAGER) {
      throw DevPortalErrors.create('DEVPORTAL_ERR_KEY_MANAGER_NOT_FOUND', { description: `The keys of key mapping ${m.id} belong to the external key manager ${m.keyManager}; manage them there` });
    }
    return clientOf(m);
  };

  const checkKeyManager = async (tenantId: number, name: string) => {
    // Only the Resident Key Manager issues keys here; external ones are for tokens they issue.
    if (name !== RESIDENT_KEY_MANAGER) {
      const stored = await admin.stores.keyManagers.getByName(tenantId, name);
      throw DevPortalErrors.create('DEVPORTAL_ERR_KEY_MANAGER_NOT_FOUND', {
        description: stored ? `Key generation through the external key manager ${name} is not supported yet` : `No key manager named ${name}`,
      });
    }
  };

  const checkGrants = (grants: readonly string[] | undefined, callbackUrl: string | undefined): string[] => {
    const list = grants && grants.length > 0 ? [...new Set(grants)] : DEFAULT_GRANTS;
    const unknown = list.filter((g) => !(SUPPORTED_GRANTS as readonly string[]).includes(g));
    if (unknown.length > 0) throw invalid('body.grantTypesToBeSupported', `unsupported grant types: ${unknown.join(', ')}`);
    if (list.includes('authorization_code') && !callbackUrl) throw invalid('body.callbackUrl', 'is required for the authorization_code grant');
    if (callbackUrl) {
      let u: URL;
      try {
        u = new URL(callbackUrl);
      } catch {
        throw invalid('body.callbackUrl', 'is not an absolute URL');
      }
      if (u.hash || u.username || u.password) throw invalid('body.callbackUrl', 'must have no fragment and no user information');
      // RFC 9700 §2.6 / RFC 8252 §7.3: plain http only to the loopback interface; private-use schemes for native apps are allowed.
      const loopback = u.hostname === '127.0.0.1' || u.hostname === '[::1]' || u.hostname === 'localhost';
      if (u.protocol === 'http:' && !loopback) throw invalid('body.callbackUrl', 'must use https (http only to a loopback address)');
      if (u.protocol === 'javascript:' || u.protocol === 'data:' || u.protocol === 'file:') throw invalid('body.callbackUrl', `must not use the ${u.protocol} scheme`);
    }
    return list;
  };

  /** The scopes the application's owner may get (unknown scopes are dropped, as the Key Manager does). */
  const grantableScopes = async (tenantId: number, owner: string, requested: readonly string[]): Promise<string[]> => {
    if (requested.length === 0) return [];
    const [roles, scopes] = await Promise.all([km.userRoles(tenantId, owner), km.scopeRoles(tenantId)]);
    const have = new Set([...(roles ?? []), Roles.Everyone]);
    return requested.filter((s) => s !== 'openid' && (scopes.get(s)?.some((r) => have.has(r)) ?? false));
  };

  const setTokenTtl = async (clientId: string, validitySeconds: number | undefined) => {
    if (validitySeconds === undefined || validitySeconds <= 0) return;
    await databases.apim.updateTable('km_oauth_clients').set({ access_token_ttl_ms: Math.round(validitySeconds * 1000), updated_at: clock.now() }).where('client_id', '=', clientId).execute();
  };

  const issueToken = async (client: OAuthClient, issuer: string, scopes: readonly string[]) => {
    const scope = await grantableScopes(client.tenantId, client.owner, scopes);
    const at = await issueAccessToken(km, client, { issuer, scope });
    return { accessToken: at.token, tokenScopes: scope.length > 0 ? scope : ['default'], validityTime: at.expiresIn };
  };

  const keys = {
    async generate(
      caller: Caller,
      appId: string,
      input: { keyType: KeyType; grantTypesToBeSupported?: string[]; callbackUrl?: string; keyManager?: string; validityTime?: number; scopes?: string[] },
      issuer: string,
    ) {
      const app = await ownApp(caller, appId);
      if (app.status !== ApplicationStatuses.Approved) {
        throw DevPortalErrors.create('DEVPORTAL_ERR_APPLICATION_NOT_APPROVED', { description: `Application ${app.name} is ${app.status}; keys can be generated once approved` });
      }
      const keyManager = input.keyManager ?? RESIDENT_KEY_MANAGER;
      await checkKeyManager(caller.tenantId, keyManager);
      const grants = checkGrants(input.grantTypesToBeSupported, input.callbackUrl);
      const existing = (await store.keyMappings.list(caller.tenantId, app.id)).find((m) => m.keyType === input.keyType && m.keyManager === keyManager);
      if (existing) throw DevPortalErrors.create('DEVPORTAL_ERR_KEYS_EXIST', { description: `Application ${app.name} already has ${input.keyType} keys at ${keyManager}` });
      const { client, secret } = await createClient(km, {
        tenantId: caller.tenantId,
        name: `${app.owner}_${app.name}_${input.keyType}`,
        owner: app.owner,
        grantTypes: grants,
        redirectUris: input.callbackUrl ? [input.callbackUrl] : [],
        tokenType: app.tokenType === 'OAUTH' ? 'OPAQUE' : 'JWT',
        source: 'application',
        application: { id: app.id, name: app.name, owner: app.owner, tier: app.throttlingPolicy, keyType: input.keyType, keyManager },
      });
      let mapping: KeyMapping;
      try {
        mapping = await store.keyMappings.create(caller.tenantId, { applicationId: app.id, keyType: input.keyType, keyManager, consumerKey: client.clientId });
      } catch (err) {
        await databases.apim.deleteFrom('km_oauth_clients').where('client_id', '=', client.clientId).execute();
        if (DataErrors.is(err, 'DATA_ERR_UNIQUE_VIOLATION')) throw DevPortalErrors.create('DEVPORTAL_ERR_KEYS_EXIST', { description: `Application ${app.name} already has ${input.keyType} keys` });
        throw err;
      }
      await setTokenTtl(client.clientId, input.validityTime);
      const fresh = await clientOf(mapping);
      const token = grants.includes('client_credentials') ? await issueToken(fresh, issuer, input.scopes ?? []) : undefined;
      await notify(DevPortalEvents.KeyMappingCreate, caller.tenantId, keyMappingEvent(mapping));
      return { mapping, client: fresh, secret, token };
    },
    async list(caller: Caller, appId: string) {
      const app = await ownApp(caller, appId);
      const out = [];
      for (const m of await store.keyMappings.list(caller.tenantId, app.id)) {
        out.push({ mapping: m, client: m.keyManager === RESIDENT_KEY_MANAGER ? await findClient(km, m.consumerKey) : undefined });
      }
      return out;
    },
    async get(caller: Caller, appId: string, mappingId: string) {
      const app = await ownApp(caller, appId);
      const mapping = await store.keyMappings.get(caller.tenantId, app.id, mappingId);
      if (!mapping) throw DevPortalErrors.create('DEVPORTAL_ERR_KEY_MAPPING_NOT_FOUND', { description: `No key mapping ${mappingId} in application ${appId}` });
      return { app, mapping, client: mapping.keyManager === RESIDENT_KEY_MANAGER ? await clientOf(mapping) : undefined };
    },
    async update(caller: Caller, appId: string, mappingId: string, input: { supportedGrantTypes?: string[]; callbackUrl?: string }) {
      const { mapping } = await keys.get(caller, appId, mappingId);
      const client = await localClientOf(mapping);
      const callback = input.callbackUrl ?? client.redirectUris[0];
      const grants = checkGrants(input.supportedGrantTypes ?? client.grantTypes, callback);
      await databases.apim
        .updateTable('km_oauth_clients')
        .set({
          grant_types: grants.join(' '), password_grant_enabled: grants.includes('password') ? 1 : 0,
          redirect_uris: JSON.stringify(callback ? [callback] : []), updated_at: clock.now(),
        })
        .where('client_id', '=', mapping.consumerKey)
        .execute();
      return { mapping, client: await clientOf(mapping) };
    },
    async regenerateSecret(caller: Caller, appId: string, mappingId: string) {
      const { mapping } = await keys.get(caller, appId, mappingId);
      await localClientOf(mapping);
      const secret = newClientSecret();
      await databases.apim.updateTable('km_oauth_clients').set({ secret_hash: deps.keys.hmac('client-secret', secret), updated_at: clock.now() }).where('client_id', '=', mapping.consumerKey).execute();
      return { mapping, secret };
    },
    async generateToken(caller: Caller, appId: string, mappingId: string, input: { consumerSecret: string; validityPeriod?: number; scopes?: string[] }, issuer: string) {
      const { mapping } = await keys.get(caller, appId, mappingId);
      await localClientOf(mapping);
      const row = await databases.apim.selectFrom('km_oauth_clients').select('secret_hash').where('client_id', '=', mapping.consumerKey).executeTakeFirst();
      if (!row?.secret_hash || !constantTimeEqual(row.secret_hash, deps.keys.hmac('client-secret', input.consumerSecret))) {
        throw DevPortalErrors.create('DEVPORTAL_ERR_INVALID_CONSUMER_SECRET');
      }
      await setTokenTtl(mapping.consumerKey, input.validityPeriod);
      const client = await clientOf(mapping);
      if (!client.grantTypes.includes('client_credentials')) throw invalid('body.grantType', 'the client_credentials grant is not enabled for these keys');
      return issueToken(client, issuer, input.scopes ?? []);
    },
    /**
     * WSO2's map-keys: binds an existing client to the application, so its tokens count for the
     * application at the gateways (which resolve the token's consumer key through the key
     * mapping). The caller proves they hold the client: for ours, the secret of a client they own
     * that is no application's yet; for an external key manager (which must allow mapping,
     * `enableMapOAuthConsumerApps`), a client_credentials request at its token endpoint. A
     * consumer key maps to one application only (unique per key manager).
     */
    async map(caller: Caller, appId: string, input: { consumerKey: string; consumerSecret?: string; keyManager?: string; keyType: KeyType }) {
      const app = await ownApp(caller, appId);
      if (app.status !== ApplicationStatuses.Approved) {
        throw DevPortalErrors.create('DEVPORTAL_ERR_APPLICATION_NOT_APPROVED', { description: `Application ${app.name} is ${app.status}; keys can be mapped once approved` });
      }
      const keyManager = input.keyManager ?? RESIDENT_KEY_MANAGER;
      const existing = (await store.keyMappings.list(caller.tenantId, app.id)).find((m) => m.keyType === input.keyType && m.keyManager === keyManager);
      if (existing) throw DevPortalErrors.create('DEVPORTAL_ERR_KEYS_EXIST', { description: `Application ${app.name} already has ${input.keyType} keys at ${keyManager}` });
      const notProven = () => DevPortalErrors.create('DEVPORTAL_ERR_INVALID_CONSUMER_SECRET', { description: `The consumer key and secret are not those of a client you may map at ${keyManager}` });
      if (input.consumerSecret === undefined || input.consumerSecret === '') throw invalid('body.consumerSecret', 'is required to map keys (it proves the client is yours)');
      let client: OAuthClient | undefined;
      if (keyManager === RESIDENT_KEY_MANAGER) {
        const row = await databases.apim.selectFrom('km_oauth_clients').select('secret_hash').where('tenant_id', '=', caller.tenantId).where('client_id', '=', input.consumerKey).executeTakeFirst();
        client = row ? await findClient(km, input.consumerKey) : undefined;
        // One answer for unknown, not yours, an application's, internal, and a wrong secret.
        if (!row?.secret_hash || !client || client.owner !== caller.username || client.application !== undefined || isInternalClient(client) || client.source === 'internal') throw notProven();
        if (!constantTimeEqual(row.secret_hash, deps.keys.hmac('client-secret', input.consumerSecret))) throw notProven();
      } else {
        const stored = await admin.stores.keyManagers.getByName(caller.tenantId, keyManager);
        if (!stored || !stored.enabled) throw DevPortalErrors.create('DEVPORTAL_ERR_KEY_MANAGER_NOT_FOUND', { description: `No enabled key manager named ${keyManager}` });
        if (stored.config.enableMapOAuthConsumerApps !== true) {
          throw DevPortalErrors.create('DEVPORTAL_ERR_KEY_MANAGER_NOT_FOUND', { description: `The key manager ${keyManager} does not allow mapping existing OAuth clients (enableMapOAuthConsumerApps)` });
        }
        const tokenEndpoint = stored.config.tokenEndpoint;
        if (typeof tokenEndpoint !== 'string' || !/^https?:\/\//.test(tokenEndpoint)) {
          throw DevPortalErrors.create('DEVPORTAL_ERR_KEY_MANAGER_NOT_FOUND', { description: `The key manager ${keyManager} has no token endpoint to check the consumer secret against` });
        }
        // Each proof is one or two outbound token requests answering yes or no: without a limit, an
        // oracle for guessing client secrets and an amplifier against the key manager. Failures
        // (unreachable too: those are the amplified calls) count per user and key manager, and
        // per user over all of them; a lockout refuses before any request is made.
        const pairKey = `map-keys:${caller.tenantId}:${JSON.stringify([caller.username, keyManager])}`;
        const userKey = `map-keys-user:${caller.tenantId}:${JSON.stringify(caller.username)}`;
        const lockedUntil = await attempts.lockedUntil([pairKey, userKey]);
        if (lockedUntil > 0) {
          throw tooManyAttempts(Math.max(1, Math.ceil((lockedUntil - clock.now()) / 1000)), `Too many failed attempts to map keys of ${keyManager}; try again later`);
        }
        const proof = await proveClientOwnership(tokenEndpoint, input.consumerKey, input.consumerSecret, config.admin_api.discovery_timeout_ms);
        if (proof !== 'proven') {
          await attempts.fail(pairKey);
          await attempts.fail(userKey, config.key_manager.lockout_threshold * MAP_KEYS_USER_FACTOR);
        }
        if (proof === 'unreachable') throw DevPortalErrors.create('DEVPORTAL_ERR_KEY_MANAGER_UNREACHABLE', { description: `The token endpoint of ${keyManager} did not answer` });
        if (proof === 'refused') throw notProven();
      }
      let mapping: KeyMapping;
      try {
        mapping = await store.keyMappings.create(caller.tenantId, { applicationId: app.id, keyType: input.keyType, keyManager, consumerKey: input.consumerKey });
      } catch (err) {
        if (DataErrors.is(err, 'DATA_ERR_UNIQUE_VIOLATION')) throw DevPortalErrors.create('DEVPORTAL_ERR_KEYS_EXIST', { description: `This consumer key is already mapped to an application, or ${app.name} already has ${input.keyType} keys at ${keyManager}` });
        throw err;
      }
      await notify(DevPortalEvents.KeyMappingCreate, caller.tenantId, keyMappingEvent(mapping));
      return { mapping, client };
    },
    async cleanUp(caller: Caller, appId: string, mappingId: string): Promise<void> {
      const app = await ownApp(caller, appId);
      const mapping = await store.keyMappings.get(caller.tenantId, app.id, mappingId);
      if (!mapping) throw DevPortalErrors.create('DEVPORTAL_ERR_KEY_MAPPING_NOT_FOUND', { description: `No key mapping ${mappingId} in application ${appId}` });
      await store.keyMappings.delete(caller.tenantId, mapping.id);
      await removeClient(caller.tenantId, mapping);
      await notify(DevPortalEvents.KeyMappingRemove, caller.tenantId, keyMappingEvent(mapping));
    },
  };

  // ---- API keys --------------------------------------------------------------------------

  const apiKeys = {
    /**
     * A self-contained JWT (WSO2's API key) signed with the Key Manager's current access-token
     * key, so gateways verify it offline with the published JWKS; `typ: JWT` (not `at+jwt`), so it
     * is never accepted as a management access token.
     */
    async generate(caller: Caller, appId: string, keyType: KeyType, input: { validityPeriod?: number; permittedIP?: string; permittedReferer?: string }, issuer: string) {
      const app = await ownApp(caller, appId);
      if (app.status !== ApplicationStatuses.Approved) throw DevPortalErrors.create('DEVPORTAL_ERR_APPLICATION_NOT_APPROVED');
      const subs = (await store.subscriptions.list(caller.tenantId, { applicationId: app.id })).filter((s) => s.status === SubscriptionStatuses.Unblocked || (s.status === SubscriptionStatuses.ProdOnlyBlocked && keyType === 'SANDBOX'));
      const apis = await catalog.getMany(caller.tenantId, subs.map((s) => s.apiId));
      const now = Math.floor(clock.now() / 1000);
      const validity = input.validityPeriod !== undefined && input.validityPeriod > 0 ? Math.floor(input.validityPeriod) : undefined;
      const jti = randomUUID();
      const claims: Record<string, unknown> = {
        sub: caller.username,
        keytype: keyType,
        tokenType: 'apiKey',
        application: { id: app.id, uuid: app.id, name: app.name, owner: app.owner, tier: app.throttlingPolicy },
        subscribedAPIs: subs.flatMap((s) => {
          const api = apis.get(s.apiId);
          return api ? [{ name: api.name, context: effectiveContext(api.context, api.version), version: api.version, publisher: api.provider, subscriptionTier: s.throttlingPolicy, subscriberTenantDomain: 'carbon.super', uuid: api.id }] : [];
        }),
        tierInfo: Object.fromEntries(subs.map((s) => [s.throttlingPolicy, { stopOnQuotaReach: true, spikeArrestLimit: 0 }])),
        iat: now,
        jti,
      };
      if (input.permittedIP) claims.permittedIP = input.permittedIP;
      if (input.permittedReferer) claims.permittedReferer = input.permittedReferer;
      if (validity !== undefined) claims.exp = now + validity;
      const key = await km.signingKeys.current('access');
      const apikey = await new SignJWT(claims).setProtectedHeader({ alg: key.alg, typ: 'JWT', kid: key.kid }).setIssuer(issuer).sign(key.privateKey);
      await store.apiKeys.record(caller.tenantId, { jti, applicationId: app.id, keyType, issuedBy: caller.username, expiresAt: validity === undefined ? null : (now + validity) * 1000 });
      return { apikey, validityTime: validity ?? -1 };
    },
    async revoke(caller: Caller, appId: string, keyType: KeyType, apikey: string): Promise<void> {
      const app = await ownApp(caller, appId);
      let jti: unknown;
      try {
        const payload = JSON.parse(Buffer.from(apikey.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
        jti = payload.jti;
      } catch {
        jti = undefined;
      }
      const record = typeof jti === 'string' ? await store.apiKeys.get(caller.tenantId, app.id, jti) : undefined;
      if (!record || record.key_type !== keyType) throw DevPortalErrors.create('DEVPORTAL_ERR_API_KEY_NOT_FOUND', { description: 'The API key was not issued to this application' });
      await store.apiKeys.revoke(caller.tenantId, app.id, record.jti);
      // Ten years for keys without expiry: the revocation list must outlive them.
      const exp = record.expires_at === null ? Math.floor(clock.now() / 1000) + 10 * 365 * 86400 : Math.floor(Number(record.expires_at) / 1000);
      await revokeJwt(km, { jti: record.jti, clientId: `apikey:${app.id}`, tenantId: caller.tenantId, exp });
    },
  };

  // ---- workflow completions ----------------------------------------------------------------

  /**
   * Moves an application out of CREATED, a subscription out of ON_HOLD or a sign-up out of PENDING,
   * at most once: a conditional UPDATE (or DELETE), and only the call that moved it publishes the
   * event, so every portal replica may try. `isTheirs` tells a sign-up's user from a later one of
   * the same name. True when this call moved it.
   */
  const settle = async (tenantId: number, type: WorkflowType, subjectRef: string, approved: boolean, isTheirs: (user: User) => boolean): Promise<boolean> => {
    if (type === 'APPLICATION_CREATION') {
      if (!(await store.applications.setStatus(tenantId, subjectRef, approved ? ApplicationStatuses.Approved : ApplicationStatuses.Rejected, ApplicationStatuses.Created))) return false;
      const app = await store.applications.get(tenantId, subjectRef);
      if (app) await notify(DevPortalEvents.ApplicationUpdate, tenantId, applicationEvent(app));
      return true;
    }
    if (type === 'SUBSCRIPTION_CREATION') {
      if (!(await store.subscriptions.setStatus(tenantId, subjectRef, approved ? SubscriptionStatuses.Unblocked : SubscriptionStatuses.Rejected, SubscriptionStatuses.OnHold))) return false;
      const sub = await store.subscriptions.get(tenantId, subjectRef);
      if (sub) {
        const [api, app] = await Promise.all([catalog.get(tenantId, sub.apiId), store.applications.get(tenantId, sub.applicationId)]);
        await notify(DevPortalEvents.SubscriptionUpdate, tenantId, subscriptionEvent(sub, api, app));
      }
      return true;
    }
    if (type === 'USER_SIGNUP') {
      const user = await repositories.users.findByUsername(tenantId, subjectRef);
      if (!user || user.status !== 'PENDING' || !isTheirs(user)) return false;
      if (approved) return repositories.users.setStatus(tenantId, user.id, 'ACTIVE', 'PENDING');
      try {
        await repositories.users.delete(tenantId, user.id);
        return true;
      } catch (err) {
        // Another replica deleted it first.
        if (DataErrors.is(err, 'DATA_ERR_NOT_FOUND')) return false;
        throw err;
      }
    }
    return false;
  };

  /**
   * Whether a sign-up workflow is this user's: one named after them by id, or (a workflow opened
   * with a random reference) not older than them. A sign-up made after the workflow (the rejected
   * user deleted, the name taken again) waits for its own.
   */
  const isSignUpOf = (wf: Workflow, user: { id: string; createdAt: number }): boolean =>
    wf.referenceId === workflowReference('USER_SIGNUP', user.id) || wf.createdAt >= user.createdAt;

  /**
   * Applies an Admin decision to the application, subscription or sign-up it is about, at most
   * once (see `settle`), so the WORKFLOW_COMPLETE handler, the reconciler and every portal replica
   * may all apply the same decision. True when this call applied it.
   */
  const applyWorkflowDecision = async (wf: Workflow): Promise<boolean> => {
    if (wf.status === WorkflowStatuses.Created) return false;
    return settle(wf.tenantId, wf.workflowType, wf.subjectRef, wf.status === WorkflowStatuses.Approved, (user) => isSignUpOf(wf, user));
  };

  /** WORKFLOW_COMPLETE: applies the decision as the apim database holds it (the event names the workflow). */
  const onWorkflowComplete = async (event: { referenceId: string; tenantId: number }): Promise<boolean> => {
    const wf = await admin.stores.workflows.get(event.tenantId, event.referenceId);
    return wf ? applyWorkflowDecision(wf) : false;
  };

  const pendingUsers = async (tenantId: number): Promise<User[]> => {
    const users: User[] = [];
    for (let offset = 0; ; offset += USERS_PAGE) {
      const page = await repositories.users.list(tenantId, { limit: USERS_PAGE, offset }, { status: 'PENDING' });
      users.push(...page.items);
      if (page.items.length < USERS_PAGE) return users;
    }
  };

  /** The workflow to open for a waiting item, from what is stored now; undefined once it is gone. */
  const workflowFor = async (tenantId: number, type: WorkflowType, item: Waiting): Promise<NewWorkflow | undefined> => {
    if (type === 'APPLICATION_CREATION') {
      const app = await store.applications.get(tenantId, item.id);
      return app && applicationWorkflow(app);
    }
    if (type === 'SUBSCRIPTION_CREATION') {
      const sub = await store.subscriptions.get(tenantId, item.id);
      if (!sub) return undefined;
      const [app, api] = await Promise.all([store.applications.get(tenantId, sub.applicationId), catalog.get(tenantId, sub.apiId)]);
      return subscriptionWorkflow(sub, app, api);
    }
    const user = await repositories.users.getById(tenantId, item.id);
    return user && signUpWorkflow(user);
  };

  /**
   * An item held for approval with no workflow (stored before items and their workflows were
   * written together, or a sign-up whose workflow write failed: users are in the shared database)
   * would wait forever, and no admin would see it. Its workflow is opened under the item's own
   * reference, so replicas doing this at once write one row. If Admin has turned the type off
   * since, nobody is asked to approve such items any more: it is approved, as one submitted now
   * would be (WSO2's simple executor). Returns what was done, or undefined when another replica
   * or the request got there first.
   */
  const openMissingWorkflow = async (tenantId: number, type: WorkflowType, item: Waiting): Promise<'opened' | 'approved' | undefined> => {
    if (!(await admin.isWorkflowEnabled(tenantId, type))) {
      return (await settle(tenantId, type, item.subjectRef, true, (user) => user.id === item.id)) ? 'approved' : undefined;
    }
    const input = await workflowFor(tenantId, type, item);
    if (!input) return undefined;
    try {
      await openWorkflow(tenantId, input);
      return 'opened';
    } catch (err) {
      if (AdminErrors.is(err, 'ADMIN_ERR_WORKFLOW_EXISTS')) return undefined;
      throw err;
    }
  };

  /**
   * For each application still CREATED, subscription still ON_HOLD and user still PENDING: applies
   * the decision of its newest workflow if Admin decided it and no WORKFLOW_COMPLETE did (lost in
   * a crashed Admin's publish queue while NATS was down); opens its workflow if it has none and
   * has waited `devportal.workflow_missing_grace_ms` (younger ones may be a request still writing
   * it). Scans what is pending, not the history of decisions. Returns how many items this call
   * moved on: decisions applied, workflows opened, items approved because their type was turned off.
   */
  const reconcileWorkflows = async (): Promise<number> => {
    let done = 0;
    const missingBefore = clock.now() - config.devportal.workflow_missing_grace_ms;
    for (const tenant of await repositories.tenants.list()) {
      const ids = (rows: { id: string; createdAt: number }[]): Waiting[] => rows.map((r) => ({ ...r, subjectRef: r.id }));
      const waiting: [WorkflowType, Waiting[]][] = [
        ['APPLICATION_CREATION', ids(await store.applications.withStatus(tenant.id, ApplicationStatuses.Created))],
        ['SUBSCRIPTION_CREATION', ids(await store.subscriptions.withStatus(tenant.id, SubscriptionStatuses.OnHold))],
        ['USER_SIGNUP', (await pendingUsers(tenant.id)).map((u) => ({ id: u.id, subjectRef: u.username, createdAt: u.createdAt }))],
      ];
      for (const [type, items] of waiting) {
        if (items.length === 0) continue;
        const latest = await admin.stores.workflows.latestBySubject(tenant.id, type, items.map((i) => i.subjectRef));
        for (const item of items) {
          const wf = latest.get(item.subjectRef);
          if (wf && (type !== 'USER_SIGNUP' || isSignUpOf(wf, item))) {
            const where = { referenceId: wf.referenceId, workflowType: wf.workflowType, status: wf.status, tenantId: wf.tenantId };
            try {
              if (!(await applyWorkflowDecision(wf))) continue;
              done++;
              deps.logger.info(where, 'applied a workflow decision that no WORKFLOW_COMPLETE had applied');
            } catch (err) {
              deps.logger.error({ err, ...where }, 'could not apply a workflow decision');
            }
            continue;
          }
          if (item.createdAt > missingBefore) continue;
          const where = { workflowType: type, subjectRef: item.subjectRef, tenantId: tenant.id, storedAt: item.createdAt };
          try {
            const outcome = await openMissingWorkflow(tenant.id, type, item);
            if (outcome === undefined) continue;
            done++;
            if (outcome === 'opened') deps.logger.warn({ ...where, referenceId: workflowReference(type, item.id) }, 'opened the approval workflow of an item held for approval without one');
            else deps.logger.warn(where, 'approved an item held for approval without a workflow: Admin has turned this workflow type off since');
          } catch (err) {
            deps.logger.error({ err, ...where }, 'could not open the missing approval workflow of an item');
          }
        }
      }
    }
    return done;
  };

  // ---- users (self sign-up, password change) ------------------------------------------------

  const users = {
    /** The password policy: 8 to 1024 characters, not the username. */
    checkPassword(username: string, password: string): void {
      if (password.length < 8) throw DevPortalErrors.create('DEVPORTAL_ERR_WEAK_PASSWORD', { description: 'The password must have at least 8 characters' });
      if (password.toLowerCase() === username.toLowerCase()) throw DevPortalErrors.create('DEVPORTAL_ERR_WEAK_PASSWORD', { description: 'The password must not be the username' });
    },
    verify: (tenantId: number, username: string, password: string) => repositories.users.verifyCredentials(tenantId, username, password),
    setPassword: (tenantId: number, id: string, password: string) => repositories.users.setPassword(tenantId, id, password),
    /**
     * Creates a subscriber, PENDING until approved when Admin's USER_SIGNUP workflow is on. The
     * user (shared database) and the workflow (apim) cannot share a transaction: a user whose
     * workflow cannot be written is removed again, as WSO2 removes an item whose workflow fails,
     * and one left behind by a crash gets its workflow from the reconciler.
     */
    async signUp(tenantId: number, input: { username: string; password: string; email?: string; givenName?: string; familyName?: string }) {
      if (!/^[A-Za-z0-9._@-]{3,100}$/.test(input.username)) throw invalid('body.user.username', 'must be 3 to 100 letters, digits or . _ @ -');
      users.checkPassword(input.username, input.password);
      const pending = await admin.isWorkflowEnabled(tenantId, 'USER_SIGNUP');
      let user;
      try {
        user = await repositories.users.create(tenantId, {
          username: input.username, password: input.password, email: input.email ?? null, givenName: input.givenName ?? null, familyName: input.familyName ?? null,
          status: pending ? 'PENDING' : 'ACTIVE', roles: [Roles.Subscriber],
        });
      } catch (err) {
        if (DataErrors.is(err, 'DATA_ERR_UNIQUE_VIOLATION')) throw DevPortalErrors.create('DEVPORTAL_ERR_USER_EXISTS', { description: `The username ${input.username} is taken` });
        throw err;
      }
      if (!pending) return user;
      try {
        await openWorkflow(tenantId, signUpWorkflow(user));
      } catch (err) {
        // A reconciler opened it already (the request stalled past the grace period).
        if (AdminErrors.is(err, 'ADMIN_ERR_WORKFLOW_EXISTS')) return user;
        await repositories.users.delete(tenantId, user.id).catch((cleanup: unknown) => {
          deps.logger.error({ err: cleanup, username: user.username, tenantId }, 'could not remove a sign-up whose workflow failed; the reconciler will open its workflow');
        });
        throw err;
      }
      return user;
    },
  };

  // ---- throttling policies (Admin's, read-only) -------------------------------------------

  /** WSO2 (APIConsumerImpl.getDeniedTiers): a signed-in user does not see tiers denied to their roles. */
  const permitted = (p: ThrottlePolicy, viewer: Viewer | undefined): boolean => {
    const perm = p.details.permissions as { permissionType?: string; roles?: string[] } | undefined;
    if (!viewer || !perm?.roles?.length) return true;
    const match = perm.roles.some((r) => viewer.roles.includes(r));
    return perm.permissionType === 'DENY' ? !match : match;
  };

  const policies = {
    async list(tenantId: number, level: 'application' | 'subscription', viewer: Viewer | undefined): Promise<ThrottlePolicy[]> {
      return (await admin.listPolicies(tenantId, level)).filter((p) => p.isDeployed && permitted(p, viewer));
    },
    /** By name, as WSO2's `policyId`; Admin's id works too. */
    async get(tenantId: number, level: 'application' | 'subscription', nameOrId: string, viewer: Viewer | undefined): Promise<ThrottlePolicy> {
      const p = await admin.getPolicy(tenantId, level, nameOrId);
      if (!p || !p.isDeployed || !permitted(p, viewer)) throw DevPortalErrors.create('DEVPORTAL_ERR_POLICY_NOT_FOUND', { description: `No ${level} throttling policy named ${nameOrId}` });
      return p;
    },
  };

  return { store, catalog, admin, km, applications, subscriptions, keys, apiKeys, users, policies, onWorkflowComplete, reconcileWorkflows };
}

export type DevPortalService = ReturnType<typeof createDevPortalService>;
