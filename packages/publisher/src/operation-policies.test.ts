import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isGatehouseError, SUPPORTED_OPERATION_POLICIES } from '@gatehouse/core';
import { checkOperationPolicies, COMMON_OPERATION_POLICIES, operationPolicyDataDto } from './operation-policies.ts';
import type { OperationPolicySpec } from './operation-policies.ts';

/** The fields named by the 400 that `operations` gets, or [] when they pass. */
function refused(operations: unknown, specs?: readonly OperationPolicySpec[]): string[] {
  try {
    checkOperationPolicies(operations, specs);
    return [];
  } catch (err) {
    assert.ok(isGatehouseError(err));
    assert.equal(err.status, 400);
    assert.equal(err.wso2Code, 900400);
    return err.details.map((d) => d.field!);
  }
}

const add = (headerName: unknown, headerValue: unknown = 'v') => ({ policyName: 'addHeader', policyVersion: 'v1', parameters: { headerName, headerValue } });
const op = (operationPolicies: unknown) => ({ target: '/x', verb: 'GET', operationPolicies });

describe('checkOperationPolicies', () => {
  it('accepts the policies the gateway applies, on every flow, and operations without policies', () => {
    assert.deepEqual(refused([op({ request: [add('X-Tenant', 'acme')], response: [{ policyName: 'removeHeader', parameters: { headerName: 'Server' } }], fault: [add('X-Fault', 'yes')] }), { target: '/y', verb: 'GET' }]), []);
    assert.deepEqual(refused(undefined), []);
    assert.deepEqual(refused([op({ request: [], response: [], fault: [] })]), []);
  });

  it('names the unknown policy, the unknown version and the operation and position', () => {
    assert.deepEqual(
      refused([op({}), op({}), op({ request: [add('X-A'), { policyName: 'jsonToXml', policyVersion: 'v1' }], response: [{ policyName: 'addHeader', policyVersion: 'v2', parameters: { headerName: 'X', headerValue: 'y' } }] })]),
      ['operations[2].operationPolicies.request[1].policyName', 'operations[2].operationPolicies.response[0].policyVersion'],
    );
  });

  it('checks parameters: header name a token, value without CR, LF or NUL, required, no unknown ones, no gateway-managed header', () => {
    const at = 'operations[0].operationPolicies.request[0].parameters';
    assert.deepEqual(refused([op({ request: [add('Bad Name')] })]), [`${at}.headerName`]);
    assert.deepEqual(refused([op({ request: [add('X-A', 'one\r\nX-Evil: 1')] })]), [`${at}.headerValue`]);
    assert.deepEqual(refused([op({ request: [add('X-A', 'nul\u0000')] })]), [`${at}.headerValue`]);
    assert.deepEqual(refused([op({ request: [add('X-A', 42)] })]), [`${at}.headerValue`]);
    assert.deepEqual(refused([op({ request: [{ policyName: 'addHeader', parameters: { headerName: 'X-A' } }] })]), [`${at}.headerValue`]);
    assert.deepEqual(refused([op({ request: [{ policyName: 'removeHeader', parameters: { headerName: 'X-A', headerValue: 'v' } }] })]), [`${at}.headerValue`]);
    assert.deepEqual(refused([op({ request: [add('Transfer-Encoding', 'chunked')] })]), [`${at}.headerName`]);
    assert.deepEqual(refused([op({ request: [{ policyName: 'removeHeader', parameters: [] }] })]), ['operations[0].operationPolicies.request[0].parameters']);
  });

  it('refuses a policy on a flow it does not apply to', () => {
    const requestOnly = COMMON_OPERATION_POLICIES.map((s) => ({ ...s, applicableFlows: ['request'] as const }));
    assert.deepEqual(refused([op({ request: [add('X-A')], fault: [add('X-A')] })], requestOnly), ['operations[0].operationPolicies.fault[0].policyName']);
  });

  it('lists every problem at once', () => {
    assert.equal(refused([op({ request: [add('Bad Name', 'a\nb'), { policyName: 'nope' }] })]).length, 3);
  });

  it("describes each policy as WSO2's OperationPolicyData, without the server-side checks", () => {
    const dto = operationPolicyDataDto(COMMON_OPERATION_POLICIES[0]!);
    assert.equal(dto.id, 'addHeader_v1');
    assert.deepEqual(dto.applicableFlows, ['request', 'response', 'fault']);
    assert.deepEqual(dto.policyAttributes.map((a) => a.name), ['headerName', 'headerValue']);
    assert.ok(dto.policyAttributes.every((a) => !('check' in a)));
    assert.match(dto.md5, /^[0-9a-f]{32}$/);
  });
});

describe('the common operation policies', () => {
  it('are exactly the ones the gateway applies', () => {
    assert.deepEqual(COMMON_OPERATION_POLICIES.map((p) => `${p.name}:${p.version}`).sort(), [...SUPPORTED_OPERATION_POLICIES].sort());
  });
});
