import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { api, httpCall, type MockUpstream } from '@gatehouse/testing';
import { clusterSkip, startClusterWithBackend, type ClusterWithBackend, type LocalCluster } from '@gatehouse/testing/cluster';
import { DP, PUB, appToken, callUntil, consumer, everyGatewayUntil, importPetstore, provider, revoke } from './flow.ts';

// The whole business flow on a distributed deployment: 2 control planes, 2 gateways and 2 traffic
// managers on a private PostgreSQL and NATS, every call through nginx.

describe('business flow on a cluster', { skip: clusterSkip() }, () => {
  let fx: ClusterWithBackend;
  let cluster: LocalCluster;
  let backend: MockUpstream;

  before(async () => {
    fx = await startClusterWithBackend('petstore-backend');
    ({ cluster, backend } = fx);
  }, { timeout: 120_000 });
  after(() => fx?.close());

  it('import an OpenAPI, publish, deploy, sign up, subscribe, keys, token, call through nginx to the backend; revocation refused on every gateway', { timeout: 90_000 }, async (t) => {
    const t0 = Date.now();
    const p = await provider(cluster);
    const apiId = await importPetstore(cluster, p, `${backend.url}/v1`);
    const pub = api(cluster.urls.controlPlaneHttp, p.token);
    const revision = await pub.json<{ id: string }>('POST', `${PUB}/apis/${apiId}/revisions`, { description: 'first' }, 201);
    await pub.json('POST', `${PUB}/apis/${apiId}/deploy-revision?revisionId=${revision.id}`, [{ name: 'Default', vhost: 'localhost', displayOnDevportal: true }], 200);
    await pub.json('POST', `${PUB}/apis/change-lifecycle?apiId=${apiId}&action=Publish`, undefined, 200);

    const c = await consumer(cluster, p, 'carol', [apiId]);
    const found = await api(cluster.urls.controlPlaneHttp).json<{ list: { id: string }[] }>('GET', `${DP}/apis?query=name:PetStore`, undefined, 200);
    assert.deepEqual(found.list.map((a) => a.id), [apiId], 'the published API is in the catalogue');
    const token = await appToken(cluster, c);
    const setupMs = Date.now() - t0;

    // Through nginx's gateway port, HTTP and HTTPS (the LB's own certificate), and on each gateway.
    const first = await callUntil(cluster.urls.gatewayHttp, '/petstore/1.0.0/pets', token, (s) => s === 200);
    assert.equal(first.status, 200, first.body);
    assert.equal((JSON.parse(first.body) as { url: string }).url, '/v1/pets');
    const ca = await readFile(cluster.nginx.certFile, 'utf8');
    const tls = await httpCall(`${cluster.urls.gatewayHttps}/petstore/1.0.0/pets?limit=2`, { ca, headers: { authorization: `Bearer ${token}` } });
    assert.equal(tls.status, 200, tls.text);
    assert.equal(tls.json<{ url: string }>().url, '/v1/pets?limit=2');
    const each = await everyGatewayUntil(cluster, '/petstore/1.0.0/pets', token, (s) => s === 200);
    assert.deepEqual(each.statuses, [200, 200], 'both gateways serve the API');

    // The Publisher shows the deployment acknowledged; Admin lists both gateways.
    const deployments = await pub.json<{ list?: { status?: string }[] } | { status?: string }[]>('GET', `${PUB}/apis/${apiId}/deployments`, undefined, 200);
    const list = Array.isArray(deployments) ? deployments : (deployments.list ?? []);
    assert.equal(list[0]?.status, 'DEPLOYED', JSON.stringify(deployments));
    const envs = await pub.json<{ list: { id: string; name: string }[] }>('GET', '/api/am/admin/v4/environments', undefined, 200);
    const def = envs.list.find((e) => e.name === 'Default');
    const gws = await pub.json<{ list: { gatewayId: string; status: string }[] }>('GET', `/api/am/admin/v4/environments/${def?.id}/gateways`, undefined, 200);
    assert.deepEqual(gws.list.filter((g) => g.status === 'ACTIVE').map((g) => g.gatewayId).sort(), ['gw-1', 'gw-2'], JSON.stringify(gws));

    // Revoked at the Key Manager (one control plane), refused by every gateway within a second.
    await revoke(cluster, c, token);
    const refused = await everyGatewayUntil(cluster, '/petstore/1.0.0/pets', token, (s) => s === 401, 2000);
    assert.deepEqual(refused.statuses, [401, 401]);
    assert.ok(refused.elapsedMs < 1000, `refused after ${refused.elapsedMs} ms`);
    t.diagnostic(`flow: setup ${setupMs} ms through nginx; first call ${first.elapsedMs} ms after the token; revocation refused by both gateways after ${refused.elapsedMs} ms; backend saw ${backend.requests.length} calls`);
  });

  it('NATS refuses a client without credentials, and the observer user may not publish a revocation or a deployment; the platform processes work', { timeout: 90_000 }, async (t) => {
    const server = cluster.nats.url;
    // No credentials: refused at CONNECT.
    const anonymous = await connect({ servers: [server], timeout: 2000, reconnect: false }).then(
      async (nc) => {
        await nc.close();
        return 'connected';
      },
      (err: Error) => err.message,
    );
    assert.match(anonymous, /authorization|authentication/i, `anonymous: ${anonymous}`);
    const wrong = await connect({ servers: [server], user: 'platform', pass: 'wrong', timeout: 2000, reconnect: false }).then(
      async (nc) => {
        await nc.close();
        return 'connected';
      },
      (err: Error) => err.message,
    );
    assert.match(wrong, /authorization|authentication/i, `wrong password: ${wrong}`);

    // A user without publish rights: the server refuses the publish (permissions violation) and
    // the event never reaches the stream.
    const observer = await connect({ servers: [server], user: cluster.nats.observer.user, pass: cluster.nats.observer.password, timeout: 2000, reconnect: false });
    const violations: string[] = [];
    void (async () => {
      for await (const s of observer.status()) if (s.type === 'error') violations.push(String(s.error));
    })();
    const platform = await connect({ servers: [server], user: cluster.nats.platform.user, pass: cluster.nats.platform.password, timeout: 2000 });
    // Only the observer's own messages count: the platform's events (gateways' analytics) flow on
    // the same subjects meanwhile.
    const marker = `forged-${process.pid}-${Date.now()}`;
    const seen: string[] = [];
    const sub = platform.subscribe('gatehouse.events.>', {
      callback: (_err, m) => {
        if (m.string().includes(marker)) seen.push(m.subject);
      },
    });
    await platform.flush();
    for (const subject of ['gatehouse.events.tokenRevocation', 'gatehouse.events.notification']) {
      observer.publish(subject, JSON.stringify({ topic: 'x', type: 'token.revoked', payload: { jti: marker } }));
    }
    await observer.flush().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(violations.some((v) => /permissions violation/i.test(v)), `expected a permissions violation, got ${JSON.stringify(violations)}`);
    assert.deepEqual(seen, [], 'nothing the observer published reached a subscriber');
    sub.unsubscribe();
    await Promise.all([observer.close(), platform.close()]);

    // Every platform process is connected with the platform user: each one's readiness includes the event hub.
    const ready = await Promise.all(cluster.nodes().map(async (n) => [n.name, await n.ready()] as const));
    assert.deepEqual(ready.filter(([, up]) => !up), [], 'every process reports ready');
    t.diagnostic(`nats: anonymous → "${anonymous}"; wrong password → "${wrong}"; observer publish → ${violations.length} permission violation(s); ${ready.length} platform processes ready`);
  });
});
