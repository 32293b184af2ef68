import { defineErrors } from '@gatehouse/core';

/**
 * The Key Manager's error registry. The OAuth endpoints answer the `KM_ERR_OAUTH_*` codes as
 * RFC 6749 §5.2 bodies (`{ error, error_description }`, the `error` value from {@link oauthErrorName});
 * management authentication and WSO2's DCR answer WSO2's REST error shape.
 */
export const KeyManagerErrors = defineErrors({
  KM_ERR_INVALID_CREDENTIALS: { status: 401, wso2Code: 900901, message: 'Invalid Credentials' },
  KM_ERR_MISSING_CREDENTIALS: { status: 401, wso2Code: 900902, message: 'Missing Credentials' },
  KM_ERR_INSUFFICIENT_SCOPE: { status: 403, wso2Code: 900910, message: 'The access token does not allow you to access the requested resource' },
  KM_ERR_DCR_INVALID_REQUEST: { status: 400, wso2Code: 900400, message: 'The client registration request is not valid' },
  KM_ERR_DCR_FORBIDDEN: { status: 403, wso2Code: 900403, message: 'You may not register a client for another owner' },
  KM_ERR_NO_SIGNING_KEY: { status: 503, wso2Code: 900503, message: 'No token signing key is available yet', expose: true },
  KM_ERR_OAUTH_INVALID_REQUEST: { status: 400, message: 'The request is missing a parameter or is malformed' },
  KM_ERR_OAUTH_INVALID_CLIENT: { status: 401, message: 'Client authentication failed' },
  KM_ERR_OAUTH_INVALID_GRANT: { status: 400, message: 'The grant is invalid, expired, revoked or was issued to another client' },
  KM_ERR_OAUTH_UNAUTHORIZED_CLIENT: { status: 400, message: 'The client may not use this grant type' },
  KM_ERR_OAUTH_UNSUPPORTED_GRANT_TYPE: { status: 400, message: 'The grant type is not supported' },
  KM_ERR_OAUTH_INVALID_SCOPE: { status: 400, message: 'The requested scope is invalid or exceeds what was granted' },
  KM_ERR_OAUTH_UNSUPPORTED_TOKEN_TYPE: { status: 400, message: 'This token type cannot be revoked' },
  KM_ERR_OAUTH_INVALID_TOKEN: { status: 401, message: 'The access token is invalid, expired or revoked' },
  KM_ERR_OAUTH_INVALID_REDIRECT_URI: { status: 400, message: 'A redirect URI is not acceptable' },
  KM_ERR_OAUTH_INVALID_CLIENT_METADATA: { status: 400, message: 'A client metadata value is not acceptable' },
  KM_ERR_OAUTH_SERVER_ERROR: { status: 500, message: 'The authorization server failed to complete the request' },
});

export type KeyManagerErrorCode = keyof typeof KeyManagerErrors.specs;

const oauthNames: Partial<Record<KeyManagerErrorCode, string>> = {
  KM_ERR_OAUTH_INVALID_REQUEST: 'invalid_request',
  KM_ERR_OAUTH_INVALID_CLIENT: 'invalid_client',
  KM_ERR_OAUTH_INVALID_GRANT: 'invalid_grant',
  KM_ERR_OAUTH_UNAUTHORIZED_CLIENT: 'unauthorized_client',
  KM_ERR_OAUTH_UNSUPPORTED_GRANT_TYPE: 'unsupported_grant_type',
  KM_ERR_OAUTH_INVALID_SCOPE: 'invalid_scope',
  KM_ERR_OAUTH_UNSUPPORTED_TOKEN_TYPE: 'unsupported_token_type',
  KM_ERR_OAUTH_INVALID_TOKEN: 'invalid_token',
  KM_ERR_OAUTH_INVALID_REDIRECT_URI: 'invalid_redirect_uri',
  KM_ERR_OAUTH_INVALID_CLIENT_METADATA: 'invalid_client_metadata',
  KM_ERR_OAUTH_SERVER_ERROR: 'server_error',
};

/** The RFC 6749 §5.2 `error` value of an OAuth error code, or undefined for non-OAuth codes. */
export function oauthErrorName(code: string): string | undefined {
  return oauthNames[code as KeyManagerErrorCode];
}

/** Shorthand: an OAuth error with a description. */
export function oauthError(code: KeyManagerErrorCode, description?: string) {
  return KeyManagerErrors.create(code, description === undefined ? {} : { description });
}
