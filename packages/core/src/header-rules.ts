/**
 * The rules for header policies (WSO2's `addHeader` / `removeHeader`), in one place: the
 * Publisher refuses a bad policy when an API is saved, and the gateway, which applies them,
 * refuses the same ones when a route is compiled.
 */

/** WSO2 4.2 operation policies the gateway applies, by `name:version`. */
export const SUPPORTED_OPERATION_POLICIES: ReadonlySet<string> = new Set(['addHeader:v1', 'removeHeader:v1']);

/** RFC 9110 §5.1 field-name: a token. */
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 9110 §5.5 field-value without CR, LF, NUL or other controls: a header can never be split in two, nor a request smuggled through a value. */
export const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
export const MAX_HEADER_NAME = 256;
export const MAX_HEADER_VALUE = 8192;

/** Hop-by-hop fields (RFC 9110 §7.6.1), Host and the framing fields: the gateway sets these itself; a policy may neither set nor remove them. */
export const GATEWAY_MANAGED_HEADERS: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'proxy-authorization', 'proxy-authenticate', 'host', 'content-length',
]);

/**
 * Why `v` cannot be a header policy's `headerName`, or undefined when it can.
 *
 * @example headerNameProblem('Host') // 'Host is managed by the gateway (...)'
 */
export function headerNameProblem(v: unknown): string | undefined {
  if (typeof v !== 'string' || !HEADER_NAME.test(v) || v.length > MAX_HEADER_NAME) return `must be a header name (RFC 9110 token, at most ${MAX_HEADER_NAME} characters)`;
  if (GATEWAY_MANAGED_HEADERS.has(v.toLowerCase())) return `${v} is managed by the gateway (hop-by-hop, Host or framing) and cannot be changed by a policy`;
  return undefined;
}

/** Why `v` cannot be a header policy's `headerValue`, or undefined when it can. */
export function headerValueProblem(v: unknown): string | undefined {
  return typeof v !== 'string' || !HEADER_VALUE.test(v) || v.length > MAX_HEADER_VALUE
    ? `must be a string of at most ${MAX_HEADER_VALUE} characters without CR, LF, NUL or other control characters`
    : undefined;
}
