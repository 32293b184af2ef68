import { it } from 'node:test';
import assert from 'node:assert/strict';
import { toRuntimeApis, type DeployedArtifact } from './artifact.ts';

const base: DeployedArtifact = {
  schemaVersion: 1,
  apiId: 'api-1',
  revisionId: 'rev-1',
  name: 'PetStore',
  context: '/petstore',
  version: '1.0.0',
  isDefaultVersion: true,
  lifeCycleStatus: 'Published',
  operations: [{ target: '/pets/{id}', verb: 'get', authType: 'Application & Application User', throttlingPolicy: 'Unlimited', scopes: ['pets:read'] }],
  endpoints: { type: 'failover', production: { urls: ['http://a'], failovers: ['http://b', 'http://c'], timeoutMs: 3000 }, sandbox: null },
  cors: { corsConfigurationEnabled: true, accessControlAllowOrigins: ['*'], accessControlAllowMethods: ['get', 'post'], accessControlAllowHeaders: ['authorization'], accessControlAllowCredentials: false },
  environment: 'Default',
  vhost: 'localhost',
  checksum: 'x',
};

it('turns deployed artifacts into runtime APIs: hosts by environment, failover lists, CORS, upper-case verbs', () => {
  const [api] = toRuntimeApis([base, { ...base, environment: 'Internal', vhost: 'Internal.Example.com' }]);
  assert.deepEqual(api.hosts, [], 'deployed to Default: any host');
  assert.equal(api.status, 'PUBLISHED');
  assert.deepEqual(api.operations, [{ verb: 'GET', target: '/pets/{id}', authType: 'Application & Application User', scopes: ['pets:read'], throttlingPolicy: 'Unlimited' }]);
  assert.deepEqual(api.endpoints.production, { type: 'failover', urls: ['http://a', 'http://b', 'http://c'], timeoutMs: 3000 });
  assert.equal(api.endpoints.sandbox, undefined);
  assert.deepEqual(api.cors?.allowMethods, ['GET', 'POST']);
  const [internal] = toRuntimeApis([{ ...base, environment: 'Internal', vhost: 'Internal.Example.com' }]);
  assert.deepEqual(internal.hosts, ['internal.example.com']);
});

it('refuses an artifact schema version it does not know', () => {
  assert.throws(() => toRuntimeApis([{ ...base, schemaVersion: 2 }]), /schema version 2/);
});
