import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { pino } from 'pino';
import { loadConfig } from '@gatehouse/config';
import { createInProcessHub } from '@gatehouse/events';
import { loadOrCreateTls } from '@gatehouse/runtime';
import { httpCall, tempDir } from '@gatehouse/testing';
import { createGateway, type Gateway } from '../src/index.ts';

// Slow and oversized clients against the gateway's listener limits (gateway.* config keys, set
// short here), in front of a backend that records every connection and every request it starts,
// so "the backend saw nothing" means no TCP connection at all.

const hub = createInProcessHub();
let dir: Awaited<ReturnType<typeof tempDir>>;
let gw: Gateway;
let port: number;
const seen = { connections: 0, started: 0, completed: [] as string[], cancelled: 0 };
let backend: Server;

before(async () => {
  backend = createServer((req, res) => {
    seen.started += 1;
    if (req.url?.endsWith('/hang')) {
      // Never answers: counts the gateway giving the call up.
      res.on('close', () => (seen.cancelled += 1));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.completed.push(Buffer.concat(chunks).toString('latin1'));
      res.end('ok');
    });
  });
  backend.on('connection', () => (seen.connections += 1));
  await new Promise<void>((resolve) => backend.listen({ host: '127.0.0.1', port: 0 }, resolve));
  dir = await tempDir();
  const flags = {
    'gateway.http_port': '0',
    'gateway.https_port': '0',
    'gateway.headers_timeout_ms': '300',
    'gateway.request_timeout_ms': '600',
    'gateway.max_header_bytes': '4096',
    'gateway.max_body_bytes': '4096',
    'gateway.request_buffer_bytes': '1024',
  };
  const config = loadConfig({ argv: [...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, v]), '--data-dir', dir.path], env: {} });
  gw = createGateway(config, { logger: pino({ level: 'silent' }), hub, tls: await loadOrCreateTls({ certFile: '', keyFile: '', dataDir: dir.path }) });
  await gw.start();
  port = Number(new URL(gw.listeners.http as string).port);
  gw.deploy([
    {
      id: 'up-1',
      name: 'Uploads',
      context: '/up',
      version: 'v1',
      isDefaultVersion: false,
      hosts: [],
      status: 'PUBLISHED',
      operations: [
        { verb: 'POST', target: '/*', authType: 'None', scopes: [] },
        { verb: 'GET', target: '/*', authType: 'None', scopes: [] },
      ],
      endpoints: { production: { type: 'http', urls: [`http://127.0.0.1:${(backend.address() as AddressInfo).port}`] } },
    },
  ]);
});
after(async () => {
  await gw.stop();
  await hub.close();
  backend.closeAllConnections();
  await new Promise((r) => backend.close(r));
  await dir.remove();
});
beforeEach(() => {
  seen.connections = 0;
  seen.started = 0;
  seen.completed.length = 0;
  seen.cancelled = 0;
});

/**
 * Writes `head` at once, then `trickle` one byte every 20 ms, until the gateway closes the
 * connection; resolves with everything it answered.
 */
function trickle(head: string, slow: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let out = '';
    let i = 0;
    socket.setEncoding('latin1').on('data', (d: string) => (out += d));
    socket.on('error', () => {}); // a write after the gateway closed
    const timer = setInterval(() => {
      if (i < slow.length && !socket.destroyed) socket.write(slow[i++]);
    }, 20);
    socket.on('close', () => {
      clearInterval(timer);
      resolve(out);
    });
    socket.write(head);
  });
}

/** Sends `text` at once; resolves with the answer once the connection closes (we close it after a 200 or 413). */
function send(text: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let out = '';
    socket.setEncoding('latin1').on('data', (d: string) => {
      out += d;
      if (/\r\n\r\n/.test(out) && /^HTTP\/1\.1 (200|413)/.test(out)) socket.end();
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(out));
    socket.write(text);
  });
}

/** A chunked body of `size` bytes, in chunks of 256. */
function chunked(size: number): string {
  let body = '';
  for (let left = size; left > 0; left -= 256) {
    const n = Math.min(256, left);
    body += `${n.toString(16)}\r\n${'x'.repeat(n)}\r\n`;
  }
  return `${body}0\r\n\r\n`;
}

describe('slow clients', () => {
  it('cuts a client that sends its headers byte by byte past the header timeout (408), and the backend sees nothing', async () => {
    const answer = await trickle('GET /up/v1/items HTTP/1.1\r\nHost: localhost\r\n', `X-Slow: ${'a'.repeat(2000)}\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.equal(seen.connections, 0);
  });

  it('cuts a body slower than the request timeout (408) before the backend is called', async () => {
    const answer = await trickle('POST /up/v1/items HTTP/1.1\r\nHost: localhost\r\nContent-Length: 500\r\n\r\n', 'y'.repeat(500));
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.equal(seen.connections, 0, 'a body under request_buffer_bytes is read whole first');
  });

  it('a slow streamed body (over request_buffer_bytes) is cut too; the backend never gets a complete request', async () => {
    const answer = await trickle('POST /up/v1/big HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4000\r\n\r\n', 'z'.repeat(4000));
    assert.match(answer, /^(HTTP\/1\.1 408 |$)/, 'a 408, or the connection closed');
    assert.equal(seen.completed.length, 0);
  });
});

describe('oversized requests', () => {
  it('answers 431 to headers over max_header_bytes, and the backend sees nothing', async () => {
    const answer = await send(`GET /up/v1/items HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'b'.repeat(5000)}\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 431 /);
    assert.equal(seen.connections, 0);
  });

  it('answers 413 to a Content-Length over max_body_bytes before reading it, and the backend sees nothing', async () => {
    const res = await httpCall(`http://127.0.0.1:${port}/up/v1/items`, { method: 'POST', body: 'c'.repeat(5000) }).catch((err: Error) => ({ status: 0, text: err.message }));
    assert.equal(res.status, 413);
    assert.equal(seen.connections, 0);
  });

  it('answers 413 to a chunked body that outgrows max_body_bytes while it streams; the backend never gets it whole', async () => {
    const answer = await send(`POST /up/v1/items HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(6000)}`);
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /"code":900413/);
    assert.equal(seen.completed.length, 0);
  });
});

describe('bodies within the limits', () => {
  it('forwards a chunked body read whole (under request_buffer_bytes) and one that streams (over it)', async () => {
    for (const size of [800, 3000]) {
      const answer = await send(`POST /up/v1/items HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunked(size)}`);
      assert.match(answer, /^HTTP\/1\.1 200 /);
    }
    assert.deepEqual(
      seen.completed.map((b) => b.length),
      [800, 3000],
    );
    assert.ok(seen.completed.every((b) => /^x+$/.test(b)));
  });
});

describe('a client that goes away', () => {
  it('cancels the backend call it was waiting for', async () => {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write('GET /up/v1/hang HTTP/1.1\r\nHost: localhost\r\n\r\n');
    for (let i = 0; i < 100 && seen.started === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(seen.started, 1, 'the call reached the backend');
    const gone = Date.now();
    socket.destroy();
    for (let i = 0; i < 100 && seen.cancelled === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(seen.cancelled, 1, 'the backend saw its call cut');
    assert.ok(Date.now() - gone < 1_000, `cut ${Date.now() - gone} ms after the client left`);
  });
});
