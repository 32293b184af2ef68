import type { FastifyInstance } from 'fastify';
import { fastifySwagger } from '@fastify/swagger';
import { SUPER_TENANT_ID, systemClock } from '@gatehouse/core';
import type { Clock, ServerKeys } from '@gatehouse/core';
import type { GatehouseConfig } from '@gatehouse/config';
import type { Databases, Repositories } from '@gatehouse/data';
import { Topics } from '@gatehouse/events';
import type { EventHub, Logger, Subscription as HubSubscription } from '@gatehouse/events';
import { createManagementAuth } from '@gatehouse/key-manager';
import { DevPortalErrors, invalid } from './errors.ts';
import { DEVPORTAL_PREFIX, publisherSubscriptionRoutes, registerDevPortalRoutes } from './routes.ts';
import { createDevPortalService } from './service.ts';
import { createDevPortalStore } from './store.ts';
import type { DevPortalService } from './service.ts';

export { DevPortalErrors } from './errors.ts';
export type { DevPortalErrorCode, DevPortalError } from './errors.ts';
export { createDevPortalService, DevPortalEvents, KeyTypes } from './service.ts';
export type { DevPortalService, DevPortalDeps, Caller } from './service.ts';
export { createDevPortalStore, ApplicationStatuses, SubscriptionStatuses } from './store.ts';
export type { DevPortalStore, Application, Subscription, KeyMapping, Rating, Comment } from './store.ts';
export { DEVPORTAL_PREFIX, PUBLISHER_SUBSCRIPTIONS } from './routes.ts';

/** What the Developer Portal needs from its host: structurally a subset of the CLI's `ComponentDeps`. */
export interface DevPortalComponentDeps {
  readonly databases: Databases;
  readonly repositories: Repositories;
  readonly keys: ServerKeys;
  readonly hub: EventHub;
  readonly logger: Logger;
  readonly clock: Clock;
}

export interface DevPortalComponent {
  readonly name: 'devportal';
  readonly service: DevPortalService;
  routes(app: FastifyInstance): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Admin's policy-in-use check for the tiers the Developer Portal uses: an application tier used by
 * an application, a subscription tier used by a subscription. For the lead to register on the
 * Admin component's service, so a tier in use cannot be deleted.
 *
 * @example
 * ```ts
 * admin.service.addPolicyUsageCheck(devPortalTierUsage(databases));
 * ```
 */
export function devPortalTierUsage(databases: Pick<Databases, 'apim'>): (tenantId: number, kind: string, name: string) => Promise<boolean> {
  const store = createDevPortalStore(databases.apim, systemClock);
  return async (tenantId, kind, name) => {
    if (kind === 'application') return store.applications.usesTier(tenantId, name);
    if (kind === 'subscription') return store.subscriptions.usesTier(tenantId, name);
    return false;
  };
}

export const SELF_SIGNUP_PATH = '/api/identity/user/v1.0/me';

const scopes: Record<string, string> = {
  'apim:subscribe': 'Subscribe API',
  'apim:app_manage': 'Retrieve, manage and import, export applications',
  'apim:sub_manage': 'Retrieve, manage subscriptions',
  'apim:api_key': 'Generate API keys',
  'apim:subscription_view': 'View subscriptions (Publisher)',
  'apim:subscription_block': 'Block subscriptions (Publisher)',
};

/**
 * The Publisher-side subscription routes (`GET /api/am/publisher/v4/subscriptions?apiId=`,
 * `POST .../block-subscription?subscriptionId=&blockState=`, `POST .../unblock-subscription`),
 * for the Publisher component to register in its own scope (scopes `apim:subscription_view`,
 * `apim:subscription_block`).
 *
 * @example
 * ```ts
 * registerPublisherSubscriptionRoutes(app, { config, databases, repositories, keys, hub, logger, clock });
 * ```
 */
export function registerPublisherSubscriptionRoutes(app: FastifyInstance, deps: DevPortalComponentDeps & { readonly config: GatehouseConfig }): void {
  const service = createDevPortalService(deps.config, deps);
  publisherSubscriptionRoutes(app, { auth: createManagementAuth(deps.config, deps), service });
}

/**
 * The Developer Portal REST API (`/api/am/devportal/v3`) with its OpenAPI document at
 * `/api/am/devportal/v3/openapi.json`, WSO2's self-registration endpoint
 * (`/api/identity/user/v1.0/me`). The Publisher's subscription routes are exported
 * (`registerPublisherSubscriptionRoutes`) for the Publisher component to serve. Applies Admin's workflow decisions (`WORKFLOW_COMPLETE` on `notification`)
 * to the applications, subscriptions and users they are about, and at start and every
 * `devportal.workflow_reconcile_interval_ms` the decisions whose event it never got; it then also
 * opens the workflow of an item held for approval that has none.
 *
 * @example
 * ```ts
 * const devportal = createDevPortal(config, { databases, repositories, keys, hub, logger, clock });
 * await app.register(async (scope) => devportal.routes(scope));
 * await devportal.start();
 * ```
 */
export function createDevPortal(config: GatehouseConfig, deps: DevPortalComponentDeps): DevPortalComponent {
  const service = createDevPortalService(config, deps);
  const auth = createManagementAuth(config, deps);
  let sub: HubSubscription | undefined;
  let timer: NodeJS.Timeout | undefined;
  let reconciling: Promise<unknown> | undefined;
  // One pass at a time: a slow database must not pile passes up.
  const reconcile = () => {
    reconciling ??= service
      .reconcileWorkflows()
      .catch((err: unknown) => deps.logger.error({ err }, 'devportal: applying missed workflow decisions failed'))
      .finally(() => {
        reconciling = undefined;
      });
  };

  return {
    name: 'devportal',
    service,
    async routes(app) {
      await app.register(fastifySwagger, {
        openapi: {
          openapi: '3.1.0',
          info: {
            title: 'Gatehouse Developer Portal API',
            version: 'v3',
            description: "The Developer Portal REST API of Gatehouse, compatible with WSO2 API Manager 4.2's devportal-v3: applications, subscriptions, keys, API keys, API discovery, documents, ratings and comments.",
          },
          servers: [{ url: DEVPORTAL_PREFIX }],
          components: { securitySchemes: { OAuth2Security: { type: 'oauth2', flows: { password: { tokenUrl: '/oauth2/token', scopes } } } } },
          security: [{ OAuth2Security: [] }],
        },
        transform: ({ schema, url }) => ({ schema, url: url.startsWith(DEVPORTAL_PREFIX) ? url.slice(DEVPORTAL_PREFIX.length) || '/' : url }),
      });
      app.get(`${DEVPORTAL_PREFIX}/openapi.json`, { schema: { hide: true } }, async () => app.swagger());
      registerDevPortalRoutes(app, { config, auth, service });

      app.post(
        SELF_SIGNUP_PATH,
        {
          schema: {
            tags: ['Users'],
            summary: 'Self sign-up (WSO2 identity self-registration)',
            body: {
              type: 'object',
              required: ['user'],
              properties: {
                user: {
                  type: 'object',
                  required: ['username', 'password'],
                  properties: {
                    username: { type: 'string', maxLength: 100 },
                    realm: { type: 'string', maxLength: 100 },
                    password: { type: 'string', maxLength: 1024 },
                    claims: { type: 'array', maxItems: 50, items: { type: 'object', required: ['uri', 'value'], properties: { uri: { type: 'string', maxLength: 255 }, value: { type: 'string', maxLength: 1024 } } } },
                  },
                },
                properties: { type: 'array', maxItems: 50 },
              },
            },
          },
        },
        async (request, reply) => {
          if (!config.devportal.self_signup) throw DevPortalErrors.create('DEVPORTAL_ERR_SIGNUP_DISABLED');
          const { user } = request.body as { user: { username: string; realm?: string; password: string; claims?: { uri: string; value: string }[] } };
          if (user.realm !== undefined && user.realm !== 'PRIMARY' && user.realm !== '') throw invalid('body.user.realm', 'only PRIMARY is supported');
          const claim = (suffix: string) => user.claims?.find((c) => c.uri === `http://wso2.org/claims/${suffix}`)?.value;
          const created = await service.users.signUp(SUPER_TENANT_ID, {
            username: user.username,
            password: user.password,
            ...(claim('emailaddress') !== undefined ? { email: claim('emailaddress')! } : {}),
            ...(claim('givenname') !== undefined ? { givenName: claim('givenname')! } : {}),
            ...(claim('lastname') !== undefined ? { familyName: claim('lastname')! } : {}),
          });
          return reply.code(201).send({ code: 'USR-02001', message: 'Successful user self registration.', notificationChannel: created.status === 'PENDING' ? 'PENDING_APPROVAL' : 'NONE' });
        },
      );
    },
    async start() {
      sub = await deps.hub.subscribe<{ referenceId: string; tenantId?: number }>(Topics.Notification, async (e) => {
        if (e.type !== 'WORKFLOW_COMPLETE') return;
        await service.onWorkflowComplete({ referenceId: e.payload.referenceId, tenantId: e.payload.tenantId ?? e.tenantId });
      });
      // The event is not replayed once lost; the apim database still holds every decision.
      reconcile();
      timer = setInterval(reconcile, config.devportal.workflow_reconcile_interval_ms);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await sub?.unsubscribe();
      sub = undefined;
      await reconciling;
    },
  };
}
