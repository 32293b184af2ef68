import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TlsMaterial } from './tls.ts';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface ListenSpec {
  readonly host: string;
  readonly port: number;
  /** Present for an HTTPS listener. */
  readonly tls?: TlsMaterial;
}

export interface Listener {
  readonly server: Server;
  readonly url: string;
  readonly port: number;
}

/**
 * Node's defaults are too loose for a server on the internet (headers 60 s, request 300 s):
 * these bound slow clients while leaving room for large uploads.
 */
function harden(server: Server): Server {
  server.headersTimeout = 15_000;
  server.requestTimeout = 120_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 200;
  return server;
}

export function createListenerServer(spec: ListenSpec, handler: RequestHandler): Server {
  const server = spec.tls
    ? createHttpsServer({ cert: spec.tls.cert, key: spec.tls.key, minVersion: 'TLSv1.2' }, handler)
    : createHttpServer(handler);
  return harden(server as Server);
}

export function listen(server: Server, spec: ListenSpec): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ host: spec.host, port: spec.port }, () => {
      server.off('error', onError);
      const port = (server.address() as AddressInfo).port;
      const host = spec.host.includes(':') ? `[${spec.host}]` : spec.host;
      resolve({ server, port, url: `${spec.tls ? 'https' : 'http'}://${host}:${port}` });
    });
  });
}

/**
 * Stops accepting, lets requests in flight finish, and cuts what is still open at the deadline.
 * Idle keep-alive sockets are closed at once so clients reconnect to another replica.
 */
export function drain(server: Server, deadlineMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const timer = setTimeout(() => server.closeAllConnections(), deadlineMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
