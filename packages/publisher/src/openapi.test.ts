import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchDefinition, isPrivateAddress, operationsFromDefinition, parseDefinition } from './openapi.ts';

describe('isPrivateAddress', () => {
  it('flags loopback, private, link-local, CGNAT, multicast, mapped and unspecified addresses', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', 'not-an-ip']) {
      assert.equal(isPrivateAddress(a), true, a);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8']) assert.equal(isPrivateAddress(a), false, a);
  });
});

describe('parseDefinition', () => {
  it('names the line of a JSON syntax error too', async () => {
    const r = await parseDefinition('{\n  "openapi": "3.0.0",\n  "info": {\n    "title": "x",,\n  }\n}');
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.problems[0]?.line, 4);
  });

  it('refuses documents that are not OpenAPI or Swagger 2.0', async () => {
    for (const text of ['[]', 'hello', 'asyncapi: 2.0.0\ninfo: {title: x, version: 1}\n']) {
      assert.equal((await parseDefinition(text)).ok, false, text);
    }
  });

  it('never resolves external $refs (a fetch of port 1 would fail the validation)', async () => {
    const r = await parseDefinition(JSON.stringify({
      openapi: '3.0.0', info: { title: 'x', version: '1' },
      paths: { '/a': { get: { responses: { 200: { description: 'ok', content: { 'application/json': { schema: { $ref: 'http://127.0.0.1:1/evil.json' } } } } } } } },
    }));
    assert.equal(r.ok, true);
  });

  it('accepts OpenAPI 3.1 and maps x-auth-type, x-throttling-tier and security scopes to operations', async () => {
    const r = await parseDefinition(`openapi: 3.1.0
info: {title: Ops, version: '1'}
security: [{oauth: [read]}]
paths:
  /open:
    get:
      security: []
      responses: {'200': {description: ok}}
  /mixed:
    post:
      x-auth-type: Application
      x-throttling-tier: Gold
      responses: {'200': {description: ok}}
components:
  securitySchemes:
    oauth: {type: oauth2, flows: {clientCredentials: {tokenUrl: 'https://x/token', scopes: {read: r}}}}
`);
    assert.equal(r.ok, true, JSON.stringify(r));
    if (!r.ok) return;
    assert.deepEqual(operationsFromDefinition(r.value.document), [
      { target: '/open', verb: 'GET', authType: 'None', throttlingPolicy: 'Unlimited', scopes: [] },
      { target: '/mixed', verb: 'POST', authType: 'Application', throttlingPolicy: 'Gold', scopes: ['read'] },
    ]);
  });
});

describe('fetchDefinition', () => {
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/redirect') return res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
      if (req.url === '/big') return res.end('x'.repeat(5000));
      if (req.url === '/slow') return setTimeout(() => res.end('late'), 2000);
      res.end('openapi: 3.0.0');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  const allow = { maxBytes: 1000, timeoutMs: 500, allowPrivate: true };

  it('fetches when private addresses are allowed, and refuses them otherwise (also by host name)', async () => {
    assert.equal(await fetchDefinition(`${base}/ok`, allow), 'openapi: 3.0.0');
    await assert.rejects(fetchDefinition(`${base}/ok`, { ...allow, allowPrivate: false }), { code: 'PUB_ERR_URL_NOT_ALLOWED' });
    const port = (server.address() as AddressInfo).port;
    await assert.rejects(fetchDefinition(`http://localhost:${port}/ok`, { ...allow, allowPrivate: false }), { code: 'PUB_ERR_URL_NOT_ALLOWED' });
  });

  it('does not follow redirects, and bounds size and time', async () => {
    await assert.rejects(fetchDefinition(`${base}/redirect`, allow), { code: 'PUB_ERR_DEFINITION_FETCH' });
    await assert.rejects(fetchDefinition(`${base}/big`, allow), { code: 'PUB_ERR_DEFINITION_FETCH' });
    await assert.rejects(fetchDefinition(`${base}/slow`, allow), { code: 'PUB_ERR_DEFINITION_FETCH' });
    await assert.rejects(fetchDefinition('ftp://example.com/x', allow), { code: 'PUB_ERR_URL_NOT_ALLOWED' });
  });
});
