import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createAdminService } from '@gatehouse/admin';
import type { AdminService, WorkflowType } from '@gatehouse/admin';
import { loadConfig } from '@gatehouse/config';
import { createServerKeys, SUPER_TENANT_ID, systemClock } from '@gatehouse/core';
import { createRepositories, seedDefaults } from '@gatehouse/data';
import type { Databases, Repositories } from '@gatehouse/data';
import { createInProcessHub, Topics } from '@gatehouse/events';
import type { EventHub, HubEvent } from '@gatehouse/events';
import { skipUnless } from '@gatehouse/testing';
import { createDevPortal, createDevPortalService } from '@gatehouse/devportal';
import type { Caller, DevPortalService } from '@gatehouse/devportal';
import { SECRET, freshDatabases } from './helpers.ts';

// Regression: with Admin and the Developer Portal in separate processes, a WORKFLOW_COMPLETE lost
// on its way (NATS down, the admin process crashed with it queued) left the application CREATED,
// the subscription ON_HOLD or the user PENDING for good. No portal here subscribes to the event:
// each decision below is lost, as it was then.

const T = SUPER_TENANT_ID;
const PW = 'reconcile-password-1';
const alice: Caller = { username: 'alice', tenantId: T, roles: ['Internal/subscriber'] };

function recordingLogger() {
  const lines: { level: string; msg: string | undefined; obj: object }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, msg, obj });
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`workflow decisions whose WORKFLOW_COMPLETE was lost, on ${dialect}`, { skip: dialect === 'postgres' ? await skipUnless('postgres') : false }, () => {
    const config = loadConfig({ argv: [], env: {} });
    let dbs: Databases;
    let close: () => Promise<void>;
    let repos: Repositories;
    let hub: EventHub;
    let admin: AdminService;
    let logger: ReturnType<typeof recordingLogger>;
    // Two Developer Portal replicas on the same databases.
    let portalA: DevPortalService;
    let portalB: DevPortalService;
    const events: HubEvent<Record<string, unknown>>[] = [];
    const eventsOf = (type: string, id: string) => events.filter((e) => e.type === type && (e.payload.applicationId === id || e.payload.subscriptionId === id));

    before(async () => {
      const fresh = await freshDatabases(dialect);
      ({ dbs, close } = fresh);
      repos = createRepositories(dbs);
      await seedDefaults(repos, { adminPassword: 'admin-password-1' });
      hub = createInProcessHub();
      await hub.subscribe<Record<string, unknown>>(Topics.Notification, (e) => void events.push(e));
      logger = recordingLogger();
      const deps = { databases: dbs, repositories: repos, keys: createServerKeys(SECRET), hub, clock: systemClock, logger };
      admin = createAdminService(deps);
      portalA = createDevPortalService(config, deps);
      portalB = createDevPortalService(config, deps);
      for (const t of ['APPLICATION_CREATION', 'SUBSCRIPTION_CREATION', 'USER_SIGNUP'] as const) await admin.setWorkflowEnabled(T, t, true);
    });
    after(async () => {
      await hub?.close();
      await close?.();
    });
    beforeEach(() => {
      events.length = 0;
      logger.lines.length = 0;
    });

    /** Approves or rejects the pending workflow about `subjectRef`, as the Admin portal does. */
    const decide = async (type: WorkflowType, subjectRef: string, status: 'APPROVED' | 'REJECTED') => {
      const pending = await admin.listPendingWorkflows(T, { workflowType: type, limit: 100, offset: 0 });
      const wf = pending.items.find((w) => w.subjectRef === subjectRef);
      assert.ok(wf, `a pending ${type} workflow about ${subjectRef}`);
      await admin.completeWorkflow(T, wf.referenceId, { status });
      return wf.referenceId;
    };
    const bothReplicas = async () => (await Promise.all([portalA.reconcileWorkflows(), portalB.reconcileWorkflows()])).reduce((a, b) => a + b, 0);

    it('approves an application whose approval event was lost, once however many replicas reconcile', async () => {
      const app = await portalA.applications.create(alice, { name: 'Held', throttlingPolicy: 'Unlimited' });
      assert.equal(app.status, 'CREATED');
      const ref = await decide('APPLICATION_CREATION', app.id, 'APPROVED');
      assert.equal((await portalA.store.applications.get(T, app.id))?.status, 'CREATED', 'nothing applied the decision yet');

      assert.equal(await bothReplicas(), 1);
      assert.equal((await portalA.store.applications.get(T, app.id))?.status, 'APPROVED');
      const updates = eventsOf('APPLICATION_UPDATE', app.id);
      assert.equal(updates.length, 1, 'one APPLICATION_UPDATE for the gateways');
      assert.equal(updates[0]!.payload.status, 'APPROVED');
      assert.ok(logger.lines.some((l) => l.level === 'info' && (l.obj as { referenceId?: string }).referenceId === ref));

      // Later passes, and the event if it does arrive after all, change nothing.
      assert.equal(await bothReplicas(), 0);
      assert.equal(await portalB.onWorkflowComplete({ referenceId: ref, tenantId: T }), false);
      assert.equal(eventsOf('APPLICATION_UPDATE', app.id).length, 1);
    });

    it('rejects a subscription whose rejection event was lost, with one SUBSCRIPTIONS_UPDATE', async () => {
      const app = await portalA.store.applications.create(T, { name: 'Subscriber', owner: 'alice', throttlingPolicy: 'Unlimited', tokenType: 'JWT', status: 'APPROVED' });
      // As subscriptions.create stores an ON_HOLD subscription and starts its workflow.
      const sub = await portalA.store.subscriptions.create(T, { applicationId: app.id, apiId: 'api-1', throttlingPolicy: 'Gold', status: 'ON_HOLD', createdBy: 'alice' });
      await admin.createWorkflow(T, { workflowType: 'SUBSCRIPTION_CREATION', subjectRef: sub.id, createdBy: 'alice', description: 'Subscription of Subscriber to api-1' });
      await decide('SUBSCRIPTION_CREATION', sub.id, 'REJECTED');
      assert.equal((await portalA.store.subscriptions.get(T, sub.id))?.status, 'ON_HOLD');

      assert.equal(await bothReplicas(), 1);
      assert.equal((await portalA.store.subscriptions.get(T, sub.id))?.status, 'REJECTED');
      const updates = eventsOf('SUBSCRIPTIONS_UPDATE', sub.id);
      assert.equal(updates.length, 1);
      assert.equal(updates[0]!.payload.status, 'REJECTED');
      assert.equal(await bothReplicas(), 0);
      assert.equal(eventsOf('SUBSCRIPTIONS_UPDATE', sub.id).length, 1);
    });

    it('applies a decision once when its event and a reconciler pass race', async () => {
      const app = await portalA.applications.create(alice, { name: 'Raced', throttlingPolicy: 'Unlimited' });
      const ref = await decide('APPLICATION_CREATION', app.id, 'REJECTED');
      const [byEvent, byPass] = await Promise.all([portalA.onWorkflowComplete({ referenceId: ref, tenantId: T }), portalB.reconcileWorkflows()]);
      assert.equal(Number(byEvent) + byPass, 1);
      assert.equal((await portalA.store.applications.get(T, app.id))?.status, 'REJECTED');
      assert.equal(eventsOf('APPLICATION_UPDATE', app.id).length, 1);
    });

    it('activates an approved sign-up, deletes a rejected one, and leaves a new sign-up of that name pending', async () => {
      assert.equal((await portalA.users.signUp(T, { username: 'dave', password: PW })).status, 'PENDING');
      assert.equal((await portalA.users.signUp(T, { username: 'erin', password: PW })).status, 'PENDING');
      await decide('USER_SIGNUP', 'dave', 'APPROVED');
      const rejected = await decide('USER_SIGNUP', 'erin', 'REJECTED');

      assert.equal(await bothReplicas(), 2);
      assert.equal((await repos.users.findByUsername(T, 'dave'))?.status, 'ACTIVE');
      assert.equal(await repos.users.findByUsername(T, 'erin'), undefined);

      // erin signs up again: the old rejection is not hers to apply, by a pass or by a late event.
      assert.equal((await portalA.users.signUp(T, { username: 'erin', password: PW })).status, 'PENDING');
      assert.equal(await bothReplicas(), 0);
      assert.equal(await portalA.onWorkflowComplete({ referenceId: rejected, tenantId: T }), false);
      assert.equal((await repos.users.findByUsername(T, 'erin'))?.status, 'PENDING');
      await decide('USER_SIGNUP', 'erin', 'APPROVED');
      assert.equal(await bothReplicas(), 1);
      assert.equal((await repos.users.findByUsername(T, 'erin'))?.status, 'ACTIVE');
    });

    it('the Developer Portal component applies a lost decision when it starts', async () => {
      const app = await portalA.applications.create(alice, { name: 'WhileDown', throttlingPolicy: 'Unlimited' });
      await decide('APPLICATION_CREATION', app.id, 'APPROVED');
      const component = createDevPortal(config, { databases: dbs, repositories: repos, keys: createServerKeys(SECRET), hub, clock: systemClock, logger });
      await component.start();
      try {
        for (let i = 0; i < 100 && (await portalA.store.applications.get(T, app.id))?.status !== 'APPROVED'; i++) await new Promise((r) => setTimeout(r, 20));
        assert.equal((await portalA.store.applications.get(T, app.id))?.status, 'APPROVED');
      } finally {
        await component.stop();
      }
      assert.equal(eventsOf('APPLICATION_UPDATE', app.id).length, 1);
    });
  });
}
