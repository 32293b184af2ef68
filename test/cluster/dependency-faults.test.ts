import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, clientBasicAuth, type MockUpstream } from '@gatehouse/testing';
import { clusterSkip, describeLoad, startLoad, startClusterWithBackend, type ClusterWithBackend, type LocalCluster } from '@gatehouse/testing/cluster';
import { DP, PUB, appToken, call, callUntil, createApi, everyGatewayUntil, shopSubscriber, SHOP_ITEMS, revoke, type Consumer, type Provider } from './flow.ts';

// What the gateways and the control plane do when one of their dependencies goes away and comes
// back: a control-plane replica, PostgreSQL, NATS.

describe('control plane, PostgreSQL and NATS faults', { skip: clusterSkip() }, () => {
  let fx: ClusterWithBackend;
  let cluster: LocalCluster;
  let backend: MockUpstream;
  let p: Provider;
  let c: Consumer;
  let token: string;
  const ITEMS = SHOP_ITEMS;
  const CATALOG = `${DP}/apis?limit=5`;

  before(async () => {
    fx = await startClusterWithBackend('shop-backend');
    ({ cluster, backend } = fx);
    ({ provider: p, consumer: c, token } = await shopSubscriber(cluster, backend.url, 'erin'));
  }, { timeout: 120_000 });
  after(() => fx?.close());

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms: number): Promise<T> {
    const deadline = Date.now() + ms;
    for (let v = await probe(); ; v = await probe()) {
      if (ok(v) || Date.now() > deadline) return v;
      await sleep(100);
    }
  }
  const gatewayLoad = () => startLoad({ url: `${cluster.urls.gatewayHttp}${ITEMS}`, headers: { authorization: `Bearer ${token}` }, concurrency: 3 });

  interface Sample {
    readonly at: number;
    readonly status: number;
    readonly ms: number;
  }

  /** Calls `url` every `everyMs` until stopped: each answer's status and how long it took (0 = no answer within 10 s). */
  function sampler(url: string, everyMs = 100): { stop(): Promise<Sample[]> } {
    const samples: Sample[] = [];
    const t0 = Date.now();
    let stopping = false;
    const loop = (async () => {
      while (!stopping) {
        const started = Date.now();
        let status = 0;
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
          await res.arrayBuffer();
          status = res.status;
        } catch {
          status = 0;
        }
        samples.push({ at: started - t0, status, ms: Date.now() - started });
        await sleep(everyMs);
      }
    })();
    return {
      async stop() {
        stopping = true;
        await loop;
        return samples;
      },
    };
  }

  const histogram = (samples: readonly Sample[]) => Object.entries(Object.groupBy(samples, (s) => String(s.status))).map(([k, v]) => `${k}:${v?.length}`).join(' ');

  it('a control-plane replica killed: the REST APIs still answer through nginx', { timeout: 90_000 }, async (t) => {
    const rest = startLoad({ url: `${cluster.urls.controlPlaneHttp}${CATALOG}`, concurrency: 3 });
    const pub = startLoad({ url: `${cluster.urls.controlPlaneHttp}${PUB}/apis?limit=5`, headers: { authorization: `Bearer ${p.token}` }, concurrency: 1 });
    await sleep(1000);
    await cluster.controlPlanes[0].kill();
    // Writes and tokens while it is down: a POST that could not reach the dead replica goes to the live one.
    const writes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await api(cluster.urls.controlPlaneHttp, c.token).call('POST', `${DP}/applications`, { name: `while-cp-1-down-${i}`, throttlingPolicy: 'Unlimited' });
      writes.push(res.status);
      await res.arrayBuffer();
    }
    const freshToken = await appToken(cluster, c);
    await sleep(1500);
    const [r, pr] = await Promise.all([rest.stop(), pub.stop()]);
    t.diagnostic(describeLoad('devportal GET', r));
    t.diagnostic(describeLoad('publisher GET', pr));
    t.diagnostic(`cp-1 killed; 5 application creations → ${writes.join(',')}; a token issued meanwhile: ${freshToken ? 'yes' : 'no'}`);
    assert.equal(r.failed, 0, JSON.stringify(r.failures.slice(0, 5)));
    assert.equal(pr.failed, 0, JSON.stringify(pr.failures.slice(0, 5)));
    assert.deepEqual(writes, [201, 201, 201, 201, 201]);
    assert.equal((await call(cluster.urls.gatewayHttp, ITEMS, freshToken)).status, 200);

    const t0 = Date.now();
    await cluster.controlPlanes[0].start();
    t.diagnostic(`cp-1 restarted in ${Date.now() - t0} ms`);
  });

  it('PostgreSQL stopped then started: the control plane answers 503 meanwhile and recovers by itself; the gateways serve throughout', { timeout: 90_000 }, async (t) => {
    const load = gatewayLoad();
    const direct = cluster.controlPlanes.map((cp) => sampler(`${cp.directUrl}${CATALOG}`));
    const viaLb = sampler(`${cluster.urls.controlPlaneHttp}${CATALOG}`);
    await sleep(500);
    const stopAt = Date.now();
    await cluster.postgres.stop();
    const stopMs = Date.now() - stopAt;
    await sleep(4000);
    // A token needs the database: refused with 503 at once, not hung, and through nginx the
    // replica's own 503 (nginx does not retry a 503, so it never marks every replica failed).
    const tokenT0 = Date.now();
    const tokenRes = await fetch(`${cluster.urls.controlPlaneHttp}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: clientBasicAuth(c.keys.consumerKey, c.keys.consumerSecret), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
      signal: AbortSignal.timeout(10_000),
    });
    const tokenDuringOutage = { status: tokenRes.status, ms: Date.now() - tokenT0, body: await tokenRes.text() };
    const ready = await Promise.all(cluster.controlPlanes.map((cp) => fetch(`${cp.directUrl}/health/ready`).then((r) => r.status)));
    const seen = await fetch(`${cluster.urls.controlPlaneHttp}${CATALOG}`, { signal: AbortSignal.timeout(10_000) });
    const catalogDuringOutage = { status: seen.status, contentType: seen.headers.get('content-type'), body: await seen.text() };
    const startAt = Date.now();
    await cluster.postgres.start();
    const back = Date.now();
    const recovered = await callUntil(cluster.urls.controlPlaneHttp, CATALOG, '', (s) => s === 200, 30_000);
    const recoveredMs = Date.now() - back;
    // Every replica on its own, then nginx's fail_timeout so it takes them all back.
    const replicas = await Promise.all(cluster.controlPlanes.map((cp) => callUntil(cp.directUrl, CATALOG, '', (s) => s === 200, 30_000)));
    await sleep((await cluster.nginx.failTimeoutMs()) + 300);
    const [g, lb, ...cps] = await Promise.all([load.stop(), viaLb.stop(), ...direct.map((d) => d.stop())]);
    t.diagnostic(describeLoad('gateway GET', g));
    t.diagnostic(`PostgreSQL stopped in ${stopMs} ms, down ${startAt - stopAt} ms; control plane through nginx [${histogram(lb)}], slowest ${Math.max(...lb.map((s) => s.ms))} ms; directly ${cps.map((s, i) => `cp-${i + 1} [${histogram(s)}] slowest ${Math.max(...s.map((x) => x.ms))} ms`).join(', ')}`);
    t.diagnostic(`token during the outage: ${tokenDuringOutage.status} in ${tokenDuringOutage.ms} ms; /health/ready during the outage: ${ready.join(',')}; catalogue 200 again through nginx ${recoveredMs} ms after PostgreSQL accepted connections, from each replica after ${replicas.map((r) => r.elapsedMs).join(' and ')} ms`);
    t.diagnostic(`a client through nginx during the outage sees: ${catalogDuringOutage.status} ${catalogDuringOutage.contentType} ${catalogDuringOutage.body.slice(0, 300)}; token: ${tokenDuringOutage.status} ${tokenDuringOutage.body.slice(0, 200)}`);
    assert.equal(g.failed, 0, `the gateways serve throughout: ${JSON.stringify(g.failures.slice(0, 5))}`);
    for (const samples of cps) {
      const statuses = new Set(samples.map((s) => s.status));
      assert.ok([...statuses].every((s) => s === 200 || s === 503), `only 200 and 503 from a control plane: ${histogram(samples)}`);
      assert.ok(statuses.has(503), 'a control plane answered 503 while the database was down');
      assert.ok(samples.every((s) => s.ms < 6000), 'no call hung');
    }
    // Through nginx: the replicas' own 503 with its body, never nginx's 502 "no live upstreams".
    assert.ok(lb.every((s) => [200, 503].includes(s.status) && s.ms < 6000), `through nginx every call was answered by a replica: ${histogram(lb)}`);
    assert.ok(lb.some((s) => s.status === 503), `a 503 came through nginx: ${histogram(lb)}`);
    assert.equal(catalogDuringOutage.status, 503, catalogDuringOutage.body);
    assert.match(catalogDuringOutage.contentType ?? '', /json/);
    assert.equal(typeof (JSON.parse(catalogDuringOutage.body) as { code?: unknown }).code, 'number', 'a WSO2 error body');
    assert.equal(tokenDuringOutage.status, 503, tokenDuringOutage.body);
    assert.deepEqual(ready, [503, 503]);
    assert.equal(recovered.status, 200, recovered.body);
    assert.deepEqual(replicas.map((r) => r.status), [200, 200]);
    assert.ok(cluster.controlPlanes.every((cp) => cp.running), 'no control plane exited');
  });

  it('NATS stopped then started: the gateways serve throughout, then catch up on a deployment, a subscription and a revocation made meanwhile', { timeout: 90_000 }, async (t) => {
    // Ready before the outage: an API with a revision (deployed during it), a second token (revoked during it).
    const lateApi = await createApi(cluster, p, 'Outage', '/outage', backend.url);
    const revision = await api(cluster.urls.controlPlaneHttp, p.token).json<{ id: string }>('POST', `${PUB}/apis/${lateApi}/revisions`, { description: 'during the outage' }, 201);
    await api(cluster.urls.controlPlaneHttp, p.token).json('POST', `${PUB}/apis/change-lifecycle?apiId=${lateApi}&action=Publish`, undefined, 200);
    const doomed = await appToken(cluster, c);
    const revokedLater = await appToken(cluster, c);
    assert.deepEqual((await everyGatewayUntil(cluster, ITEMS, doomed, (s) => s === 200)).statuses, [200, 200]);

    const load = gatewayLoad();
    await sleep(500);
    await cluster.nats.stop();
    const downAt = Date.now();
    // The control plane stores each change and answers at once; its event waits in the replica's
    // publish queue until NATS is back (regression: these calls used to wait for NATS, 15 s, then 500).
    const timed = async (what: Promise<Response | number>) => {
      const t0 = performance.now();
      const r = await what;
      const status = typeof r === 'number' ? r : r.status;
      if (typeof r !== 'number') await r.arrayBuffer();
      return { status, ms: Math.round(performance.now() - t0) };
    };
    const changes = await Promise.all([
      timed(api(cluster.urls.controlPlaneHttp, p.token).call('POST', `${PUB}/apis/${lateApi}/deploy-revision?revisionId=${revision.id}`, [{ name: 'Default', vhost: 'localhost', displayOnDevportal: true }])),
      timed(api(cluster.urls.controlPlaneHttp, c.token).call('POST', `${DP}/subscriptions`, { applicationId: c.applicationId, apiId: lateApi, throttlingPolicy: 'Unlimited' })),
      timed(revoke(cluster, c, doomed).then(() => 200)),
      timed(api(cluster.urls.controlPlaneHttp, p.token).call('POST', `${PUB}/apis`, { name: 'DuringOutage', context: '/during-outage', version: '1.0.0', endpointConfig: { endpoint_type: 'http', production_endpoints: { url: backend.url } } })),
    ]);
    const queues = async () => {
      const reports = await Promise.all(cluster.controlPlanes.map((cp) => fetch(`${cp.directUrl}/health`).then((r) => r.json() as Promise<{ details?: { 'event-publish-queue'?: { depth: number; published: number; failures: number } } }>)));
      return reports.map((r) => r.details?.['event-publish-queue'] ?? { depth: -1, published: -1, failures: -1 });
    };
    const queuedDuring = await queues();
    await sleep(2000);
    const stillServing = await everyGatewayUntil(cluster, ITEMS, token, (s) => s === 200, 1000);
    await cluster.nats.start();
    const backAt = Date.now();
    const [revoked, deployed] = await Promise.all([
      everyGatewayUntil(cluster, ITEMS, doomed, (s) => s === 401, 10_000),
      everyGatewayUntil(cluster, '/outage/1.0.0/items', token, (s) => s === 200, 10_000),
    ]);
    // Every queued event stored once NATS is back.
    let queuedAfter = await queues();
    while (queuedAfter.some((q) => q.depth !== 0) && Date.now() - backAt < 15_000) {
      await sleep(100);
      queuedAfter = await queues();
    }
    const flushedMs = Date.now() - backAt;
    // An event after the outage travels on the gateways' live subscriptions (regression: after a
    // NATS restart they got one event, then nothing for over 40 s).
    await revoke(cluster, c, revokedLater);
    const revokedAfter = await everyGatewayUntil(cluster, ITEMS, revokedLater, (s) => s === 401, 10_000);
    await sleep(500);
    const g = await load.stop();
    t.diagnostic(describeLoad('gateway GET', g));
    t.diagnostic(`NATS down ${backAt - downAt} ms; during it both gateways served (${stillServing.statuses.join(',')}); the control plane's calls [deploy, subscribe, revoke, create API] answered ${changes.map((c) => `${c.status} in ${c.ms} ms`).join(', ')} while NATS was down`);
    t.diagnostic(`publish queues (depth/published/failures) during the outage: ${queuedDuring.map((q) => `${q.depth}/${q.published}/${q.failures}`).join(' and ')}; empty ${flushedMs} ms after NATS returned: ${queuedAfter.map((q) => `${q.depth}/${q.published}/${q.failures}`).join(' and ')}`);
    t.diagnostic(`after NATS returned: revoked token refused by both gateways in ${revoked.elapsedMs} ms, the API deployed and subscribed meanwhile served by both in ${deployed.elapsedMs} ms; a token revoked afterwards refused by both in ${revokedAfter.elapsedMs} ms`);
    assert.equal(g.failed, 0, JSON.stringify(g.failures.slice(0, 5)));
    assert.deepEqual(stillServing.statuses, [200, 200]);
    assert.deepEqual(revoked.statuses, [401, 401]);
    assert.ok(revoked.elapsedMs < 1000, `revoked token refused ${revoked.elapsedMs} ms after NATS returned`);
    assert.deepEqual(deployed.statuses, [200, 200]);
    assert.deepEqual(revokedAfter.statuses, [401, 401]);
    assert.ok(revokedAfter.elapsedMs < 1000, `a token revoked after the outage was refused ${revokedAfter.elapsedMs} ms later`);
    assert.deepEqual(changes.map((c) => (c.status >= 200 && c.status < 300 ? 'ok' : c.status)), ['ok', 'ok', 'ok', 'ok']);
    for (const c of changes) assert.ok(c.ms < 2000, `a management call during the NATS outage took ${c.ms} ms`);
    assert.ok(queuedDuring.reduce((n, q) => n + q.depth, 0) >= 4, `the events wait in the publish queues: ${JSON.stringify(queuedDuring)}`);
    assert.deepEqual(queuedAfter.map((q) => q.depth), [0, 0], 'every queued event was stored once NATS returned');
  });

  it('NATS down, then every control plane killed with its events still queued: the gateways catch up by their pull once NATS and a control plane are back', { timeout: 120_000 }, async (t) => {
    const lateApi = await createApi(cluster, p, 'Crash', '/crash', backend.url);
    const revision = await api(cluster.urls.controlPlaneHttp, p.token).json<{ id: string }>('POST', `${PUB}/apis/${lateApi}/revisions`, { description: 'during the outage' }, 201);
    await api(cluster.urls.controlPlaneHttp, p.token).json('POST', `${PUB}/apis/change-lifecycle?apiId=${lateApi}&action=Publish`, undefined, 200);
    const doomed = await appToken(cluster, c);
    assert.deepEqual((await everyGatewayUntil(cluster, ITEMS, doomed, (s) => s === 200)).statuses, [200, 200]);

    await cluster.nats.stop();
    const changes = await Promise.all([
      api(cluster.urls.controlPlaneHttp, p.token).call('POST', `${PUB}/apis/${lateApi}/deploy-revision?revisionId=${revision.id}`, [{ name: 'Default', vhost: 'localhost', displayOnDevportal: true }]),
      api(cluster.urls.controlPlaneHttp, c.token).call('POST', `${DP}/subscriptions`, { applicationId: c.applicationId, apiId: lateApi, throttlingPolicy: 'Unlimited' }),
    ]);
    for (const r of changes) await r.arrayBuffer();
    await revoke(cluster, c, doomed);
    const depth = async () => {
      const reports = await Promise.all(cluster.controlPlanes.map((cp) => fetch(`${cp.directUrl}/health`).then((r) => r.json() as Promise<{ details?: { 'event-publish-queue'?: { depth: number } } }>)));
      return reports.reduce((n, r) => n + (r.details?.['event-publish-queue']?.depth ?? 0), 0);
    };
    const queued = await depth();
    // The crash: whatever waits in the publish queues is gone.
    await Promise.all(cluster.controlPlanes.map((cp) => cp.kill()));
    // No replica at all: the load balancer's own answer, JSON in the management APIs' shape.
    const lb = await fetch(`${cluster.urls.controlPlaneHttp}${CATALOG}`, { signal: AbortSignal.timeout(10_000) });
    const lbAnswer = { status: lb.status, contentType: lb.headers.get('content-type'), body: await lb.text() };
    await cluster.nats.start();
    const natsBackAt = Date.now();
    // Still no control plane: the gateways, reconnected, retry their pull with backoff.
    await sleep(1500);
    await Promise.all(cluster.controlPlanes.map((cp) => cp.start()));
    const cpBackAt = Date.now();
    const [revoked, deployed] = await Promise.all([
      everyGatewayUntil(cluster, ITEMS, doomed, (s) => s === 401, 45_000),
      everyGatewayUntil(cluster, '/crash/1.0.0/items', token, (s) => s === 200, 45_000),
    ]);
    // The gateways acknowledge after their pull what they serve and have not acknowledged yet
    // (regression: the Publisher kept this deployment CREATED, as it acknowledges events only).
    const deployments = await until(
      () => api(cluster.urls.controlPlaneHttp, p.token).json<{ list: { status: string; deployedGatewayCount: number }[] }>('GET', `${PUB}/apis/${lateApi}/deployments`, undefined, 200),
      (d) => d.list[0]?.deployedGatewayCount === 2,
      10_000,
    );
    t.diagnostic(`the Publisher's status of that deployment afterwards: ${deployments.list.map((d) => `${d.status} on ${d.deployedGatewayCount} gateways`).join(',')}`);
    t.diagnostic(`changes during the outage answered ${changes.map((r) => r.status).join(',')}; ${queued} events queued, then lost with both control planes (killed); through nginx meanwhile: ${lbAnswer.status} ${lbAnswer.contentType} ${lbAnswer.body}`);
    t.diagnostic(`NATS back, control planes back ${cpBackAt - natsBackAt} ms later; then the revocation applied by both gateways in ${revoked.elapsedMs} ms, the deployment and subscription in ${deployed.elapsedMs} ms (their pull)`);
    assert.deepEqual(changes.map((r) => (r.status >= 200 && r.status < 300 ? 'ok' : r.status)), ['ok', 'ok']);
    assert.ok(queued >= 3, `the events waited in the publish queues (${queued})`);
    assert.equal(lbAnswer.status, 502, lbAnswer.body);
    assert.equal(lbAnswer.contentType, 'application/json');
    assert.equal((JSON.parse(lbAnswer.body) as { code: number }).code, 900503);
    assert.deepEqual(revoked.statuses, [401, 401]);
    assert.deepEqual(deployed.statuses, [200, 200]);
    assert.deepEqual(deployments.list.map((d) => [d.status, d.deployedGatewayCount]), [['DEPLOYED', 2]]);
  });
});
