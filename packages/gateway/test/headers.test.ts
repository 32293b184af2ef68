import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestNode, type TestNode } from '@gatehouse/cli';
import { api, httpCall, managementClient, startMockUpstream, type MockUpstream } from '@gatehouse/testing';
import type { Gateway, RuntimeApi } from '../src/index.ts';
import type { OperationPolicies } from '../src/runtime-api.ts';
import { createTestIssuer, startTestGateway, type TestGateway, type TestIssuer } from './harness.ts';

// WSO2's addHeader / removeHeader operation policies through a real gateway, in front of a
// backend that echoes the headers it received.
let gateway: TestGateway;
let gw: Gateway;
let backend: MockUpstream;
let base: string;
let issuer: TestIssuer;

const add = (headerName: string, headerValue: string) => ({ policyName: 'addHeader', policyVersion: 'v1', parameters: { headerName, headerValue } });
const remove = (headerName: string) => ({ policyName: 'removeHeader', policyVersion: 'v1', parameters: { headerName } });

function echo(): void {
  backend.respond((req, res) => {
    const body = JSON.stringify({ headers: req.headers, raw: req.rawHeaders });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-powered-by': 'backend', server: 'backend/1.0' });
    res.end(body);
  });
}

function shop(policies: OperationPolicies | undefined, over: Partial<RuntimeApi> = {}, urls = [backend.url]): RuntimeApi {
  return {
    id: 'shop-1',
    name: 'Shop',
    context: '/shop',
    version: 'v1',
    isDefaultVersion: false,
    hosts: [],
    status: 'PUBLISHED',
    operations: [
      { verb: 'GET', target: '/items', authType: 'None', scopes: [], policies },
      { verb: 'GET', target: '/secured', authType: 'Any', scopes: [], policies },
      { verb: 'GET', target: '/plain', authType: 'None', scopes: [] },
    ],
    endpoints: { production: { type: 'http', urls } },
    ...over,
  };
}

type Echo = { headers: Record<string, string>; raw: string[] };

before(async () => {
  backend = await startMockUpstream('echo');
  gateway = await startTestGateway();
  ({ gw, base } = gateway);
  issuer = await createTestIssuer();
  gw.setIssuers([issuer.keyManager]);
});
after(() => gateway.close(backend));
beforeEach(() => {
  backend.requests.length = 0;
  echo();
});

describe('request flow', () => {
  it('addHeader sets the header for the backend, replacing a client header of that name; removeHeader drops one, whatever its case', async () => {
    gw.deploy([shop({ request: [add('X-Tenant', 'acme'), remove('x-debug')] })]);
    const res = await httpCall(`${base}/shop/v1/items`, { headers: { 'x-tenant': 'evil', 'X-Debug': 'on', 'x-kept': 'yes' } });
    assert.equal(res.status, 200);
    const seen = res.json<Echo>();
    assert.equal(seen.headers['x-tenant'], 'acme');
    assert.equal(seen.raw.filter((h) => h.toLowerCase() === 'x-tenant').length, 1, 'one X-Tenant, not the client\'s too');
    assert.equal(seen.headers['x-debug'], undefined);
    assert.equal(seen.headers['x-kept'], 'yes');
  });

  it('runs after authentication, so a policy can add a backend credential while the client\'s never reaches the backend', async () => {
    gw.deploy([shop({ request: [add('Authorization', 'Basic YmFja2VuZDpzZWNyZXQ=')] })]);
    gw.data.setSubscriptions([{ applicationId: 'app-1', apiId: 'shop-1', status: 'UNBLOCKED', tier: 'Unlimited' }]);
    const res = await httpCall(`${base}/shop/v1/secured`, { headers: { authorization: `Bearer ${await issuer.sign()}` } });
    assert.equal(res.status, 200, res.text);
    const seen = res.json<Echo>();
    assert.equal(seen.headers.authorization, 'Basic YmFja2VuZDpzZWNyZXQ=');
    assert.equal(seen.raw.filter((h) => h.toLowerCase() === 'authorization').length, 1);
  });

  it('applies API-level policies (WSO2 4.3 apiPolicies) before the operation\'s own', async () => {
    gw.deploy([shop({ request: [add('X-Layer', 'operation')] }, { policies: { request: [add('X-Layer', 'api'), add('X-Api', 'shop')] } })]);
    const seen = (await httpCall(`${base}/shop/v1/items`)).json<Echo>();
    assert.equal(seen.headers['x-layer'], 'operation');
    assert.equal(seen.headers['x-api'], 'shop');
    const plain = (await httpCall(`${base}/shop/v1/plain`)).json<Echo>();
    assert.equal(plain.headers['x-api'], 'shop', 'an operation without policies of its own gets the API\'s');
    assert.equal(plain.headers['x-layer'], 'api');
  });

  it('leaves operations without policies untouched', async () => {
    gw.deploy([shop({ request: [add('X-Tenant', 'acme')] })]);
    const seen = (await httpCall(`${base}/shop/v1/plain`)).json<Echo>();
    assert.equal(seen.headers['x-tenant'], undefined);
  });
});

describe('response and fault flows', () => {
  it('edits the backend\'s response headers on the response flow', async () => {
    gw.deploy([shop({ response: [remove('X-Powered-By'), add('Server', 'gatehouse'), add('Cache-Control', 'no-store')] })]);
    const res = await httpCall(`${base}/shop/v1/items`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-powered-by'], undefined);
    assert.equal(res.headers.server, 'gatehouse');
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  it('edits the gateway\'s fault when the backend cannot be used, and not its denials', async () => {
    const policies = { response: [add('X-Flow', 'response')], fault: [add('X-Flow', 'fault'), add('X-Support', 'ops@example.com')] };
    gw.deploy([shop(policies, {}, ['http://127.0.0.1:1'])]);
    const down = await httpCall(`${base}/shop/v1/items`);
    assert.equal(down.status, 503);
    assert.equal(down.json<{ code: number }>().code, 101503);
    assert.equal(down.headers['x-flow'], 'fault');
    assert.equal(down.headers['x-support'], 'ops@example.com');
    const denied = await httpCall(`${base}/shop/v1/secured`);
    assert.equal(denied.status, 401);
    assert.equal(denied.headers['x-flow'], undefined, 'an authentication denial is not the fault flow (WSO2 answers it before mediation)');
    gw.deploy([shop(policies)]);
    const ok = await httpCall(`${base}/shop/v1/items`);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['x-flow'], 'response');
    assert.equal(ok.headers['x-support'], undefined);
  });
});

describe('validation', () => {
  const refused: [string, OperationPolicies][] = [
    ['Host', { request: [add('Host', 'internal.example')] }],
    ['a hop-by-hop header', { request: [add('Transfer-Encoding', 'chunked')] }],
    ['Connection', { request: [remove('Connection')] }],
    ['Content-Length on the response', { response: [add('Content-Length', '0')] }],
    ['a value with CR LF (header injection)', { request: [add('X-A', 'a\r\nX-Injected: 1')] }],
    ['a value with NUL', { response: [add('X-A', 'a\u0000b')] }],
    ['a name that is not a token', { request: [add('X A', 'b')] }],
    ['a missing headerValue', { request: [{ policyName: 'addHeader', parameters: { headerName: 'X-A' } }] }],
    ['an unknown policy (never half-applied)', { request: [add('X-A', 'b'), { policyName: 'rewriteMethod', parameters: { currentMethod: 'GET', updatedMethod: 'POST' } }] }],
    ['an unknown version', { request: [{ policyName: 'addHeader', policyVersion: 'v2', parameters: { headerName: 'X-A', headerValue: 'b' } }] }],
  ];
  for (const [what, policies] of refused) {
    it(`refuses ${what}: the operation answers 500 (900500) and the backend sees nothing`, async () => {
      gw.deploy([shop(policies)]);
      const res = await httpCall(`${base}/shop/v1/items`);
      assert.equal(res.status, 500);
      const body = res.json<{ code: number; description: string }>();
      assert.equal(body.code, 900500);
      assert.doesNotMatch(body.description, /Host|Transfer|Connection|Content-Length|X-A|rewrite/i, 'the reason goes to the log, not to the client');
      assert.equal(backend.requests.length, 0);
      assert.equal((await httpCall(`${base}/shop/v1/plain`)).status, 200, 'the API\'s other operations still serve');
    });
  }
});

describe('from the Publisher to the backend', () => {
  let node: TestNode;
  let gatewayUrl: string;
  before(async () => {
    node = await startTestNode();
    gatewayUrl = (node.urls.find((u) => u.startsWith('gateway http://')) ?? '').slice('gateway '.length);
  });
  after(() => node.close());

  it('carries operationPolicies in the runtime artifact and applies them', async () => {
    const token = await managementClient(node.baseUrl, node.adminPassword).token('admin', node.adminPassword, 'apim:api_create apim:api_publish apim:api_view apim:api_manage');
    const pub = api(`${node.baseUrl}/api/am/publisher/v4`, token);
    const created = await pub.json<{ id: string }>(
      'POST',
      '/apis',
      {
        name: 'Headers',
        context: '/headers',
        version: 'v1',
        endpointConfig: { endpoint_type: 'http', production_endpoints: { url: backend.url } },
        operations: [
          {
            target: '/items',
            verb: 'GET',
            authType: 'None',
            throttlingPolicy: 'Unlimited',
            operationPolicies: { request: [add('X-From', 'publisher'), remove('X-Client')], response: [remove('Server')], fault: [] },
          },
        ],
      },
      201,
    );
    const revision = await pub.json<{ id: string }>('POST', `/apis/${created.id}/revisions`, { description: 'r1' }, 201);
    await pub.json('POST', `/apis/${created.id}/deploy-revision?revisionId=${revision.id}`, [{ name: 'Default', vhost: 'localhost' }], 200);
    let res = await httpCall(`${gatewayUrl}/headers/v1/items`, { headers: { 'x-client': 'c' } });
    for (let i = 0; res.status === 404 && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 30)); // the deployment event is asynchronous
      res = await httpCall(`${gatewayUrl}/headers/v1/items`, { headers: { 'x-client': 'c' } });
    }
    assert.equal(res.status, 200, res.text);
    const seen = res.json<Echo>();
    assert.equal(seen.headers['x-from'], 'publisher');
    assert.equal(seen.headers['x-client'], undefined);
    assert.equal(res.headers.server, undefined);
  });
});
