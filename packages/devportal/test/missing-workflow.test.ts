import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KyselyPlugin } from 'kysely';
import { createAdminService } from '@gatehouse/admin';
import type { AdminService, WorkflowType } from '@gatehouse/admin';
import { loadConfig } from '@gatehouse/config';
import { createServerKeys, SUPER_TENANT_ID, systemClock } from '@gatehouse/core';
import type { Clock } from '@gatehouse/core';
import { createRepositories, seedDefaults } from '@gatehouse/data';
import type { Databases, Repositories } from '@gatehouse/data';
import { createInProcessHub, Topics } from '@gatehouse/events';
import type { EventHub, HubEvent } from '@gatehouse/events';
import { createPublisherService } from '@gatehouse/publisher';
import { skipUnless } from '@gatehouse/testing';
import { createDevPortal, createDevPortalService, createDevPortalStore } from '@gatehouse/devportal';
import type { Caller, DevPortalService, DevPortalStore } from '@gatehouse/devportal';
import { SECRET, freshDatabases } from './helpers.ts';

// Regression: the Developer Portal stored an application CREATED, a subscription ON_HOLD or a
// user PENDING, then wrote its approval workflow in a second step. A crash or a failed write in
// between left the item waiting for a decision nobody was asked for, for good: the reconciler
// only applied decisions of workflows that existed, and Admin listed none for it.

const T = SUPER_TENANT_ID;
const PW = 'missing-workflow-password-1';
const TYPES = ['APPLICATION_CREATION', 'SUBSCRIPTION_CREATION', 'USER_SIGNUP'] as const;
const alice: Caller = { username: 'alice', tenantId: T, roles: ['Internal/subscriber'] };
const PASSWORD_PARAMS = { N: 1024, r: 8, p: 1 };

function recordingLogger() {
  const lines: { level: string; msg: string | undefined; obj: Record<string, unknown> }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, msg, obj: obj as Record<string, unknown> });
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

/** Refuses every insert into admin_workflows, as a database that fails that one write. */
const refuseWorkflowInserts: KyselyPlugin = {
  transformQuery({ node }) {
    if (node.kind === 'InsertQueryNode' && node.into?.table.identifier.name === 'admin_workflows') throw new Error('injected: the workflow row could not be written');
    return node;
  },
  transformResult: async ({ result }) => result,
};

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`items held for approval whose workflow row is missing, on ${dialect}`, { skip: dialect === 'postgres' ? await skipUnless('postgres') : false }, () => {
    const config = loadConfig({ argv: [], env: {} });
    const grace = config.devportal.workflow_missing_grace_ms;
    // Items stored this long ago have waited out the grace period.
    const earlier: Clock = { now: () => Date.now() - 2 * grace };
    let dbs: Databases;
    let close: () => Promise<void>;
    let repos: Repositories;
    let hub: EventHub;
    let admin: AdminService;
    let logger: ReturnType<typeof recordingLogger>;
    let deps: Parameters<typeof createDevPortalService>[1];
    // Developer Portal replicas on the same databases.
    let replicas: DevPortalService[];
    // Writes as the old code did, before the workflow: items stored without one, a while ago.
    let oldStore: DevPortalStore;
    let oldRepos: Repositories;
    let apiId: string;
    const events: HubEvent<Record<string, unknown>>[] = [];

    before(async () => {
      ({ dbs, close } = await freshDatabases(dialect));
      repos = createRepositories(dbs, { passwordParams: PASSWORD_PARAMS });
      oldRepos = createRepositories(dbs, { passwordParams: PASSWORD_PARAMS, clock: earlier });
      oldStore = createDevPortalStore(dbs.apim, earlier);
      await seedDefaults(repos, { adminPassword: 'admin-password-1' });
      hub = createInProcessHub();
      await hub.subscribe<Record<string, unknown>>(Topics.Notification, (e) => void events.push(e));
      logger = recordingLogger();
      const keys = createServerKeys(SECRET);
      deps = { databases: dbs, repositories: repos, keys, hub, clock: systemClock, logger };
      admin = createAdminService(deps);
      replicas = [1, 2, 3, 4].map(() => createDevPortalService(config, deps));
      for (const t of TYPES) await admin.setWorkflowEnabled(T, t, true);
      const publisher = createPublisherService({ databases: dbs, repositories: repos, keys, hub, clock: systemClock });
      const actor = { username: 'admin', tenantId: T };
      const api = await publisher.createApi(actor, { name: 'Orders', context: '/orders', version: '1.0.0', policies: ['Unlimited'], endpointConfig: { endpoint_type: 'http', production_endpoints: { url: 'http://127.0.0.1:1/orders' } } });
      await publisher.changeLifecycle(actor, api.id, 'Publish', undefined, undefined);
      apiId = api.id;
    });
    after(async () => {
      await hub?.close();
      await close?.();
    });
    beforeEach(() => {
      events.length = 0;
      logger.lines.length = 0;
    });

    const portal = () => replicas[0]!;
    const reconcileAtOnce = async (n: number) => (await Promise.all(replicas.slice(0, n).map((r) => r.reconcileWorkflows()))).reduce((a, b) => a + b, 0);
    const workflowsAbout = (type: WorkflowType, subjectRef: string) =>
      dbs.apim.selectFrom('admin_workflows').selectAll().where('tenant_id', '=', T).where('workflow_type', '=', type).where('subject_ref', '=', subjectRef).execute();
    const pendingAbout = async (type: WorkflowType, subjectRef: string) =>
      (await admin.listPendingWorkflows(T, { workflowType: type, limit: 500, offset: 0 })).items.filter((w) => w.subjectRef === subjectRef);
    const eventsAbout = (type: string, id: string) => events.filter((e) => e.type === type && (e.payload.applicationId === id || e.payload.subscriptionId === id || e.payload.subjectRef === id));

    /** An application CREATED, a subscription ON_HOLD and a user PENDING, none with a workflow, stored `grace` × 2 ago. */
    const strand = async (name: string) => {
      const app = await oldStore.applications.create(T, { name: `${name}-held`, owner: 'alice', throttlingPolicy: 'Unlimited', tokenType: 'JWT', status: 'CREATED' });
      const approved = await oldStore.applications.create(T, { name: `${name}-approved`, owner: 'alice', throttlingPolicy: 'Unlimited', tokenType: 'JWT', status: 'APPROVED' });
      const sub = await oldStore.subscriptions.create(T, { applicationId: approved.id, apiId, throttlingPolicy: 'Unlimited', status: 'ON_HOLD', createdBy: 'alice' });
      const user = await oldRepos.users.create(T, { username: `${name}-user`.toLowerCase(), password: PW, status: 'PENDING', roles: ['Internal/subscriber'] });
      return { app, sub, user };
    };

    async function until(what: string, check: () => Promise<boolean>): Promise<void> {
      for (let i = 0; i < 150; i++) {
        if (await check()) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.fail(`timed out waiting until ${what}`);
    }

    it('leaves no application, subscription or sign-up behind when its workflow row cannot be written', async () => {
      const failing = createDevPortalService(config, { ...deps, databases: { ...dbs, apim: dbs.apim.withPlugin(refuseWorkflowInserts) } });
      const owned = await portal().store.applications.create(T, { name: 'Subscriber', owner: 'alice', throttlingPolicy: 'Unlimited', tokenType: 'JWT', status: 'APPROVED' });

      await assert.rejects(failing.applications.create(alice, { name: 'Doomed', throttlingPolicy: 'Unlimited' }), /injected/);
      assert.equal((await portal().applications.list(alice, { limit: 10, offset: 0, query: 'Doomed' })).total, 0, 'no application without its workflow');
      await assert.rejects(failing.subscriptions.create(alice, { applicationId: owned.id, apiId, throttlingPolicy: 'Unlimited' }), /injected/);
      assert.deepEqual(await portal().store.subscriptions.list(T, { applicationId: owned.id }), [], 'no subscription without its workflow');
      await assert.rejects(failing.users.signUp(T, { username: 'frank', password: PW }), /injected/);
      assert.equal(await repos.users.findByUsername(T, 'frank'), undefined, 'no PENDING user without a workflow');
      assert.deepEqual(events.filter((e) => e.type === 'APPLICATION_CREATE' || e.type === 'SUBSCRIPTIONS_CREATE'), [], 'nothing announced to the gateways');

      // Nothing half-made blocks trying again once the database takes the row.
      const app = await portal().applications.create(alice, { name: 'Doomed', throttlingPolicy: 'Unlimited' });
      const sub = await portal().subscriptions.create(alice, { applicationId: owned.id, apiId, throttlingPolicy: 'Unlimited' });
      const user = await portal().users.signUp(T, { username: 'frank', password: PW });
      assert.deepEqual([app.status, sub.status, user.status], ['CREATED', 'ON_HOLD', 'PENDING']);
      assert.equal((await pendingAbout('APPLICATION_CREATION', app.id)).length, 1);
      assert.equal((await pendingAbout('SUBSCRIPTION_CREATION', sub.id)).length, 1);
      assert.equal((await pendingAbout('USER_SIGNUP', 'frank')).length, 1);
      assert.equal(eventsAbout('WORKFLOW_CREATE', app.id).length, 1, 'WORKFLOW_CREATE once committed');
    });

    it('keeps an item and its workflow when only WORKFLOW_CREATE cannot be published (Admin lists workflows from the database)', async () => {
      const hubDown: EventHub = new Proxy(hub, {
        get(target, key) {
          if (key === 'publish') {
            const publish: EventHub['publish'] = (topic, type, payload, opts) => (type === 'WORKFLOW_CREATE' ? Promise.reject(new Error('injected: the event hub is down')) : target.publish(topic, type, payload, opts));
            return publish;
          }
          const value: unknown = Reflect.get(target, key);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const portalHubDown = createDevPortalService(config, { ...deps, hub: hubDown });
      const app = await portalHubDown.applications.create(alice, { name: 'Unannounced', throttlingPolicy: 'Unlimited' });
      const user = await portalHubDown.users.signUp(T, { username: 'gwen', password: PW });
      assert.equal((await pendingAbout('APPLICATION_CREATION', app.id)).length, 1);
      assert.equal((await repos.users.findByUsername(T, 'gwen'))?.status, 'PENDING', 'the sign-up is kept');
      assert.equal((await pendingAbout('USER_SIGNUP', user.username)).length, 1);
      assert.equal(logger.lines.filter((l) => l.level === 'error' && l.msg === 'could not publish WORKFLOW_CREATE').length, 2);
    });

    it('opens the missing workflow of an application, a subscription and a sign-up once they waited out the grace period; Admin approves them end to end', async () => {
      const { app, sub, user } = await strand('Stranded');
      const young = await portal().store.applications.create(T, { name: 'Young', owner: 'alice', throttlingPolicy: 'Unlimited', tokenType: 'JWT', status: 'CREATED' });

      assert.equal(await reconcileAtOnce(2), 3);
      const wfs = { app: await pendingAbout('APPLICATION_CREATION', app.id), sub: await pendingAbout('SUBSCRIPTION_CREATION', sub.id), user: await pendingAbout('USER_SIGNUP', user.username) };
      assert.deepEqual([wfs.app.length, wfs.sub.length, wfs.user.length], [1, 1, 1], 'one pending workflow each, listed for Admin');
      assert.equal(wfs.sub[0]!.description, 'Subscription of Stranded-approved to Orders 1.0.0');
      assert.equal(wfs.app[0]!.createdBy, 'alice');
      assert.deepEqual(await workflowsAbout('APPLICATION_CREATION', young.id), [], 'a young item may be a request still writing its workflow');
      for (const subject of [app.id, sub.id, user.username]) {
        assert.ok(logger.lines.some((l) => l.level === 'warn' && l.obj.subjectRef === subject && /opened the approval workflow/.test(l.msg ?? '')), `logged opening ${subject}'s workflow`);
        assert.equal(eventsAbout('WORKFLOW_CREATE', subject).length, 1);
      }
      assert.equal(await reconcileAtOnce(2), 0, 'opened once');

      // The Admin portal approves; the Developer Portal applies it on WORKFLOW_COMPLETE.
      const component = createDevPortal(config, { ...deps });
      await component.start();
      try {
        for (const wf of [wfs.app[0]!, wfs.sub[0]!, wfs.user[0]!]) await admin.completeWorkflow(T, wf.referenceId, { status: 'APPROVED' });
        await until('the approvals are applied', async () =>
          (await portal().store.applications.get(T, app.id))?.status === 'APPROVED'
          && (await portal().store.subscriptions.get(T, sub.id))?.status === 'UNBLOCKED'
          && (await repos.users.findByUsername(T, user.username))?.status === 'ACTIVE');
      } finally {
        await component.stop();
      }
      assert.equal(eventsAbout('APPLICATION_UPDATE', app.id).length, 1);
      assert.equal(eventsAbout('SUBSCRIPTIONS_UPDATE', sub.id)[0]?.payload.status, 'UNBLOCKED');
      assert.equal((await portal().users.verify(T, user.username, PW))?.username, user.username, 'the approved user signs in');
      await portal().store.applications.delete(T, young.id);
    });

    it('opens one workflow per item when replicas reconcile at once', async () => {
      for (let round = 0; round < 5; round++) {
        const items = await Promise.all([1, 2, 3].map((i) => strand(`Race${round}x${i}`)));
        assert.equal(await reconcileAtOnce(4), 9, `round ${round}: each item opened by one replica`);
        for (const { app, sub, user } of items) {
          assert.equal((await workflowsAbout('APPLICATION_CREATION', app.id)).length, 1);
          assert.equal((await workflowsAbout('SUBSCRIPTION_CREATION', sub.id)).length, 1);
          assert.equal((await workflowsAbout('USER_SIGNUP', user.username)).length, 1);
        }
        assert.ok(!logger.lines.some((l) => l.level === 'error'), 'a replica that lost the race logs no error');
      }
    });

    it('approves an item left without a workflow once Admin has turned that workflow type off, as one submitted now would be', async () => {
      const { app, sub, user } = await strand('Unheld');
      for (const t of TYPES) await admin.setWorkflowEnabled(T, t, false);
      try {
        assert.equal(await reconcileAtOnce(2), 3);
      } finally {
        for (const t of TYPES) await admin.setWorkflowEnabled(T, t, true);
      }
      assert.equal((await portal().store.applications.get(T, app.id))?.status, 'APPROVED');
      assert.equal((await portal().store.subscriptions.get(T, sub.id))?.status, 'UNBLOCKED');
      assert.equal((await repos.users.findByUsername(T, user.username))?.status, 'ACTIVE');
      assert.deepEqual(eventsAbout('APPLICATION_UPDATE', app.id).map((e) => e.payload.status), ['APPROVED'], 'the gateways learn it once');
      assert.deepEqual(eventsAbout('SUBSCRIPTIONS_UPDATE', sub.id).map((e) => e.payload.status), ['UNBLOCKED']);
      assert.deepEqual(await workflowsAbout('APPLICATION_CREATION', app.id), [], 'no approval task for a type that is off');
      assert.equal(logger.lines.filter((l) => l.level === 'warn' && /turned this workflow type off/.test(l.msg ?? '')).length, 3);
    });
  });
}
