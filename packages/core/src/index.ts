export * from './errors.ts';
export * from './ids.ts';
export * from './clock.ts';
export * from './tenancy.ts';
export * from './secrets.ts';
export { SUPPORTED_OPERATION_POLICIES, HEADER_NAME, HEADER_VALUE, MAX_HEADER_NAME, MAX_HEADER_VALUE, GATEWAY_MANAGED_HEADERS, headerNameProblem, headerValueProblem } from './header-rules.ts';
