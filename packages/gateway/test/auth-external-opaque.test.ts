import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig } from '@gatehouse/config';
import { openLocalStore, type LocalStore } from '@gatehouse/data';
import { loadOrCreateTls } from '@gatehouse/runtime';
import { dcrRequest, httpCall, startMockUpstream, tempDir, type ApiCaller, type MockUpstream } from '@gatehouse/testing';
import { createGateway, createHttpControlPlane, GatewaySync, type CredentialAuthority, type Gateway } from '../src/index.ts';
import { ADMIN, appWithKeys, DP, publishApi, startPlatform, until, untilStatus, type AppKeys, type Platform } from './auth-platform.ts';

// Opaque tokens of external key managers (RFC 7662): Admin registers a key manager with an
// introspection endpoint and the gateway's client there (its secret sealed at rest, served only to
// a gateway's internal client); a standalone gateway introspects the tokens of the key managers an
// API allows, once per token until `exp`, each call time-boxed, and the consumer key an answer
// names counts for the application it is mapped to at that key manager.
const TIMEOUT_MS = 500;
const GW_CLIENT = { id: 'gatehouse-gw', secret: 'introspection-secret' };

interface MockKm {
  readonly name: string;
  readonly url: string;
  readonly issuer: string;
  /** Introspection calls per token, and those refused for bad client credentials. */
  readonly calls: Map<string, number>;
  refusedClients: number;
  /** `hang`: accepts and never answers; `reset`: drops the connection. */
  mode: 'up' | 'hang' | 'reset';
  issue(token: string, ttlS: number, claims?: Record<string, unknown>): void;
  total(): number;
  close(): Promise<void>;
}

/** A key manager we do not own: RFC 7662 introspection behind client_secret_basic, a token endpoint for map-keys. */
async function startKm(name: string): Promise<MockKm> {
  const tokens = new Map<string, Record<string, unknown>>();
  const clients: Record<string, string> = { [GW_CLIENT.id]: GW_CLIENT.secret, 'partner-app': 'partner-secret' };
  const basicOk = (header: string | undefined, id: string) => {
    const [u, pw] = Buffer.from((header ?? '').replace(/^Basic /, ''), 'base64').toString().split(':').map(decodeURIComponent);
    return u === id && clients[u] === pw;
  };
  const server: Server = createServer((req, res) => {
    if (km.mode === 'hang') return;
    if (km.mode === 'reset') return void req.socket.destroy();
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const send = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      const form = new URLSearchParams(body);
      if (req.url === '/introspect') {
        if (!basicOk(req.headers.authorization, GW_CLIENT.id)) {
          km.refusedClients++;
          return send(401, { error: 'invalid_client' });
        }
        const token = form.get('token') ?? '';
        km.calls.set(token, (km.calls.get(token) ?? 0) + 1);
        const t = tokens.get(token);
        return send(200, t && (t.exp as number) * 1000 > Date.now() ? t : { active: false });
      }
      if (req.url === '/token' && basicOk(req.headers.authorization, 'partner-app')) return send(200, { access_token: 'x', token_type: 'Bearer', expires_in: 60 });
      send(401, { error: 'invalid_client' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const km: MockKm = {
    name,
    url,
    issuer: `${url}/issuer`,
    calls: new Map(),
    refusedClients: 0,
    mode: 'up',
    issue(token, ttlS, claims = {}) {
      const now = Math.floor(Date.now() / 1000);
      tokens.set(token, { active: true, token_type: 'Bearer', client_id: 'partner-app', sub: 'partner-user', scope: 'read', iss: km.issuer, iat: now, exp: now + ttlS, ...claims });
    },
    total: () => [...km.calls.values()].reduce((a, b) => a + b, 0),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return km;
}

const kmBody = (km: MockKm, secret = GW_CLIENT.secret) => ({
  name: km.name,
  type: 'custom',
  issuer: km.issuer,
  introspectionEndpoint: `${km.url}/introspect`,
  tokenEndpoint: `${km.url}/token`,
  consumerKeyClaim: 'azp',
  scopesClaim: 'scope',
  enableMapOAuthConsumerApps: true,
  enabled: true,
  additionalProperties: { client_id: GW_CLIENT.id, client_secret: secret },
});

let p: Platform;
let dir: Awaited<ReturnType<typeof tempDir>>;
let partner: MockKm;
let other: MockKm;
let partnerId: string;
let backend: MockUpstream;
let dp: ApiCaller;
let resident: AppKeys;
let residentJwt: AppKeys;
let gw: { gw: Gateway; base: string };
let ordinary: { gw: Gateway; base: string };
let residentIntrospections = 0;
const logs: Record<string, unknown>[] = [];
const stops: (() => Promise<void>)[] = [];

async function register(clientName: string): Promise<{ clientId: string; clientSecret: string }> {
  const res = await dcrRequest(p.node.baseUrl, 'admin', p.node.adminPassword, { clientName, owner: 'admin', grantType: 'client_credentials' });
  assert.equal(res.status, 200);
  return (await res.json()) as { clientId: string; clientSecret: string };
}

/** A standalone gateway on the platform, its Resident Key Manager introspections counted, its log kept. */
async function standaloneGateway(name: string, client: { clientId: string; clientSecret: string }, store: LocalStore): Promise<{ gw: Gateway; base: string }> {
  const logger = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _e, cb) => (logs.push({ gateway: name, ...(JSON.parse(chunk.toString()) as Record<string, unknown>) }), cb()) }));
  // The timeout as an operator sets it (gateway.key_manager_timeout_ms), not as a code option.
  const config = loadConfig({ argv: ['--gateway.http_port', '0', '--gateway.https_port', '0', '--gateway.key_manager_timeout_ms', String(TIMEOUT_MS), '--data-dir', dir.path], env: {} });
  const g = createGateway(config, { logger, hub: p.node.hub, tls: await loadOrCreateTls({ certFile: '', keyFile: '', dataDir: dir.path }) });
  await g.start();
  const source = createHttpControlPlane({ baseUrl: p.node.baseUrl, clientId: client.clientId, clientSecret: client.clientSecret, timeoutMs: 2_000 });
  const real = source.credentials;
  const credentials: CredentialAuthority = {
    introspect: (token) => {
      residentIntrospections++;
      return real.introspect(token);
    },
    authenticateUser: (u, pw, ip) => real.authenticateUser(u, pw, ip),
  };
  const sync = new GatewaySync({ gateway: g, source: { ...source, credentials }, hub: p.node.hub, localStore: store, labels: ['Default'], gatewayId: name, logger });
  await sync.start();
  stops.push(async () => {
    await sync.stop();
    await g.stop();
    await source.close();
  });
  return { gw: g, base: g.listeners.http as string };
}

const operations = [{ target: '/orders', verb: 'GET', authType: 'Application & Application User', throttlingPolicy: 'Unlimited', scopes: [] }];

before(async () => {
  dir = await tempDir();
  [backend, partner, other] = await Promise.all([startMockUpstream('orders'), startKm('PartnerKM'), startKm('OtherKM')]);
  p = await startPlatform(['--profile', 'control-plane']);
  partnerId = (await p.admin.json<{ id: string }>('POST', `${ADMIN}/key-managers`, kmBody(partner), 201)).id;
  await p.admin.json('POST', `${ADMIN}/key-managers`, kmBody(other), 201);
  const store = await openLocalStore({ path: `${dir.path}/gw.db` });
  const store2 = await openLocalStore({ path: `${dir.path}/gw2.db` });
  stops.push(() => store.close(), () => store2.close());
  gw = await standaloneGateway('gw-ext', await register('gatehouse-internal-gw-ext'), store);
  ordinary = await standaloneGateway('gw-not-internal', await register('gw-not-internal'), store2);
  const endpointConfig = { endpoint_type: 'http', production_endpoints: { url: backend.url } };
  const any = await publishApi(p, { name: 'Partners', context: '/partners', version: 'v1', policies: ['Unlimited'], endpointConfig, operations }, gw.base, '/partners/v1/orders');
  const onlyOther = await publishApi(p, { name: 'OnlyOther', context: '/only-other', version: 'v1', policies: ['Unlimited'], keyManagers: ['OtherKM'], endpointConfig, operations }, gw.base, '/only-other/v1/orders');
  const onlyPartner = await publishApi(p, { name: 'OnlyPartner', context: '/only-partner', version: 'v1', policies: ['Unlimited'], keyManagers: ['PartnerKM'], endpointConfig, operations }, gw.base, '/only-partner/v1/orders');
  await untilStatus(`${ordinary.base}/partners/v1/orders`, {}, 401);
  await p.createUser('paula', 'paula-password-1', ['Internal/subscriber']);
  dp = await p.consumer('paula', 'paula-password-1');
  // One application, subscribed to all three APIs: a refusal below is about key managers, never subscriptions.
  const appId = (await dp.json<{ applicationId: string }>('POST', `${DP}/applications`, { name: 'PartnerApp', throttlingPolicy: 'Unlimited' }, 201)).applicationId;
  for (const apiId of [any, onlyOther, onlyPartner]) await dp.json('POST', `${DP}/subscriptions`, { applicationId: appId, apiId, throttlingPolicy: 'Unlimited' }, 201);
  await dp.json('POST', `${DP}/applications/${appId}/map-keys`, { consumerKey: 'partner-app', consumerSecret: 'partner-secret', keyManager: 'PartnerKM', keyType: 'PRODUCTION' }, 200);
  resident = await appWithKeys(dp, 'ResidentOpaque', { tokenType: 'OAUTH', apiId: onlyPartner });
  residentJwt = await appWithKeys(dp, 'ResidentJwt', { apiId: onlyPartner });
  // The mapping reaches the gateway by event.
  partner.issue('warm-up-token', 600);
  assert.equal(await untilStatus(`${gw.base}/partners/v1/orders`, { authorization: 'Bearer warm-up-token' }, 200), 200);
});
after(async () => {
  for (const stop of stops.reverse()) await stop();
  await p?.close();
  await Promise.all([backend?.close(), partner?.close(), other?.close()]);
  await dir?.remove();
});

const call = (base: string, path: string, token: string) => httpCall(`${base}${path}/v1/orders`, { headers: { authorization: `Bearer ${token}` } });

it('serves the introspection client secret to a gateway\'s internal client only', async () => {
  const kms = await p.admin.json<{ list: { name: string; introspection?: { endpoint: string; clientId?: string; clientSecret?: string } }[] }>('GET', '/internal/data/v1/keymanagers', undefined, 200);
  const km = kms.list.find((k) => k.name === 'PartnerKM');
  assert.deepEqual(km?.introspection, { endpoint: `${partner.url}/introspect`, clientId: GW_CLIENT.id }, 'an admin token of an ordinary client gets no secret');
  assert.equal(kms.list.find((k) => k.name === 'Resident Key Manager')?.introspection, undefined);
  const admin = await p.admin.json<{ additionalProperties: Record<string, unknown> }>('GET', `${ADMIN}/key-managers/${partnerId}`, undefined, 200);
  assert.equal(admin.additionalProperties.client_secret, undefined, 'Admin never answers the secret');
});

it('lets an external opaque token through, introspected once with the configured client, never forwarded', async () => {
  partner.issue('partner-token-1', 600);
  backend.requests.length = 0;
  for (let i = 0; i < 5; i++) {
    const res = await call(gw.base, '/partners', 'partner-token-1');
    assert.equal(res.status, 200, res.text);
  }
  assert.equal(partner.calls.get('partner-token-1'), 1, 'one introspection for five calls');
  assert.equal(partner.refusedClients, 0);
  assert.equal(backend.requests.length, 5);
  for (const r of backend.requests) assert.equal(r.headers.authorization, undefined, 'the token never reaches the backend');
  // Concurrent first calls share one introspection.
  partner.issue('partner-token-2', 600);
  const all = await Promise.all(Array.from({ length: 10 }, () => call(gw.base, '/partners', 'partner-token-2')));
  assert.deepEqual(new Set(all.map((r) => r.status)), new Set([200]));
  assert.equal(partner.calls.get('partner-token-2'), 1);
});

it('takes a JWT of an issuer it has no keys for to that key manager\'s introspection', async () => {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const jwt = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iss: partner.issuer, sub: 'partner-user' })}.c2lnbmF0dXJl`;
  partner.issue(jwt, 600);
  const before = other.total();
  const res = await call(gw.base, '/partners', jwt);
  assert.equal(res.status, 200, res.text);
  assert.equal(partner.calls.get(jwt), 1);
  assert.equal(other.total(), before, 'only the key manager of its issuer is asked');
});

it('refuses inactive and unknown external tokens: 401, 900901, a Bearer challenge; the backend sees nothing', async () => {
  partner.issue('partner-expired', -10);
  partner.issue('partner-refresh-token', 600, { token_type: 'refresh_token' });
  partner.issue('partner-unmapped', 600, { client_id: 'nobody-mapped-this' });
  backend.requests.length = 0;
  for (const token of ['partner-expired', 'never-issued-anywhere-0123456789', 'partner-refresh-token']) {
    const res = await call(gw.base, '/partners', token);
    assert.equal(res.status, 401, token);
    assert.equal(res.json<{ code: number }>().code, 900901);
    assert.match(String(res.headers['www-authenticate']), /^Bearer realm="gatehouse", error="invalid_token"/);
  }
  const unmapped = await call(gw.base, '/partners', 'partner-unmapped');
  assert.equal(unmapped.status, 403, 'active, but its consumer key is mapped to no application');
  assert.equal(unmapped.json<{ code: number }>().code, 900908);
  assert.equal(backend.requests.length, 0);
});

it('never sends a token to a key manager the API does not allow, and one key manager\'s answer never counts for another\'s API', async () => {
  partner.issue('partner-token-3', 600);
  assert.equal((await call(gw.base, '/partners', 'partner-token-3')).status, 200, 'valid where PartnerKM is allowed');
  const partnerCalls = partner.total();
  const residentCalls = residentIntrospections;
  backend.requests.length = 0;
  // OnlyOther allows OtherKM alone: the token goes there (inactive), never to PartnerKM, whose cached answer does not count.
  const res = await call(gw.base, '/only-other', 'partner-token-3');
  assert.equal(res.status, 401);
  assert.equal(res.json<{ code: number }>().code, 900901);
  assert.equal(other.calls.get('partner-token-3'), 1);
  const fresh = 'partner-token-4';
  partner.issue(fresh, 600);
  assert.equal((await call(gw.base, '/only-other', fresh)).status, 401);
  assert.equal(partner.total(), partnerCalls, 'PartnerKM never saw either token for that API');
  assert.equal(residentIntrospections, residentCalls, 'nor did the Resident Key Manager');
  // OnlyPartner: our own opaque token is not sent to our Key Manager, and is refused.
  const ours = await call(gw.base, '/only-partner', resident.token);
  assert.equal(ours.status, 401);
  assert.equal(residentIntrospections, residentCalls);
  assert.equal(other.calls.get(resident.token), undefined);
  // The same for our JWTs, verified offline: WSO2 refuses a token of a key manager the API does not allow.
  const jwt = await call(gw.base, '/only-partner', residentJwt.token);
  assert.equal(jwt.status, 401);
  assert.equal(jwt.json<{ code: number }>().code, 900901);
  assert.equal((await call(gw.base, '/only-partner', fresh)).status, 200, 'while PartnerKM tokens pass there');
  assert.equal(backend.requests.length, 1);
});

it('caches an answer until the token\'s exp, then asks again', async () => {
  partner.issue('short-lived', 2);
  for (let i = 0; i < 3; i++) assert.equal((await call(gw.base, '/partners', 'short-lived')).status, 200);
  assert.equal(partner.calls.get('short-lived'), 1);
  await new Promise((r) => setTimeout(r, 2_100));
  const res = await call(gw.base, '/partners', 'short-lived');
  assert.equal(res.status, 401);
  assert.equal(partner.calls.get('short-lived'), 2, 'asked again once expired');
});

it('answers 503 (900900) quickly when the key manager hangs or drops connections, and recovers', async () => {
  backend.requests.length = 0;
  for (const mode of ['hang', 'reset'] as const) {
    partner.mode = mode;
    const token = `while-${mode}`;
    partner.issue(token, 600);
    const started = Date.now();
    const res = await call(gw.base, '/partners', token);
    const ms = Date.now() - started;
    assert.equal(res.status, 503, mode);
    assert.equal(res.json<{ code: number }>().code, 900900);
    assert.equal(res.headers['retry-after'], '5');
    assert.ok(ms < TIMEOUT_MS + 1_000, `${mode}: answered in ${ms} ms`);
  }
  partner.mode = 'up';
  // Tokens already known keep working, and the ones asked during the outage pass once it is over.
  assert.equal((await call(gw.base, '/partners', 'partner-token-1')).status, 200);
  assert.equal((await call(gw.base, '/partners', 'while-hang')).status, 200);
  assert.equal(backend.requests.length, 2);
});

it('a gateway without the key manager\'s client secret answers 503 for its tokens, never 200 nor 500', async () => {
  partner.issue('partner-token-5', 600);
  const before = partner.total();
  const res = await call(ordinary.base, '/partners', 'partner-token-5');
  assert.equal(res.status, 503);
  assert.equal(res.json<{ code: number }>().code, 900900);
  assert.equal(partner.total(), before, 'nothing is sent without credentials');
});

it('refuses and logs when the key manager refuses the gateway\'s client (a wrong secret in Admin)', async () => {
  const km = await p.admin.json<Record<string, unknown>>('GET', `${ADMIN}/key-managers/${partnerId}`, undefined, 200);
  await p.admin.json('PUT', `${ADMIN}/key-managers/${partnerId}`, { ...km, ...kmBody(partner, 'not-the-secret') }, 200);
  try {
    const refused = partner.refusedClients;
    // The key manager event reaches the gateway, which then asks with the new (wrong) client.
    let n = 0;
    await until(async () => {
      const token = `probe-${n++}`;
      partner.issue(token, 600);
      return (await call(gw.base, '/partners', token)).status === 503 && partner.refusedClients > refused;
    }, 'the gateway to use the new client');
    partner.issue('partner-token-6', 600);
    backend.requests.length = 0;
    const res = await call(gw.base, '/partners', 'partner-token-6');
    assert.equal(res.status, 503);
    assert.equal(res.json<{ code: number }>().code, 900900);
    assert.equal(backend.requests.length, 0);
    assert.ok(
      logs.some((l) => l.gateway === 'gw-ext' && l.keyManager === 'PartnerKM' && /answered 401 invalid_client/.test(String(l.err))),
      `a warning names the key manager and its refusal: ${JSON.stringify(logs)}`,
    );
  } finally {
    await p.admin.json('PUT', `${ADMIN}/key-managers/${partnerId}`, { ...km, ...kmBody(partner) }, 200);
  }
  assert.equal(await untilStatus(`${gw.base}/partners/v1/orders`, { authorization: 'Bearer partner-token-6' }, 200), 200);
});
