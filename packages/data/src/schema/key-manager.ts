/**
 * Tables of the key-manager component. Secrets never appear in clear: client secrets, codes,
 * refresh tokens and opaque access tokens are stored as keyed HMACs (`keys.hmac`), private signing
 * keys sealed (`keys.seal`). Booleans are integers (0/1) on both dialects; timestamps epoch ms.
 */

/** An OAuth client (WSO2's IDN_OAUTH_CONSUMER_APPS + AM_APPLICATION_KEY_MAPPING). */
export interface KmOAuthClientsTable {
  client_id: string;
  tenant_id: number;
  name: string;
  /** Username of whoever registered it. */
  owner: string;
  /** `keys.hmac('client-secret', secret)`; null for public clients (auth method `none`). */
  secret_hash: string | null;
  token_endpoint_auth_method: string;
  /** Space-separated grant types. */
  grant_types: string;
  /** JSON array of exact redirect URIs. */
  redirect_uris: string;
  /** `JWT` or `OPAQUE`. */
  token_type: string;
  access_token_ttl_ms: number;
  refresh_token_ttl_ms: number;
  id_token_ttl_ms: number;
  password_grant_enabled: number;
  /** `wso2-dcr` (/client-registration), `rfc7591` (/oauth2/register) or `application` (Developer Portal keys). */
  source: string;
  /** `<owner>\n<name>` for WSO2 DCR clients, so a re-registration finds its client (unique). */
  dcr_key: string | null;
  saas: number;
  application_id: string | null;
  application_name: string | null;
  application_owner: string | null;
  application_tier: string | null;
  key_type: string | null;
  key_manager: string | null;
  created_at: number;
  updated_at: number;
}

/** Token signing keys; JWKS publishes every key not `retired`. */
export interface KmSigningKeysTable {
  kid: string;
  tenant_id: number;
  /** `access` (access tokens) or `id` (ID tokens). */
  purpose: string;
  alg: string;
  public_jwk: string;
  /** `keys.seal('signing-key', privateJwkJson)`. */
  private_jwk: string;
  /** `current`, `previous` or `retired`; one `current` per purpose (unique partial index). */
  status: string;
  created_at: number;
  rotated_at: number | null;
}

/** Authorization codes (stored by HMAC), single use. */
export interface KmAuthorizationCodesTable {
  code_hash: string;
  tenant_id: number;
  client_id: string;
  username: string;
  redirect_uri: string;
  scope: string;
  code_challenge: string | null;
  nonce: string | null;
  grant_id: string;
  auth_time: number;
  expires_at: number;
  consumed_at: number | null;
  created_at: number;
}

/** A grant: one authorization (code, password login, ...) and everything issued from it. */
export interface KmGrantsTable {
  grant_id: string;
  tenant_id: number;
  client_id: string;
  username: string | null;
  scope: string;
  revoked_at: number | null;
  expires_at: number;
  created_at: number;
}

/** Refresh tokens (stored by HMAC); one family per grant, rotated on every use. */
export interface KmRefreshTokensTable {
  token_hash: string;
  grant_id: string;
  tenant_id: number;
  client_id: string;
  username: string | null;
  scope: string;
  auth_time: number;
  expires_at: number;
  consumed_at: number | null;
  created_at: number;
}

/** Access tokens the server must find again: opaque ones (by HMAC) and JWTs issued within a grant. */
export interface KmAccessTokensTable {
  jti: string;
  /** HMAC of an opaque token; null for a JWT. */
  token_hash: string | null;
  grant_id: string | null;
  tenant_id: number;
  client_id: string;
  subject: string;
  username: string | null;
  scope: string;
  /** JSON of the claims an opaque token stands for (introspection answers them). */
  claims: string;
  expires_at: number;
  revoked_at: number | null;
  created_at: number;
}

/** Revoked JWT access tokens, kept until they expire (gateways pull them from the data API). */
export interface KmRevokedTokensTable {
  jti: string;
  tenant_id: number;
  client_id: string;
  expires_at: number;
  revoked_at: number;
}

/** Failed authentication attempts per `client:<id>|<ip>` or `user:<name>|<ip>`, in a window. */
export interface KmFailedAttemptsTable {
  tenant_id: number;
  key: string;
  count: number;
  window_start: number;
  locked_until: number;
}

/** Redeemed JWT bearer assertions (RFC 7523 replay protection), until they expire. */
export interface KmUsedAssertionsTable {
  tenant_id: number;
  issuer: string;
  jti: string;
  expires_at: number;
}

/** Tables the key-manager component adds to the apim database. */
export interface KeyManagerApimTables {
  km_oauth_clients: KmOAuthClientsTable;
  km_signing_keys: KmSigningKeysTable;
  km_authorization_codes: KmAuthorizationCodesTable;
  km_grants: KmGrantsTable;
  km_refresh_tokens: KmRefreshTokensTable;
  km_access_tokens: KmAccessTokensTable;
  km_revoked_tokens: KmRevokedTokensTable;
  km_failed_attempts: KmFailedAttemptsTable;
  km_used_assertions: KmUsedAssertionsTable;
}

/** WSO2's RESTAPIScopes: which roles may obtain each management scope. */
export interface KmSystemScopesTable {
  tenant_id: number;
  scope: string;
  description: string;
  /** JSON array of role names. */
  roles: string;
  updated_at: number;
}

/** Tables the key-manager component adds to the shared database. */
export interface KeyManagerSharedTables {
  km_system_scopes: KmSystemScopesTable;
}
