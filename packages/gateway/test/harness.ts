import { connect } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { pino } from 'pino';
import type { Registry } from 'prom-client';
import { loadConfig } from '@gatehouse/config';
import { createInProcessHub, type EventHub } from '@gatehouse/events';
import { loadOrCreateTls } from '@gatehouse/runtime';
import { tempDir } from '@gatehouse/testing';
import { createGateway, type Gateway, type GatewayOptions } from '../src/index.ts';

// Shared setup for the gateway's in-process tests: a gateway on ephemeral ports with a silent
// logger and an in-process hub, a test key manager that signs tokens the way an issuer the
// gateway trusts does, and raw socket requests for framing and header attacks.

/** Seconds since the epoch, as JWT claims count time. */
export const now = (): number => Math.floor(Date.now() / 1000);

export interface TestGatewayOptions {
  /** The gateway's Prometheus registry (none by default). */
  readonly metrics?: Registry;
  /** Passed to `createGateway` as its options. */
  readonly gateway?: GatewayOptions;
}

export interface TestGateway {
  readonly gw: Gateway;
  /** The HTTP listener's base URL. */
  readonly base: string;
  /** The HTTPS listener's base URL. */
  readonly https: string;
  readonly hub: EventHub;
  readonly dir: Awaited<ReturnType<typeof tempDir>>;
  /** The self-signed certificate the HTTPS listener serves, to trust as a CA. */
  readonly ca: string;
  /** Stops the gateway, then closes `also` (mock upstreams) with the hub, then removes the data directory. */
  close(...also: readonly { close(): Promise<unknown> }[]): Promise<void>;
}

/** Starts a gateway on ports 0 in a fresh data directory, with a silent logger and an in-process hub. */
export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const dir = await tempDir();
  const hub = createInProcessHub();
  const config = loadConfig({ argv: ['--gateway.http_port', '0', '--gateway.https_port', '0', '--data-dir', dir.path], env: {} });
  const tls = await loadOrCreateTls({ certFile: '', keyFile: '', dataDir: dir.path });
  const gw = createGateway(config, { logger: pino({ level: 'silent' }), hub, tls, ...(options.metrics ? { metrics: options.metrics } : {}) }, options.gateway);
  await gw.start();
  return {
    gw,
    base: gw.listeners.http as string,
    https: gw.listeners.https as string,
    hub,
    dir,
    ca: tls.cert,
    async close(...also) {
      await gw.stop();
      await Promise.all([...also.map((c) => c.close()), hub.close()]);
      await dir.remove();
    },
  };
}

export const TEST_ISSUER = 'https://km.test/oauth2/token';

type SigningKey = Parameters<SignJWT['sign']>[0];

export interface TestIssuer {
  readonly issuer: string;
  /** The public signing key, with kid `k1`. */
  readonly jwk: JWK;
  readonly privateKey: SigningKey;
  /** The issuer as the gateway trusts it: the Resident Key Manager with this JWKS. */
  readonly keyManager: { name: string; issuer: string; jwks: { keys: JWK[] } };
  /**
   * An access token (`typ: at+jwt`) of application app-1 (Shop, alice), production keys, issued
   * 5 s ago and expiring in 10 minutes. `claims` and `header` override the defaults; a claim set
   * to `undefined` is left out, and an `exp` in `claims` (even `undefined`) replaces the default expiry.
   */
  sign(claims?: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
  /** Signs exactly `payload` (ES256, kid `k1`, then `header`), with this issuer's key unless another is given. */
  signPayload(payload: JWTPayload, header?: Record<string, unknown>, privateKey?: SigningKey): Promise<string>;
}

/** A key manager of the test's own: an ES256 key pair and the tokens it signs. */
export async function createTestIssuer(issuer: string = TEST_ISSUER): Promise<TestIssuer> {
  const key = await generateKeyPair('ES256');
  const jwk: JWK = { ...(await exportJWK(key.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const signPayload = (payload: JWTPayload, header: Record<string, unknown> = {}, privateKey: SigningKey = key.privateKey) =>
    new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: jwk.kid, ...header }).sign(privateKey);
  return {
    issuer,
    jwk,
    privateKey: key.privateKey,
    keyManager: { name: 'Resident Key Manager', issuer, jwks: { keys: [jwk] } },
    signPayload,
    sign(claims = {}, header = {}) {
      const body = {
        iss: issuer,
        sub: 'alice',
        aud: 'client-1',
        client_id: 'client-1',
        azp: 'client-1',
        scope: 'default',
        jti: crypto.randomUUID(),
        application: { id: 'app-1', name: 'Shop', owner: 'alice', tier: 'Unlimited' },
        keytype: 'PRODUCTION',
        iat: now() - 5,
        ...('exp' in claims ? {} : { exp: now() + 600 }),
        ...claims,
      };
      return signPayload(body, { typ: 'at+jwt', ...header });
    },
  };
}

/** Sends raw bytes and returns the raw answer (for framing and header attacks). */
export function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.end(text));
    let out = '';
    socket.setEncoding('utf8').on('data', (d: string) => (out += d));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
    socket.setTimeout(3000, () => socket.destroy(new Error('raw request timed out')));
  });
}
