import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { httpCall, startMockUpstream, type MockUpstream } from '@gatehouse/testing';
import type { Gateway, RuntimeApi } from '../src/index.ts';
import { rawRequest, startTestGateway, type TestGateway } from './harness.ts';

let gateway: TestGateway;
let gw: Gateway;
let a: MockUpstream;
let b: MockUpstream;
let base: string;
let ca: string;

function petstore(over: Partial<RuntimeApi> = {}): RuntimeApi {
  return {
    id: 'petstore-1',
    name: 'PetStore',
    context: '/petstore',
    version: '1.0.0',
    isDefaultVersion: false,
    hosts: [],
    status: 'PUBLISHED',
    operations: [
      { verb: 'GET', target: '/pets', authType: 'None', scopes: [] },
      { verb: 'POST', target: '/pets', authType: 'None', scopes: [] },
      { verb: 'GET', target: '/pets/{petId}', authType: 'None', scopes: [] },
      { verb: 'GET', target: '/slow', authType: 'None', scopes: [] },
    ],
    endpoints: { production: { type: 'http', urls: [`${a.url}/v2`] } },
    ...over,
  };
}

before(async () => {
  [a, b] = await Promise.all([startMockUpstream('a'), startMockUpstream('b')]);
  gateway = await startTestGateway({ gateway: { maxBodyBytes: 1024 } });
  ({ gw, base, ca } = gateway);
  gw.deploy([petstore()]);
});
after(() => gateway.close(a, b));
beforeEach(() => {
  a.requests.length = 0;
  b.requests.length = 0;
  gw.deploy([petstore()]);
});

describe('forwarding', () => {
  it('forwards to the endpoint path with the resource path and query, and answers what the backend said', async () => {
    const res = await httpCall(`${base}/petstore/1.0.0/pets/7?color=red`);
    assert.equal(res.status, 200);
    assert.equal(res.json<{ url: string }>().url, '/v2/pets/7?color=red');
    assert.equal(a.requests.length, 1);
  });

  it('also over HTTPS', async () => {
    const res = await httpCall(`${gateway.https}/petstore/1.0.0/pets`, { ca });
    assert.equal(res.status, 200);
    assert.equal(a.requests[0].headers['x-forwarded-proto'], 'https');
  });

  it('streams a request body through', async () => {
    const res = await httpCall(`${base}/petstore/1.0.0/pets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"rex"}' });
    assert.equal(res.status, 200);
    assert.equal(a.requests[0].body, '{"name":"rex"}');
  });

  it('strips hop-by-hop headers and those named in Connection, sets X-Forwarded-*', async () => {
    await httpCall(`${base}/petstore/1.0.0/pets`, {
      headers: { connection: 'keep-alive, x-secret, x-forwarded-host', 'x-secret': 's', 'keep-alive': 'timeout=5', te: 'trailers', 'x-forwarded-for': '10.1.1.1', 'x-kept': 'yes' },
    });
    const seen = a.requests[0].headers;
    assert.equal(seen['x-secret'], undefined);
    assert.equal(seen['keep-alive'], undefined);
    assert.equal(seen.te, undefined);
    assert.equal(seen['x-kept'], 'yes');
    assert.equal(seen['x-forwarded-for'], '10.1.1.1, 127.0.0.1');
    assert.match(String(seen['x-forwarded-host']), /^127\.0\.0\.1:\d+$/, 'ours, not dropped by the Connection trick');
    assert.equal(seen.host, `127.0.0.1:${a.port}`, 'the backend gets its own Host');
  });

  it('removes hop-by-hop headers from the response', async () => {
    a.respond((_req, res) => {
      res.writeHead(200, { connection: 'x-internal', 'x-internal': 'secret', 'x-public': 'ok', 'content-length': '2' });
      res.end('ok');
    });
    const res = await httpCall(`${base}/petstore/1.0.0/pets`);
    assert.equal(res.headers['x-internal'], undefined);
    assert.equal(res.headers['x-public'], 'ok');
  });
});

describe('faults', () => {
  it('404 with 900906 for unknown resources, 405 with Allow for a wrong method', async () => {
    const nf = await httpCall(`${base}/nowhere/1/x`);
    assert.equal(nf.status, 404);
    assert.equal(nf.json<{ code: number }>().code, 900906);
    const na = await httpCall(`${base}/petstore/1.0.0/pets`, { method: 'DELETE' });
    assert.equal(na.status, 405);
    assert.equal(na.headers.allow, 'GET, POST');
    assert.equal(a.requests.length, 0);
  });

  it('a BLOCKED API answers 503 with 700700 and never reaches the backend', async () => {
    gw.deploy([petstore({ status: 'BLOCKED' })]);
    const res = await httpCall(`${base}/petstore/1.0.0/pets`);
    assert.equal(res.status, 503);
    assert.equal(res.json<{ code: number }>().code, 700700);
    assert.equal(a.requests.length, 0);
  });

  it('refuses path variants that must never reach a resource, and the backend sees none', async () => {
    for (const path of ['/petstore/1.0.0/pets/%2e%2e/admin', '/petstore/1.0.0/pets%2F7', '/petstore//1.0.0/pets', '/petstore/1.0.0/pets;x=1', '/petstore/1.0.0/../1.0.0/pets']) {
      const res = await rawRequest(Number(new URL(base).port), `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
      assert.match(res, /^HTTP\/1\.1 400 /, path);
    }
    assert.equal(a.requests.length, 0);
  });

  it('refuses a duplicate Host, an absolute-form target and HTTP/1.0 with Transfer-Encoding', async () => {
    const port = Number(new URL(base).port);
    assert.match(await rawRequest(port, 'GET /petstore/1.0.0/pets HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 400 /);
    assert.match(await rawRequest(port, 'GET http://evil.example/petstore/1.0.0/pets HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 400 /);
    assert.match(await rawRequest(port, 'POST /petstore/1.0.0/pets HTTP/1.0\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'), /^HTTP\/1\.1 400 /);
    assert.match(await rawRequest(port, 'POST /petstore/1.0.0/pets HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n'), /^HTTP\/1\.1 400 /);
    assert.equal(a.requests.length, 0);
  });

  it('refuses an oversized body with 413 before the backend', async () => {
    const res = await httpCall(`${base}/petstore/1.0.0/pets`, { method: 'POST', body: 'x'.repeat(2048) });
    assert.equal(res.status, 413);
    assert.equal(a.requests.length, 0);
  });

  it('503 (101503) when the backend cannot be reached, 504 (101504) when it is too slow', async () => {
    gw.deploy([petstore({ endpoints: { production: { type: 'http', urls: ['http://127.0.0.1:1'] } } })]);
    const down = await httpCall(`${base}/petstore/1.0.0/pets`);
    assert.equal(down.status, 503);
    assert.equal(down.json<{ code: number }>().code, 101503);
    assert.equal(down.headers['retry-after'], '5');
    gw.deploy([petstore({ endpoints: { production: { type: 'http', urls: [a.url], timeoutMs: 200 } } })]);
    a.respond((_req, res) => setTimeout(() => res.end('late'), 1000));
    const slow = await httpCall(`${base}/petstore/1.0.0/slow`);
    assert.equal(slow.status, 504);
    assert.equal(slow.json<{ code: number }>().code, 101504);
  });
});

describe('endpoints', () => {
  it('load-balances round robin across endpoints', async () => {
    a.respond((_r, res) => res.end('a'));
    b.respond((_r, res) => res.end('b'));
    gw.deploy([petstore({ endpoints: { production: { type: 'load_balance', urls: [a.url, b.url] } } })]);
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push((await httpCall(`${base}/petstore/1.0.0/pets`)).text);
    assert.equal(answers.filter((x) => x === 'a').length, 3);
    assert.equal(answers.filter((x) => x === 'b').length, 3);
  });

  it('fails over to the next endpoint for an idempotent call when one is down', async () => {
    b.respond((_r, res) => res.end('b'));
    gw.deploy([petstore({ endpoints: { production: { type: 'failover', urls: ['http://127.0.0.1:1', b.url] } } })]);
    const res = await httpCall(`${base}/petstore/1.0.0/pets`);
    assert.equal(res.status, 200);
    assert.equal(res.text, 'b');
  });

  it('never retries a call with a body on another endpoint', async () => {
    gw.deploy([petstore({ endpoints: { production: { type: 'failover', urls: ['http://127.0.0.1:1', b.url] } } })]);
    const res = await httpCall(`${base}/petstore/1.0.0/pets`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 503);
    assert.equal(b.requests.length, 0);
  });
});

describe('redeploy', () => {
  it('swaps the route table while a request in flight finishes on the old one', async () => {
    a.respond((req, res) => setTimeout(() => res.end(`slow ${req.url}`), 300));
    const inFlight = httpCall(`${base}/petstore/1.0.0/slow`);
    await new Promise((r) => setTimeout(r, 50));
    gw.deploy([petstore({ context: '/zoo' })]);
    const res = await inFlight;
    assert.equal(res.status, 200);
    assert.equal(res.text, 'slow /v2/slow');
    assert.equal((await httpCall(`${base}/petstore/1.0.0/pets`)).status, 404);
    a.respond((_r, r2) => r2.end('zoo'));
    assert.equal((await httpCall(`${base}/zoo/1.0.0/pets`)).text, 'zoo');
  });
});

describe('CORS', () => {
  const cors = { enabled: true, allowOrigins: ['https://app.example'], allowMethods: ['GET', 'POST'], allowHeaders: ['authorization', 'content-type'], allowCredentials: false, maxAgeSeconds: 600 };

  it('answers a preflight from an allowed origin without the backend, and refuses others', async () => {
    gw.deploy([petstore({ cors })]);
    const ok = await httpCall(`${base}/petstore/1.0.0/pets`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    assert.equal(ok.status, 204);
    assert.equal(ok.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(ok.headers['access-control-max-age'], '600');
    const evil = await httpCall(`${base}/petstore/1.0.0/pets`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    assert.equal(evil.status, 405);
    assert.equal(evil.headers['access-control-allow-origin'], undefined);
    assert.equal(a.requests.length, 0);
  });

  it('adds the allowed origin to actual responses', async () => {
    gw.deploy([petstore({ cors })]);
    const res = await httpCall(`${base}/petstore/1.0.0/pets`, { headers: { origin: 'https://app.example' } });
    assert.equal(res.headers['access-control-allow-origin'], 'https://app.example');
    const other = await httpCall(`${base}/petstore/1.0.0/pets`, { headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });
});

it('serves health on reserved paths', async () => {
  assert.equal((await httpCall(`${base}/health/live`)).status, 200);
  assert.equal((await httpCall(`${base}/health/ready`)).status, 200);
});
