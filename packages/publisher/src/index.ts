import type { FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import type { GatehouseConfig } from '@gatehouse/config';
import type { Clock, ServerKeys } from '@gatehouse/core';
import type { Databases, Repositories } from '@gatehouse/data';
import type { EventHub } from '@gatehouse/events';
import { createValidators } from './ajv.ts';
import { loadAuthorizer } from './auth.ts';
import { createDocumentService } from './documents.ts';
import { PUBLISHER_BASE, publisherRoutes } from './routes/publisher.ts';
import { INTERNAL_DATA_BASE, internalDataRoutes } from './routes/internal.ts';
import { createPublisherService } from './service.ts';
import { createUsageConsumer, type UsageConsumerStats } from './usage/consumer.ts';
import { usageStore } from './usage/store.ts';

export { PublisherErrors } from './errors.ts';
export type { PublisherErrorCode } from './errors.ts';
export { recordGatewayAcknowledgement, createPublisherService, PublisherEvents, MAX_REVISIONS, effectiveContext, parseQuery } from './service.ts';
export type { PublisherService, PublisherServiceDeps, Actor, QueryKey } from './service.ts';
export { createApiCatalog } from './catalog.ts';
export type { ApiCatalog, CatalogApi, GatewayEndpoint } from './catalog.ts';
export type { ApiSearch } from './store/apis.ts';
export type { DocumentRow } from './store/registry.ts';
export { RUNTIME_ARTIFACT_SCHEMA_VERSION } from './artifact.ts';
export type { RuntimeArtifact, EndpointGroup } from './artifact.ts';
export { PUBLISHER_BASE } from './routes/publisher.ts';
export { INTERNAL_DATA_BASE } from './routes/internal.ts';
export { createUsageConsumer, foldEvents } from './usage/consumer.ts';
export type { UsageConsumer, UsageConsumerDeps, UsageConsumerOptions, UsageConsumerStats } from './usage/consumer.ts';
export { usageStore, UsageIntervals } from './usage/store.ts';
export type { UsageInterval, UsageReport } from './usage/store.ts';

type Log = (obj: object, msg?: string) => void;

/** What the Publisher needs from its host process: structurally a subset of the CLI's `ComponentDeps`. */
export interface PublisherDeps {
  readonly databases: Databases;
  readonly repositories: Repositories;
  readonly keys: ServerKeys;
  readonly hub: EventHub;
  readonly clock: Clock;
  readonly logger: { child(bindings: object): unknown; info: Log; warn: Log; error: Log };
  readonly metrics?: unknown;
}

export interface PublisherComponent {
  readonly name: 'publisher';
  routes(app: FastifyInstance): Promise<void>;
  /** Starts folding the gateways' analytics events into the usage figures. */
  start(): Promise<void>;
  /** What this process's usage consumer has folded, skipped and lost so far (for `/metrics`). */
  readonly usageStats: () => Readonly<UsageConsumerStats>;
  stop(): Promise<void>;
}

/**
 * The Publisher component: WSO2's publisher REST API v4 under `/api/am/publisher/v4` (with its
 * own OpenAPI 3.1 document at `openapi.json` / `openapi.yaml`) and the internal data API's
 * runtime artifacts under `/internal/data/v1`.
 *
 * @example
 * ```ts
 * const publisher = createPublisher(config, { databases, repositories, keys, hub, clock, logger });
 * await app.register(async (scope) => publisher.routes(scope));
 * ```
 */
export function createPublisher(config: GatehouseConfig, deps: PublisherDeps): PublisherComponent {
  const service = createPublisherService({ ...deps, gatewayExpiryMs: config.admin_api.gateway_expiry_ms });
  const documents = createDocumentService(deps);
  const usage = createUsageConsumer(
    { databases: deps.databases, hub: deps.hub, clock: deps.clock, logger: deps.logger },
    { retentionDays: config.publisher.usage_retention_days },
  );
  const usageQueries = {
    report: (tenantId: number, apiId: string, range: Parameters<typeof usageStore.report>[3]) => usageStore.report(deps.databases.apim, tenantId, apiId, range),
    now: () => deps.clock.now(),
  };
  return {
    name: 'publisher',
    start: () => usage.start(),
    stop: () => usage.stop(),
    usageStats: () => usage.stats,
    async routes(app) {
      // Route schemas use the control plane's strict validator; these compile the JSON parts of
      // multipart bodies, which fastify does not validate.
      const validators = createValidators();
      const auth = await loadAuthorizer(config, deps);
      await app.register(multipart, {
        limits: { fileSize: config.publisher.max_definition_bytes, fieldSize: config.publisher.max_definition_bytes, files: 2, fields: 10, parts: 12 },
      });
      await app.register(swagger, {
        openapi: {
          openapi: '3.1.0',
          info: { title: 'Gatehouse Publisher API', version: 'v4', description: 'The Publisher REST API, compatible with WSO2 API Manager publisher v4.' },
          components: {
            securitySchemes: {
              OAuth2Security: { type: 'oauth2', flows: { password: { tokenUrl: '/oauth2/token', scopes: {} } } },
            },
          },
        },
      });
      await app.register(async (api) => publisherRoutes(api, { config, service, documents, auth, validators, usage: usageQueries }), { prefix: PUBLISHER_BASE });
      await app.register(async (internal) => internalDataRoutes(internal, { service, auth }), { prefix: INTERNAL_DATA_BASE });
      app.get(`${PUBLISHER_BASE}/openapi.json`, { schema: { hide: true } }, async () => app.swagger());
      app.get(`${PUBLISHER_BASE}/openapi.yaml`, { schema: { hide: true } }, async (_request, reply) => reply.type('application/yaml').send(app.swagger({ yaml: true })));
    },
  };
}
