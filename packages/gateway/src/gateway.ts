import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { GatehouseConfig } from '@gatehouse/config';
import type { EventHub } from '@gatehouse/events';
import { createListenerServer, drain, Health, listen, serveOps, type Listener, type Logger, type TlsMaterial } from '@gatehouse/runtime';
import { AnalyticsCollector } from './analytics.ts';
import { createRateCounter, type ThrottleOptions } from './throttle/select.ts';
import { createHandler, type CompiledRoute, type GatewayHandlerState } from './handler.ts';
import { compileChain, type Policy } from './policy.ts';
import { defaultPolicies } from './policies/index.ts';
import { BackendJwtSigner, checkBackendJwtOptions, type BackendJwtOptions } from './policies/backend-jwt.ts';
import { RouteTable } from './router.ts';
import { GatewayData } from './security/gateway-data.ts';
import { TokenVerifier, type TrustedIssuer } from './security/token-verifier.ts';
import type { RuntimeApi } from './runtime-api.ts';
import { Upstreams, defaultUpstreamOptions, type UpstreamOptions } from './upstream.ts';

export interface GatewayDeps {
  readonly nodeId?: string;
  readonly logger: Logger;
  readonly metrics?: Registry;
  readonly hub: EventHub;
  readonly tls: TlsMaterial;
}

export interface GatewayOptions {
  readonly policies?: readonly Policy[];
  readonly upstream?: UpstreamOptions;
  readonly maxBodyBytes?: number;
  /** Default local counting; `{ mode: 'lease' }` for the Traffic Manager's cluster-wide quota. */
  readonly throttle?: ThrottleOptions;
  /** How often expired revocations are forgotten (default one minute). */
  readonly purgeIntervalMs?: number;
  /** Client addresses from X-Forwarded-For (behind a trusted load balancer only). */
  readonly trustForwardedFor?: boolean;
  /**
   * WSO2's backend JWT (`X-JWT-Assertion`), off by default: signed ES256 with a key generated in
   * memory at start, its public JWK served at `GET /health/jwks` (a reserved ops path).
   */
  readonly backendJwt?: BackendJwtOptions;
}

export interface Gateway {
  readonly name: 'gateway';
  start(): Promise<void>;
  stop(): Promise<void>;
  urls(): string[];
  /** Replaces every deployed API at once: builds a new route table and swaps it in. */
  deploy(apis: readonly RuntimeApi[]): void;
  /** The APIs currently served. */
  apis(): readonly RuntimeApi[];
  /** Subscriptions and revocations, decided on offline. */
  readonly data: GatewayData;
  /** Call events waiting to be published, published and dropped. */
  analytics(): { buffered: number; published: number; dropped: number };
  /** Replaces the key managers whose tokens are accepted. */
  setIssuers(issuers: readonly TrustedIssuer[]): void;
  /** Actual listener URLs (`http`, `https`), once started. */
  readonly listeners: { http?: string; https?: string };
}

/**
 * The Gateway (data plane): its own listeners on 8280/8243, a compiled route table swapped whole
 * on every deploy, the policy chain per route, and undici pools to the backends. Opens no
 * database connection.
 */
export function createGateway(config: GatehouseConfig, deps: GatewayDeps, options: GatewayOptions = {}): Gateway {
  const verifier = new TokenVerifier();
  const data = new GatewayData();
  const collector = new AnalyticsCollector(deps.hub, deps.logger);
  const throttle = createRateCounter(options.throttle, { hub: deps.hub, gatewayId: deps.nodeId ?? 'gateway', logger: deps.logger, metrics: deps.metrics });
  const counter = throttle.counter;
  if (options.backendJwt) checkBackendJwtOptions(options.backendJwt);
  const signer = options.backendJwt?.enabled ? new BackendJwtSigner(options.backendJwt.issuer ?? 'wso2.org/products/am') : undefined;
  const backendJwt = signer && options.backendJwt ? { signer, options: options.backendJwt } : undefined;
  const policies = options.policies ?? defaultPolicies({ verifier, data, collector, counter, metrics: deps.metrics, gatewayId: deps.nodeId ?? 'gateway', backendJwt, trustForwardedFor: options.trustForwardedFor });
  const upstreams = new Upstreams(options.upstream ?? defaultUpstreamOptions);
  const state: GatewayHandlerState = { table: RouteTable.empty<CompiledRoute>() };
  let deployed: readonly RuntimeApi[] = [];
  const health = new Health();
  health.add({ name: 'event-hub', check: () => deps.hub.ping() });
  const ops = (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url;
    // Reserved paths, answered before routing: an API context may not start with them.
    return url !== undefined && (url.startsWith('/health/') || url === '/metrics') && (signer?.serve(req, res) || serveOps(req, res, health, deps.metrics));
  };
  const handler = createHandler(state, { maxBodyBytes: options.maxBodyBytes ?? 10 * 1024 * 1024, ops });
  const specs = [
    { key: 'http' as const, spec: { host: config.gateway.host, port: config.gateway.http_port } },
    { key: 'https' as const, spec: { host: config.gateway.host, port: config.gateway.https_port, tls: deps.tls } },
  ];
  let listeners: Listener[] = [];
  const urls: Gateway['listeners'] = {};
  // Revoked ids are kept until their token would have expired anyway; past that, forget them,
  // or a long-running gateway's revocation list only grows.
  let purge: NodeJS.Timeout | undefined;

  return {
    name: 'gateway',
    listeners: urls,
    async start() {
      await Promise.all([throttle.start(), signer?.start()]);
      purge = setInterval(() => data.purgeRevoked(Date.now()), options.purgeIntervalMs ?? 60_000);
      purge.unref();
      listeners = await Promise.all(
        specs.map(async ({ key, spec }) => {
          const l = await listen(createListenerServer(spec, handler), spec);
          urls[key] = l.url;
          return l;
        }),
      );
    },
    async stop() {
      clearInterval(purge);
      health.startDraining();
      await Promise.all(listeners.map((l) => drain(l.server, config.shutdown.timeout_ms)));
      await Promise.all([upstreams.close(), collector.close(), throttle.stop()]);
    },
    urls: () => listeners.map((l) => `gateway ${l.url}`),
    deploy(apis) {
      const table = RouteTable.build<CompiledRoute>(apis, (api, op) => ({
        chain: compileChain(policies, api, op),
        production: api.endpoints.production ? upstreams.endpointSet(api.endpoints.production) : undefined,
        sandbox: api.endpoints.sandbox ? upstreams.endpointSet(api.endpoints.sandbox) : undefined,
      }));
      state.table = table;
      deployed = apis;
      deps.logger.info({ apis: table.size }, 'route table swapped');
    },
    apis: () => deployed,
    data,
    setIssuers: (issuers) => verifier.setIssuers(issuers),
    analytics: () => collector.stats,
  };
}
