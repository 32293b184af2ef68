import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
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
  trackConnections(server as Server, spec.tls !== undefined);
  return server as Server;
}

/**
 * Per server: its open connections and whether it is draining (see {@link drain}). Nothing is kept
 * per request: the request path only reads the flag.
 */
interface DrainState {
  draining: boolean;
  readonly connections: Set<Socket>;
}
const drainStates = new WeakMap<Server, DrainState>();

/** The response a connection is answering now (Node's own bookkeeping; null between requests). */
const inFlight = (socket: Socket): ServerResponse | null | undefined => (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;

function trackConnections(server: Server, tls: boolean): void {
  const state: DrainState = { draining: false, connections: new Set() };
  drainStates.set(server, state);
  // For HTTPS, the socket a request arrives on is the TLS one.
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    state.connections.add(socket);
    socket.once('close', () => state.connections.delete(socket));
  });
  // Ahead of the handler, so the handler's response already carries `Connection: close`.
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (state.draining) res.shouldKeepAlive = false;
  });
}

/**
 * A connection counts as idle (and is closed by a drain) only once nothing has come on it for this
 * long: a client that reuses a kept-alive connection the moment a response ends (nginx under load)
 * may have its next request on the wire already, and cutting it then loses that request.
 */
const IDLE_GRACE_MS = 250;
const netServerClose = NetServer.prototype.close;

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
 * From the start of the drain every response (those in flight included) says `Connection: close`
 * (RFC 9112 §9.6) and ends its connection, and a connection idle for `IDLE_GRACE_MS` is closed: a
 * client that keeps its connections busy (nginx's upstream keepalive under load) would otherwise
 * never leave one idle, and the drain would last the whole deadline. So a draining server is done
 * about when its slowest request is, and its clients reconnect to another replica.
 */
export function drain(server: Server, deadlineMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const state = drainStates.get(server);
    const deadline = setTimeout(() => server.closeAllConnections(), deadlineMs);
    deadline.unref();
    if (!state) {
      // A server this module did not create: Node's own close (idle connections cut at once).
      server.close(() => {
        clearTimeout(deadline);
        resolve();
      });
      return;
    }
    state.draining = true;
    // A connection is idle once nothing is in flight on it and no byte has come for IDLE_GRACE_MS.
    const seen = new Map<Socket, { bytes: number; since: number }>();
    for (const socket of state.connections) {
      const res = inFlight(socket);
      if (res && !res.headersSent) res.shouldKeepAlive = false;
    }
    const sweep = (): void => {
      const now = Date.now();
      for (const socket of state.connections) {
        const last = seen.get(socket);
        if (inFlight(socket) || !last || last.bytes !== socket.bytesRead) seen.set(socket, { bytes: socket.bytesRead, since: now });
        else if (now - last.since >= IDLE_GRACE_MS) socket.destroy();
      }
    };
    const sweeper = setInterval(sweep, Math.max(10, Math.floor(IDLE_GRACE_MS / 5)));
    sweeper.unref();
    // net's close, not http's: http's closes every idle-looking connection at once, including one
    // whose next request is in flight (see IDLE_GRACE_MS).
    netServerClose.call(server, () => {
      clearTimeout(deadline);
      clearInterval(sweeper);
      resolve();
    });
    sweep();
  });
}
