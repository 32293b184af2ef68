import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '@gatehouse/core';
import { DataErrors } from '@gatehouse/data';
import { skipUnless } from '@gatehouse/testing';
import { createDevPortalStore, devPortalTierUsage } from '@gatehouse/devportal';
import type { DevPortalStore } from '@gatehouse/devportal';
import { freshDatabases } from './helpers.ts';

const T = -1234;
const OTHER_TENANT = 7;

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`devportal repositories on ${dialect}`, { skip: dialect === 'postgres' ? await skipUnless('postgres') : false }, () => {
    let store: DevPortalStore;
    let close: () => Promise<void>;
    let usage: ReturnType<typeof devPortalTierUsage>;

    before(async () => {
      const fresh = await freshDatabases(dialect);
      close = fresh.close;
      store = createDevPortalStore(fresh.dbs.apim, systemClock);
      usage = devPortalTierUsage(fresh.dbs);
    });
    after(() => close?.());

    it('keeps applications unique per owner and tenant, with their attributes, scoped by owner', async () => {
      const app = await store.applications.create(T, { name: 'Shop', owner: 'alice', throttlingPolicy: 'Unlimited', tokenType: 'JWT', status: 'APPROVED', attributes: { a: '1', b: '2' }, groups: ['g'] });
      assert.deepEqual(app.attributes, { a: '1', b: '2' });
      assert.deepEqual(app.groups, ['g']);
      await assert.rejects(store.applications.create(T, { name: 'Shop', owner: 'alice', throttlingPolicy: 'Unlimited', tokenType: 'JWT', status: 'APPROVED' }), (err) => DataErrors.is(err, 'DATA_ERR_UNIQUE_VIOLATION'));
      await store.applications.create(T, { name: 'Shop', owner: 'bob', throttlingPolicy: 'Unlimited', tokenType: 'JWT', status: 'APPROVED' });
      await store.applications.create(OTHER_TENANT, { name: 'Shop', owner: 'alice', throttlingPolicy: 'Unlimited', tokenType: 'JWT', status: 'APPROVED' });
      assert.equal((await store.applications.get(T, app.id, 'alice'))?.name, 'Shop');
      assert.equal(await store.applications.get(T, app.id, 'bob'), undefined);
      assert.equal(await store.applications.get(OTHER_TENANT, app.id), undefined);
      const page = await store.applications.list(T, 'alice', { limit: 10, offset: 0 });
      assert.equal(page.total, 1);
      const updated = await store.applications.update(T, app.id, { name: 'Shop2', throttlingPolicy: '10PerMin', tokenType: 'OAUTH', attributes: { c: '3' } });
      assert.deepEqual([updated?.name, updated?.tokenType, updated?.attributes], ['Shop2', 'OAUTH', { c: '3' }]);
      assert.ok(await store.applications.setStatus(T, app.id, 'REJECTED'));
      assert.equal((await store.applications.get(T, app.id))?.status, 'REJECTED');
      assert.ok(await usage(T, 'application', '10PerMin'));
      assert.ok(!(await usage(T, 'application', '20PerMin')));
      assert.equal((await store.applications.listAll(OTHER_TENANT)).length, 1);
    });

    it('stores subscriptions once per application and API, and removes them with the application', async () => {
      const app = await store.applications.create(T, { name: 'Subs', owner: 'carol', throttlingPolicy: 'Unlimited', tokenType: 'JWT', status: 'APPROVED' });
      const sub = await store.subscriptions.create(T, { applicationId: app.id, apiId: 'api-1', throttlingPolicy: 'Gold', status: 'UNBLOCKED', createdBy: 'carol' });
      await assert.rejects(store.subscriptions.create(T, { applicationId: app.id, apiId: 'api-1', throttlingPolicy: 'Gold', status: 'UNBLOCKED', createdBy: 'carol' }), (err) => DataErrors.is(err, 'DATA_ERR_UNIQUE_VIOLATION'));
      assert.equal((await store.subscriptions.getOwned(T, sub.id, 'carol'))?.apiId, 'api-1');
      assert.equal(await store.subscriptions.getOwned(T, sub.id, 'mallory'), undefined);
      assert.equal(await store.subscriptions.get(OTHER_TENANT, sub.id), undefined);
      assert.equal((await store.subscriptions.list(T, { apiId: 'api-1', owner: 'carol' })).length, 1);
      assert.equal((await store.subscriptions.list(T, { apiId: 'api-1', owner: 'mallory' })).length, 0);
      assert.equal((await store.subscriptions.update(T, sub.id, { status: 'BLOCKED' }))?.status, 'BLOCKED');
      assert.ok(await store.subscriptions.usesTier(T, 'Gold'));
      assert.ok(await usage(T, 'subscription', 'Gold'));
      assert.ok(!(await usage(T, 'subscription', 'Silver')));
      assert.ok(!(await usage(OTHER_TENANT, 'subscription', 'Gold')));
      assert.ok(await store.subscriptions.apiHasSubscriptions(T, 'api-1'));
      assert.equal((await store.subscriptions.listAll(T)).length, 1);
      const km = await store.keyMappings.create(T, { applicationId: app.id, keyType: 'PRODUCTION', keyManager: 'Resident Key Manager', consumerKey: 'ck-1' });
      await assert.rejects(store.keyMappings.create(T, { applicationId: app.id, keyType: 'PRODUCTION', keyManager: 'Resident Key Manager', consumerKey: 'ck-2' }), (err) => DataErrors.is(err, 'DATA_ERR_UNIQUE_VIOLATION'));
      assert.equal((await store.keyMappings.get(T, app.id, km.id))?.consumerKey, 'ck-1');
      assert.equal(await store.keyMappings.get(T, 'another-app', km.id), undefined);
      await store.apiKeys.record(T, { jti: 'jti-1', applicationId: app.id, keyType: 'PRODUCTION', issuedBy: 'carol', expiresAt: null });
      assert.ok(await store.apiKeys.revoke(T, app.id, 'jti-1'));
      assert.ok(!(await store.apiKeys.revoke(T, app.id, 'jti-1')));
      assert.ok(await store.applications.delete(T, app.id));
      assert.equal(await store.subscriptions.get(T, sub.id), undefined);
      assert.equal((await store.keyMappings.list(T, app.id)).length, 0);
    });

    it('keeps one rating per user and threads comments', async () => {
      await store.ratings.put(T, 'api-9', 'alice', 5);
      await store.ratings.put(T, 'api-9', 'bob', 1);
      await store.ratings.put(T, 'api-9', 'bob', 2);
      const r = await store.ratings.list(T, 'api-9', { limit: 10, offset: 0 });
      assert.equal(r.total, 2);
      assert.equal(r.average, 3.5);
      assert.equal((await store.ratings.list(OTHER_TENANT, 'api-9', { limit: 10, offset: 0 })).total, 0);
      const c = await store.comments.create(T, { apiId: 'api-9', username: 'alice', content: 'hi', category: 'general', parentId: null });
      await store.comments.create(T, { apiId: 'api-9', username: 'bob', content: 'yo', category: 'general', parentId: c.id });
      assert.equal((await store.comments.list(T, 'api-9', { limit: 10, offset: 0 })).total, 1);
      assert.equal((await store.comments.list(T, 'api-9', { limit: 10, offset: 0, parentId: c.id })).total, 1);
      assert.ok(await store.comments.delete(T, 'api-9', c.id));
      assert.equal((await store.comments.list(T, 'api-9', { limit: 10, offset: 0, parentId: c.id })).total, 0);
    });
  });
}
