import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { badRequest, fault, FaultCodes, notFound, serializeFault, type LocalReply } from './faults.ts';
import { checkTarget } from './path.ts';
import type { CompiledChain, RequestContext } from './policy.ts';
import { preflight } from './policies/cors.ts';
import type { RouteTable } from './router.ts';
import type { Endpoint, EndpointSet } from './upstream.ts';

/** What the router compiled for one operation. */
export interface CompiledRoute {
  readonly chain: CompiledChain;
  readonly production: EndpointSet | undefined;
  readonly sandbox: EndpointSet | undefined;
}

export interface GatewayHandlerState {
  /** The current table; swapped whole on redeploy. */
  table: RouteTable<CompiledRoute>;
}

// RFC 9110 §7.6.1: never forwarded by an intermediary.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'proxy-authenticate', 'host']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const RETRYABLE_CONNECT = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'EAI_AGAIN', 'ENOTFOUND']);

const BODY_TOO_LARGE = 'GW_ERR_BODY_TOO_LARGE';

/** Whole seconds for Retry-After, at least 1. */
const retryAfter = (ms: number): string => String(Math.max(1, Math.ceil(ms / 1000)));
// Retry-After: when a breaker half-opens if every one is open, else a short pause.
const unreachable = (ms: number): LocalReply => fault(503, FaultCodes.BackendUnavailable, 'Service Unavailable', 'Error connecting to the back end', { 'retry-after': ms > 0 ? retryAfter(ms) : '5' });
const suspended = (ms: number): LocalReply =>
  fault(503, FaultCodes.EndpointSuspended, 'Runtime Error', 'every endpoint of this API is suspended after repeated failures', { 'retry-after': retryAfter(ms) });
const tooLarge = (max: number): LocalReply => fault(413, FaultCodes.PayloadTooLarge, 'Payload Too Large', `the request body exceeds ${max} bytes`);

/** What goes to the backend: nothing, the whole body read (replayable), or a stream. */
type UpstreamBody = Buffer | Readable | null;

/** Sends a fault; returns its body's length in bytes (null when the response was already under way and is cut instead). */
export function sendReply(res: ServerResponse, reply: LocalReply): number | null {
  if (res.headersSent) {
    res.destroy();
    return null;
  }
  const body = serializeFault(reply);
  const length = Buffer.byteLength(body);
  res.writeHead(reply.status, { ...reply.headers, 'content-type': 'application/json; charset=UTF-8', 'content-length': length });
  res.end(body);
  return length;
}

function hostOf(req: IncomingMessage): string | undefined {
  // RFC 9112 §3.2: exactly one Host.
  let host: string | undefined;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 4 && raw[i].toLowerCase() === 'host') {
      if (host !== undefined) return undefined;
      host = raw[i + 1];
    }
  }
  if (host === undefined) return undefined;
  const h = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':', 1)[0];
  return h.toLowerCase();
}

/** Names listed in `Connection`, which RFC 9110 §7.6.1 says must go too. */
function connectionListed(headers: IncomingHttpHeaders): Set<string> | undefined {
  const c = headers.connection;
  if (!c || c === 'keep-alive' || c === 'close' || c === 'Keep-Alive') return undefined; // what nearly every client sends
  const names = new Set<string>();
  for (const part of c.split(',')) {
    const n = part.trim().toLowerCase();
    if (n && n !== 'close' && n !== 'keep-alive') names.add(n);
  }
  return names.size > 0 ? names : undefined;
}

function upstreamHeaders(ctx: RequestContext, remoteAddress: string, proto: string, host: string): string[] {
  const raw = ctx.req.rawHeaders;
  const listed = connectionListed(ctx.req.headers);
  const drop = ctx.dropHeaders;
  const out: string[] = [];
  let forwardedFor: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (HOP_BY_HOP.has(name) || listed?.has(name) || (drop !== undefined && drop.includes(name))) continue;
    if (name === 'x-forwarded-for') {
      forwardedFor = forwardedFor === undefined ? raw[i + 1] : `${forwardedFor}, ${raw[i + 1]}`;
      continue;
    }
    if (name === 'x-forwarded-proto' || name === 'x-forwarded-host') continue; // ours replace the client's
    out.push(raw[i], raw[i + 1]);
  }
  out.push('x-forwarded-for', forwardedFor === undefined ? remoteAddress : `${forwardedFor}, ${remoteAddress}`);
  out.push('x-forwarded-proto', proto, 'x-forwarded-host', host);
  if (ctx.addHeaders) for (const [k, v] of ctx.addHeaders) out.push(k, v);
  return out;
}

/** The rest of a body that outgrew the buffer: what was read, then the socket, counted against the limit. */
async function* restOfBody(read: Buffer[], size: number, req: IncomingMessage, max: number): AsyncGenerator<Buffer> {
  yield* read;
  let total = size;
  // Past the limit the socket stays open: the client still gets its 413.
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > max) throw Object.assign(new Error(`the request body exceeds ${max} bytes`), { code: BODY_TOO_LARGE });
    yield chunk;
  }
}

function responseHeaders(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const listed = connectionListed(headers as IncomingHttpHeaders);
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    out[name] = headers[name];
  }
  return out;
}

function hasBody(req: IncomingMessage): boolean {
  const len = req.headers['content-length'];
  return (len !== undefined && len !== '0') || req.headers['transfer-encoding'] !== undefined;
}

export interface HandlerOptions {
  readonly maxBodyBytes: number;
  /**
   * Bodies up to this size are read whole before the backend is called (nginx's request
   * buffering): a slow or abandoned upload never reaches the backend, and the call can be
   * retried on another endpoint. Larger ones stream. Default 64 KiB.
   */
  readonly requestBufferBytes?: number;
  /** Reserved paths answered before routing (health, metrics); return true when handled. */
  readonly ops?: (req: IncomingMessage, res: ServerResponse) => boolean;
  readonly now?: () => number;
}

/**
 * The gateway's request handler: checks, match, policy chain, upstream, response. One function,
 * no per-request closures beyond what undici's stream API needs.
 */
export function createHandler(state: GatewayHandlerState, options: HandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const now = options.now ?? Date.now;
  const maxBody = options.maxBodyBytes;
  const bufferBytes = Math.min(options.requestBufferBytes ?? 64 * 1024, maxBody);
  /**
   * One call to one endpoint, as undici's dispatch handler: the response streams into the
   * client's, paused while the client cannot take more. Lighter than `pool.stream()`, which
   * wraps each call in an AsyncResource and a promise and tracks the response with four listeners.
   */
  class UpstreamCall implements Dispatcher.DispatchHandler {
    #controller: Dispatcher.DispatchController | undefined;
    /** The response to the client has begun: an error now can only cut it. */
    #started = false;
    /** Ended or failed: later events (the client's `close`) change nothing. */
    #done = false;
    #drainHooked = false;
    readonly #ctx: RequestContext;
    readonly #route: CompiledRoute;
    readonly #host: string;
    readonly #tried: number;
    readonly #set: EndpointSet;
    readonly #endpoint: Endpoint;
    readonly #body: UpstreamBody;

    constructor(ctx: RequestContext, route: CompiledRoute, host: string, tried: number, set: EndpointSet, endpoint: Endpoint, body: UpstreamBody) {
      this.#ctx = ctx;
      this.#route = route;
      this.#host = host;
      this.#tried = tried;
      this.#set = set;
      this.#endpoint = endpoint;
      this.#body = body;
    }

    onRequestStart(controller: Dispatcher.DispatchController): void {
      this.#controller = controller;
      // The client gone, the backend's work is wasted: cancel the call.
      this.#ctx.res.once('close', this.#onClientClose);
    }

    readonly #onClientClose = (): void => {
      if (!this.#done) this.#controller?.abort(new Error('the client closed the connection'));
    };

    onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, upstream: IncomingHttpHeaders): void {
      if (statusCode < 200) return; // 1xx: not relayed
      this.#started = true;
      this.#endpoint.succeeded();
      const ctx = this.#ctx;
      ctx.status = statusCode;
      const out = responseHeaders(upstream);
      const length = out['content-length'];
      ctx.responseBytes = typeof length === 'string' ? Number(length) : null;
      for (const hook of this.#route.chain.responseHeaders) hook(ctx, out);
      ctx.res.writeHead(statusCode, out);
      if (ctx.res.writableNeedDrain) this.#pause(controller);
    }

    onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
      if (!this.#ctx.res.write(chunk)) this.#pause(controller);
    }

    #pause(controller: Dispatcher.DispatchController): void {
      controller.pause();
      if (!this.#drainHooked) {
        this.#drainHooked = true;
        this.#ctx.res.on('drain', () => this.#controller?.resume());
      }
    }

    onResponseEnd(): void {
      this.#done = true;
      const ctx = this.#ctx;
      ctx.res.end();
      for (const hook of this.#route.chain.log) hook(ctx);
    }

    onResponseError(_controller: Dispatcher.DispatchController, err: Error & { code?: string }): void {
      if (this.#done) return;
      this.#done = true;
      onUpstreamError(this.#ctx, this.#route, this.#host, this.#tried, this.#set, this.#endpoint, err, this.#started, this.#body);
    }
  }

  return (req, res) => {
    if (options.ops?.(req, res)) return;
    const host = hostOf(req);
    if (host === undefined) return sendReply(res, badRequest('the request must carry exactly one Host header'));
    const target = checkTarget(req.url ?? '');
    if (!target.ok) return sendReply(res, badRequest(target.reason));
    // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding is faulty framing.
    if (req.httpVersionMinor === 0 && req.headers['transfer-encoding'] !== undefined) {
      res.shouldKeepAlive = false;
      return sendReply(res, badRequest('Transfer-Encoding is not allowed in HTTP/1.0'));
    }
    const length = req.headers['content-length'];
    if (length !== undefined && Number(length) > maxBody) {
      res.shouldKeepAlive = false;
      return sendReply(res, tooLarge(maxBody));
    }
    const method = req.method ?? 'GET';
    const table = state.table; // this request keeps this table, whatever a redeploy does
    const match = table.match(host, target.path, method);
    if (match.kind === 'not-found') return sendReply(res, notFound());
    if (match.kind === 'method-not-allowed') {
      if (method === 'OPTIONS') {
        const headers = preflight(match.api.cors, req);
        if (headers) {
          res.writeHead(204, headers);
          res.end();
          return;
        }
      }
      return sendReply(res, fault(405, FaultCodes.MethodNotAllowed, 'Method not allowed', `${method} is not allowed on this resource`, { allow: match.allow.join(', ') }));
    }
    const route = match.target.compiled;
    const ctx: RequestContext = {
      req,
      res,
      api: match.target.api,
      operation: match.target.operation,
      basePath: match.basePath,
      resourcePath: match.resourcePath,
      query: target.query,
      params: match.params,
      startedAt: now(),
      keyType: 'PRODUCTION',
      dropHeaders: undefined,
      addHeaders: undefined,
      token: undefined,
      rateLimit: undefined,
      status: 0,
      responseBytes: null,
      reply: undefined,
      overQuota: false,
    };
    const access = route.chain.access;
    if (access.length === 0) return proceed(ctx, route, host);
    runAccess(ctx, route, host, 0);
  };

  function runAccess(ctx: RequestContext, route: CompiledRoute, host: string, from: number): void {
    const access = route.chain.access;
    for (let i = from; i < access.length; i++) {
      const result = access[i](ctx);
      if (result === undefined) continue;
      if (result instanceof Promise) {
        result.then(
          (reply) => (reply === undefined ? runAccess(ctx, route, host, i + 1) : finish(ctx, route, reply)),
          () => finish(ctx, route, fault(500, FaultCodes.AuthFailure, 'Unclassified Authentication Failure', 'the gateway could not evaluate the request')),
        );
        return;
      }
      return finish(ctx, route, result);
    }
    proceed(ctx, route, host);
  }

  /** After the access phase: the body, read whole when small (see `requestBufferBytes`), then the backend. */
  function proceed(ctx: RequestContext, route: CompiledRoute, host: string): void {
    const req = ctx.req;
    if (!hasBody(req)) return forward(ctx, route, host, 0, null);
    const length = req.headers['content-length'];
    // Node refuses Content-Length with Transfer-Encoding, so a length here is the exact size.
    if (length !== undefined && Number(length) > bufferBytes) return forward(ctx, route, host, 0, req);
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', done);
      req.off('close', done);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      chunks.push(chunk);
      if (size > maxBody) {
        done();
        ctx.res.shouldKeepAlive = false;
        return finish(ctx, route, tooLarge(maxBody));
      }
      if (size > bufferBytes) {
        done();
        req.pause();
        forward(ctx, route, host, 0, Readable.from(restOfBody(chunks, size, req, maxBody), { objectMode: false }));
      }
    };
    const onEnd = () => {
      done();
      forward(ctx, route, host, 0, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    // 'error' or 'close' first: the client went away, or Node cut it (408), and nothing was sent.
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', done);
    req.on('close', done);
  }

  function finish(ctx: RequestContext, route: CompiledRoute, reply: LocalReply): void {
    ctx.status = reply.status;
    ctx.reply = reply;
    if (route.chain.responseHeaders.length > 0) {
      const headers: OutgoingHttpHeaders = { ...reply.headers };
      for (const hook of route.chain.responseHeaders) hook(ctx, headers);
      ctx.responseBytes = sendReply(ctx.res, { ...reply, headers });
    } else {
      ctx.responseBytes = sendReply(ctx.res, reply);
    }
    for (const hook of route.chain.log) hook(ctx);
  }

  function forward(ctx: RequestContext, route: CompiledRoute, host: string, tried: number, body: UpstreamBody): void {
    const set = ctx.keyType === 'SANDBOX' ? route.sandbox : route.production;
    if (!set) {
      return finish(ctx, route, fault(403, FaultCodes.InvalidCredentials, 'Invalid Credentials', `this API has no ${ctx.keyType.toLowerCase()} endpoint`));
    }
    const t = now();
    const endpoint = set.pick(tried, t);
    if (!endpoint) return finish(ctx, route, tried === 0 ? suspended(set.suspendedFor(t)) : unreachable(set.suspendedFor(t)));
    const req = ctx.req;
    const method = req.method ?? 'GET';
    const socket = req.socket;
    const proto = (socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
    const headers = upstreamHeaders(ctx, socket.remoteAddress ?? '', proto, req.headers.host ?? host);
    for (const hook of route.chain.upstreamRequest) hook(ctx, headers);
    endpoint.pool.dispatch(
      {
        method: method as Dispatcher.HttpMethod,
        path: endpoint.basePath + ctx.resourcePath + ctx.query,
        headers,
        body,
        headersTimeout: set.timeoutMs,
        bodyTimeout: set.timeoutMs,
      },
      new UpstreamCall(ctx, route, host, tried, set, endpoint, body),
    );
  }

  function onUpstreamError(ctx: RequestContext, route: CompiledRoute, host: string, tried: number, set: EndpointSet, endpoint: Endpoint, err: { code?: string }, started: boolean, body: UpstreamBody): void {
    if (started) {
      // The response was under way: all we can do is cut it so the client sees it incomplete.
      ctx.res.destroy();
      return;
    }
    const code = err.code ?? '';
    if (code === BODY_TOO_LARGE) {
      endpoint.released(); // the client's fault, not the backend's
      ctx.res.shouldKeepAlive = false;
      return finish(ctx, route, tooLarge(maxBody));
    }
    if (ctx.req.socket.destroyed) {
      endpoint.released(); // the client went away (or Node cut a slow one): no verdict on the backend
      return;
    }
    const t = now();
    endpoint.failed(t);
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      return finish(ctx, route, fault(504, FaultCodes.BackendTimeout, 'Gateway Timeout', 'the backend did not answer in time'));
    }
    if (RETRYABLE_CONNECT.has(code)) {
      // Another endpoint may take it, if the call can be replayed: idempotent, and its body (if
      // any) read whole.
      if ((body === null || Buffer.isBuffer(body)) && IDEMPOTENT.has(ctx.req.method ?? 'GET')) return forward(ctx, route, host, set.mark(tried, endpoint), body);
      return finish(ctx, route, unreachable(set.suspendedFor(t)));
    }
    finish(ctx, route, fault(502, FaultCodes.BackendUnavailable, 'Bad Gateway', 'the backend failed to answer'));
  }
}
