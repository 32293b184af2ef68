import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnless } from '@gatehouse/testing';
import { CONSUMER_SCOPES, DP, clientCredentials, decodeJwt, freshPostgres, startHarness } from './helpers.ts';
import type { Harness } from './helpers.ts';

describe('developer portal on PostgreSQL', { skip: await skipUnless('postgres') }, () => {
  let h: Harness;
  let drop: () => Promise<void>;

  before(async () => {
    const pg = await freshPostgres();
    drop = pg.drop;
    h = await startHarness(pg.argv);
  });
  after(async () => {
    await h?.close();
    await drop?.();
  });

  it('runs sign-up, application, subscription, keys and a client_credentials token', async () => {
    const apiId = await h.createApi('Orders');
    assert.equal((await h.signUp('zoe', 'zoe-password-1')).status, 201);
    const zoe = await h.token('zoe', 'zoe-password-1', CONSUMER_SCOPES);
    const app = await h.json<{ applicationId: string }>(zoe, 'POST', `${DP}/applications`, { name: 'Store', throttlingPolicy: '50PerMin' }, 201);
    await h.json(zoe, 'POST', `${DP}/subscriptions`, { applicationId: app.applicationId, apiId, throttlingPolicy: 'Unlimited' }, 201);
    assert.equal((await h.call(zoe, 'POST', `${DP}/subscriptions`, { applicationId: app.applicationId, apiId, throttlingPolicy: 'Unlimited' })).status, 409);
    const keys = await h.json<{ consumerKey: string; consumerSecret: string }>(zoe, 'POST', `${DP}/applications/${app.applicationId}/generate-keys`, { keyType: 'SANDBOX' }, 200);
    const res = await clientCredentials(h.node.baseUrl, keys.consumerKey, keys.consumerSecret);
    assert.equal(res.status, 200);
    const claims = decodeJwt(((await res.json()) as { access_token: string }).access_token).payload;
    assert.equal((claims.application as { tier: string }).tier, '50PerMin');
    assert.equal(claims.keytype, 'SANDBOX');
    const found = await h.json<{ count: number }>(undefined, 'GET', `${DP}/apis?query=${encodeURIComponent('name:ord')}`, undefined, 200);
    assert.equal(found.count, 1);
  });
});
