import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: readonly string[];
  readonly body: string;
}

export interface MockUpstream {
  readonly url: string;
  readonly port: number;
  /** Every request received, in order: a test asserts what the backend saw, and that it saw nothing. */
  readonly requests: SeenRequest[];
  /** Replaces how it answers (default: 200 JSON echoing method, url and body). */
  respond(handler: (req: SeenRequest, res: ServerResponse) => void): void;
  close(): Promise<void>;
}

/**
 * A backend for gateway tests (we do not own the backends users put behind Gatehouse): counts and
 * records every request it receives, answers as told.
 */
export async function startMockUpstream(name = 'backend'): Promise<MockUpstream> {
  const requests: SeenRequest[] = [];
  let handler = (req: SeenRequest, res: ServerResponse) => {
    const body = JSON.stringify({ backend: name, method: req.method, url: req.url, body: req.body });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen: SeenRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(seen);
      handler(seen, res);
    });
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    respond(h) {
      handler = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
