import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServerKeys, newId } from '@gatehouse/core';
import { createRepositories, seedDefaults } from '@gatehouse/data';
import type { Databases } from '@gatehouse/data';
import { createInProcessHub, Topics } from '@gatehouse/events';
import type { HubEvent } from '@gatehouse/events';
import { skipUnless } from '@gatehouse/testing';
import { createPublisherService, recordGatewayAcknowledgement } from '../src/service.ts';
import { apiStore } from '../src/store/apis.ts';
import type { ApiRecord } from '../src/store/apis.ts';
import { freshDatabases } from './helpers.ts';

const pgSkip = await skipUnless('postgres');
const T = -1234;
const OTHER_TENANT = 7;

function record(name: string, extra: Partial<ApiRecord> = {}): ApiRecord {
  return {
    id: newId(), tenantId: T, name, context: `/${name.toLowerCase()}`, version: '1.0.0', provider: 'admin', type: 'HTTP', lifeCycleStatus: 'CREATED',
    description: `about ${name}`, visibility: 'PUBLIC', isDefaultVersion: false, tags: [], body: { operations: [] }, endpointSecurity: null,
    createdAt: Date.now(), updatedAt: Date.now(), rowVersion: 1, ...extra,
  };
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`publisher store (${dialect})`, { skip: dialect === 'postgres' ? pgSkip : false }, () => {
    let dbs: Databases;
    let close: () => Promise<void>;
    before(async () => {
      ({ dbs, close } = await freshDatabases(dialect));
    });
    after(() => close());

    it('stores APIs per tenant, updates with an optimistic version, and searches each way', async () => {
      const a = record('Orders', { tags: ['shop', 'orders'], lifeCycleStatus: 'PUBLISHED' });
      const b = record('Payments', { tags: ['shop'], provider: 'carol' });
      const c = record('Orders', { tenantId: OTHER_TENANT, tags: ['shop'] });
      const pct = record('Pct_100', { description: 'with 100% literal' });
      for (const r of [a, b, c, pct]) await apiStore.insert(dbs.apim, r);

      assert.equal((await apiStore.get(dbs.apim, T, c.id)), undefined, 'another tenant\'s API is invisible');
      const search = async (s: Parameters<typeof apiStore.search>[2]) => (await apiStore.search(dbs.apim, T, s, { limit: 25, offset: 0 })).items.map((r) => r.name).sort();
      assert.deepEqual(await search({ tag: 'shop' }), ['Orders', 'Payments']);
      assert.deepEqual(await search({ name: 'ORD' }), ['Orders']);
      assert.deepEqual(await search({ provider: 'carol' }), ['Payments']);
      assert.deepEqual(await search({ status: 'published' }), ['Orders']);
      assert.deepEqual(await search({ context: '/pay' }), ['Payments']);
      assert.deepEqual(await search({ text: 'about orders' }), ['Orders']);
      assert.deepEqual(await search({ text: '100%' }), ['Pct_100'], '% is matched literally');
      assert.deepEqual(await search({ name: '_' }), ['Pct_100'], '_ is matched literally');
      assert.equal((await apiStore.search(dbs.apim, T, {}, { limit: 2, offset: 0 })).total, 3);

      assert.equal(await apiStore.update(dbs.apim, { ...a, description: 'new', tags: ['x'], rowVersion: 2 }, 1), true);
      assert.equal(await apiStore.update(dbs.apim, { ...a, description: 'stale', rowVersion: 2 }, 1), false, 'a stale version writes nothing');
      const now = await apiStore.get(dbs.apim, T, a.id);
      assert.equal(now?.description, 'new');
      assert.deepEqual(now?.tags, ['x']);
      assert.deepEqual(await search({ tag: 'shop' }), ['Payments']);
      await assert.rejects(apiStore.insert(dbs.apim, record('Orders')), (err: Error & { code?: string }) => err.code === 'DATA_ERR_UNIQUE_VIOLATION');
    });

    it('runs the service end to end on this dialect: create, lifecycle, revision, deploy, acknowledge', async () => {
      const keys = createServerKeys('store-test-secret-0123456789abcdef');
      const repositories = createRepositories(dbs, { passwordParams: { N: 1024, r: 8, p: 1 } });
      await seedDefaults(repositories, { adminPassword: 'admin-password-0123456789' });
      const hub = createInProcessHub({});
      const events: HubEvent[] = [];
      await hub.subscribe(Topics.Notification, (e) => {
        events.push(e);
      });
      const clock = { now: () => Date.now() };
      const svc = createPublisherService({ databases: dbs, repositories, keys, hub, clock });
      const actor = { username: 'admin', tenantId: T };
      const api = await svc.createApi(actor, {
        name: 'Svc', context: '/svc', version: '1',
        endpointConfig: { endpoint_type: 'http', production_endpoints: { url: 'https://svc.example.com' }, endpoint_security: { production: { type: 'BASIC', username: 'u', password: 'pw' } } },
      });
      assert.doesNotMatch(JSON.stringify(api.body), /"pw"/);
      assert.ok(api.endpointSecurity?.startsWith('v1.'));
      await svc.changeLifecycle(actor, api.id, 'Publish', undefined, undefined);
      const rev = await svc.createRevision(actor, api.id, 'r1');
      await svc.deploy(actor, api.id, rev.id, [{ name: 'Default' }]);
      const [artifact] = await svc.runtimeArtifacts(T, 'Default', api.id);
      assert.equal(artifact?.revisionId, rev.id);
      assert.equal(JSON.parse(keys.open('backend-credential', artifact!.endpointSecurity!.sealed)).production.password, 'pw');
      assert.equal(await recordGatewayAcknowledgement({ databases: dbs, clock }, { tenantId: T, apiId: api.id, revisionId: rev.id, environment: 'Default', gatewayId: 'gw-a', status: 'FAILED' }), true);
      assert.equal((await svc.deployments(T, api.id))[0]?.status, 'FAILED');
      await recordGatewayAcknowledgement({ databases: dbs, clock }, { tenantId: T, apiId: api.id, revisionId: rev.id, environment: 'Default', gatewayId: 'gw-b', status: 'DEPLOYED' });
      const [dep] = await svc.deployments(T, api.id);
      assert.equal(dep?.status, 'DEPLOYED');
      assert.equal(dep?.failedGatewayCount, 1);
      assert.equal(dep?.deployedGatewayCount, 1);
      assert.equal(await recordGatewayAcknowledgement({ databases: dbs, clock }, { tenantId: T, apiId: api.id, revisionId: newId(), environment: 'Default', gatewayId: 'gw-a', status: 'DEPLOYED' }), false);
      assert.deepEqual(events.map((e) => e.type), ['API_CREATE', 'API_LIFECYCLE_CHANGE', 'DEPLOY_API_IN_GATEWAY']);
      await svc.deleteApi(actor, api.id, undefined);
      assert.equal((await svc.runtimeArtifacts(T, 'Default', api.id)).length, 0);
      assert.equal(await dbs.shared.selectFrom('api_definitions').select('api_id').where('api_id', '=', api.id).executeTakeFirst(), undefined);
      await hub.close?.();
    });

    // Gateways acknowledge again after each pull what they have not acknowledged yet (a lost event,
    // a publish that failed), and every control-plane replica records every acknowledgement.
    it('records a gateway\'s acknowledgement once however often it comes, even twice at once; a late one for a replaced revision changes nothing', async () => {
      const keys = createServerKeys('store-test-secret-0123456789abcdef');
      const repositories = createRepositories(dbs, { passwordParams: { N: 1024, r: 8, p: 1 } });
      await seedDefaults(repositories, { adminPassword: 'admin-password-0123456789' });
      const hub = createInProcessHub({});
      const clock = { now: () => Date.now() };
      const svc = createPublisherService({ databases: dbs, repositories, keys, hub, clock });
      const actor = { username: 'admin', tenantId: T };
      const api = await svc.createApi(actor, { name: 'Acked', context: '/acked', version: '1', endpointConfig: { endpoint_type: 'http', production_endpoints: { url: 'https://acked.example.com' } } });
      const ack = (revisionId: string, gatewayId: string, status: 'DEPLOYED' | 'FAILED') =>
        recordGatewayAcknowledgement({ databases: dbs, clock }, { tenantId: T, apiId: api.id, revisionId, environment: 'Default', gatewayId, status });
      const deployment = async () => {
        const [d] = await svc.deployments(T, api.id);
        return { revision: d?.revisionUuid, status: d?.status, deployed: d?.deployedGatewayCount, failed: d?.failedGatewayCount, since: d?.successDeployedTime };
      };

      const r1 = await svc.createRevision(actor, api.id, 'r1');
      await svc.deploy(actor, api.id, r1.id, [{ name: 'Default' }]);
      // Regression: on PostgreSQL, two at once used to fail on the primary key (delete, then insert).
      for (let i = 0; i < 10; i++) assert.deepEqual(await Promise.all([1, 2, 3, 4].map(() => ack(r1.id, 'gw-a', 'DEPLOYED'))), [true, true, true, true]);
      const first = await deployment();
      assert.deepEqual({ ...first, since: undefined }, { revision: r1.id, status: 'DEPLOYED', deployed: 1, failed: 0, since: undefined });
      assert.equal(await ack(r1.id, 'gw-a', 'DEPLOYED'), true);
      assert.deepEqual(await deployment(), first, 'acknowledged again: the same deployment, first success time kept');

      const r2 = await svc.createRevision(actor, api.id, 'r2');
      await svc.deploy(actor, api.id, r2.id, [{ name: 'Default' }]);
      assert.equal(await ack(r1.id, 'gw-a', 'DEPLOYED'), false, 'a late acknowledgement of the replaced revision is ignored');
      assert.deepEqual(await deployment(), { revision: r2.id, status: 'CREATED', deployed: 0, failed: 0, since: undefined });
      await ack(r2.id, 'gw-a', 'FAILED');
      assert.equal((await deployment()).status, 'FAILED');
      await ack(r2.id, 'gw-a', 'DEPLOYED');
      assert.deepEqual({ ...(await deployment()), since: undefined }, { revision: r2.id, status: 'DEPLOYED', deployed: 1, failed: 0, since: undefined }, 'a gateway\'s later outcome replaces its earlier one');

      // Two gateways at once, one failing: deployed, whichever is recorded last (each used to
      // decide from the acknowledgements committed before its own, so the failure could win).
      for (let i = 0; i < 10; i++) {
        for (const gw of ['gw-a', 'gw-b', 'gw-c']) await ack(r2.id, gw, 'FAILED');
        assert.equal((await deployment()).status, 'FAILED');
        await Promise.all([ack(r2.id, 'gw-b', 'DEPLOYED'), ack(r2.id, 'gw-c', 'FAILED'), ack(r2.id, 'gw-a', 'FAILED')]);
        assert.deepEqual({ ...(await deployment()), since: undefined }, { revision: r2.id, status: 'DEPLOYED', deployed: 1, failed: 2, since: undefined }, `round ${i}`);
      }

      // Live: deployed by a gateway heard from within the expiry (90 s by default), not one gone.
      const live = async () => (await svc.deployments(T, api.id))[0]?.liveGatewayCount;
      assert.equal(await live(), 0, 'gw-b never registered');
      await dbs.apim.insertInto('admin_gateways').values({ tenant_id: T, gateway_id: 'gw-b', labels: '["Default"]', registered_at: Date.now() - 200_000, last_heartbeat: Date.now() - 100_000 }).execute();
      assert.equal(await live(), 0, 'gw-b silent for 100 s');
      await dbs.apim.updateTable('admin_gateways').set({ last_heartbeat: Date.now() }).where('gateway_id', '=', 'gw-b').execute();
      assert.equal(await live(), 1);
      await dbs.apim.insertInto('admin_gateways').values({ tenant_id: T, gateway_id: 'gw-c', labels: '["Default"]', registered_at: Date.now(), last_heartbeat: Date.now() }).execute();
      assert.equal(await live(), 1, 'gw-c is live but failed');
      await hub.close();
    });
  });
}
