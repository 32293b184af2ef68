import { createServer as createHttpServer, type Server } from 'node:http';
import { fastify, LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { CoreErrors, isGatehouseError } from '@gatehouse/core';
import type { Component } from './components.ts';
import { registerUi } from './ui.ts';
import { type Health, DeferredCompilation, createListenerServer, deferredSerializerFactory, strictValidatorCompiler, drain, listen, type Listener, type ListenSpec, type Logger, type TlsMaterial } from '@gatehouse/runtime';

export interface ControlPlaneOptions {
  readonly host: string;
  readonly httpsPort: number;
  readonly httpPort: number;
  readonly tls: TlsMaterial;
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly health: Health;
  readonly components: readonly Component[];
  readonly bodyLimit?: number;
  /** The built web UIs (packages/ui/dist by default); the apps served follow the components. */
  readonly uiDistDir?: string;
}

export interface ControlPlaneServer {
  readonly app: FastifyInstance;
  /** Route validators and serializers not compiled yet (they compile on first use); `flush()` compiles them all. */
  readonly schemas: DeferredCompilation;
  start(): Promise<Listener[]>;
  stop(deadlineMs: number): Promise<void>;
}

/**
 * The control plane's server: one fastify app answering on HTTPS (9443) and HTTP (9763), as
 * WSO2's servlet ports do. The second listener shares the app's router through serverFactory.
 */
export async function createControlPlane(options: ControlPlaneOptions): Promise<ControlPlaneServer> {
  const httpsSpec: ListenSpec = { host: options.host, port: options.httpsPort, tls: options.tls };
  const httpSpec: ListenSpec = { host: options.host, port: options.httpPort };
  let httpServer: Server | undefined;
  // Route validators and response serializers compile on their route's first request, not at start.
  const schemas = new DeferredCompilation();
  const app = fastify({
    schemaController: { compilersFactory: { buildSerializer: deferredSerializerFactory(schemas) } },
    loggerInstance: options.logger.child({ component: 'control-plane' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 10 * 1024 * 1024,
    return503OnClosing: true,
    serverFactory: (handler) => {
      httpServer = createListenerServer(httpSpec, handler) as Server;
      return createListenerServer(httpsSpec, handler);
    },
  });

  // One validation policy for every REST API (components register in child scopes and inherit it).
  app.setValidatorCompiler(strictValidatorCompiler(schemas));

  app.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
    if (isGatehouseError(err)) {
      if (!err.expose) request.log.error({ err }, 'request failed');
      return reply.code(err.status).send(err.toWso2Body());
    }
    const status = err.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err }, 'request failed');
      return reply.code(500).send(CoreErrors.create('CORE_ERR_INTERNAL').toWso2Body());
    }
    // A route schema rejected the request: WSO2's 400 with one entry per field.
    const validation = (err as { validation?: { instancePath?: string; params?: Record<string, unknown>; message?: string }[]; validationContext?: string }).validation;
    if (validation) {
      const where = (err as { validationContext?: string }).validationContext ?? 'body';
      const details = validation.map((v) => {
        const extra = v.params?.additionalProperty ?? v.params?.missingProperty;
        const path = `${where}${v.instancePath ?? ''}`.replaceAll('/', '.') + (extra ? `.${String(extra)}` : '');
        return { field: path, message: v.message ?? 'is not valid' };
      });
      return reply.code(400).send(
        CoreErrors.create('CORE_ERR_VALIDATION', { message: 'Bad Request', description: details.map((d) => `${d.field}: ${d.message}`).join('; '), details }).toWso2Body(),
      );
    }
    // fastify's own client errors (bad JSON, body too large, unsupported media type).
    return reply.code(status).send({ code: status, message: err.message, description: err.message, moreInfo: '', error: [] });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(CoreErrors.create('CORE_ERR_NOT_FOUND', { description: `No resource at ${request.method} ${request.url.split('?', 1)[0]}` }).toWso2Body()),
  );

  app.get('/health/live', async () => ({ status: 'UP' }));
  app.get('/health/ready', async (_request, reply) => {
    const report = await options.health.readiness();
    return reply.code(report.status === 'UP' ? 200 : 503).send(report);
  });
  // The readiness report with details (the event publish queue's depth and failures), for people.
  app.get('/health', async (_request, reply) => {
    const report = await options.health.report();
    return reply.code(report.status === 'UP' ? 200 : 503).send(report);
  });
  app.get('/metrics', async (_request, reply) => reply.type(options.metrics.contentType).send(await options.metrics.metrics()));

  for (const component of options.components) {
    if (component.routes) await app.register(async (scope) => component.routes?.(scope));
  }
  // The web UIs of this profile's components: /publisher and /admin, /devportal.
  await app.register(async (scope) => registerUi(scope, { components: options.components, distDir: options.uiDistDir }));

  let listeners: Listener[] = [];
  return {
    app,
    schemas,
    async start() {
      await app.ready();
      const https = await listen(app.server as Server, httpsSpec);
      const http = await listen(httpServer ?? createHttpServer(), httpSpec);
      listeners = [https, http];
      return listeners;
    },
    async stop(deadlineMs) {
      await Promise.all(listeners.map((l) => drain(l.server, deadlineMs)));
      await app.close();
    },
  };
}
