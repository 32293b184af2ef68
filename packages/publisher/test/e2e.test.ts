import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnless } from '@gatehouse/testing';
import { Topics } from '@gatehouse/events';
import type { HubEvent } from '@gatehouse/events';
import { freshPostgres, importForm, petstore, startPublisher } from './helpers.ts';
import type { PublisherHarness } from './helpers.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const json = async (res: Response): Promise<Json> => (await res.json()) as Json;
const pgSkip = await skipUnless('postgres');

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`creator → publisher → gateway artifact (${dialect})`, { skip: dialect === 'postgres' ? pgSkip : false }, () => {
    let h: PublisherHarness;
    let drop: (() => Promise<void>) | undefined;
    const events: HubEvent<Json>[] = [];
    let creator: string;
    let publisher: string;
    let admin: string;

    before(async () => {
      const pg = dialect === 'postgres' ? await freshPostgres() : undefined;
      drop = pg?.drop;
      h = await startPublisher(pg?.argv ?? []);
      await h.node.hub.subscribe<Json>(Topics.Notification, (e) => {
        events.push(e);
      });
      const scopes = 'apim:api_view apim:api_create apim:api_publish apim:api_manage apim:document_create';
      creator = await h.token('carol', scopes, ['Internal/creator']);
      publisher = await h.token('paul', scopes, ['Internal/publisher']);
      admin = await h.token('admin', 'apim:admin apim:api_view');
    });
    after(async () => {
      await h?.close();
      await drop?.();
    });

    it('imports, publishes, cuts a revision, deploys to Default, and serves the runtime artifact', async () => {
      const imported = await h.form(creator, 'POST', '/apis/import-openapi', importForm(petstore, {
        context: '/petstore', policies: ['Unlimited', 'Gold'], tags: ['pets'],
        endpointConfig: {
          endpoint_type: 'failover',
          production_endpoints: { url: 'https://primary.example.com', config: { actionDuration: '30000' } },
          production_failovers: [{ url: 'https://backup.example.com' }],
          endpoint_security: { production: { enabled: true, type: 'BASIC', username: 'svc', password: 'backend-pass' } },
        },
      }));
      assert.equal(imported.status, 201, await imported.clone().text());
      const api = await json(imported);
      assert.equal(api.provider, 'carol');

      const creatorPublish = await h.call(creator, 'POST', `/apis/change-lifecycle?apiId=${api.id}&action=Publish`);
      assert.equal(creatorPublish.status, 403, 'a creator cannot publish');
      assert.equal((await json(await h.call(publisher, 'GET', `/apis/${api.id}`))).lifeCycleStatus, 'CREATED', 'the refused call changed nothing');

      const published = await h.call(publisher, 'POST', `/apis/change-lifecycle?apiId=${api.id}&action=Publish`);
      assert.equal(published.status, 200);
      const wrong = await h.call(publisher, 'POST', `/apis/change-lifecycle?apiId=${api.id}&action=Retire`);
      assert.equal(wrong.status, 400);

      const rev = await h.call(publisher, 'POST', `/apis/${api.id}/revisions`, { description: 'first release' });
      assert.equal(rev.status, 201);
      const revision = await json(rev);
      const deployed = await h.call(publisher, 'POST', `/apis/${api.id}/deploy-revision?revisionId=${revision.id}`, [{ name: 'Default', vhost: 'localhost', displayOnDevportal: true }]);
      assert.equal(deployed.status, 200);

      const arts = await json(await h.call(admin, 'GET', '/internal/data/v1/runtime-artifacts?gatewayLabel=Default'));
      assert.equal(arts.count, 1);
      const a = arts.list[0];
      assert.equal(a.schemaVersion, 1);
      assert.equal(a.apiId, api.id);
      assert.equal(a.revisionId, revision.id);
      assert.equal(a.environment, 'Default');
      assert.equal(a.vhost, 'localhost');
      assert.equal(a.context, '/petstore');
      assert.equal(a.lifeCycleStatus, 'PUBLISHED');
      assert.deepEqual(a.subscriptionTiers, ['Unlimited', 'Gold']);
      assert.deepEqual(a.endpoints.production, { urls: ['https://primary.example.com'], failovers: ['https://backup.example.com'], timeoutMs: 30000 });
      assert.equal(a.endpoints.type, 'failover');
      assert.ok(a.endpointSecurity.sealed.startsWith('v1.'));
      assert.doesNotMatch(JSON.stringify(a), /backend-pass/, 'backend credentials stay sealed');
      assert.deepEqual(a.operations.find((o: Json) => o.target === '/pets/{petId}'), {
        target: '/pets/{petId}', verb: 'GET', authType: 'Application & Application User', throttlingPolicy: '10KPerMin', scopes: [],
      });
      assert.equal((await h.call(publisher, 'POST', `/apis/change-lifecycle?apiId=${api.id}&action=Block`)).status, 200);
      const blocked = await json(await h.call(admin, 'GET', `/internal/data/v1/runtime-artifacts?gatewayLabel=Default&apiId=${api.id}`));
      assert.equal(blocked.list[0].lifeCycleStatus, 'BLOCKED', 'the artifact carries the current lifecycle state');
      assert.equal(blocked.list[0].checksum, a.checksum);
      const other = await json(await h.call(admin, 'GET', '/internal/data/v1/runtime-artifacts?gatewayLabel=Elsewhere'));
      assert.equal(other.count, 0);

      const deploy = events.find((e) => e.type === 'DEPLOY_API_IN_GATEWAY');
      assert.ok(deploy, `events seen: ${events.map((e) => e.type).join(', ')}`);
      assert.deepEqual(deploy.payload, { apiId: api.id, revisionId: revision.id, environments: ['Default'], checksum: a.checksum });
      const lc = events.filter((e) => e.type === 'API_LIFECYCLE_CHANGE').map((e) => e.payload.newState);
      assert.deepEqual(lc, ['PUBLISHED', 'BLOCKED']);

      // A gateway acknowledges through the exported function; /deployments shows it.
      const { recordGatewayAcknowledgement } = await import('@gatehouse/publisher');
      assert.equal(await recordGatewayAcknowledgement({ databases: h.node.databases!, clock: { now: () => Date.now() } }, {
        tenantId: -1234, apiId: api.id, revisionId: revision.id, environment: 'Default', gatewayId: 'gw-1', status: 'DEPLOYED',
      }), true);
      const deps = await json(await h.call(publisher, 'GET', `/apis/${api.id}/deployments`));
      assert.equal(deps.list[0].status, 'DEPLOYED');
      assert.equal(deps.list[0].deployedGatewayCount, 1);
      assert.ok(deps.list[0].successDeployedTime);

      const undeployed = await h.call(publisher, 'POST', `/apis/${api.id}/undeploy-revision?revisionId=${revision.id}`, [{ name: 'Default' }]);
      assert.equal(undeployed.status, 201);
      assert.ok(events.some((e) => e.type === 'REMOVE_API_FROM_GATEWAY' && e.payload.apiId === api.id));
      assert.equal((await json(await h.call(admin, 'GET', '/internal/data/v1/runtime-artifacts?gatewayLabel=Default'))).count, 0);
    });

    it('leaves nothing half-stored after bad input', async () => {
      const count = async () => (await json(await h.call(publisher, 'GET', '/apis?limit=500'))).pagination.total as number;
      const before = await count();
      const malformed = await h.form(creator, 'POST', '/apis/import-openapi', importForm('openapi: 3.0.0\ninfo:\n  title: x\n  version: 1\npaths:\n\t/a: {}\n'));
      assert.equal(malformed.status, 400);
      assert.match((await json(malformed)).description, /line 6/);
      const huge = await h.form(creator, 'POST', '/apis/import-openapi', importForm(`${petstore}#${'x'.repeat(10 * 1024 * 1024 + 1)}`, { context: '/huge' }));
      assert.equal(huge.status, 413);
      assert.equal((await h.call(creator, 'POST', '/apis', { name: 'T', context: '/t', version: 1 })).status, 400);
      assert.equal((await h.call(creator, 'POST', '/apis', { name: 'T', context: '/t', version: '1', bogus: true })).status, 400);
      const created = await h.call(creator, 'POST', '/apis', { name: 'T', context: '/t', version: '1' });
      const etag = created.headers.get('etag')!;
      const t = await json(created);
      await h.call(creator, 'PUT', `/apis/${t.id}`, { ...t, description: 'one' }, { 'if-match': etag });
      const stale = await h.call(creator, 'PUT', `/apis/${t.id}`, { ...t, description: 'two' }, { 'if-match': etag });
      assert.equal(stale.status, 412);
      assert.equal((await json(await h.call(creator, 'GET', `/apis/${t.id}`))).description, 'one');
      assert.equal(await count(), before + 1);
    });
  });
}
