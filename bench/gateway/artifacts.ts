import type { DeployedArtifact } from '@gatehouse/gateway';

/**
 * The runtime artifacts the gateway benchmarks deploy: `n` APIs of three operations (one open, two
 * secured), one API in ten with a header policy, to count their compilation; each API's backend is
 * `<backend>/v<i>`.
 */
export function benchArtifacts(n: number, backend: string): DeployedArtifact[] {
  return Array.from({ length: n }, (_, i) => ({
    schemaVersion: 1,
    apiId: `api-${i}`,
    revisionId: `rev-${i}`,
    name: `Api${i}`,
    context: `/api${i}`,
    version: 'v1',
    isDefaultVersion: i % 2 === 0,
    lifeCycleStatus: 'PUBLISHED',
    operations: [
      { target: '/items', verb: 'GET', authType: 'None', throttlingPolicy: 'Unlimited', scopes: [] },
      { target: '/items', verb: 'POST', authType: 'Application & Application User', throttlingPolicy: 'Unlimited', scopes: [] },
      {
        target: '/items/{id}',
        verb: 'GET',
        authType: 'Application & Application User',
        throttlingPolicy: 'Unlimited',
        scopes: [],
        ...(i % 10 === 0 ? { operationPolicies: { request: [{ policyName: 'addHeader', policyVersion: 'v1', parameters: { headerName: 'X-Api', headerValue: `api-${i}` } }], response: [], fault: [] } } : {}),
      },
    ],
    endpoints: { type: 'http', production: { urls: [`${backend}/v${i}`], failovers: [], timeoutMs: null }, sandbox: null },
    cors: null,
    apiThrottlingPolicy: null,
    securitySchemes: ['oauth2'],
    apiKeyHeader: 'apikey',
    environment: 'Default',
    vhost: 'localhost',
    checksum: `c${i}`,
  }));
}
