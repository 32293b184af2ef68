import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServerKeys, SUPER_TENANT_ID } from '@gatehouse/core';
import { createRepositories } from '@gatehouse/data';
import { Topics } from '@gatehouse/events';
import type { HubEvent } from '@gatehouse/events';
import { httpCall, skipUnless } from '@gatehouse/testing';
import type { SimpleResponse } from '@gatehouse/testing';
import { createAdminService } from '../src/index.ts';
import type { AdminService, TenantConfig } from '../src/index.ts';
import AjvCompiler from '@fastify/ajv-compiler';
import { responseChecker } from './contract.ts';
import { SECRET, startAdminNode } from './helpers.ts';
import type { AdminNode } from './helpers.ts';

const pgSkip = await skipUnless('postgres');

/** A tenant other than carbon.super, reached through the service (tokens are carbon.super's). */
const OTHER_TENANT = 7;
const allOff: TenantConfig = { Workflows: { ApplicationCreation: false, SubscriptionCreation: false, UserSignup: false }, RoleAliases: [] };
type Json = Record<string, unknown>;

/** A plain Ajv 8 (fastify's defaults would strip unknown keys and coerce types instead of refusing them). */
function plainAjv(): AjvCompiler.Ajv {
  let ajv: AjvCompiler.Ajv | undefined;
  AjvCompiler()({}, { customOptions: { strict: false, allErrors: true, removeAdditional: false, coerceTypes: false, useDefaults: false }, onCreate: (a) => (ajv = a) });
  return ajv!;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`Admin tenant configuration on ${dialect}`, { skip: dialect === 'postgres' ? pgSkip : false }, () => {
    let n: AdminNode;
    let checker: ReturnType<typeof responseChecker>;
    let service: AdminService;
    const events: HubEvent[] = [];

    before(async () => {
      n = await startAdminNode({ postgres: dialect === 'postgres' });
      checker = responseChecker((await n.call('GET', '/openapi.json', { token: null })).json());
      service = createAdminService({ databases: n.node.databases!, repositories: createRepositories(n.node.databases!), keys: createServerKeys(SECRET), hub: n.node.hub, clock: { now: () => Date.now() } });
      await n.node.hub.subscribe(Topics.Notification, (e) => void events.push(e));
    });
    after(() => n?.close());

    /** Every response is checked against our own OpenAPI document. */
    const call = async (method: string, path: string, options: { body?: unknown; token?: string | null; raw?: string } = {}): Promise<SimpleResponse> => {
      const res = await n.call(method, path, options);
      checker.check(method, path, res);
      return res;
    };
    const config = async () => (await call('GET', '/tenant-config')).json<TenantConfig>();

    it('starts with every workflow off and no role alias', async () => {
      assert.deepEqual(await config(), allOff);
    });

    it('serves the JSON Schema the documents it returns match', async () => {
      const res = await call('GET', '/tenant-config-schema');
      assert.equal(res.status, 200);
      const schema = res.json<Json>();
      assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
      const validate = plainAjv().compile(schema);
      assert.ok(validate(await config()), JSON.stringify(validate.errors));
      assert.equal(validate({ Workflows: { SubscriptionCreation: 'yes' } }), false);
      assert.equal(validate({ Workflows: {}, Extra: 1 }), false);
    });

    it('replaces the configuration and answers what is stored; a switch left out is off', async () => {
      const wanted: TenantConfig = { Workflows: { ApplicationCreation: false, SubscriptionCreation: true, UserSignup: true }, RoleAliases: [{ role: 'Internal/subscriber', aliases: ['Subscriber', 'Subscriber'] }] };
      const put = await call('PUT', '/tenant-config', { body: wanted });
      assert.equal(put.status, 200, put.text);
      const stored: TenantConfig = { ...wanted, RoleAliases: [{ role: 'Internal/subscriber', aliases: ['Subscriber'] }] };
      assert.deepEqual(put.json(), stored);
      assert.deepEqual(await config(), stored);
      // One source of truth: the service's switches and the role-alias operation see the same.
      assert.equal(await service.isWorkflowEnabled(SUPER_TENANT_ID, 'SUBSCRIPTION_CREATION'), true);
      assert.equal(await service.isWorkflowEnabled(SUPER_TENANT_ID, 'APPLICATION_CREATION'), false);
      assert.deepEqual((await call('GET', '/system-scopes/role-aliases')).json<Json>().list, stored.RoleAliases);
      assert.ok(events.some((e) => e.type === 'ROLE_ALIAS_UPDATE'), 'changed aliases are announced as by /system-scopes/role-aliases');

      const partial = await call('PUT', '/tenant-config', { body: { Workflows: { ApplicationCreation: true } } });
      assert.equal(partial.status, 200, partial.text);
      assert.deepEqual(partial.json(), { Workflows: { ApplicationCreation: true, SubscriptionCreation: false, UserSignup: false }, RoleAliases: [] });
      assert.deepEqual((await call('GET', '/system-scopes/role-aliases')).json<Json>().list, []);
    });

    it('setWorkflowEnabled and PUT /system-scopes/role-aliases change the same document', async () => {
      await call('PUT', '/tenant-config', { body: allOff });
      await service.setWorkflowEnabled(SUPER_TENANT_ID, 'USER_SIGNUP', true);
      assert.deepEqual((await config()).Workflows, { ApplicationCreation: false, SubscriptionCreation: false, UserSignup: true });
      await call('PUT', '/system-scopes/role-aliases', { body: { list: [{ role: 'admin', aliases: ['root'] }] } });
      assert.deepEqual((await config()).RoleAliases, [{ role: 'admin', aliases: ['root'] }]);
      await service.setWorkflowEnabled(SUPER_TENANT_ID, 'USER_SIGNUP', false);
      assert.deepEqual(await config(), { ...allOff, RoleAliases: [{ role: 'admin', aliases: ['root'] }] }, 'a switch keeps the aliases');
      await assert.rejects(service.setWorkflowEnabled(SUPER_TENANT_ID, 'API_STATE' as never, true), { code: 'ADMIN_ERR_VALIDATION' });
    });

    it('refuses a document that does not match the schema with 400 naming the path, storing nothing', async () => {
      const before = { Workflows: { ApplicationCreation: true, SubscriptionCreation: false, UserSignup: false }, RoleAliases: [{ role: 'admin', aliases: [] }] };
      await call('PUT', '/tenant-config', { body: before });
      const bad: [unknown, RegExp][] = [
        [{ Workflows: { SubscriptionCreation: 'true' } }, /body\.Workflows\.SubscriptionCreation: must be boolean/],
        [{ Workflows: { SubscriptionCreation: true, ApiState: true } }, /body\.Workflows\.ApiState: must NOT have additional properties/],
        [{ Workflows: {}, Theme: 'dark' }, /body\.Theme: must NOT have additional properties/],
        [{ RoleAliases: [] }, /body\.Workflows: must have required property/],
        [{ Workflows: {}, RoleAliases: [{ role: 'admin' }] }, /body\.RoleAliases\.0\.aliases/],
        [{ Workflows: {}, RoleAliases: [{ role: 'a', aliases: [] }, { role: 'a', aliases: ['b'] }] }, /body\.RoleAliases\.1\.role: a is listed twice/],
        [[], /body: must be object/],
      ];
      for (const [body, message] of bad) {
        const res = await call('PUT', '/tenant-config', { body });
        assert.equal(res.status, 400, JSON.stringify(body));
        const err = res.json<{ code: number; description: string }>();
        assert.equal(typeof err.code, 'number');
        assert.match(err.description, message);
      }
      assert.equal((await n.call('PUT', '/tenant-config', { raw: '{"Workflows":' })).status, 400, 'malformed JSON');
      assert.deepEqual(await config(), before, 'a refused document changes nothing');
    });

    it('answers 413 to a body over 1 MiB, storing nothing', async () => {
      const before = await config();
      const huge = await call('PUT', '/tenant-config', { raw: JSON.stringify({ Workflows: { SubscriptionCreation: true }, RoleAliases: [{ role: 'r', aliases: ['x'.repeat(2 * 1024 * 1024)] }] }) });
      assert.equal(huge.status, 413);
      assert.deepEqual(await config(), before);
    });

    it('needs a token with apim:admin', async () => {
      assert.equal((await call('GET', '/tenant-config', { token: null })).status, 401);
      const approver = await n.token(['apim:api_workflow_view', 'apim:api_workflow_approve', 'apim:tier_manage', 'apim:scope_manage']);
      const before = await config();
      for (const [method, path, body] of [['GET', '/tenant-config'], ['GET', '/tenant-config-schema'], ['PUT', '/tenant-config', { Workflows: { ApplicationCreation: !before.Workflows.ApplicationCreation } }]] as const) {
        const res = await call(method, path, { token: approver, body });
        assert.equal(res.status, 403, `${method} ${path}`);
        assert.equal(res.json<Json>().code, 900910);
      }
      assert.deepEqual(await config(), before);
    });

    it("keeps each tenant's configuration apart", async () => {
      await service.setTenantConfig(OTHER_TENANT, { Workflows: { ApplicationCreation: false, SubscriptionCreation: true, UserSignup: false }, RoleAliases: [{ role: 'other', aliases: ['o'] }] });
      const other = await service.getTenantConfig(OTHER_TENANT);
      await call('PUT', '/tenant-config', { body: { Workflows: { ApplicationCreation: true, UserSignup: true } } });
      assert.deepEqual(await config(), { Workflows: { ApplicationCreation: true, SubscriptionCreation: false, UserSignup: true }, RoleAliases: [] });
      assert.deepEqual(await service.getTenantConfig(OTHER_TENANT), other, "the other tenant's document is untouched");
      assert.equal(await service.isWorkflowEnabled(OTHER_TENANT, 'APPLICATION_CREATION'), false);
      assert.equal(await service.isWorkflowEnabled(SUPER_TENANT_ID, 'SUBSCRIPTION_CREATION'), false);
    });

    it('holds new Developer Portal applications for approval once ApplicationCreation is switched on, and stops when it is off', async () => {
      const consumer = await n.token(['apim:subscribe', 'apim:app_manage']);
      const createApp = (name: string) =>
        httpCall(`${n.base}/api/am/devportal/v3/applications`, {
          method: 'POST',
          headers: { authorization: `Bearer ${consumer}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name, throttlingPolicy: 'Unlimited' }),
        });
      assert.equal((await call('PUT', '/tenant-config', { body: { Workflows: { ApplicationCreation: true } } })).status, 200);
      const held = await createApp('HeldByConfig');
      assert.equal(held.status, 202, held.text);
      assert.equal(held.json<Json>().status, 'CREATED');
      const pending = (await call('GET', '/workflows?workflowType=AM_APPLICATION_CREATION')).json<{ list: { properties: Json }[] }>();
      assert.ok(pending.list.some((w) => w.properties.applicationName === 'HeldByConfig'), 'an approval task is open');

      assert.equal((await call('PUT', '/tenant-config', { body: allOff })).status, 200);
      const free = await createApp('NotHeld');
      assert.equal(free.status, 201, free.text);
      assert.equal(free.json<Json>().status, 'APPROVED');
    });

    it('checked every response against the OpenAPI document', () => {
      assert.ok(checker.checked > 25, `only ${checker.checked} bodies were checked`);
    });
  });
}
