import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ADMIN, DP, startHarness } from './helpers.ts';
import type { Harness } from './helpers.ts';

// WSO2's contract is read here, in the test only, never copied into the project.
const WSO2_YAML = fileURLToPath(new URL('../../../../shared/reference/wso2-4.2.0/devportal-v3.yaml', import.meta.url));

type Policy = { name: string; policyLevel: string; requestCount: number; unitTime: number; timeUnit: string; tierPlan: string; stopOnQuotaReach: boolean; quotaPolicyType: string };
type PolicyList = { count: number; list: Policy[]; pagination: { offset: number; limit: number; total: number; next: string; previous: string } };

describe('developer portal: throttling policies', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h?.close());

  it("lists Admin's application and subscription policies, anonymously, with WSO2's paging", async () => {
    const apps = await h.json<PolicyList>(undefined, 'GET', `${DP}/throttling-policies/application`, undefined, 200);
    assert.deepEqual(apps.list.map((p) => p.name).sort(), ['10PerMin', '20PerMin', '50PerMin', 'Unlimited']);
    assert.equal(apps.count, 4);
    assert.ok(apps.list.every((p) => p.policyLevel === 'application'));

    const subs = await h.json<PolicyList>(undefined, 'GET', `${DP}/throttling-policies/subscription?limit=2&offset=1`, undefined, 200);
    assert.equal(subs.count, 2);
    assert.equal(subs.pagination.total, 5);
    assert.equal(subs.pagination.next, `${DP}/throttling-policies/subscription?limit=2&offset=3`);
    assert.equal(subs.pagination.previous, `${DP}/throttling-policies/subscription?limit=2&offset=0`);

    const consumer = await h.token('admin', h.node.adminPassword, 'apim:subscribe');
    const withToken = await h.json<PolicyList>(consumer, 'GET', `${DP}/throttling-policies/subscription`, undefined, 200);
    assert.equal(withToken.count, 5);
  });

  it('gets one policy by name in the shape of WSO2 ThrottlingPolicy', async () => {
    const gold = await h.json<Policy>(undefined, 'GET', `${DP}/throttling-policies/subscription/Gold`, undefined, 200);
    assert.deepEqual(
      { name: gold.name, policyLevel: gold.policyLevel, requestCount: gold.requestCount, unitTime: gold.unitTime, timeUnit: gold.timeUnit, tierPlan: gold.tierPlan, stopOnQuotaReach: gold.stopOnQuotaReach, quotaPolicyType: gold.quotaPolicyType },
      { name: 'Gold', policyLevel: 'subscription', requestCount: 5000, unitTime: 60_000, timeUnit: 'min', tierPlan: 'FREE', stopOnQuotaReach: true, quotaPolicyType: 'REQUESTCOUNT' },
    );
    const ten = await h.json<Policy>(undefined, 'GET', `${DP}/throttling-policies/application/10PerMin`, undefined, 200);
    assert.equal(ten.requestCount, 10);
  });

  it('follows Admin: a new policy is listed, a deleted one is gone', async () => {
    const admin = await h.token('admin', h.node.adminPassword, 'apim:admin apim:tier_view apim:tier_manage');
    const created = await h.json<{ policyId: string }>(admin, 'POST', `${ADMIN}/throttling/policies/application`, {
      policyName: '5PerMin', description: 'Allows 5 requests per minute', defaultLimit: { type: 'REQUESTCOUNTLIMIT', requestCount: { timeUnit: 'min', unitTime: 1, requestCount: 5 } },
    }, 201);
    assert.equal((await h.json<Policy>(undefined, 'GET', `${DP}/throttling-policies/application/5PerMin`, undefined, 200)).requestCount, 5);
    assert.equal((await h.call(admin, 'DELETE', `${ADMIN}/throttling/policies/application/${created.policyId}`)).status, 200);
    assert.equal((await h.call(undefined, 'GET', `${DP}/throttling-policies/application/5PerMin`)).status, 404);
  });

  it('answers 400 for an unknown policy level', async () => {
    for (const path of ['advanced', 'custom', 'nope']) {
      const res = await h.call(undefined, 'GET', `${DP}/throttling-policies/${path}`);
      assert.equal(res.status, 400, path);
      assert.equal(((await res.json()) as { code: number }).code, 900400);
    }
    assert.equal((await h.call(undefined, 'GET', `${DP}/throttling-policies/advanced/10KPerMin`)).status, 400);
  });

  it('answers 404 for an unknown policy, and for a policy of the other level', async () => {
    const res = await h.call(undefined, 'GET', `${DP}/throttling-policies/subscription/NoSuchTier`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { code: number }).code, 901444);
    assert.equal((await h.call(undefined, 'GET', `${DP}/throttling-policies/subscription/10PerMin`)).status, 404);
  });

  it("documents both operations as WSO2 4.2's devportal-v3 has them", { skip: existsSync(WSO2_YAML) ? false : `WSO2's contract is not at ${WSO2_YAML}` }, async () => {
    type Doc = { paths: Record<string, Record<string, { security?: unknown }>>; components?: { schemas?: Record<string, { properties?: Record<string, unknown> }> } };
    const ours = await h.json<Doc>(undefined, 'GET', `${DP}/openapi.json`, undefined, 200);
    const specifier = 'js-yaml';
    const { load } = (await import(specifier)) as { load(text: string): unknown };
    const wso2 = load(readFileSync(WSO2_YAML, 'utf8')) as Doc;
    for (const path of ['/throttling-policies/{policyLevel}', '/throttling-policies/{policyLevel}/{policyId}']) {
      assert.ok(wso2.paths[path]?.get, `WSO2 has GET ${path}`);
      assert.ok(ours.paths[path]?.get, `we document GET ${path}`);
      assert.deepEqual(ours.paths[path]!.get!.security, wso2.paths[path]!.get!.security);
    }
    // Every field we answer is one WSO2's ThrottlingPolicy has.
    const fields = new Set(Object.keys(wso2.components!.schemas!.ThrottlingPolicy!.properties!));
    const gold = await h.json<Record<string, unknown>>(undefined, 'GET', `${DP}/throttling-policies/subscription/Gold`, undefined, 200);
    for (const k of Object.keys(gold)) assert.ok(fields.has(k), `ThrottlingPolicy.${k}`);
    const list = await h.json<Record<string, unknown>>(undefined, 'GET', `${DP}/throttling-policies/application`, undefined, 200);
    assert.deepEqual(Object.keys(list).sort(), Object.keys(wso2.components!.schemas!.ThrottlingPolicyList!.properties!).sort());
  });
});
