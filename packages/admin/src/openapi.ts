import type { FastifyInstance } from 'fastify';
import { fastifySwagger } from '@fastify/swagger';

export const ADMIN_PREFIX = '/api/am/admin/v4';

/**
 * Registers @fastify/swagger in the Admin scope, so the document describes exactly the Admin
 * routes, with paths relative to the server URL as WSO2's admin-v4 has them.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Gatehouse Admin API',
        version: 'v4',
        description: "The Admin REST API of Gatehouse, compatible with WSO2 API Manager 4.2's admin-v4: throttling policies, deny policies, gateway environments, key managers, workflows, system scopes and the tenant configuration.",
      },
      servers: [{ url: ADMIN_PREFIX }],
      components: {
        securitySchemes: {
          OAuth2Security: { type: 'oauth2', flows: { password: { tokenUrl: '/oauth2/token', scopes: adminScopes } } },
        },
      },
      security: [{ OAuth2Security: [] }],
    },
    transform: ({ schema, url }) => ({ schema, url: url.startsWith(ADMIN_PREFIX) ? url.slice(ADMIN_PREFIX.length) || '/' : url }),
  });
}

const adminScopes: Record<string, string> = {
  'apim:admin': 'Manage all admin operations',
  'apim:tier_view': 'View throttling policies',
  'apim:tier_manage': 'Update and delete throttling policies',
  'apim:bl_view': 'View deny policies',
  'apim:bl_manage': 'Update and delete deny policies',
  'apim:environment_read': 'Retrieve gateway environments',
  'apim:environment_manage': 'Manage gateway environments',
  'apim:admin_operations': 'Manage API categories and key managers',
  'apim:api_workflow_view': 'Retrieve workflow requests',
  'apim:api_workflow_approve': 'Manage workflows',
  'apim:scope_manage': 'Manage system scopes',
};
