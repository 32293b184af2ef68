import type { FastifyInstance } from 'fastify';
import type { Authorizer } from '../auth.ts';
import type { PublisherService } from '../service.ts';

export const INTERNAL_DATA_BASE = '/internal/data/v1';

/**
 * The internal data API's runtime artifacts (WSO2 internal-data v1), which gateways pull at start
 * and after each DEPLOY_API_IN_GATEWAY event. WSO2 answers a zip of Synapse files; Gatehouse
 * answers JSON: `{ count, list: RuntimeArtifact & { environment, vhost, checksum }[] }`.
 * Requires `apim:admin` until the gateway gets its own internal scope.
 */
export async function internalDataRoutes(app: FastifyInstance, deps: { service: PublisherService; auth: Authorizer }): Promise<void> {
  app.get<{ Querystring: { gatewayLabel?: string; apiId?: string } }>(
    '/runtime-artifacts',
    {
      onRequest: deps.auth.requireAnyScope('apim:admin'),
      schema: {
        hide: true,
        querystring: {
          type: 'object',
          properties: { gatewayLabel: { type: 'string' }, apiId: { type: 'string' }, type: { type: 'string' }, name: { type: 'string' }, version: { type: 'string' } },
        },
      },
    },
    async (request) => {
      const list = await deps.service.runtimeArtifacts(deps.auth.principal(request).tenantId, request.query.gatewayLabel, request.query.apiId);
      return { count: list.length, list };
    },
  );
}
