import type { OutgoingHttpHeaders } from 'node:http';
import { HEADER_NAME as FIELD_NAME, HEADER_VALUE as FIELD_VALUE, MAX_HEADER_NAME as MAX_NAME, MAX_HEADER_VALUE as MAX_VALUE, SUPPORTED_OPERATION_POLICIES, headerNameProblem, headerValueProblem } from '@gatehouse/core';
import type { Logger } from '@gatehouse/runtime';
import { fault, FaultCodes, type LocalReply } from '../faults.ts';
import type { Policy } from '../policy.ts';
import type { OperationPolicies, OperationPolicy, RuntimeApi, RuntimeOperation } from '../runtime-api.ts';

/** One header edit, compiled at deploy time: `name` lower case, `as` as the provider wrote it. */
export interface HeaderAction {
  readonly op: 'set' | 'remove';
  readonly name: string;
  readonly as: string;
  readonly value: string;
}

/** The header edits of one route, per WSO2 flow. */
export interface HeaderActions {
  readonly request: readonly HeaderAction[];
  readonly response: readonly HeaderAction[];
  readonly fault: readonly HeaderAction[];
}

/** The faults of the call to the backend: WSO2 runs the API's fault flow on these, not on denials. */
const UPSTREAM_FAULTS: ReadonlySet<number> = new Set([FaultCodes.BackendUnavailable, FaultCodes.BackendTimeout, FaultCodes.EndpointSuspended]);


const policyItem = {
  type: 'object',
  required: ['policyName'],
  properties: { policyName: { enum: ['addHeader', 'removeHeader'] }, policyVersion: { const: 'v1' }, parameters: { type: 'object' } },
  oneOf: [
    { properties: { policyName: { const: 'addHeader' }, parameters: { required: ['headerName', 'headerValue'], properties: { headerName: { type: 'string', pattern: FIELD_NAME.source, maxLength: MAX_NAME }, headerValue: { type: 'string', pattern: FIELD_VALUE.source, maxLength: MAX_VALUE } } } } },
    { properties: { policyName: { const: 'removeHeader' }, parameters: { required: ['headerName'], properties: { headerName: { type: 'string', pattern: FIELD_NAME.source, maxLength: MAX_NAME } } } } },
  ],
} as const;

/** WSO2's `operationPolicies` (and 4.3's `apiPolicies`) as far as this policy reads them. */
export const headerPoliciesConfigSchema = {
  type: 'object',
  properties: { request: { type: 'array', items: policyItem }, response: { type: 'array', items: policyItem }, fault: { type: 'array', items: policyItem } },
} as const;

function compileOne(p: OperationPolicy, where: string, problems: string[]): HeaderAction | undefined {
  const version = p.policyVersion ?? 'v1';
  const label = `${where} ${p.policyName}:${version}`;
  if (!SUPPORTED_OPERATION_POLICIES.has(`${p.policyName}:${version}`)) {
    problems.push(`${label} is not an operation policy this gateway applies (${[...SUPPORTED_OPERATION_POLICIES].join(', ')})`);
    return undefined;
  }
  const params = p.parameters ?? {};
  const name = params.headerName;
  const before = problems.length;
  const nameProblem = headerNameProblem(name);
  if (nameProblem) problems.push(`${label}: headerName ${nameProblem}`);
  if (p.policyName === 'removeHeader') return problems.length > before ? undefined : { op: 'remove', name: (name as string).toLowerCase(), as: name as string, value: '' };
  const value = params.headerValue;
  const valueProblem = headerValueProblem(value);
  if (valueProblem) problems.push(`${label}: headerValue ${valueProblem}`);
  return problems.length > before ? undefined : { op: 'set', name: (name as string).toLowerCase(), as: name as string, value: value as string };
}

function compileFlow(sources: readonly (OperationPolicies | undefined)[], flow: keyof OperationPolicies, where: readonly string[], problems: string[]): HeaderAction[] {
  const out: HeaderAction[] = [];
  sources.forEach((s, i) => {
    const list = s?.[flow];
    if (list === undefined) return;
    if (!Array.isArray(list)) {
      problems.push(`${where[i]} ${flow} policies must be a list`);
      return;
    }
    list.forEach((p: OperationPolicy, k: number) => {
      if (typeof p?.policyName !== 'string') {
        problems.push(`${where[i]} ${flow}[${k}] has no policyName`);
        return;
      }
      const action = compileOne(p, `${where[i]} ${flow}[${k}]`, problems);
      if (action) out.push(action);
    });
  });
  return out;
}

/**
 * Compiles the header policies of one route: the API's own (WSO2 4.3 `apiPolicies`) then the
 * operation's, per flow. Every problem is listed; with any, nothing is applied.
 */
export function compileHeaderActions(api: RuntimeApi, operation: RuntimeOperation): { actions: HeaderActions; problems: string[] } {
  const problems: string[] = [];
  const sources = [api.policies, operation.policies];
  const where = ['API', `${operation.verb} ${operation.target}`];
  const actions = {
    request: compileFlow(sources, 'request', where, problems),
    response: compileFlow(sources, 'response', where, problems),
    fault: compileFlow(sources, 'fault', where, problems),
  };
  return { actions, problems };
}

/** Applies the edits to a flat `[name, value, ...]` list, in place. */
export function editHeaderList(actions: readonly HeaderAction[], headers: string[]): void {
  for (const a of actions) {
    for (let i = headers.length - 2; i >= 0; i -= 2) {
      const n = headers[i];
      if (n.length === a.name.length && n.toLowerCase() === a.name) headers.splice(i, 2);
    }
    if (a.op === 'set') headers.push(a.as, a.value);
  }
}

/** Applies the edits to response headers (lower-case keys, as Node and undici give them). */
export function editHeaderObject(actions: readonly HeaderAction[], headers: OutgoingHttpHeaders): void {
  for (const a of actions) {
    if (a.op === 'set') headers[a.name] = a.value;
    else delete headers[a.name];
  }
}

// Gatehouse's own code: the API's configuration, not the request, is at fault.
const cannotMediate: LocalReply = fault(500, FaultCodes.MediationFailure, 'Internal Server Error', 'the gateway cannot apply the mediation policies of this operation');

/**
 * WSO2's `addHeader` and `removeHeader` operation policies (request, response and fault flows),
 * compiled per route at deploy time. `addHeader` sets: it replaces any header of that name.
 * Request edits run on the headers going to the backend (after authentication dropped the
 * client's credentials, so a policy may add a backend credential); response edits on the
 * backend's answer; fault edits on the gateway's answer when the backend could not be used
 * (101503, 101504, 303001). An operation whose policies cannot all be applied (an unknown policy,
 * an invalid or gateway-managed header) answers 500 without calling the backend, rather than run
 * half its mediation; the reason goes to the log, never to the client.
 *
 * @example
 * ```ts
 * // the Publisher's operation, as WSO2 4.2 stores it
 * { target: '/pets', verb: 'GET', operationPolicies: { request: [
 *   { policyName: 'addHeader', policyVersion: 'v1', parameters: { headerName: 'X-Tenant', headerValue: 'acme' } },
 * ], response: [{ policyName: 'removeHeader', parameters: { headerName: 'Server' } }], fault: [] } }
 * ```
 */
export function createHeadersPolicy(deps: { logger?: Logger } = {}): Policy {
  return {
    name: 'headers',
    priority: 1450,
    configSchema: headerPoliciesConfigSchema,
    // Routes without header policies share "none"; each route with some compiles its own (and
    // logs its own problems).
    shareKey: (api, operation) => (api.policies === undefined && operation.policies === undefined ? '' : undefined),
    create(api, operation) {
      if (api.policies === undefined && operation.policies === undefined) return undefined;
      const { actions, problems } = compileHeaderActions(api, operation);
      if (problems.length > 0) {
        deps.logger?.warn({ api: `${api.name}:${api.version}`, operation: `${operation.verb} ${operation.target}`, problems }, 'operation policies cannot be applied: the operation answers 500');
        return { access: () => cannotMediate };
      }
      const { request, response, fault: onFault } = actions;
      if (request.length === 0 && response.length === 0 && onFault.length === 0) return undefined;
      return {
        upstreamRequest: request.length > 0 ? (_ctx, headers) => editHeaderList(request, headers) : undefined,
        responseHeaders:
          response.length > 0 || onFault.length > 0
            ? (ctx, headers) => {
                const reply = ctx.reply;
                if (reply === undefined) editHeaderObject(response, headers);
                else if (UPSTREAM_FAULTS.has(reply.code)) editHeaderObject(onFault, headers);
              }
            : undefined,
      };
    },
  };
}
