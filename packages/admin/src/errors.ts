import { defineErrors } from '@gatehouse/core';
import type { GatehouseError } from '@gatehouse/core';

/**
 * The Admin API's error registry (`ADMIN_ERR_*`): each code's HTTP status and WSO2 numeric code
 * (the 9013xx block). Documented in docs/errors.md.
 *
 * @example
 * ```ts
 * throw AdminErrors.create('ADMIN_ERR_POLICY_EXISTS', { description: 'subscription policy Gold already exists' });
 * ```
 */
export const AdminErrors = defineErrors({
  ADMIN_ERR_VALIDATION: { status: 400, wso2Code: 901300, message: 'Bad Request' },
  ADMIN_ERR_POLICY_NOT_FOUND: { status: 404, wso2Code: 901301, message: 'The throttling policy was not found' },
  ADMIN_ERR_POLICY_EXISTS: { status: 409, wso2Code: 901302, message: 'A throttling policy with this name already exists' },
  ADMIN_ERR_POLICY_PROTECTED: { status: 409, wso2Code: 901303, message: 'This throttling policy cannot be removed or renamed' },
  ADMIN_ERR_POLICY_IN_USE: { status: 409, wso2Code: 901304, message: 'The throttling policy is in use' },
  ADMIN_ERR_CONDITION_NOT_FOUND: { status: 404, wso2Code: 901310, message: 'The blocking condition was not found' },
  ADMIN_ERR_CONDITION_EXISTS: { status: 409, wso2Code: 901311, message: 'The blocking condition already exists' },
  ADMIN_ERR_ENVIRONMENT_NOT_FOUND: { status: 404, wso2Code: 901320, message: 'The gateway environment was not found' },
  ADMIN_ERR_ENVIRONMENT_EXISTS: { status: 409, wso2Code: 901321, message: 'A gateway environment with this name already exists' },
  ADMIN_ERR_ENVIRONMENT_READ_ONLY: { status: 400, wso2Code: 901322, message: 'The gateway environment is read-only' },
  ADMIN_ERR_KEY_MANAGER_NOT_FOUND: { status: 404, wso2Code: 901330, message: 'The key manager was not found' },
  ADMIN_ERR_KEY_MANAGER_EXISTS: { status: 409, wso2Code: 901331, message: 'A key manager with this name already exists' },
  ADMIN_ERR_KEY_MANAGER_PROTECTED: { status: 409, wso2Code: 901332, message: 'The Resident Key Manager cannot be removed or renamed' },
  ADMIN_ERR_DISCOVERY_REFUSED: { status: 400, wso2Code: 901333, message: 'The discovery URL is not allowed' },
  ADMIN_ERR_WORKFLOW_NOT_FOUND: { status: 404, wso2Code: 901340, message: 'The workflow was not found' },
  ADMIN_ERR_WORKFLOW_COMPLETED: { status: 409, wso2Code: 901341, message: 'The workflow is already completed' },
  ADMIN_ERR_WORKFLOW_EXISTS: { status: 409, wso2Code: 901342, message: 'A workflow with this reference already exists' },
  ADMIN_ERR_SCOPE_NOT_FOUND: { status: 404, wso2Code: 901350, message: 'The scope was not found' },
});

export type AdminErrorCode = keyof typeof AdminErrors.specs;
export type AdminError = GatehouseError<AdminErrorCode>;

/** A 400 naming the field, as the schema validation's answers do. */
export function invalid(field: string, message: string): AdminError {
  return AdminErrors.create('ADMIN_ERR_VALIDATION', { description: `${field}: ${message}`, details: [{ field, message }] });
}
