import { createHash } from 'node:crypto';
import { CoreErrors, HEADER_NAME, HEADER_VALUE, headerNameProblem, headerValueProblem } from '@gatehouse/core';

/** WSO2's operation flows (`APIOperationPolicies`). */
export const OperationFlows = ['request', 'response', 'fault'] as const;
export type OperationFlow = (typeof OperationFlows)[number];

/** One parameter of an operation policy (WSO2 `OperationPolicySpecAttribute`), with its server-side check. */
export interface OperationPolicyAttribute {
  readonly name: string;
  readonly displayName: string;
  readonly description: string;
  /** For the UI, as WSO2's; the server checks with `check`. */
  readonly validationRegex: string;
  readonly type: 'String';
  readonly required: boolean;
  /** Why the value is refused, or undefined when it is good. */
  readonly check: (value: unknown) => string | undefined;
}

/** A common operation policy (WSO2 `OperationPolicyData` without `id` and `md5`, which are derived). */
export interface OperationPolicySpec {
  readonly category: string;
  readonly name: string;
  readonly version: string;
  readonly displayName: string;
  readonly description: string;
  readonly applicableFlows: readonly OperationFlow[];
  readonly supportedGateways: readonly string[];
  readonly supportedApiTypes: readonly string[];
  readonly policyAttributes: readonly OperationPolicyAttribute[];
}

const headerName: OperationPolicyAttribute = {
  name: 'headerName',
  displayName: 'Header Name',
  description: 'Name of the header',
  validationRegex: HEADER_NAME.source,
  type: 'String',
  required: true,
  check: headerNameProblem,
};

const headerValue: OperationPolicyAttribute = {
  name: 'headerValue',
  displayName: 'Header Value',
  description: 'Value of the header',
  validationRegex: HEADER_VALUE.source,
  type: 'String',
  required: true,
  check: headerValueProblem,
};

const common = { category: 'Mediation', version: 'v1', applicableFlows: OperationFlows, supportedGateways: ['Synapse'], supportedApiTypes: ['HTTP'] } as const;

/**
 * The operation policies Gatehouse's gateway applies: WSO2 4.2's common `addHeader` and
 * `removeHeader` (v1), on the request, response and fault flows.
 *
 * @example
 * ```ts
 * COMMON_OPERATION_POLICIES.map((p) => `${p.name}:${p.version}`); // ['addHeader:v1', 'removeHeader:v1']
 * ```
 */
export const COMMON_OPERATION_POLICIES: readonly OperationPolicySpec[] = Object.freeze([
  { ...common, name: 'addHeader', displayName: 'Add Header', description: 'Adds a header, replacing any header of that name', policyAttributes: [headerName, headerValue] },
  { ...common, name: 'removeHeader', displayName: 'Remove Header', description: 'Removes a header', policyAttributes: [headerName] },
]);

/** WSO2's `OperationPolicyData` for a spec: a stable id (`name_version`) and the md5 of its definition. */
export function operationPolicyDataDto(spec: OperationPolicySpec) {
  const policyAttributes = spec.policyAttributes.map(({ check: _check, ...a }) => a);
  const data = {
    category: spec.category,
    id: `${spec.name}_${spec.version}`,
    name: spec.name,
    version: spec.version,
    displayName: spec.displayName,
    description: spec.description,
    applicableFlows: [...spec.applicableFlows],
    supportedGateways: [...spec.supportedGateways],
    supportedApiTypes: [...spec.supportedApiTypes],
    isAPISpecific: false,
    policyAttributes,
  };
  return { ...data, md5: createHash('md5').update(JSON.stringify(data)).digest('hex') };
}

/**
 * Checks the `operationPolicies` of an API's operations against the policies the gateway applies
 * (name, version, flow, parameters), so a bad one is refused here with a 400 naming the field
 * (`operations[2].operationPolicies.request[0].policyName`) rather than at the gateway (900500).
 * Every problem is listed.
 */
export function checkOperationPolicies(operations: unknown, specs: readonly OperationPolicySpec[] = COMMON_OPERATION_POLICIES): void {
  if (!Array.isArray(operations)) return;
  const details: { field: string; message: string }[] = [];
  const problem = (field: string, message: string) => void details.push({ field, message });
  const known = specs.map((s) => `${s.name}:${s.version}`).join(', ');
  operations.forEach((op: unknown, i) => {
    const policies = (op as { operationPolicies?: unknown } | null)?.operationPolicies;
    if (policies === undefined || policies === null) return;
    for (const flow of OperationFlows) {
      const list = (policies as Record<string, unknown>)[flow];
      if (list === undefined) continue;
      const at = `operations[${i}].operationPolicies.${flow}`;
      if (!Array.isArray(list)) {
        problem(at, 'must be a list');
        continue;
      }
      list.forEach((p: unknown, k) => {
        const where = `${at}[${k}]`;
        const { policyName, policyVersion = 'v1', parameters = {} } = (p ?? {}) as { policyName?: unknown; policyVersion?: unknown; parameters?: unknown };
        const named = specs.filter((s) => s.name === policyName);
        if (named.length === 0) return problem(`${where}.policyName`, `${String(policyName)} is not an operation policy the gateway applies (${known})`);
        const spec = named.find((s) => s.version === policyVersion);
        if (!spec) return problem(`${where}.policyVersion`, `${String(policyName)} has no version ${String(policyVersion)} (${named.map((s) => s.version).join(', ')})`);
        if (!spec.applicableFlows.includes(flow)) return problem(`${where}.policyName`, `${spec.name} applies to the ${spec.applicableFlows.join(', ')} flows, not ${flow}`);
        if (parameters === null || typeof parameters !== 'object' || Array.isArray(parameters)) return problem(`${where}.parameters`, 'must be an object');
        const params = parameters as Record<string, unknown>;
        for (const a of spec.policyAttributes) {
          if (params[a.name] === undefined) {
            if (a.required) problem(`${where}.parameters.${a.name}`, 'is required');
            continue;
          }
          const why = a.check(params[a.name]);
          if (why) problem(`${where}.parameters.${a.name}`, why);
        }
        for (const key of Object.keys(params)) {
          if (!spec.policyAttributes.some((a) => a.name === key)) problem(`${where}.parameters.${key}`, `is not a parameter of ${spec.name}`);
        }
      });
    }
  });
  if (details.length > 0) {
    throw CoreErrors.create('CORE_ERR_VALIDATION', { message: 'Bad Request', description: details.map((d) => `${d.field}: ${d.message}`).join('; '), details });
  }
}
