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

/** Bounds on what a client may send, and how slowly (slow-loris and oversized requests). */
export interface ListenerLimits {
  /** From a request's first byte to the end of its headers; past it, 408 and the connection closed. */
  readonly headersTimeoutMs: number;
  /** For the whole request, body included; at least `headersTimeoutMs`. */
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** Request line and headers; larger answers 431. */
  readonly maxHeaderBytes: number;
}

/**
 * Node's defaults are too loose for a server on the internet (headers 60 s, request 300 s):
 * these bound slow clients while leaving room for large uploads.
 */
export const defaultListenerLimits: ListenerLimits = Object.freeze({ headersTimeoutMs: 15_000, requestTimeoutMs: 120_000, keepAliveTimeoutMs: 5_000, maxHeaderBytes: 16_384 });

export function createListenerServer(spec: ListenSpec, handler: RequestHandler, limits: ListenerLimits = defaultListenerLimits): Server {
  // Node checks the two timeouts on a timer (30 s by default), so a 15 s limit could let a slow
  // client hold a connection for 45 s: check at half the shorter one (at most every 5 s).
  const options = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxHeaderSize: limits.maxHeaderBytes,
    connectionsCheckingInterval: Math.max(50, Math.min(5_000, Math.floor(Math.min(limits.headersTimeoutMs || Infinity, limits.requestTimeoutMs || Infinity) / 2))),
  };
  const server = spec.tls
    ? createHttpsServer({ ...options, cert: spec.tls.cert, key: spec.tls.key, minVersion: 'TLSv1.2' }, handler)
    : createHttpServer(options, handler);
  server.maxHeadersCount = 200;
  return server as Server;
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
