import { CoreErrors, type ComponentName } from '@gatehouse/core';
import type { ComponentFactory } from './components.ts';
import { Health, sendJson, serveOps, createListenerServer, drain, listen, type Listener } from '@gatehouse/runtime';

/**
 * Stand-ins for components whose issues are not done yet. They are real members of their profile
 * (ports, health, shutdown) and answer 501 with WSO2's error shape on the paths they will own.
 */
export function controlPlanePlaceholder(name: ComponentName, prefixes: readonly string[]): ComponentFactory {
  return async () => ({
    name,
    routes(app) {
      const reply501 = async (_req: unknown, reply: { code(n: number): { send(b: unknown): unknown } }) =>
        reply.code(501).send(CoreErrors.create('CORE_ERR_NOT_IMPLEMENTED', { description: `The ${name} component is not implemented yet` }).toWso2Body());
      for (const prefix of prefixes) {
        app.all(prefix, reply501);
        app.all(`${prefix}/*`, reply501);
      }
    },
  });
}


export const trafficManagerPlaceholder: ComponentFactory = async (config, deps) => {
  const health = new Health();
  health.add({ name: 'event-hub', check: () => deps.hub.ping() });
  const spec = { host: config.traffic_manager.host, port: config.traffic_manager.health_port };
  let listener: Listener | undefined;
  return {
    name: 'traffic-manager',
    async start() {
      listener = await listen(
        createListenerServer(spec, (req, res) => {
          if (!serveOps(req, res, health, deps.metrics)) sendJson(res, 404, CoreErrors.create('CORE_ERR_NOT_FOUND').toWso2Body());
        }),
        spec,
      );
    },
    async stop() {
      health.startDraining();
      if (listener) await drain(listener.server, config.shutdown.timeout_ms);
    },
    urls: () => (listener ? [`traffic-manager health ${listener.url}/health/ready`] : []),
  };
};
