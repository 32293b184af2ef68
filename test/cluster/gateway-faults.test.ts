import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, type MockUpstream } from '@gatehouse/testing';
import { clusterSkip, describeLoad, startLoad, startClusterWithBackend, type ClusterWithBackend, type LocalCluster } from '@gatehouse/testing/cluster';
import { DP, callUntil, createApi, deploy, shopSubscriber, SHOP_ITEMS, SHOP_ORDERS, type Consumer, type Provider } from './flow.ts';

// Gateways failing and coming back, under load through nginx: a kill -9, a deployment made while
// one is down, and a rolling restart of every Gatehouse process and nginx.

describe('gateway faults under load', { skip: clusterSkip() }, () => {
  let fx: ClusterWithBackend;
  let cluster: LocalCluster;
  let backend: MockUpstream;
  let p: Provider;
  let c: Consumer;
  let token: string;
  const ITEMS = SHOP_ITEMS;
  const ORDERS = SHOP_ORDERS;

  before(async () => {
    fx = await startClusterWithBackend('shop-backend');
    ({ cluster, backend } = fx);
    ({ provider: p, consumer: c, token } = await shopSubscriber(cluster, backend.url, 'dave'));
  }, { timeout: 120_000 });
  after(() => fx?.close());

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const auth = () => ({ authorization: `Bearer ${token}` });

  it('kill -9 of a gateway under load: no GET fails, no POST reaches the backend twice', { timeout: 90_000 }, async (t) => {
    const posted = new Map<string, number>();
    const seenBefore = backend.requests.length;
    const gets = startLoad({ url: `${cluster.urls.gatewayHttp}${ITEMS}`, headers: auth(), concurrency: 4 });
    const posts = startLoad({ url: `${cluster.urls.gatewayHttp}${ORDERS}`, method: 'POST', headers: auth(), concurrency: 2, body: (i) => JSON.stringify({ order: `o-${i}` }) });
    await sleep(1500);
    const killedAt = gets.elapsed();
    await cluster.gateways[0].kill();
    await sleep(2500);
    const [g, po] = await Promise.all([gets.stop(), posts.stop()]);
    for (const r of backend.requests.slice(seenBefore)) {
      if (r.method !== 'POST') continue;
      const id = (JSON.parse(r.body) as { order: string }).order;
      posted.set(id, (posted.get(id) ?? 0) + 1);
    }
    const twice = [...posted].filter(([, n]) => n > 1);
    t.diagnostic(describeLoad('GET', g));
    t.diagnostic(describeLoad('POST', po));
    t.diagnostic(`gw-1 killed at ${killedAt} ms; POSTs executed by the backend: ${posted.size} distinct, ${twice.length} twice; POSTs answered 2xx: ${po.ok}`);
    assert.equal(g.failed, 0, JSON.stringify(g.failures.slice(0, 5)));
    assert.deepEqual(twice, [], 'no POST executed twice');
    assert.ok(po.ok > 0 && g.ok > 0);
    // Every POST answered 2xx was executed exactly once.
    assert.ok(posted.size >= po.ok, `${po.ok} POSTs answered 2xx, ${posted.size} executed`);

    const t0 = Date.now();
    await cluster.gateways[0].start();
    const back = await callUntil(cluster.gateways[0].directUrl, ITEMS, token, (s) => s === 200);
    assert.equal(back.status, 200, back.body);
    t.diagnostic(`gw-1 back and serving ${Date.now() - t0} ms after its restart began`);
  });

  it('a deployment made while a gateway is down reaches it when it comes back', { timeout: 90_000 }, async (t) => {
    const gw2 = cluster.gateways[1];
    await gw2.stop();
    const apiId = await createApi(cluster, p, 'Late', '/late', backend.url);
    await deploy(cluster, p, apiId);
    await api(cluster.urls.controlPlaneHttp, c.token).json('POST', `${DP}/subscriptions`, { applicationId: c.applicationId, apiId, throttlingPolicy: 'Unlimited' }, 201);
    const viaLb = await callUntil(cluster.urls.gatewayHttp, '/late/1.0.0/items', token, (s) => s === 200);
    assert.equal(viaLb.status, 200, `the running gateway serves it: ${viaLb.body}`);

    const t0 = Date.now();
    await gw2.start();
    const startedMs = Date.now() - t0;
    const served = await callUntil(gw2.directUrl, '/late/1.0.0/items', token, (s) => s === 200);
    assert.equal(served.status, 200, served.body);
    t.diagnostic(`gw-2 down during the deployment; started in ${startedMs} ms, served the new API ${served.elapsedMs} ms after that (${Date.now() - t0} ms in all)`);
  });

  it('rolling restart of every Gatehouse process and nginx under load: no non-2xx', { timeout: 90_000 }, async (t) => {
    // nginx has no active health check: a replica it saw fail stays out for fail_timeout, even once
    // back. So each replica, once serving again, gets that long before the next one goes down.
    const settle = (await cluster.nginx.failTimeoutMs()) + 300;
    const gets = startLoad({ url: `${cluster.urls.gatewayHttp}${ITEMS}`, headers: auth(), concurrency: 3 });
    const rest = startLoad({ url: `${cluster.urls.controlPlaneHttp}${DP}/apis?limit=5`, concurrency: 2 });
    const steps: string[] = [];
    for (const node of [...cluster.controlPlanes, ...cluster.gateways, ...cluster.trafficManagers]) {
      const t0 = Date.now();
      await node.stop();
      const stopped = Date.now() - t0;
      await node.start();
      const started = Date.now() - t0 - stopped;
      const serving = node.profile === 'gateway' ? await callUntil(node.directUrl, ITEMS, token, (s) => s === 200) : await callUntil(node.directUrl, '/health/ready', '', (s) => s === 200);
      assert.equal(serving.status, 200, `${node.name} after its restart: ${serving.body}`);
      steps.push(`${node.name} stop ${stopped} + start ${started} + serving ${serving.elapsedMs} ms`);
      await sleep(settle);
    }
    // nginx: a graceful reload (new workers, old ones finish their requests).
    const t0 = Date.now();
    await cluster.nginx.reload();
    steps.push(`nginx reload ${Date.now() - t0} ms`);
    await sleep(500);
    const [g, r] = await Promise.all([gets.stop(), rest.stop()]);
    t.diagnostic(`restarted one at a time, ${settle} ms apart: ${steps.join(', ')}`);
    t.diagnostic(describeLoad('gateway GET', g));
    t.diagnostic(describeLoad('control plane GET', r));
    assert.equal(g.failed, 0, JSON.stringify(g.failures.slice(0, 5)));
    assert.equal(r.failed, 0, JSON.stringify(r.failures.slice(0, 5)));
  });
});
