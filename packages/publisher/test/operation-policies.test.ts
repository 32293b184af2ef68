import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_SCOPES, startPublisher } from './helpers.ts';
import type { PublisherHarness } from './helpers.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let h: PublisherHarness;
let admin: string;
before(async () => {
  h = await startPublisher();
  admin = await h.token('admin');
});
after(() => h.close());

const operation = (target: string, operationPolicies?: Json) => ({ target, verb: 'GET', authType: 'Application & Application User', throttlingPolicy: 'Unlimited', scopes: [], ...(operationPolicies ? { operationPolicies } : {}) });
const addHeader = (headerName: string, headerValue: string) => ({ policyName: 'addHeader', policyVersion: 'v1', parameters: { headerName, headerValue } });

describe('operation policies on POST and PUT /apis', () => {
  it('refuses a policy the gateway does not apply with a 400 naming the field, and stores nothing', async () => {
    const res = await h.call(admin, 'POST', '/apis', {
      name: 'PolicyBad', context: '/policy-bad', version: '1.0.0',
      operations: [operation('/a'), operation('/b'), operation('/c', { request: [{ policyName: 'jsonToXML', policyVersion: 'v1', parameters: {} }] })],
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as Json;
    assert.equal(body.code, 900400);
    assert.equal(body.message, 'Bad Request');
    assert.match(body.description, /^operations\[2\]\.operationPolicies\.request\[0\]\.policyName: jsonToXML is not an operation policy/);
    assert.equal(body.error[0].message.split(':')[0], 'operations[2].operationPolicies.request[0].policyName');
    const list = (await (await h.call(admin, 'GET', '/apis?query=name:PolicyBad')).json()) as Json;
    assert.equal(list.count, 0);
  });

  it('refuses a header value with CR/LF and a header name that is not a token', async () => {
    const res = await h.call(admin, 'POST', '/apis', {
      name: 'PolicySplit', context: '/policy-split', version: '1.0.0',
      operations: [operation('/a', { request: [addHeader('X-A', 'a\r\nX-Injected: 1')], response: [{ policyName: 'removeHeader', parameters: { headerName: 'Bad Name' } }] })],
    });
    assert.equal(res.status, 400);
    const fields = ((await res.json()) as Json).error.map((e: Json) => String(e.message).split(':')[0]);
    assert.deepEqual(fields, ['operations[0].operationPolicies.request[0].parameters.headerValue', 'operations[0].operationPolicies.response[0].parameters.headerName']);
  });

  it('accepts addHeader and removeHeader v1 on every flow, and checks them again on update', async () => {
    const policies = { request: [addHeader('X-Tenant', 'acme')], response: [{ policyName: 'removeHeader', policyVersion: 'v1', parameters: { headerName: 'Server' } }], fault: [addHeader('X-Fault', 'yes')] };
    const created = await h.call(admin, 'POST', '/apis', { name: 'PolicyGood', context: '/policy-good', version: '1.0.0', operations: [operation('/a', policies)] });
    assert.equal(created.status, 201, await created.clone().text());
    const api = (await created.json()) as Json;
    assert.deepEqual(api.operations[0].operationPolicies, policies);

    const bad = await h.call(admin, 'PUT', `/apis/${api.id}`, { ...api, operations: [operation('/a', { request: [{ policyName: 'addHeader', policyVersion: 'v2', parameters: { headerName: 'X', headerValue: 'y' } }] })] });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as Json).description, /operations\[0\]\.operationPolicies\.request\[0\]\.policyVersion/);
    const kept = (await (await h.call(admin, 'GET', `/apis/${api.id}`)).json()) as Json;
    assert.deepEqual(kept.operations[0].operationPolicies, policies);

    const updated = await h.call(admin, 'PUT', `/apis/${api.id}`, { ...kept, operations: [operation('/a', { request: [addHeader('X-Tenant', 'globex')] })] });
    assert.equal(updated.status, 200);
  });
});

describe('GET /operation-policies', () => {
  it("lists the common policies the gateway applies, as WSO2's OperationPolicyDataList", async () => {
    const token = await h.token('admin', `${ALL_SCOPES} apim:common_operation_policy_view`);
    const res = await h.call(token, 'GET', '/operation-policies');
    assert.equal(res.status, 200);
    const body = (await res.json()) as Json;
    assert.equal(body.count, 2);
    assert.deepEqual(body.list.map((p: Json) => `${p.name}:${p.version}`), ['addHeader:v1', 'removeHeader:v1']);
    const add = body.list[0];
    assert.deepEqual(add.applicableFlows, ['request', 'response', 'fault']);
    assert.deepEqual(add.policyAttributes.map((a: Json) => [a.name, a.required, typeof a.validationRegex]), [['headerName', true, 'string'], ['headerValue', true, 'string']]);
    assert.equal(body.pagination.total, 2);

    const one = (await (await h.call(token, 'GET', '/operation-policies?query=name:removeHeader&limit=10')).json()) as Json;
    assert.deepEqual(one.list.map((p: Json) => p.name), ['removeHeader']);
    const paged = (await (await h.call(token, 'GET', '/operation-policies?limit=1&offset=1')).json()) as Json;
    assert.deepEqual([paged.count, paged.list[0].name, paged.pagination.total], [1, 'removeHeader', 2]);
  });

  it('needs a policy scope', async () => {
    assert.equal((await h.call(admin, 'GET', '/operation-policies')).status, 403);
  });
});
