import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { FakeClock } from '@gatehouse/testing';
import { createRepositories, DataErrors } from '../src/index.ts';
import type { Databases, Repositories, VirtualHost } from '../src/index.ts';
import { forEachDialect, TEST_PASSWORD_PARAMS } from './dialects.ts';

const A = 1;
const B = 2;

const vhost: VirtualHost = { host: 'gw.example.com', httpContext: '/x', httpPort: 80, httpsPort: 443, wsPort: 9099, wssPort: 8099 };

async function rejectsCode(work: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(work, (err: unknown) => DataErrors.is(err) && err.code === code);
}

await forEachDialect((_dialect, h) => {
  let dbs: Databases;
  let repos: Repositories;
  const clock = new FakeClock(Date.UTC(2026, 0, 1));

  before(async () => {
    dbs = await h.open();
    repos = createRepositories(dbs, { clock, passwordParams: TEST_PASSWORD_PARAMS });
    await repos.tenants.create({ id: A, domain: 'a.example' });
    await repos.tenants.create({ id: B, domain: 'b.example' });
    for (const t of [A, B]) for (const r of ['admin', 'Internal/creator', 'Internal/subscriber']) await repos.roles.ensure(t, r);
  });

  describe('tenants', () => {
    it('creates, reads, lists, allocates the next id and ensures idempotently', async () => {
      const c = await repos.tenants.create({ domain: 'c.example', name: 'C' });
      assert.equal(c.id, 3);
      assert.deepEqual(await repos.tenants.getByDomain('c.example'), c);
      assert.deepEqual(await repos.tenants.getById(3), c);
      const again = await repos.tenants.ensure({ id: 3, domain: 'c.example' });
      assert.equal(again.created, false);
      assert.deepEqual(again.tenant, c);
      assert.deepEqual(
        (await repos.tenants.list()).map((t) => t.domain),
        ['a.example', 'b.example', 'c.example'],
      );
      await rejectsCode(repos.tenants.create({ id: 9, domain: 'a.example' }), 'DATA_ERR_UNIQUE_VIOLATION');
    });
  });

  describe('roles', () => {
    it('ensure returns the same role twice and lists per tenant', async () => {
      const first = await repos.roles.ensure(A, 'Internal/publisher', 'publishes');
      const second = await repos.roles.ensure(A, 'Internal/publisher');
      assert.deepEqual(second, first);
      assert.equal(first.description, 'publishes');
      assert.deepEqual(
        (await repos.roles.list(A)).map((r) => r.name),
        ['Internal/creator', 'Internal/publisher', 'Internal/subscriber', 'admin'].sort(),
      );
      assert.equal((await repos.roles.list(B)).some((r) => r.name === 'Internal/publisher'), false);
    });
  });

  describe('users', () => {
    it('creates with roles, reads back camelCase without the hash, updates, lists by page, deletes', async () => {
      const alice = await repos.users.create(A, {
        username: 'alice',
        password: 'alice-pw',
        email: 'alice@example.com',
        givenName: 'Alice',
        familyName: 'Liddell',
        roles: ['Internal/creator', 'Internal/subscriber'],
      });
      assert.deepEqual(Object.keys(alice).sort(), ['createdAt', 'email', 'familyName', 'givenName', 'id', 'status', 'tenantId', 'updatedAt', 'username']);
      assert.equal(alice.createdAt, clock.now());
      assert.deepEqual(await repos.users.getById(A, alice.id), alice);
      assert.deepEqual(await repos.users.findByUsername(A, 'alice'), alice);
      assert.deepEqual(await repos.users.rolesOf(A, alice.id), ['Internal/creator', 'Internal/subscriber']);

      clock.advance(1000);
      const updated = await repos.users.update(A, alice.id, { givenName: 'Al', status: 'LOCKED' });
      assert.equal(updated.givenName, 'Al');
      assert.equal(updated.status, 'LOCKED');
      assert.equal(updated.email, 'alice@example.com');
      assert.equal(updated.updatedAt, alice.createdAt + 1000);

      for (const n of ['bob', 'carol', 'dave']) await repos.users.create(A, { username: n, password: 'pw' });
      const page = await repos.users.list(A, { limit: 2, offset: 1 });
      assert.equal(page.total, 4);
      assert.deepEqual(
        page.items.map((u) => u.username),
        ['bob', 'carol'],
      );

      await repos.users.delete(A, alice.id);
      assert.equal(await repos.users.getById(A, alice.id), undefined);
      assert.deepEqual(await repos.users.rolesOf(A, alice.id), []);
      await rejectsCode(repos.users.delete(A, alice.id), 'DATA_ERR_NOT_FOUND');
      await rejectsCode(repos.users.update(A, alice.id, { email: null }), 'DATA_ERR_NOT_FOUND');
    });

    it('setRoles replaces the roles; rolesOf and existsWithRole follow', async () => {
      const u = await repos.users.create(A, { username: 'roleful', password: 'pw', roles: ['Internal/subscriber'] });
      assert.equal(await repos.users.existsWithRole(A, 'admin'), false);
      await repos.users.setRoles(A, u.id, ['admin', 'Internal/creator', 'admin']);
      assert.deepEqual(await repos.users.rolesOf(A, u.id), ['Internal/creator', 'admin']);
      assert.equal(await repos.users.existsWithRole(A, 'admin'), true);
      assert.equal(await repos.users.existsWithRole(B, 'admin'), false);
      await repos.users.setRoles(A, u.id, []);
      assert.deepEqual(await repos.users.rolesOf(A, u.id), []);
      await rejectsCode(repos.users.setRoles(A, 'no-such-user', ['admin']), 'DATA_ERR_NOT_FOUND');
    });

    it('verifyCredentials: right password gives the user, wrong or unknown gives null, inactive only on request', async () => {
      const u = await repos.users.create(A, { username: 'verify', password: 'correct horse' });
      assert.deepEqual(await repos.users.verifyCredentials(A, 'verify', 'correct horse'), u);
      assert.equal(await repos.users.verifyCredentials(A, 'verify', 'wrong horse'), null);
      assert.equal(await repos.users.verifyCredentials(A, 'nobody', 'correct horse'), null);
      await repos.users.setPassword(A, u.id, 'new horse');
      assert.equal(await repos.users.verifyCredentials(A, 'verify', 'correct horse'), null);
      assert.equal((await repos.users.verifyCredentials(A, 'verify', 'new horse'))?.id, u.id);
      await repos.users.update(A, u.id, { status: 'LOCKED' });
      assert.equal(await repos.users.verifyCredentials(A, 'verify', 'new horse'), null);
      assert.equal((await repos.users.verifyCredentials(A, 'verify', 'new horse', { allowInactive: true }))?.status, 'LOCKED');
      await rejectsCode(repos.users.setPassword(A, 'no-such-user', 'x'), 'DATA_ERR_NOT_FOUND');
    });

    it('stores an scrypt hash, never the password', async () => {
      const u = await repos.users.create(A, { username: 'hashed', password: 'plain-secret' });
      const row = await dbs.shared.selectFrom('users').select('password_hash').where('id', '=', u.id).executeTakeFirstOrThrow();
      assert.match(row.password_hash, /^scrypt\$1024\$8\$1\$/);
      assert.doesNotMatch(row.password_hash, /plain-secret/);
    });
  });

  describe('tenant scoping', () => {
    it('a user of tenant A is invisible and untouchable from tenant B', async () => {
      const u = await repos.users.create(A, { username: 'scoped', password: 'pw', roles: ['admin'] });
      assert.equal(await repos.users.getById(B, u.id), undefined);
      assert.equal(await repos.users.findByUsername(B, 'scoped'), undefined);
      assert.equal((await repos.users.list(B)).items.some((x) => x.id === u.id), false);
      assert.equal(await repos.users.verifyCredentials(B, 'scoped', 'pw'), null);
      assert.deepEqual(await repos.users.rolesOf(B, u.id), []);
      await rejectsCode(repos.users.delete(B, u.id), 'DATA_ERR_NOT_FOUND');
      await rejectsCode(repos.users.update(B, u.id, { status: 'LOCKED' }), 'DATA_ERR_NOT_FOUND');
      await rejectsCode(repos.users.setPassword(B, u.id, 'hijack'), 'DATA_ERR_NOT_FOUND');
      await rejectsCode(repos.users.setRoles(B, u.id, ['admin']), 'DATA_ERR_NOT_FOUND');
      assert.equal((await repos.users.getById(A, u.id))?.status, 'ACTIVE');
      assert.deepEqual(await repos.users.rolesOf(A, u.id), ['admin']);
      // The same username is free in another tenant.
      await repos.users.create(B, { username: 'scoped', password: 'pw' });
    });

    it('gateway environments and settings are per tenant', async () => {
      const env = await repos.gatewayEnvironments.create(A, { name: 'scoped-env', vhosts: [vhost] });
      assert.equal(await repos.gatewayEnvironments.get(B, env.id), undefined);
      assert.equal(await repos.gatewayEnvironments.getByName(B, 'scoped-env'), undefined);
      await rejectsCode(repos.gatewayEnvironments.update(B, env.id, { displayName: 'x' }), 'DATA_ERR_NOT_FOUND');
      await rejectsCode(repos.gatewayEnvironments.delete(B, env.id), 'DATA_ERR_NOT_FOUND');
      await repos.settings.set(A, 'scoped.key', 'a');
      assert.equal(await repos.settings.get(B, 'scoped.key'), undefined);
      await repos.settings.set(B, 'scoped.key', 'b');
      assert.equal(await repos.settings.get(A, 'scoped.key'), 'a');
    });
  });

  describe('transactions', () => {
    it('a user created with an unknown role is rolled back entirely', async () => {
      await rejectsCode(repos.users.create(A, { username: 'half', password: 'pw', roles: ['admin', 'no-such-role'] }), 'DATA_ERR_NOT_FOUND');
      assert.equal(await repos.users.findByUsername(A, 'half'), undefined);
    });

    it('setRoles with an unknown role keeps the previous roles', async () => {
      const u = await repos.users.create(A, { username: 'keeps', password: 'pw', roles: ['Internal/creator'] });
      await rejectsCode(repos.users.setRoles(A, u.id, ['admin', 'no-such-role']), 'DATA_ERR_NOT_FOUND');
      assert.deepEqual(await repos.users.rolesOf(A, u.id), ['Internal/creator']);
    });

    it('an error thrown in a transaction undoes its writes on both databases', async () => {
      await assert.rejects(
        dbs.shared.transaction().execute(async (trx) => {
          await trx.insertInto('tenants').values({ id: 77, domain: 'rolled.back', name: 'x', status: 'ACTIVE', created_at: 1 }).execute();
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await repos.tenants.getById(77), undefined);
      await assert.rejects(
        dbs.apim.transaction().execute(async (trx) => {
          await trx.insertInto('system_settings').values({ tenant_id: A, key: 'rolled.back', value: 'x', updated_at: 1 }).execute();
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await repos.settings.get(A, 'rolled.back'), undefined);
    });
  });

  describe('gateway environments', () => {
    it('create, get, getByName, list, update with optimistic locking, delete', async () => {
      const env = await repos.gatewayEnvironments.create(A, { name: 'eu', displayName: 'Europe', description: 'EU gateways', vhosts: [vhost] });
      assert.equal(env.type, 'hybrid');
      assert.equal(env.provider, 'wso2');
      assert.equal(env.version, 1);
      assert.deepEqual(env.vhosts, [vhost]);
      assert.deepEqual(await repos.gatewayEnvironments.get(A, env.id), env);
      assert.deepEqual(await repos.gatewayEnvironments.getByName(A, 'eu'), env);
      await rejectsCode(repos.gatewayEnvironments.create(A, { name: 'eu', vhosts: [] }), 'DATA_ERR_UNIQUE_VIOLATION');

      clock.advance(5);
      const updated = await repos.gatewayEnvironments.update(A, env.id, { displayName: 'EU', vhosts: [{ ...vhost, httpsPort: 8443 }] }, { expectedVersion: 1 });
      assert.equal(updated.displayName, 'EU');
      assert.equal(updated.description, 'EU gateways');
      assert.equal(updated.vhosts[0].httpsPort, 8443);
      assert.equal(updated.version, 2);
      assert.equal(updated.updatedAt, env.updatedAt + 5);
      await rejectsCode(repos.gatewayEnvironments.update(A, env.id, { displayName: 'stale' }, { expectedVersion: 1 }), 'DATA_ERR_CONFLICT');
      assert.equal((await repos.gatewayEnvironments.get(A, env.id))?.displayName, 'EU');

      await repos.gatewayEnvironments.create(A, { name: 'asia', vhosts: [vhost] });
      assert.deepEqual(
        (await repos.gatewayEnvironments.list(A)).map((e) => e.name).filter((n) => n !== 'scoped-env'),
        ['asia', 'eu'],
      );
      await repos.gatewayEnvironments.delete(A, env.id);
      assert.equal(await repos.gatewayEnvironments.get(A, env.id), undefined);
      await rejectsCode(repos.gatewayEnvironments.update(A, env.id, {}), 'DATA_ERR_NOT_FOUND');
    });
  });

  describe('settings', () => {
    it('get, set (upsert), all, delete', async () => {
      assert.equal(await repos.settings.get(A, 'ui.theme'), undefined);
      await repos.settings.set(A, 'ui.theme', '{"dark":false}');
      await repos.settings.set(A, 'ui.theme', '{"dark":true}');
      assert.equal(await repos.settings.get(A, 'ui.theme'), '{"dark":true}');
      assert.equal((await repos.settings.all(A))['ui.theme'], '{"dark":true}');
      assert.equal(await repos.settings.delete(A, 'ui.theme'), true);
      assert.equal(await repos.settings.delete(A, 'ui.theme'), false);
      assert.equal(await repos.settings.get(A, 'ui.theme'), undefined);
    });
  });
});
