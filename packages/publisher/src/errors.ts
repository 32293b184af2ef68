import { defineErrors } from '@gatehouse/core';

/**
 * The Publisher's error registry; REST answers carry the WSO2 numeric code. Documented in
 * docs/errors.md (a test checks it).
 *
 * @example
 * ```ts
 * throw PublisherErrors.create('PUB_ERR_API_NOT_FOUND', { description: `API ${apiId}` });
 * ```
 */
export const PublisherErrors = defineErrors({
  PUB_ERR_API_NOT_FOUND: { status: 404, wso2Code: 900310, message: 'The API was not found' },
  PUB_ERR_API_EXISTS: { status: 409, wso2Code: 900300, message: 'An API with this name or context and version already exists' },
  PUB_ERR_INVALID_CONTEXT: { status: 400, wso2Code: 900314, message: 'The API context is not valid' },
  PUB_ERR_INVALID_DEFINITION: { status: 400, wso2Code: 900754, message: 'The OpenAPI definition is not valid' },
  PUB_ERR_DEFINITION_SOURCE: { status: 400, wso2Code: 900755, message: 'Exactly one of file, url or inlineAPIDefinition is required' },
  PUB_ERR_DEFINITION_FETCH: { status: 400, wso2Code: 900756, message: 'The OpenAPI definition could not be fetched from the URL' },
  PUB_ERR_URL_NOT_ALLOWED: { status: 400, wso2Code: 900757, message: 'The URL is not allowed' },
  PUB_ERR_PRECONDITION_FAILED: { status: 412, wso2Code: 900412, message: 'The resource was modified since it was read (stale If-Match)' },
  PUB_ERR_INVALID_LIFECYCLE_ACTION: { status: 400, wso2Code: 900390, message: 'The lifecycle action is not allowed from the API\'s current state' },
  PUB_ERR_API_IN_USE: { status: 409, wso2Code: 900343, message: 'The API cannot be deleted while it has active subscriptions' },
  PUB_ERR_REVISION_NOT_FOUND: { status: 404, wso2Code: 902001, message: 'The API revision was not found' },
  PUB_ERR_REVISION_LIMIT: { status: 400, wso2Code: 902000, message: 'An API has at most 5 revisions: delete one first' },
  PUB_ERR_REVISION_DEPLOYED: { status: 400, wso2Code: 902002, message: 'The revision is deployed: undeploy it first' },
  PUB_ERR_ENVIRONMENT_NOT_FOUND: { status: 400, wso2Code: 900451, message: 'The gateway environment does not exist' },
  PUB_ERR_INVALID_VHOST: { status: 400, wso2Code: 900452, message: 'The vhost is not one of the gateway environment\'s' },
  PUB_ERR_DEPLOYMENT_NOT_FOUND: { status: 404, wso2Code: 902003, message: 'The revision is not deployed to that environment' },
  PUB_ERR_DOCUMENT_NOT_FOUND: { status: 404, wso2Code: 900911, message: 'The document was not found' },
  PUB_ERR_DOCUMENT_EXISTS: { status: 409, wso2Code: 900912, message: 'A document with this name already exists for the API' },
  PUB_ERR_DOCUMENT_CONTENT: { status: 400, wso2Code: 900913, message: 'The content does not match the document\'s source type' },
  PUB_ERR_SCOPE_NOT_FOUND: { status: 404, wso2Code: 900986, message: 'The shared scope was not found' },
  PUB_ERR_SCOPE_EXISTS: { status: 409, wso2Code: 900987, message: 'A scope with this name already exists' },
  PUB_ERR_PAYLOAD_TOO_LARGE: { status: 413, wso2Code: 900413, message: 'The upload is larger than allowed' },
  PUB_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, wso2Code: 900415, message: 'The request content type is not supported here' },
  PUB_ERR_AUTH_UNAVAILABLE: { status: 503, wso2Code: 900503, message: 'Management API authentication is not available on this node', expose: true },
});

export type PublisherErrorCode = keyof typeof PublisherErrors.specs;
