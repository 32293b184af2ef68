/**
 * Benchmark child: oidc-provider 9 configured like Gatehouse's token endpoint: client_credentials,
 * client_secret_basic, ES256-signed JWT access tokens (resource indicators with a default
 * resource, accessTokenFormat 'jwt'). Prints `ready <clientId> <secret>`.
 */
import { exportJWK, generateKeyPair } from 'jose';
// @ts-expect-error -- oidc-provider ships no type declarations
import { Provider } from 'oidc-provider';

const port = Number(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), kid: 'bench-es256', alg: 'ES256', use: 'sig' };
const clientId = 'bench-client';
const clientSecret = 'bench-client-secret-0123456789abcdef0123456789';
const provider = new Provider(issuer, {
  ttl: { ClientCredentials: 3600 },
  clients: [{ client_id: clientId, client_secret: clientSecret, grant_types: ['client_credentials'], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_basic', id_token_signed_response_alg: 'ES256' }],
  jwks: { keys: [jwk] },
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:bench:api',
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: '', audience: 'urn:bench:api', accessTokenFormat: 'jwt', accessTokenTTL: 3600, jwt: { sign: { alg: 'ES256' } } }),
    },
  },
});
const server = provider.listen(port, '127.0.0.1');
server.once('listening', () => process.stdout.write(`ready ${clientId} ${clientSecret}\n`));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
