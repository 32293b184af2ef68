/**
 * The baseline the Gateway is measured against: node:http in front of an undici pool, streaming
 * both ways, no policies. `node bench/gateway/bare-proxy.ts <port> <backend-url> [stream|dispatch]`:
 * `stream` (default) forwards with `pool.stream()`, undici's proxying API; `dispatch` with a
 * dispatch handler of its own, as the Gateway forwards, so the two differ only by what the
 * Gateway does around the call.
 */
import { createServer, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type * as Undici from 'undici';

// The undici the Gateway runs on (packages/gateway's dependency), not whichever version another
// package hoisted to the root: the baseline must differ from the Gateway only by its policies.
const gatewayRequire = createRequire(new URL('../../packages/gateway/package.json', import.meta.url));
const { Pool } = (await import(pathToFileURL(gatewayRequire.resolve('undici')).href)) as typeof Undici;

const [port, backend, mode = 'stream'] = [Number(process.argv[2]), process.argv[3], process.argv[4]];
const pool = new Pool(backend, { connections: 128, keepAliveTimeout: 30_000 });

/** What a dispatch handler gets to pause and resume the response (undici 7+; the root's typings may be older). */
interface Controller {
  pause(): void;
  resume(): void;
}

/** The least a dispatch handler must do: relay status, headers and body, with backpressure. */
class Relay {
  #controller: Controller | undefined;
  #started = false;
  readonly #res: ServerResponse;
  constructor(res: ServerResponse) {
    this.#res = res;
  }
  onRequestStart(controller: Controller): void {
    this.#controller = controller;
  }
  onResponseStart(_c: Controller, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return;
    this.#started = true;
    this.#res.writeHead(statusCode, headers);
  }
  onResponseData(controller: Controller, chunk: Buffer): void {
    if (!this.#res.write(chunk)) {
      controller.pause();
      this.#res.once('drain', () => this.#controller?.resume());
    }
  }
  onResponseEnd(): void {
    this.#res.end();
  }
  onResponseError(): void {
    if (this.#started || this.#res.headersSent) this.#res.destroy();
    else this.#res.writeHead(502).end();
  }
}

createServer((req, res) => {
  const opts = { method: (req.method ?? 'GET') as 'GET', path: req.url ?? '/', headers: req.headers as Record<string, string>, body: req.method === 'GET' ? null : req };
  if (mode === 'dispatch') {
    pool.dispatch(opts, new Relay(res) as unknown as Undici.Dispatcher.DispatchHandlers);
    return;
  }
  pool
    .stream(opts, ({ statusCode, headers }) => {
      res.writeHead(statusCode, headers as Record<string, string>);
      return res;
    })
    .catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
}).listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0)); // lets --cpu-prof write its profile
