import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Gauge, type Registry } from 'prom-client';
import { Agent } from 'undici';
import type { GatehouseConfig } from '@gatehouse/config';
import type { EventHub } from '@gatehouse/events';
import { createListenerServer, drain, Health, listen, serveOps, type Listener, type Logger, type TlsMaterial } from '@gatehouse/runtime';
import { AnalyticsCollector } from './analytics.ts';
import { tuneV8ForProxying } from './v8-tuning.ts';
import { createRateCounter, type ThrottleOptions } from './throttle/select.ts';
import { createHandler, type CompiledRoute, type GatewayHandlerState } from './handler.ts';
import { ChainCache, type Policy } from './policy.ts';
import { defaultPolicies } from './policies/index.ts';
import { BackendJwtSigner, checkBackendJwtOptions, type BackendJwtOptions } from './policies/backend-jwt.ts';
import { RouteTable } from './router.ts';
import { GatewayData } from './security/gateway-data.ts';
import { TokenVerifier, type TrustedIssuer } from './security/token-verifier.ts';
import { createIntrospectionClient, type CredentialAuthority, type Introspector } from './security/credential-authority.ts';
import type { JwksCache } from './snapshot-jwks.ts';
import type { RuntimeApi } from './runtime-api.ts';
import { listenerLimitsFromConfig, Upstreams, upstreamOptionsFromConfig, type EndpointSet, type UpstreamOptions } from './upstream.ts';

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
  /** Default `gateway.max_body_bytes`. */
  readonly maxBodyBytes?: number;
  /** The clock of circuit breakers and request timing (tests pass a fake one); default `Date.now`. */
  readonly now?: () => number;
  /** Default `gateway.throttling` (leases from the Traffic Manager); `{ mode: 'local' }` to count alone. */
  readonly throttle?: ThrottleOptions;
  /** How often expired revocations are forgotten (default one minute). */
  readonly purgeIntervalMs?: number;
  /** How long one call to an external key manager (introspection, JWKS) may take, connect to answer; default `gateway.key_manager_timeout_ms`. */
  readonly keyManagerTimeoutMs?: number;
  /** Client addresses from X-Forwarded-For (behind a trusted load balancer only). */
  readonly trustForwardedFor?: boolean;
  /**
   * WSO2's backend JWT (`X-JWT-Assertion`), off by default: signed ES256 with a key generated in
   * memory at start, its public JWK served at `GET /health/jwks` (a reserved ops path).
   */
  readonly backendJwt?: BackendJwtOptions;
}

/** An external key manager that introspects its opaque tokens, as Admin configured it. */
export interface ExternalIntrospection {
  readonly name: string;
  readonly issuer?: string;
  readonly consumerKeyClaim?: string;
  readonly scopesClaim?: string;
  /** RFC 7662 §2: the introspection endpoint (http or https). */
  readonly endpoint: string;
  /** The gateway's client there (Admin's `client_id` / `client_secret`); without both, every call is unavailable (503). */
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** WSO2's REFERENCE token handling: regular expressions an opaque token must match (whole) to go there; undefined: any token. */
  readonly tokenPatterns?: readonly string[];
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
  /** Where opaque tokens are introspected and basic-auth passwords checked (the control plane's Key Manager). */
  setCredentialAuthority(authority: CredentialAuthority | undefined): void;
  /** Replaces the external key managers whose opaque tokens are introspected (RFC 7662), with the gateway's client at each. */
  setIntrospection(keyManagers: readonly ExternalIntrospection[]): void;
  /** Actual listener URLs (`http`, `https`), once started. */
  readonly listeners: { http?: string; https?: string };
  /** `/health/ready` and `/health` on the gateway's listeners (GatewaySync adds its state there). */
  readonly health: Health;
  /** External key managers' fetched keys (kept in the local snapshot). */
  readonly jwks: JwksCache;
}

/**
 * The Gateway (data plane): its own listeners on 8280/8243, a compiled route table swapped whole
 * on every deploy, the policy chain per route, and undici pools to the backends. Opens no
 * database connection.
 */
export function createGateway(config: GatehouseConfig, deps: GatewayDeps, options: GatewayOptions = {}): Gateway {
  const keyManagerTimeoutMs = options.keyManagerTimeoutMs ?? config.gateway.key_manager_timeout_ms;
  const verifier = new TokenVerifier({ jwksTimeoutMs: keyManagerTimeoutMs });
  const data = new GatewayData();
  const collector = new AnalyticsCollector(deps.hub, deps.logger);
  const throttle = createRateCounter(options.throttle ?? { mode: config.gateway.throttling }, { hub: deps.hub, gatewayId: deps.nodeId ?? 'gateway', logger: deps.logger, metrics: deps.metrics });
  const counter = throttle.counter;
  if (options.backendJwt) checkBackendJwtOptions(options.backendJwt);
  const signer = options.backendJwt?.enabled ? new BackendJwtSigner(options.backendJwt.issuer ?? 'wso2.org/products/am') : undefined;
  const backendJwt = signer && options.backendJwt ? { signer, options: options.backendJwt } : undefined;
  const policies = options.policies ?? defaultPolicies({ verifier, data, collector, counter, metrics: deps.metrics, gatewayId: deps.nodeId ?? 'gateway', backendJwt, trustForwardedFor: options.trustForwardedFor, logger: deps.logger });
  const upstreams = new Upstreams(options.upstream ?? upstreamOptionsFromConfig(config.gateway, deps.logger));
  const state: GatewayHandlerState = { table: RouteTable.empty<CompiledRoute>() };
  let deployed: readonly RuntimeApi[] = [];
  const health = new Health();
  // Not critical: without the event hub the gateway still serves on the state it has (and pulls
  // everything again when the hub is back), so an event-hub outage must not take every gateway out
  // of its load balancer. Reported in /health and gatehouse_gateway_event_hub_connected instead.
  health.add({ name: 'event-hub', critical: false, check: () => deps.hub.ping() });
  if (deps.metrics && !deps.metrics.getSingleMetric('gatehouse_gateway_event_hub_connected')) {
    new Gauge({
      name: 'gatehouse_gateway_event_hub_connected',
      help: '1 while the gateway is connected to the event hub; 0 while it serves on the state it has, without events',
      registers: [deps.metrics],
      collect() {
        this.set(deps.hub.isConnected() ? 1 : 0);
      },
    });
  }
  const ops = (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url;
    // Reserved paths, answered before routing: an API context may not start with them.
    return url !== undefined && (url.startsWith('/health/') || url === '/health' || url === '/metrics') && (signer?.serve(req, res) || serveOps(req, res, health, deps.metrics));
  };
  const handler = createHandler(state, { maxBodyBytes: options.maxBodyBytes ?? config.gateway.max_body_bytes, requestBufferBytes: config.gateway.request_buffer_bytes, ops, now: options.now });
  const limits = listenerLimitsFromConfig(config.gateway);
  const specs = [
    { key: 'http' as const, spec: { host: config.gateway.host, port: config.gateway.http_port } },
    { key: 'https' as const, spec: { host: config.gateway.host, port: config.gateway.https_port, tls: deps.tls } },
  ];
  let listeners: Listener[] = [];
  const urls: Gateway['listeners'] = {};
  // Revoked ids are kept until their token would have expired anyway; past that, forget them,
  // or a long-running gateway's revocation list only grows.
  let purge: NodeJS.Timeout | undefined;
  let keyManagerDispatcher: Agent | undefined;
  // One line per key manager per 10 s at most: every call of an outage would fail the same way.
  const failureLog = (keyManager: string) => {
    let lastLog = 0;
    return (err: Error) => {
      if (Date.now() - lastLog < 10_000) return;
      lastLog = Date.now();
      deps.logger.warn({ keyManager, err: err.message }, 'the key manager did not validate credentials; answering 503');
    };
  };

  return {
    name: 'gateway',
    listeners: urls,
    async start() {
      tuneV8ForProxying({ pretenuring: config.gateway.v8_pretenuring });
      await Promise.all([throttle.start(), signer?.start()]);
      purge = setInterval(() => data.purgeRevoked(Date.now()), options.purgeIntervalMs ?? 60_000);
      purge.unref();
      listeners = await Promise.all(
        specs.map(async ({ key, spec }) => {
          const l = await listen(createListenerServer(spec, handler, limits), spec);
          urls[key] = l.url;
          return l;
        }),
      );
    },
    async stop() {
      clearInterval(purge);
      const dispatcher = keyManagerDispatcher;
      keyManagerDispatcher = undefined;
      await dispatcher?.close();
      health.startDraining();
      await Promise.all(listeners.map((l) => drain(l.server, config.shutdown.timeout_ms)));
      await Promise.all([upstreams.close(), collector.close(), throttle.stop()]);
    },
    urls: () => listeners.map((l) => `gateway ${l.url}`),
    deploy(apis) {
      const started = performance.now();
      // Routes with the same policy hooks share one chain (Policy.shareKey), and the routes of one
      // API with one chain share one CompiledRoute and its endpoint sets: 10,000 APIs cost a
      // handful of chains, not 30,000.
      const chains = new ChainCache(policies);
      let last: RuntimeApi | undefined;
      let routes: CompiledRoute[] = [];
      let production: EndpointSet | undefined;
      let sandbox: EndpointSet | undefined;
      const table = RouteTable.build<CompiledRoute>(apis, (api, op) => {
        if (api !== last) {
          last = api;
          routes = [];
          production = api.endpoints.production ? upstreams.endpointSet(api.endpoints.production) : undefined;
          sandbox = api.endpoints.sandbox ? upstreams.endpointSet(api.endpoints.sandbox) : undefined;
        }
        const chain = chains.compile(api, op);
        let route = routes.find((r) => r.chain === chain);
        if (route === undefined) routes.push((route = { chain, production, sandbox }));
        return route;
      });
      state.table = table;
      deployed = apis;
      deps.logger.info({ apis: table.size, chains: chains.size, ms: Math.round(performance.now() - started) }, 'route table swapped');
    },
    apis: () => deployed,
    data,
    setIssuers: (issuers) => verifier.setIssuers(issuers),
    setCredentialAuthority(authority) {
      verifier.setAuthority(authority, failureLog('Resident Key Manager'));
    },
    setIntrospection(keyManagers) {
      const timeoutMs = keyManagerTimeoutMs;
      verifier.setIntrospectingKeyManagers(
        keyManagers.map((km) => {
          const introspector: Introspector =
            km.clientId && km.clientSecret
              ? createIntrospectionClient({ endpoint: km.endpoint, clientId: km.clientId, clientSecret: km.clientSecret, timeoutMs, dispatcher: (keyManagerDispatcher ??= new Agent({ connect: { timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })) })
              : { introspect: () => Promise.reject(new Error('no client credentials for its introspection endpoint here (a gateway client that is not internal, or a start from the local snapshot)')) };
          return {
            name: km.name,
            issuer: km.issuer,
            consumerKeyClaim: km.consumerKeyClaim,
            scopesClaim: km.scopesClaim,
            introspector,
            config: createHash('sha256').update(JSON.stringify([km.endpoint, km.clientId, km.clientSecret, km.tokenPatterns, km.issuer, km.consumerKeyClaim, km.scopesClaim])).digest('base64url'),
            tokenPatterns: km.tokenPatterns?.flatMap((p) => {
              try {
                return [new RegExp(`^(?:${p})$`)];
              } catch {
                deps.logger.warn({ keyManager: km.name, pattern: p }, 'a token handling pattern of the key manager is not a regular expression; no token matches it');
                return [];
              }
            }),
          };
        }),
        failureLog,
      );
    },
    analytics: () => collector.stats,
    health,
    jwks: verifier.jwks,
  };
}
