import { connect } from 'node:net';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { pino } from 'pino';
import type { Registry } from 'prom-client';
import { loadConfig } from '@gatehouse/config';
import { openLocalStore, type LocalStore } from '@gatehouse/data';
import { createInProcessHub, type EventHub } from '@gatehouse/events';
import { loadOrCreateTls } from '@gatehouse/runtime';
import { tempDir } from '@gatehouse/testing';
import { createGateway, GatewaySync, type ControlPlaneSource, type Gateway, type GatewayOptions } from '../src/index.ts';

// Shared setup for the gateway's in-process tests: a gateway on ephemeral ports with a silent
// logger and an in-process hub (or with a GatewaySync in front of a control plane), a test key
// manager that signs tokens the way an issuer the gateway trusts does, and raw socket requests
// for framing and header attacks.

/** Seconds since the epoch, as JWT claims count time. */
export const now = (): number => Math.floor(Date.now() / 1000);

export interface TestGatewayOptions {
  /** The gateway's Prometheus registry (none by default). */
  readonly metrics?: Registry;
  /** Passed to `createGateway` as its options. */
  readonly gateway?: GatewayOptions;
  /** The event hub of a real control plane, left open at close (default: a fresh in-process one). */
  readonly hub?: EventHub;
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
  /** Stops the gateway, then closes `also` (mock upstreams) with the hub it made, then removes the data directory. */
  close(...also: readonly { close(): Promise<unknown> }[]): Promise<void>;
}

/** Starts a gateway on ports 0 in a fresh data directory, with a silent logger and an in-process hub. */
export async function startTestGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  const dir = await tempDir();
  const hub = options.hub ?? createInProcessHub();
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
      await Promise.all([...also.map((c) => c.close()), ...(options.hub ? [] : [hub.close()])]);
      await dir.remove();
    },
  };
}

type SyncOptions = ConstructorParameters<typeof GatewaySync>[0];

export interface SyncedGatewayOptions extends Pick<SyncOptions, 'gatewayId' | 'heartbeatMs' | 'retryMaxMs' | 'hubCheckMs' | 'snapshotFlushMs' | 'resyncIntervalMs'> {
  readonly source: ControlPlaneSource;
  /** As for `startTestGateway`: a real control plane's hub, left open at stop. */
  readonly hub?: EventHub;
  /** The hub as the sync sees it, to lose events or drop the link (default: the gateway's). */
  readonly link?: (hub: EventHub) => EventHub;
  /** A store the test keeps across gateways and closes itself (default: one in the data directory, closed at stop). */
  readonly store?: LocalStore;
  /** Called with each message the sync logs, as it logs it. */
  readonly onLog?: (msg: string) => void;
  /** Starts the sync before returning (default true). */
  readonly start?: boolean;
}

export interface SyncedGateway {
  readonly t: TestGateway;
  readonly sync: GatewaySync;
  /** What the sync logged (level info and up). */
  readonly lines: { level: number; msg: string }[];
  /** Stops the sync, closes the store it opened, then closes the gateway. */
  stop(): Promise<void>;
}

/** A test gateway with a GatewaySync for label Default in front of `source`. */
export async function startSyncedGateway(options: SyncedGatewayOptions): Promise<SyncedGateway> {
  const { hub, link, store: given, onLog, start = true, ...syncOptions } = options;
  const t = await startTestGateway(hub ? { hub } : {});
  const store = given ?? (await openLocalStore({ path: join(t.dir.path, 'gw-local.db') }));
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, {
    write(l: string) {
      const line = JSON.parse(l) as { level: number; msg: string };
      lines.push(line);
      onLog?.(line.msg);
    },
  });
  const sync = new GatewaySync({ ...syncOptions, gateway: t.gw, hub: link ? link(t.hub) : t.hub, localStore: store, labels: ['Default'], logger });
  if (start) await sync.start();
  return {
    t,
    sync,
    lines,
    async stop() {
      await sync.stop();
      if (!given) await store.close();
      await t.close();
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
