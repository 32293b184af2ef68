import { readFile } from 'node:fs/promises';
import { SUPER_TENANT_ID, type ComponentName } from '@gatehouse/core';
import type { GatehouseConfig } from '@gatehouse/config';
import { scrapedGauges } from '@gatehouse/runtime';
import type { Component, ComponentDeps, ComponentFactory } from './components.ts';

/** The deps of a control-plane component: the databases and the server keys are always there. */
type StoreDeps = ComponentDeps & Required<Pick<ComponentDeps, 'databases' | 'repositories' | 'keys'>>;

function withStores(name: ComponentName, create: (config: GatehouseConfig, deps: StoreDeps) => Promise<Component> | Component): ComponentFactory {
  return async (config, deps) => {
    const { databases, repositories, keys } = deps;
    if (!databases || !repositories || !keys) throw new Error(`the ${name} component needs the apim and shared databases and the server keys`);
    return create(config, { ...deps, databases, repositories, keys });
  };
}

/**
 * All-in-one: the gateway reaches this process's own control plane over loopback, as a remote
 * gateway would, with an OAuth client the in-process Key Manager issues it (its secret renewed at
 * every start, never stored in clear).
 */
async function allInOneControlPlane<S>(
  config: GatehouseConfig,
  deps: ComponentDeps,
  create: (o: { baseUrl: string; clientId: string; clientSecret: string }) => S,
): Promise<S> {
  const baseUrl = deps.ownControlPlaneUrl();
  const { databases, repositories, keys } = deps;
  if (!baseUrl || !databases || !repositories || !keys) throw new Error('a gateway without control_plane.url needs the control plane in its own process (all-in-one)');
  const { kmContext, registerWso2Client } = await import('@gatehouse/key-manager');
  const ctx = kmContext(config, { ...deps, databases, repositories, keys });
  const { client, secret } = await registerWso2Client(ctx, { tenantId: SUPER_TENANT_ID, name: 'gatehouse-internal-gateway', owner: 'admin', grantTypes: ['client_credentials'] });
  return create({ baseUrl, clientId: client.clientId, clientSecret: secret });
}

/**
 * Lazy imports, one per component, so a gateway process never loads the Publisher's code
 * (STYLE.md).
 */
export const componentLoaders: Readonly<Record<ComponentName, () => Promise<ComponentFactory>>> = Object.freeze({
  publisher: async () => {
    const [{ createPublisher }, { registerPublisherSubscriptionRoutes }] = await Promise.all([import('@gatehouse/publisher'), import('@gatehouse/devportal')]);
    return withStores('publisher', async (config, deps) => {
      const publisher = await createPublisher(config, deps);
      const usage = publisher.usageStats;
      scrapedGauges(deps.metrics, {
        gatehouse_usage_batches_total: { help: 'Analytics batches this process folded into the usage figures', read: () => usage().batches },
        gatehouse_usage_duplicate_batches_total: { help: 'Analytics batches another replica had folded already', read: () => usage().duplicates },
        gatehouse_usage_events_total: { help: 'API calls counted in the usage figures by this process', read: () => usage().events },
        gatehouse_usage_skipped_events_total: { help: 'Call events skipped: malformed, or older than the retention', read: () => usage().skipped },
        gatehouse_usage_failed_batches_total: { help: 'Analytics batches given up after the database kept failing', read: () => usage().failed },
        gatehouse_usage_lost_batches_total: { help: 'Analytics batches the event hub no longer had when this process asked for them', read: () => usage().lost },
      });
      return {
        ...publisher,
        // The Publisher's view of subscriptions (list, block, unblock) is the Developer Portal's data.
        async routes(app) {
          await publisher.routes(app);
          registerPublisherSubscriptionRoutes(app, { ...deps, config });
        },
      };
    });
  },
  admin: async () => {
    const [{ createAdmin }, { devPortalTierUsage }] = await Promise.all([import('@gatehouse/admin'), import('@gatehouse/devportal')]);
    return withStores('admin', async (config, deps) => {
      const admin = await createAdmin(config, deps);
      // A tier an application or subscription uses cannot be deleted.
      admin.service.addPolicyUsageCheck(devPortalTierUsage(deps.databases));
      return admin;
    });
  },
  devportal: async () => withStores('devportal', (await import('@gatehouse/devportal')).createDevPortal),
  'key-manager': async () => withStores('key-manager', (await import('@gatehouse/key-manager')).createKeyManager),
  'internal-data': async () => withStores('internal-data', (await import('@gatehouse/internal-data')).createInternalData),
  gateway: async () => {
    const { createGateway, createHttpControlPlane, GatewaySync } = await import('@gatehouse/gateway');
    return async (config, deps) => {
      const gateway = createGateway(config, deps, {
        throttle: { mode: config.gateway.throttling },
        backendJwt: config.gateway.backend_jwt ? { enabled: true } : undefined,
        trustForwardedFor: config.gateway.trust_forwarded_for,
      });
      let source: ReturnType<typeof createHttpControlPlane> | undefined;
      const sync = (s: NonNullable<typeof source>) =>
        new GatewaySync({ gateway, source: s, hub: deps.hub, localStore: deps.localStore, labels: config.gateway.labels, gatewayId: deps.nodeId, logger: deps.logger, resyncIntervalMs: config.gateway.resync_interval_ms });
      let running: InstanceType<typeof GatewaySync> | undefined;
      return {
        ...gateway,
        async start() {
          if (config.control_plane.url && plainHttpToAnotherHost(config.control_plane.url)) {
            // The gateway sends end users' basic-auth passwords and opaque tokens over this link.
            deps.logger.warn({ url: config.control_plane.url }, 'control_plane.url is plain http to another host: end users\' passwords and tokens checked by the control plane cross the network unencrypted; use https');
          }
          source = config.control_plane.url
            ? createHttpControlPlane({
                baseUrl: config.control_plane.url,
                clientId: config.control_plane.client_id,
                clientSecret: config.control_plane.client_secret,
                ca: config.control_plane.ca_file ? await readFile(config.control_plane.ca_file, 'utf8') : undefined,
              })
            : await allInOneControlPlane(config, deps, createHttpControlPlane);
          running = sync(source);
          // Listeners last: a load balancer sends traffic as soon as the port accepts, and until the
          // first pull the gateway has no key managers (401) nor subscriptions (403).
          await running.start();
          await gateway.start();
        },
        async stop() {
          await running?.stop();
          await gateway.stop();
          await source?.close();
        },
      };
    };
  },
  'traffic-manager': async () => {
    const { createTrafficManager } = await import('@gatehouse/traffic-manager');
    return async (config, deps) => createTrafficManager(config, { hub: deps.hub, logger: deps.logger, metrics: deps.metrics, clock: deps.clock });
  },
});

/** `http://` to anything but a loopback address. */
function plainHttpToAnotherHost(url: string): boolean {
  const u = new URL(url);
  if (u.protocol !== 'http:') return false;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return !(host === 'localhost' || host === '::1' || /^127\./.test(host));
}
