import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createListenerServer, drain, listen } from './listeners.ts';
import { loadOrCreateTls } from './tls.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outcome {
  status: number;
  connection: string | undefined;
  /** Sent after the drain began. */
  late: boolean;
  error?: string;
}

function get(agent: Agent, port: number, path: string, isLate: () => boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    const late = isLate();
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, late }));
      res.on('error', (err) => resolve({ status: 0, connection: undefined, late, error: (err as NodeJS.ErrnoException).code ?? err.message }));
    });
    req.on('error', (err) => resolve({ status: 0, connection: undefined, late, error: (err as NodeJS.ErrnoException).code ?? err.message }));
    req.end();
  });
}

describe('drain', () => {
  it('regression: a keep-alive client that keeps sending held a draining server until the deadline', { timeout: 20_000 }, async () => {
    const server = createListenerServer({ host: '127.0.0.1', port: 0 }, (req, res) => {
      const params = new URL(req.url ?? '/', 'http://x').searchParams;
      const ms = Number(params.get('ms') ?? 10);
      // Some responses send their headers (keep-alive) before the drain begins and end after it.
      if (params.has('stream')) res.writeHead(200).write('o');
      setTimeout(() => res.end('ok'), ms);
    });
    const { port } = await listen(server, { host: '127.0.0.1', port: 0 });
    // As nginx's upstream keepalive: a few connections, each reused for the next request at once.
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    let drainStarted = 0;
    let stop = false;
    const outcomes: Outcome[] = [];
    const clients = Array.from({ length: 4 }, async (_, i) => {
      while (!stop) {
        const o = await get(agent, port, `/?ms=${5 + i * 10}${i % 2 === 0 ? '&stream' : ''}`, () => drainStarted > 0);
        outcomes.push(o);
        if (o.error === 'ECONNREFUSED') break; // the listener is gone: a real client would go to another replica
      }
    });
    await sleep(200);
    // One slow request in flight when the drain begins: it must finish, and sets the drain's length.
    const slow = get(new Agent({ keepAlive: true }), port, '/?ms=400', () => false);
    await sleep(20);
    drainStarted = performance.now();
    await drain(server, 10_000);
    const drainMs = performance.now() - drainStarted;
    stop = true;
    await Promise.all(clients);
    const slowOutcome = await slow;
    agent.destroy();

    const answered = outcomes.filter((o) => o.status === 200);
    const cut = outcomes.filter((o) => o.error && o.error !== 'ECONNREFUSED');
    const lateAnswers = answered.filter((o) => o.late);
    console.log(`drain took ${Math.round(drainMs)} ms (slowest request 400 ms, deadline 10000 ms); ${answered.length} answered, ${lateAnswers.length} of them after the drain began, ${cut.length} cut`);
    assert.equal(slowOutcome.status, 200, 'the slow request in flight finished');
    assert.equal(slowOutcome.connection, 'close');
    assert.deepEqual(cut, [], 'no request was cut');
    assert.ok(lateAnswers.length > 0, 'requests came on kept-alive connections during the drain');
    assert.ok(lateAnswers.every((o) => o.connection === 'close'), 'every response while draining says Connection: close');
    assert.ok(drainMs < 1_000, `drained in ${drainMs} ms`);
    assert.ok(drainMs >= 350, `the drain waited for the slow request (${drainMs} ms)`);
  });

  it('an idle keep-alive connection is closed within the idle grace', async () => {
    const server = createListenerServer({ host: '127.0.0.1', port: 0 }, (_req, res) => res.end('ok'));
    const { port } = await listen(server, { host: '127.0.0.1', port: 0 });
    const agent = new Agent({ keepAlive: true });
    const first = await get(agent, port, '/', () => false);
    assert.equal(first.status, 200);
    assert.equal(first.connection, 'keep-alive');
    const t0 = performance.now();
    await drain(server, 10_000);
    assert.ok(performance.now() - t0 < 500);
    agent.destroy();
  });

  it('HTTPS: a response in flight ends with Connection: close and the drain does not wait for the deadline', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gh-drain-'));
    try {
      const tls = await loadOrCreateTls({ certFile: '', keyFile: '', dataDir: dir });
      const spec = { host: '127.0.0.1', port: 0, tls };
      const server = createListenerServer(spec, (_req, res) => {
        res.writeHead(200).write('o'); // headers (keep-alive) out before the drain
        setTimeout(() => res.end('k'), 150);
      });
      const { port } = await listen(server, spec);
      const agent = new HttpsAgent({ keepAlive: true, rejectUnauthorized: false });
      const once = () =>
        new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
          httpsRequest({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
          }).on('error', reject).end();
        });
      await once(); // a kept-alive TLS connection
      const inflight = once();
      await sleep(50);
      const t0 = performance.now();
      const drained = drain(server, 10_000);
      const answered = await inflight;
      // The client reuses the kept-alive connection: answered, with Connection: close.
      const next = await once();
      await drained;
      const ms = performance.now() - t0;
      agent.destroy();
      assert.equal(answered.status, 200);
      assert.deepEqual(next, { status: 200, connection: 'close' });
      assert.ok(ms < 1_000, `drained in ${ms} ms`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
