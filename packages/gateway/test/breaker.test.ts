import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FakeClock, httpCall } from '@gatehouse/testing';
import type { Gateway, RuntimeApi } from '../src/index.ts';
import { defaultUpstreamOptions } from '../src/upstream.ts';
import { startTestGateway, type TestGateway } from './harness.ts';

// Passive health through a real gateway: backends that go down (every connection reset) and come
// back, a breaker per endpoint on a fake clock (threshold 2, cooldown 10 s, doubling to 40 s).

interface Flaky {
  readonly url: string;
  /** TCP connections accepted, also those reset at once while down. */
  connections: number;
  /** Requests answered. */
  answered: number;
  /** Status of the answers. */
  status: number;
  down: boolean;
  /** While set, requests wait here until released. */
  hold: ((release: () => void) => void) | undefined;
  close(): Promise<void>;
}

async function startFlaky(name: string): Promise<Flaky> {
  const sockets = new Set<Socket>();
  const state: Flaky = {
    url: '',
    connections: 0,
    answered: 0,
    status: 200,
    down: false,
    hold: undefined,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const answer = (res: ServerResponse) => {
    state.answered += 1;
    res.writeHead(state.status, { 'content-type': 'text/plain' }).end(name);
  };
  const server: Server = createServer((req, res) => {
    if (state.down) return req.socket.destroy();
    const hold = state.hold;
    if (hold) hold(() => answer(res));
    else answer(res);
  });
  server.on('connection', (socket: Socket) => {
    state.connections += 1;
    if (state.down) return socket.destroy();
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  Object.assign(state, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  const setDown = (down: boolean) => {
    state.down = down;
    if (down) for (const s of sockets) s.destroy(); // pooled keep-alive connections too
  };
  return new Proxy(state, {
    set(target, key, value) {
      if (key === 'down') setDown(value as boolean);
      else (target as unknown as Record<string | symbol, unknown>)[key] = value;
      return true;
    },
  });
}

const clock = new FakeClock(1_000_000);
let gateway: TestGateway;
let gw: Gateway;
let base: string;
let a: Flaky;
let b: Flaky;

function orders(endpoints: RuntimeApi['endpoints']): RuntimeApi {
  return {
    id: 'orders-1',
    name: 'Orders',
    context: '/orders',
    version: 'v1',
    isDefaultVersion: false,
    hosts: [],
    status: 'PUBLISHED',
    operations: [{ verb: 'GET', target: '/*', authType: 'None', scopes: [] }],
    endpoints,
  };
}

const call = () => httpCall(`${base}/orders/v1/list`);

before(async () => {
  gateway = await startTestGateway({ gateway: { now: () => clock.now(), upstream: { ...defaultUpstreamOptions, breaker: { threshold: 2, cooldownMs: 10_000, maxCooldownMs: 40_000 } } } });
  ({ gw, base } = gateway);
});
after(() => gateway.close());
beforeEach(async () => {
  // Fresh backends (new URLs) for each test: breakers are kept per URL.
  await Promise.all([a?.close(), b?.close()]);
  [a, b] = await Promise.all([startFlaky('a'), startFlaky('b')]);
});
after(() => Promise.all([a.close(), b.close()]));

describe('with another endpoint', () => {
  it('opens on a failing endpoint and sends calls to the other, probes it after the cooldown, doubles the cooldown on a failed probe, resumes it on success', async () => {
    gw.deploy([orders({ production: { type: 'failover', urls: [a.url, b.url] } })]);
    a.down = true;
    for (let i = 0; i < 2; i++) {
      const res = await call();
      assert.equal(res.text, 'b', 'failed over for an idempotent call');
    }
    assert.equal(a.connections, 2);
    for (let i = 0; i < 4; i++) assert.equal((await call()).text, 'b');
    assert.equal(a.connections, 2, 'open: no call tried the failing endpoint');

    clock.advance(10_000);
    assert.equal((await call()).text, 'b', 'the probe failed, the call went on to b');
    assert.equal(a.connections, 3, 'one probe');
    clock.advance(10_000);
    assert.equal((await call()).text, 'b');
    assert.equal(a.connections, 3, 'still open: the failed probe doubled the cooldown to 20 s');

    a.down = false;
    clock.advance(10_000);
    assert.equal((await call()).text, 'a', 'the probe succeeded');
    assert.equal((await call()).text, 'a', 'closed: the primary serves again');
    assert.equal(a.answered, 2);
  });

  it('load-balances around an open endpoint', async () => {
    gw.deploy([orders({ production: { type: 'load_balance', urls: [a.url, b.url] } })]);
    a.down = true;
    const answers: string[] = [];
    for (let i = 0; i < 8; i++) answers.push((await call()).text);
    assert.deepEqual(new Set(answers), new Set(['b']));
    assert.equal(a.connections, 2, 'tried until it opened, then skipped');
  });
});

describe('with one endpoint', () => {
  it('answers 303001 with Retry-After while open, without calling the backend, then half-opens and closes on success', async () => {
    gw.deploy([orders({ production: { type: 'http', urls: [a.url] } })]);
    a.down = true;
    for (let i = 0; i < 2; i++) {
      const res = await call();
      assert.equal(res.status, 503);
      assert.equal(res.json<{ code: number }>().code, 101503);
    }
    const open = await call();
    assert.equal(open.status, 503);
    assert.deepEqual(open.json(), { code: 303001, message: 'Runtime Error', description: 'every endpoint of this API is suspended after repeated failures' });
    assert.equal(open.headers['retry-after'], '10');
    assert.equal(a.connections, 2, 'the open breaker kept the call away from the backend');
    clock.advance(4_000);
    assert.equal((await call()).headers['retry-after'], '6');

    a.down = false;
    clock.advance(6_000);
    const probe = await call();
    assert.equal(probe.status, 200);
    assert.equal(probe.text, 'a');
    assert.equal((await call()).status, 200);
  });

  it('lets exactly one call probe while half-open', async () => {
    gw.deploy([orders({ production: { type: 'http', urls: [a.url] } })]);
    a.down = true;
    await call();
    await call();
    a.down = false;
    clock.advance(10_000);
    let release: (() => void) | undefined;
    const arrived = new Promise<void>((resolve) => {
      a.hold = (r) => {
        release = r;
        resolve();
      };
    });
    const probe = call();
    await arrived;
    a.hold = undefined;
    const other = await call();
    assert.equal(other.status, 503);
    assert.equal(other.json<{ code: number }>().code, 303001, 'the probe is deciding');
    assert.equal(other.headers['retry-after'], '1');
    (release as () => void)();
    assert.equal((await probe).status, 200);
    assert.equal((await call()).status, 200, 'closed');
  });

  it('counts a backend that answers 5xx as up: only transport failures open the breaker', async () => {
    gw.deploy([orders({ production: { type: 'http', urls: [a.url] } })]);
    a.status = 503;
    for (let i = 0; i < 4; i++) {
      const res = await call();
      assert.equal(res.status, 503);
      assert.equal(res.text, 'a', 'the backend\'s own answer, passed through');
    }
    assert.equal(a.answered, 4);
  });
});
