import { defineErrors } from '@gatehouse/core';
import type { GatehouseError } from '@gatehouse/core';

/**
 * The Developer Portal API's error registry (`DEVPORTAL_ERR_*`): each code's HTTP status and WSO2
 * numeric code (the 9014xx block). Documented in docs/errors.md.
 *
 * @example
 * ```ts
 * throw DevPortalErrors.create('DEVPORTAL_ERR_APPLICATION_EXISTS', { description: 'alice already has an application named Shop' });
 * ```
 */
export const DevPortalErrors = defineErrors({
  DEVPORTAL_ERR_VALIDATION: { status: 400, wso2Code: 901400, message: 'Bad Request' },
  DEVPORTAL_ERR_APPLICATION_NOT_FOUND: { status: 404, wso2Code: 901401, message: 'The application was not found' },
  DEVPORTAL_ERR_APPLICATION_EXISTS: { status: 409, wso2Code: 901402, message: 'An application with this name already exists' },
  DEVPORTAL_ERR_APPLICATION_NOT_APPROVED: { status: 400, wso2Code: 901403, message: 'The application is not approved yet' },
  DEVPORTAL_ERR_UNKNOWN_TIER: { status: 400, wso2Code: 901404, message: 'The throttling tier is not available' },
  DEVPORTAL_ERR_API_NOT_FOUND: { status: 404, wso2Code: 901410, message: 'The API was not found' },
  DEVPORTAL_ERR_API_NOT_SUBSCRIBABLE: { status: 400, wso2Code: 901411, message: 'The API cannot be subscribed to in its current state' },
  DEVPORTAL_ERR_SUBSCRIPTION_NOT_FOUND: { status: 404, wso2Code: 901420, message: 'The subscription was not found' },
  DEVPORTAL_ERR_SUBSCRIPTION_EXISTS: { status: 409, wso2Code: 901421, message: 'The application is already subscribed to this API' },
  DEVPORTAL_ERR_KEYS_EXIST: { status: 409, wso2Code: 901430, message: 'Keys of this type were already generated for the application' },
  DEVPORTAL_ERR_KEY_MAPPING_NOT_FOUND: { status: 404, wso2Code: 901431, message: 'The key mapping was not found' },
  DEVPORTAL_ERR_KEY_MANAGER_NOT_FOUND: { status: 400, wso2Code: 901432, message: 'The key manager is not available' },
  DEVPORTAL_ERR_INVALID_CONSUMER_SECRET: { status: 401, wso2Code: 901433, message: 'The consumer secret is not valid' },
  DEVPORTAL_ERR_API_KEY_NOT_FOUND: { status: 404, wso2Code: 901434, message: 'The API key was not found' },
  DEVPORTAL_ERR_KEY_MANAGER_UNREACHABLE: { status: 502, wso2Code: 901435, message: 'The key manager could not be reached', expose: true },
  DEVPORTAL_ERR_TOO_MANY_ATTEMPTS: { status: 429, wso2Code: 901436, message: 'Too many failed attempts; try again later' },
  DEVPORTAL_ERR_DOCUMENT_NOT_FOUND: { status: 404, wso2Code: 901440, message: 'The document was not found' },
  DEVPORTAL_ERR_COMMENT_NOT_FOUND: { status: 404, wso2Code: 901441, message: 'The comment was not found' },
  DEVPORTAL_ERR_FORBIDDEN: { status: 403, wso2Code: 901442, message: 'You may not perform this operation' },
  DEVPORTAL_ERR_RATING_NOT_FOUND: { status: 404, wso2Code: 901443, message: 'The rating was not found' },
  DEVPORTAL_ERR_POLICY_NOT_FOUND: { status: 404, wso2Code: 901444, message: 'The throttling policy was not found' },
  DEVPORTAL_ERR_SIGNUP_DISABLED: { status: 403, wso2Code: 901450, message: 'Self sign-up is disabled' },
  DEVPORTAL_ERR_USER_EXISTS: { status: 409, wso2Code: 901451, message: 'A user with this username already exists' },
  DEVPORTAL_ERR_WEAK_PASSWORD: { status: 400, wso2Code: 901452, message: 'The password does not satisfy the password policy' },
  DEVPORTAL_ERR_WRONG_PASSWORD: { status: 400, wso2Code: 901453, message: 'The current password is not correct' },
});

export type DevPortalErrorCode = keyof typeof DevPortalErrors.specs;
export type DevPortalError = GatehouseError<DevPortalErrorCode>;

/** A 400 naming the field, as the schema validation's answers do. */
export function invalid(field: string, message: string): DevPortalError {
  return DevPortalErrors.create('DEVPORTAL_ERR_VALIDATION', { description: `${field}: ${message}`, details: [{ field, message }] });
}

/** A 429 that carries the seconds until its lockout ends, for the route's `Retry-After`. */
export type TooManyAttempts = DevPortalError & { readonly retryAfterSeconds: number };

export function tooManyAttempts(retryAfterSeconds: number, description: string): TooManyAttempts {
  return Object.assign(DevPortalErrors.create('DEVPORTAL_ERR_TOO_MANY_ATTEMPTS', { description }), { retryAfterSeconds });
}

export function isTooManyAttempts(err: unknown): err is TooManyAttempts {
  return DevPortalErrors.is(err, 'DEVPORTAL_ERR_TOO_MANY_ATTEMPTS') && typeof (err as Partial<TooManyAttempts>).retryAfterSeconds === 'number';
}
