/**
 * The Gateway under benchmark, alone in its process: `node bench/gateway/gateway-server.ts
 * <port> <backend-url> <mode>` where mode is `open` (no security) or `secured` (JWT,
 * subscription, scope, throttling and analytics: the subscription and application tiers have a
 * limit too high to reach, so every call is counted, on quota leased from a Traffic Manager on
 * the same event hub, the default `gateway.throttling = "lease"`). Prints `ready <token>` (the
 * token for secured mode).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { pino } from 'pino';
import { loadConfig } from '@gatehouse/config';
import { createInProcessHub } from '@gatehouse/events';
import { createGateway } from '@gatehouse/gateway';
import { createTrafficManager } from '@gatehouse/traffic-manager';
import { loadOrCreateTls } from '@gatehouse/runtime';

const [port, backend, mode] = [process.argv[2], process.argv[3], process.argv[4]];
const dir = await mkdtemp(join(tmpdir(), 'gh-bench-gw-'));
const config = loadConfig({ argv: ['--gateway.http_port', port, '--gateway.https_port', '0', '--traffic_manager.health_port', '0', '--data-dir', dir], env: {} });
const tls = await loadOrCreateTls({ certFile: '', keyFile: '', dataDir: dir });
const logger = pino({ level: 'warn' });
const hub = createInProcessHub();
const tm = createTrafficManager(config, { hub, logger });
await tm.start();
const gw = createGateway(config, { logger, hub, tls });
await gw.start();

const issuer = 'https://bench.local/oauth2/token';
const { privateKey, publicKey } = await generateKeyPair('ES256');
const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'ES256' };
gw.setIssuers([{ name: 'Resident Key Manager', issuer, jwks: { keys: [jwk] } }]);
const authType = mode === 'secured' ? 'Application & Application User' : 'None';
gw.deploy([
  {
    id: 'bench-api',
    name: 'Bench',
    context: '/bench',
    version: '1.0.0',
    isDefaultVersion: false,
    hosts: [],
    status: 'PUBLISHED',
    operations: [{ verb: 'GET', target: '/hello', authType, scopes: mode === 'secured' ? ['bench:read'] : [] }],
    endpoints: { production: { type: 'http', urls: [backend] } },
  },
]);
const unreachable = { count: 1_000_000_000, windowMs: 60_000 };
gw.data.setPolicies([
  { kind: 'subscription', name: 'Bench', limit: unreachable, stopOnQuotaReach: true },
  { kind: 'application', name: 'Bench', limit: unreachable, stopOnQuotaReach: true },
]);
gw.data.setSubscriptions([{ applicationId: 'app', apiId: 'bench-api', status: 'UNBLOCKED', tier: 'Bench' }]);
const token = await new SignJWT({ sub: 'bench', aud: 'c', client_id: 'c', azp: 'c', scope: 'bench:read', jti: 'bench-jti', application: { id: 'app', name: 'a', owner: 'o', tier: 'Bench' }, keytype: 'PRODUCTION' })
  .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'bench' })
  .setIssuer(issuer)
  .setIssuedAt()
  .setExpirationTime('2h')
  .sign(privateKey);
process.stdout.write(`ready ${token}\n`);
process.on('SIGTERM', () => process.exit(0)); // lets --cpu-prof write its profile
