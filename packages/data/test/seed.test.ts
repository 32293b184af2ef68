import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Roles, SUPER_TENANT_ID } from '@gatehouse/core';
import { createRepositories, DEFAULT_GATEWAY_VHOST, openDatabases, seedDefaults } from '../src/index.ts';
import type { Repositories } from '../src/index.ts';
import { forEachDialect, runConcurrently, TEST_PASSWORD_PARAMS } from './dialects.ts';

async function assertSeeded(repos: Repositories): Promise<void> {
  const tenant = await repos.tenants.getById(SUPER_TENANT_ID);
  assert.equal(tenant?.domain, 'carbon.super');
  assert.deepEqual(
    (await repos.roles.list(SUPER_TENANT_ID)).map((r) => r.name).sort(),
    [Roles.Admin, Roles.Creator, Roles.Everyone, Roles.Publisher, Roles.Subscriber].sort(),
  );
  const users = await repos.users.list(SUPER_TENANT_ID);
  assert.deepEqual(
    users.items.map((u) => u.username),
    ['admin'],
  );
  assert.deepEqual(await repos.users.rolesOf(SUPER_TENANT_ID, users.items[0].id), [Roles.Creator, Roles.Publisher, Roles.Subscriber, Roles.Admin].sort());
  const envs = await repos.gatewayEnvironments.list(SUPER_TENANT_ID);
  assert.deepEqual(
    envs.map((e) => e.name),
    ['Default'],
  );
  assert.deepEqual(envs[0].vhosts, [{ host: 'localhost', httpContext: '', httpPort: 8280, httpsPort: 8243, wsPort: 9099, wssPort: 8099 }]);
  assert.deepEqual(envs[0].vhosts[0], DEFAULT_GATEWAY_VHOST);
}

await forEachDialect((_dialect, h) => {
  it('creates the super tenant, roles, admin (given password) and Default environment, once', async () => {
    const repos = createRepositories(await h.open(), { passwordParams: TEST_PASSWORD_PARAMS });
    assert.deepEqual(await seedDefaults(repos, { adminPassword: 'chosen-admin-password' }), { adminCreated: true });
    assert.deepEqual(await seedDefaults(repos, { adminPassword: 'another' }), { adminCreated: false });
    assert.deepEqual(await seedDefaults(repos), { adminCreated: false });
    await assertSeeded(repos);
    assert.ok(await repos.users.verifyCredentials(SUPER_TENANT_ID, 'admin', 'chosen-admin-password'));
  });

  it('without a password, generates a random one (>= 20 chars) and returns it once', async () => {
    const repos = createRepositories(await h.open(), { passwordParams: TEST_PASSWORD_PARAMS });
    const first = await seedDefaults(repos);
    assert.equal(first.adminCreated, true);
    assert.ok(first.generatedPassword && first.generatedPassword.length >= 20);
    assert.ok(await repos.users.verifyCredentials(SUPER_TENANT_ID, 'admin', first.generatedPassword));
    assert.equal((await seedDefaults(repos)).generatedPassword, undefined);

    const other = createRepositories(await h.open(), { passwordParams: TEST_PASSWORD_PARAMS });
    const second = await seedDefaults(other);
    assert.notEqual(second.generatedPassword, first.generatedPassword);
  });

  it('creates no admin when a user already holds the admin role', async () => {
    const repos = createRepositories(await h.open(), { passwordParams: TEST_PASSWORD_PARAMS });
    await repos.tenants.ensure({ id: SUPER_TENANT_ID, domain: 'carbon.super' });
    await repos.roles.ensure(SUPER_TENANT_ID, Roles.Admin);
    await repos.users.create(SUPER_TENANT_ID, { username: 'root', password: 'pw', roles: [Roles.Admin] });
    assert.deepEqual(await seedDefaults(repos), { adminCreated: false });
    assert.equal(await repos.users.findByUsername(SUPER_TENANT_ID, 'admin'), undefined);
  });

  it('two processes seeding at once: both succeed, exactly one creates the admin', async () => {
    const pair = await h.freshPair();
    const setup = await openDatabases(pair);
    await setup.migrate();
    await setup.close();
    const results = await runConcurrently(2, pair, 'seed');
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    assert.equal(results.filter((r) => r.output.adminCreated === true).length, 1, JSON.stringify(results.map((r) => r.output)));
    const dbs = await openDatabases(pair);
    try {
      await assertSeeded(createRepositories(dbs));
    } finally {
      await dbs.close();
    }
  });
});
