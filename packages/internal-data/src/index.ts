import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock, ServerKeys } from '@gatehouse/core';
import type { GatehouseConfig } from '@gatehouse/config';
import type { Databases, Repositories } from '@gatehouse/data';
import { Topics, type EventHub, type Subscription } from '@gatehouse/events';
import { createManagementAuth, findClient, getPrincipal, isInternalClient, kmContext } from '@gatehouse/key-manager';

export interface InternalDataDeps {
  readonly databases: Databases;
  readonly repositories: Repositories;
  readonly keys: ServerKeys;
  readonly hub: EventHub;
  readonly clock: Clock;
  readonly logger: { info(o: object, m?: string): void; warn(o: object, m?: string): void; error(o: object, m?: string): void; debug(o: object, m?: string): void };
}

const BASE = '/internal/data/v1';
/** Until gateways get a dedicated internal scope, the internal data API wants the admin scope. */
const SCOPE = 'apim:admin';

/**
 * What gateways and traffic managers pull from the control plane (WSO2's internal data API, in
 * JSON): subscriptions, applications and their key mappings, throttling policies, key managers
 * with their keys, revoked token ids, blocking conditions.
 * Runtime artifacts are the Publisher's (`/internal/data/v1/runtime-artifacts`). It also
 * listens for gateway heartbeats and deployment acknowledgements and records them, so Admin
 * lists live gateways and the Publisher shows which gateways really have a deployment.
 */
export function createInternalData(config: GatehouseConfig, deps: InternalDataDeps) {
  const auth = createManagementAuth(config, deps);
  const subscriptions: Subscription[] = [];
  const db = deps.databases;

  return {
    name: 'internal-data' as const,
    async routes(app: FastifyInstance) {
      const opts = { onRequest: auth.requireAnyScope(SCOPE), schema: { hide: true } };
      const tenant = (request: FastifyRequest) => getPrincipal(request).tenantId;

      app.get<{ Querystring: { apiId?: string; appId?: string } }>(`${BASE}/subscriptions`, { ...opts, schema: { hide: true, querystring: { type: 'object', properties: { apiId: { type: 'string' }, appId: { type: 'string' } }, additionalProperties: false } } }, async (request) => {
        let q = db.apim.selectFrom('dp_subscriptions').select(['id', 'application_id', 'api_id', 'throttling_policy', 'status']).where('tenant_id', '=', tenant(request));
        if (request.query.apiId) q = q.where('api_id', '=', request.query.apiId);
        if (request.query.appId) q = q.where('application_id', '=', request.query.appId);
        const rows = await q.orderBy('id').execute();
        const list = rows.map((r) => ({ subscriptionId: r.id, appId: r.application_id, apiId: r.api_id, policyId: r.throttling_policy, subscriptionState: r.status }));
        return { count: list.length, list };
      });

      // WSO2's `/applications`: what a gateway needs to name the application of a token whose
      // claims do not (an external key manager's, an opaque token): its name, owner and tier.
      app.get<{ Querystring: { appId?: string } }>(`${BASE}/applications`, { ...opts, schema: { hide: true, querystring: { type: 'object', properties: { appId: { type: 'string', maxLength: 64 } }, additionalProperties: false } } }, async (request) => {
        let q = db.apim.selectFrom('dp_applications').select(['id', 'name', 'owner', 'throttling_policy', 'token_type', 'status', 'groups']).where('tenant_id', '=', tenant(request));
        if (request.query.appId) q = q.where('id', '=', request.query.appId);
        const rows = await q.orderBy('id').execute();
        const list = rows.map((r) => ({ uuid: r.id, id: r.id, name: r.name, subName: r.owner, policy: r.throttling_policy, tokenType: r.token_type, status: r.status, groupIds: JSON.parse(r.groups) as string[] }));
        return { count: list.length, list };
      });

      // WSO2's `/application-key-mappings`: consumer key (of our Key Manager or an external one) → application.
      app.get<{ Querystring: { consumerKey?: string; keymanager?: string } }>(
        `${BASE}/application-key-mappings`,
        { ...opts, schema: { hide: true, querystring: { type: 'object', properties: { consumerKey: { type: 'string', maxLength: 255 }, keymanager: { type: 'string', maxLength: 100 } }, additionalProperties: false } } },
        async (request) => {
          let q = db.apim.selectFrom('dp_key_mappings').select(['application_id', 'consumer_key', 'key_type', 'key_manager']).where('tenant_id', '=', tenant(request)).where('state', '=', 'COMPLETED');
          if (request.query.consumerKey) q = q.where('consumer_key', '=', request.query.consumerKey);
          if (request.query.keymanager) q = q.where('key_manager', '=', request.query.keymanager);
          const rows = await q.orderBy('id').execute();
          const list = rows.map((r) => ({ applicationId: r.application_id, applicationUUID: r.application_id, consumerKey: r.consumer_key, keyType: r.key_type, keyManager: r.key_manager }));
          return { count: list.length, list };
        },
      );

      // `global-policies`: Admin's custom rules (WSO2's name for them), with their key template and Siddhi query.
      for (const [path, kind] of [['subscription-policies', 'subscription'], ['application-policies', 'application'], ['api-policies', 'advanced'], ['global-policies', 'custom']] as const) {
        app.get(`${BASE}/${path}`, opts, async (request) => {
          const rows = await db.apim.selectFrom('admin_throttle_policies').select(['name', 'kind', 'default_limit', 'details']).where('tenant_id', '=', tenant(request)).where('kind', '=', kind).orderBy('name').execute();
          const list = rows.map((r) => ({ name: r.name, kind: r.kind, defaultLimit: r.default_limit === null ? null : JSON.parse(r.default_limit), details: JSON.parse(r.details) as Record<string, unknown> }));
          return { count: list.length, list };
        });
      }

      app.get(`${BASE}/keymanagers`, opts, async (request) => {
        const principal = getPrincipal(request);
        const tenantId = principal.tenantId;
        const rows = await db.apim.selectFrom('admin_key_managers').select(['name', 'type', 'issuer', 'enabled', 'config', 'sealed_secrets']).where('tenant_id', '=', tenantId).orderBy('name').execute();
        // Our own keys go inline, so a gateway never fetches them from a URL it may not reach.
        const ownKeys = await db.apim.selectFrom('km_signing_keys').select('public_jwk').where('tenant_id', '=', tenantId).where('purpose', '=', 'access').where('status', 'in', ['current', 'previous']).execute();
        // An external key manager's client secret (sealed at rest, Admin's `key-manager-secret`)
        // goes only to a gateway's internal client, the one that may introspect every token.
        const client = rows.some((r) => r.sealed_secrets !== null) ? await findClient(kmContext(config, deps), principal.clientId) : undefined;
        const privileged = client !== undefined && isInternalClient(client) && client.tenantId === tenantId;
        const list = rows.map((r) => {
          const c = JSON.parse(r.config) as KeyManagerConfig;
          const resident = r.type === 'default';
          return {
            name: r.name,
            type: r.type,
            enabled: Boolean(r.enabled),
            issuer: r.issuer,
            consumerKeyClaim: c.consumerKeyClaim ?? 'azp',
            scopesClaim: c.scopesClaim ?? 'scope',
            jwks: resident ? { keys: ownKeys.map((k) => JSON.parse(k.public_jwk) as Record<string, unknown>) } : undefined,
            jwksUri: !resident && c.certificates?.type === 'JWKS' ? c.certificates.value : undefined,
            introspection: resident ? undefined : introspectionOf(c, privileged && r.sealed_secrets !== null ? r.sealed_secrets : null, deps.keys),
          };
        });
        return { count: list.length, list };
      });

      // WSO2's `/block`: the enabled deny conditions, in the shape Admin publishes on throttleData.
      app.get(`${BASE}/block`, opts, async (request) => {
        const rows = await db.apim
          .selectFrom('admin_blocking_conditions')
          .select(['id', 'condition_type', 'condition_value'])
          .where('tenant_id', '=', tenant(request))
          .where('enabled', '=', 1)
          .orderBy('created_at')
          .orderBy('id')
          .execute();
        const list = rows.map((r) => ({ id: r.id, conditionType: r.condition_type, conditionValue: JSON.parse(r.condition_value) as unknown, conditionStatus: true }));
        return { count: list.length, list };
      });

      app.get(`${BASE}/revokedjwt`, opts, async (request) => {
        const rows = await db.apim.selectFrom('km_revoked_tokens').select(['jti', 'expires_at']).where('tenant_id', '=', tenant(request)).where('expires_at', '>', deps.clock.now()).execute();
        const list = rows.map((r) => ({ jti: r.jti, expiryTime: Number(r.expires_at) }));
        return { count: list.length, list };
      });
    },

    async start() {
      const [{ recordGatewayAcknowledgement }, { createAdminService }] = await Promise.all([import('@gatehouse/publisher'), import('@gatehouse/admin')]);
      const admin = createAdminService({ ...deps });
      subscriptions.push(
        await deps.hub.subscribe<{ gatewayId?: string; labels?: string[] }>(Topics.Gateway, async (e) => {
          if (e.type !== 'GATEWAY_HEARTBEAT' || !e.payload.gatewayId) return;
          await admin.recordGatewayHeartbeat(e.tenantId, e.payload.gatewayId, e.payload.labels ?? []);
        }),
        await deps.hub.subscribe<{ apiId?: string; revisionId?: string | null; environment?: string; gatewayId?: string; status?: string; error?: string }>(Topics.DeploymentAck, async (e) => {
          const p = e.payload;
          if (e.type !== 'DEPLOY_ACK' || !p.apiId || !p.revisionId || !p.environment || !p.gatewayId) return;
          await recordGatewayAcknowledgement(deps, { tenantId: e.tenantId, apiId: p.apiId, revisionId: p.revisionId, environment: p.environment, gatewayId: p.gatewayId, status: p.status === 'DEPLOYED' ? 'DEPLOYED' : 'FAILED', message: p.error });
        }),
      );
    },

    async stop() {
      await Promise.allSettled(subscriptions.splice(0).map((s) => s.unsubscribe()));
    },
  };
}

interface KeyManagerConfig {
  certificates?: { type?: string; value?: string };
  consumerKeyClaim?: string;
  scopesClaim?: string;
  introspectionEndpoint?: string;
  tokenValidation?: { enable?: boolean; type?: string; value?: unknown }[];
  additionalProperties?: Record<string, unknown>;
}

/**
 * How a gateway introspects (RFC 7662) an external key manager's opaque tokens: its endpoint,
 * the connector's client (`additionalProperties.client_id` / `client_secret`, as WSO2's
 * connectors name them; the secret only when `sealed` is given), and which tokens it handles.
 * WSO2's token handling options: none listed, every token; REFERENCE entries, the opaque tokens
 * matching one of their patterns (`value`); only JWT or CUSTOM entries, no opaque token.
 */
function introspectionOf(c: KeyManagerConfig, sealed: string | null, keys: InternalDataDeps['keys']) {
  const endpoint = c.introspectionEndpoint?.trim();
  if (!endpoint || !/^https?:\/\//i.test(endpoint)) return undefined;
  const handling = (c.tokenValidation ?? []).filter((t) => t.enable !== false);
  const references = handling.filter((t) => t.type === 'REFERENCE');
  if (handling.length > 0 && references.length === 0) return undefined;
  const patterns = references.map((t) => (typeof t.value === 'string' ? t.value : '')).filter(Boolean);
  const clientId = typeof c.additionalProperties?.client_id === 'string' ? c.additionalProperties.client_id : undefined;
  const secrets = sealed === null ? {} : (JSON.parse(keys.open('key-manager-secret', sealed)) as Record<string, string>);
  return {
    endpoint,
    clientId,
    ...(typeof secrets.client_secret === 'string' ? { clientSecret: secrets.client_secret } : {}),
    ...(references.length > 0 ? { tokenPatterns: patterns } : {}),
  };
}
