import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BASE, importForm, petstore, startPublisher } from './helpers.ts';
import type { PublisherHarness } from './helpers.ts';

let h: PublisherHarness;
let admin: string;
before(async () => {
  h = await startPublisher();
  admin = await h.token('admin');
});
after(() => h.close());

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const json = async (res: Response): Promise<Json> => (await res.json()) as Json;
const sample = (n: string, extra: Json = {}) => ({ name: n, context: `/${n.toLowerCase()}`, version: '1.0.0', ...extra });

async function countApis(): Promise<number> {
  return (await json(await h.call(admin, 'GET', '/apis?limit=500'))).pagination.total as number;
}

describe('POST/GET/PUT/DELETE /apis', () => {
  it('creates an API from a WSO2 sample body, answers 201 with Location and ETag, and reads it back', async () => {
    const body = sample('PizzaShack', {
      description: 'Pizza', tags: ['pizza', 'food'], policies: ['Gold'], apiThrottlingPolicy: 'Unlimited', visibility: 'RESTRICTED', visibleRoles: ['Internal/subscriber'],
      businessInformation: { businessOwner: 'Jane', businessOwnerEmail: 'jane@example.com' },
      endpointConfig: {
        endpoint_type: 'load_balance', algoClassName: 'org.apache.synapse.endpoints.algorithms.RoundRobin',
        production_endpoints: [{ url: 'https://a.example.com' }, { url: 'https://b.example.com' }],
        endpoint_security: { production: { enabled: true, type: 'BASIC', username: 'svc', password: 's3cret' } },
      },
      operations: [{ target: '/order', verb: 'POST', authType: 'Application & Application User', throttlingPolicy: 'Unlimited', scopes: [] }],
      mediationPolicies: [], monetization: { enabled: false }, gatewayVendor: 'wso2', additionalProperties: [],
    });
    const res = await h.call(admin, 'POST', '/apis', body);
    assert.equal(res.status, 201);
    const api = await json(res);
    assert.equal(res.headers.get('location'), `${BASE}/apis/${api.id}`);
    assert.ok(res.headers.get('etag'));
    assert.equal(api.lifeCycleStatus, 'CREATED');
    assert.equal(api.provider, 'admin');
    assert.deepEqual(api.tags, ['pizza', 'food']);
    assert.equal(api.endpointConfig.endpoint_security.production.password, '', 'the backend password is never shown');
    const got = await h.call(admin, 'GET', `/apis/${api.id}`);
    assert.equal(got.status, 200);
    assert.equal((await json(got)).businessInformation.businessOwner, 'Jane');
    const notModified = await h.call(admin, 'GET', `/apis/${api.id}`, undefined, { 'if-none-match': got.headers.get('etag')! });
    assert.equal(notModified.status, 304);
  });

  it('rejects unknown fields and wrong types with a 400 naming the field, storing nothing', async () => {
    const before = await countApis();
    const unknown = await h.call(admin, 'POST', '/apis', sample('Unknown1', { colour: 'red' }));
    assert.equal(unknown.status, 400);
    assert.match(JSON.stringify(await json(unknown)), /colour/);
    const wrongType = await h.call(admin, 'POST', '/apis', sample('WrongType', { isDefaultVersion: 'yes', tags: 'x' }));
    assert.equal(wrongType.status, 400);
    const body = await json(wrongType);
    assert.equal(body.code, 900400);
    assert.match(body.description, /isDefaultVersion/);
    assert.match(body.description, /tags/);
    const nested = await h.call(admin, 'POST', '/apis', sample('Nested', { corsConfiguration: { allowEverything: true } }));
    assert.equal(nested.status, 400);
    assert.match(JSON.stringify(await json(nested)), /allowEverything/);
    const missing = await h.call(admin, 'POST', '/apis', { name: 'NoContext' });
    assert.equal(missing.status, 400);
    assert.equal(await countApis(), before);
  });

  it('checks the context: leading slash, {version} template only, no clash with another API', async () => {
    assert.equal((await h.call(admin, 'POST', '/apis', sample('NoSlash', { context: 'noslash' }))).status, 400);
    assert.equal((await h.call(admin, 'POST', '/apis', sample('BadTemplate', { context: '/x/{id}' }))).status, 400);
    assert.equal((await h.call(admin, 'POST', '/apis', sample('Clash1', { context: '/clash/{version}' }))).status, 201);
    const clash = await h.call(admin, 'POST', '/apis', sample('Clash2', { context: '/clash' }));
    assert.equal(clash.status, 409, 'both serve /clash/1.0.0');
    const dupName = await h.call(admin, 'POST', '/apis', sample('Clash1', { context: '/other-clash' }));
    assert.equal(dupName.status, 409);
  });

  it('searches with WSO2 query syntax, limit and offset', async () => {
    for (const [n, tag] of [['SearchAlpha', 'alpha'], ['SearchBeta', 'beta'], ['SearchGamma', 'alpha']] as const) {
      assert.equal((await h.call(admin, 'POST', '/apis', sample(n, { tags: [tag], description: `the ${n} api` }))).status, 201);
    }
    const byName = await json(await h.call(admin, 'GET', `/apis?query=${encodeURIComponent('name:searchbeta')}`));
    assert.deepEqual(byName.list.map((a: Json) => a.name), ['SearchBeta']);
    const byTag = await json(await h.call(admin, 'GET', `/apis?query=${encodeURIComponent('tag:alpha')}`));
    assert.deepEqual(byTag.list.map((a: Json) => a.name).sort(), ['SearchAlpha', 'SearchGamma']);
    const free = await json(await h.call(admin, 'GET', `/apis?query=${encodeURIComponent('gamma')}`));
    assert.deepEqual(free.list.map((a: Json) => a.name), ['SearchGamma']);
    const ctx = await json(await h.call(admin, 'GET', `/apis?query=${encodeURIComponent('context:/searchalpha status:created provider:admin')}`));
    assert.deepEqual(ctx.list.map((a: Json) => a.name), ['SearchAlpha']);
    const paged = await json(await h.call(admin, 'GET', `/apis?query=${encodeURIComponent('name:search')}&limit=2&offset=1`));
    assert.equal(paged.count, 2);
    assert.equal(paged.pagination.total, 3);
    assert.equal(paged.pagination.offset, 1);
    const sorted = await json(await h.call(admin, 'GET', `/apis?query=${encodeURIComponent('name:search')}&sortBy=apiName&sortOrder=desc`));
    assert.deepEqual(sorted.list.map((a: Json) => a.name), ['SearchGamma', 'SearchBeta', 'SearchAlpha']);
    assert.equal((await h.call(admin, 'GET', '/apis?sortBy=colour')).status, 400);
    const none = await json(await h.call(admin, 'GET', `/apis?query=${encodeURIComponent('name:"searchalpha"')}`));
    assert.equal(none.count, 0, 'a quoted value matches exactly (case included)');
  });

  it('honours If-Match on PUT (412 when stale) and keeps the backend password when it is sent back blank', async () => {
    const created = await h.call(admin, 'POST', '/apis', sample('Etag', {
      endpointConfig: { endpoint_type: 'http', production_endpoints: { url: 'https://x.example.com' }, endpoint_security: { production: { enabled: true, type: 'BASIC', username: 'u', password: 'p' } } },
    }));
    const api = await json(created);
    const etag = created.headers.get('etag')!;
    const ok = await h.call(admin, 'PUT', `/apis/${api.id}`, { ...api, description: 'v2' }, { 'if-match': etag });
    assert.equal(ok.status, 200);
    assert.notEqual(ok.headers.get('etag'), etag);
    const stale = await h.call(admin, 'PUT', `/apis/${api.id}`, { ...api, description: 'v3' }, { 'if-match': etag });
    assert.equal(stale.status, 412);
    assert.equal((await json(stale)).code, 900412);
    const now = await json(await h.call(admin, 'GET', `/apis/${api.id}`));
    assert.equal(now.description, 'v2', 'the stale write changed nothing');
    const noHeader = await h.call(admin, 'PUT', `/apis/${api.id}`, { ...now, name: 'Etag', description: 'v4' });
    assert.equal(noHeader.status, 200);
    const renamed = await h.call(admin, 'PUT', `/apis/${api.id}`, { ...now, version: '9.9.9' });
    assert.equal(renamed.status, 400);
    assert.match((await json(renamed)).description, /copy-api/);
  });

  it('deletes an API with its revisions and deployments, and answers 404 after', async () => {
    const api = await json(await h.call(admin, 'POST', '/apis', sample('ToDelete')));
    const rev = await json(await h.call(admin, 'POST', `/apis/${api.id}/revisions`, { description: 'r1' }));
    assert.equal((await h.call(admin, 'POST', `/apis/${api.id}/deploy-revision?revisionId=${rev.id}`, [{ name: 'Default', vhost: 'localhost' }])).status, 200);
    assert.equal((await h.call(admin, 'DELETE', `/apis/${api.id}`)).status, 200);
    assert.equal((await h.call(admin, 'GET', `/apis/${api.id}`)).status, 404);
    const arts = await json(await h.call(admin, 'GET', `/internal/data/v1/runtime-artifacts?gatewayLabel=Default&apiId=${api.id}`));
    assert.equal(arts.count, 0);
    assert.equal((await h.call(admin, 'DELETE', `/apis/${api.id}`)).status, 404);
  });
});

describe('import-openapi, validate-openapi, swagger', () => {
  it('imports YAML, generates operations from the paths, and serves the definition', async () => {
    const res = await h.form(admin, 'POST', '/apis/import-openapi', importForm(petstore, { context: '/imported', version: '2.0.0', policies: ['Unlimited'] }));
    assert.equal(res.status, 201);
    const api = await json(res);
    assert.equal(api.name, 'SwaggerPetstore');
    assert.equal(api.version, '2.0.0');
    assert.deepEqual(api.operations.map((o: Json) => `${o.verb} ${o.target}`), ['GET /pets', 'POST /pets', 'GET /pets/{petId}']);
    assert.equal(api.endpointConfig.production_endpoints.url, 'https://petstore.example.com/v1');
    const def = await h.call(admin, 'GET', `/apis/${api.id}/swagger`);
    assert.equal(def.status, 200);
    assert.equal((await json(def)).info.title, 'Swagger Petstore');

    const form = new FormData();
    form.append('apiDefinition', JSON.stringify({ openapi: '3.0.0', info: { title: 't', version: '2.0.0' }, paths: { '/only': { delete: { responses: { 204: { description: 'gone' } } } } } }));
    const put = await h.form(admin, 'PUT', `/apis/${api.id}/swagger`, form);
    assert.equal(put.status, 200);
    const after = await json(await h.call(admin, 'GET', `/apis/${api.id}`));
    assert.deepEqual(after.operations.map((o: Json) => `${o.verb} ${o.target}`), ['DELETE /only']);
  });

  it('imports an inline Swagger 2.0 definition', async () => {
    const swagger2 = JSON.stringify({ swagger: '2.0', info: { title: 'Legacy', version: '1.0' }, host: 'legacy.example.com', basePath: '/legacy', schemes: ['https'], paths: { '/items': { get: { responses: { 200: { description: 'ok' } } } } } });
    const f = new FormData();
    f.append('inlineAPIDefinition', swagger2);
    const res = await h.form(admin, 'POST', '/apis/import-openapi', f);
    assert.equal(res.status, 201);
    const api = await json(res);
    assert.equal(api.context, '/legacy');
    assert.equal(api.endpointConfig.production_endpoints.url, 'https://legacy.example.com/legacy');
  });

  it('points at the line of a YAML syntax error and at the path of a schema error, storing nothing', async () => {
    const before = await countApis();
    const broken = petstore.replace('      summary: List all pets', '      summary: [List all pets');
    const res = await h.form(admin, 'POST', '/apis/import-openapi', importForm(broken, { context: '/broken' }));
    assert.equal(res.status, 400);
    const body = await json(res);
    assert.match(body.description, /line \d+/);

    const invalid = petstore.replace("          description: A paged array of pets\n", '');
    const res2 = await h.form(admin, 'POST', '/apis/import-openapi', importForm(invalid, { context: '/invalid' }));
    assert.equal(res2.status, 400);
    const body2 = await json(res2);
    assert.match(body2.description, /\/paths\/~1pets\/get\/responses\/200 \(line 2[0-9]\)/);
    assert.equal(await countApis(), before);
  });

  it('rejects a bad additionalProperties (unknown field, wrong type) with 400', async () => {
    const res = await h.form(admin, 'POST', '/apis/import-openapi', importForm(petstore, { context: '/props', nonsense: 1, tags: 'x' }));
    assert.equal(res.status, 400);
    const text = JSON.stringify(await json(res));
    assert.match(text, /nonsense/);
    assert.match(text, /additionalProperties\.tags/);
  });

  it('answers 413 to an upload over the limit, and stores nothing', async () => {
    const before = await countApis();
    const huge = `${petstore}\n# ${'x'.repeat(11 * 1024 * 1024)}\n`;
    const res = await h.form(admin, 'POST', '/apis/import-openapi', importForm(huge, { context: '/huge' }));
    assert.equal(res.status, 413);
    assert.equal((await json(res)).code, 900413);
    assert.equal(await countApis(), before);
  });

  it('refuses definition URLs on loopback or private addresses, and non-http schemes', async () => {
    for (const url of ['http://127.0.0.1:1/x.yaml', 'http://169.254.169.254/latest', 'file:///etc/passwd', 'http://[::1]/x', 'http://localhost/x']) {
      const f = new FormData();
      f.append('url', url);
      const res = await h.form(admin, 'POST', '/apis/import-openapi', f);
      assert.equal(res.status, 400, url);
      assert.match((await json(res)).message, /not allowed/i, url);
    }
  });

  it('requires exactly one definition source and multipart', async () => {
    const f = importForm(petstore);
    f.append('inlineAPIDefinition', petstore);
    assert.equal((await h.form(admin, 'POST', '/apis/import-openapi', f)).status, 400);
    assert.equal((await h.call(admin, 'POST', '/apis/import-openapi', { file: 'x' })).status, 415);
  });

  it('validate-openapi answers isValid with info or errors', async () => {
    const ok = await json(await h.form(admin, 'POST', '/apis/validate-openapi?returnContent=true', importForm(petstore)));
    assert.equal(ok.isValid, true);
    assert.equal(ok.info.name, 'SwaggerPetstore');
    assert.equal(ok.info.openAPIVersion, '3.0.3');
    assert.deepEqual(ok.info.endpoints, ['https://petstore.example.com/v1']);
    assert.equal(ok.content, petstore);
    const bad = await json(await h.form(admin, 'POST', '/apis/validate-openapi', importForm('openapi: 3.0.0\ninfo: {title: x}\npaths: {}\n')));
    assert.equal(bad.isValid, false);
    assert.match(bad.errors[0].message, /version/);
    assert.equal(bad.errors[0].description, '/info');
  });
});

describe('lifecycle', () => {
  it('follows WSO2 transitions, records history, and refuses an invalid one with 400', async () => {
    const api = await json(await h.call(admin, 'POST', '/apis', sample('Lifecycle')));
    const state = await json(await h.call(admin, 'GET', `/apis/${api.id}/lifecycle-state`));
    assert.equal(state.state, 'Created');
    assert.deepEqual(state.availableTransitions.map((t: Json) => t.event).sort(), ['Deploy as a Prototype', 'Publish']);
    assert.deepEqual(state.checkItems.map((c: Json) => c.name).sort(), ['Deprecate old versions after publishing the API', 'Requires re-subscription when publishing the API']);
    const bad = await h.call(admin, 'POST', `/apis/change-lifecycle?apiId=${api.id}&action=Retire`);
    assert.equal(bad.status, 400);
    const badBody = await json(bad);
    assert.match(badBody.message, /Retire/);
    assert.match(badBody.description, /Publish/);
    const pub = await h.call(admin, 'POST', `/apis/change-lifecycle?apiId=${api.id}&action=Publish`);
    assert.equal(pub.status, 200);
    assert.equal((await json(pub)).lifecycleState.state, 'Published');
    assert.equal((await h.call(admin, 'POST', `/apis/change-lifecycle?apiId=${api.id}&action=Block`)).status, 200);
    const history = await json(await h.call(admin, 'GET', `/apis/${api.id}/lifecycle-history`));
    assert.deepEqual(history.list.map((x: Json) => x.postState), ['Created', 'Published', 'Blocked']);
    assert.equal(history.list[1].previousState, 'Created');
    assert.equal(history.list[1].user, 'admin');
  });

  it('deprecates older published versions when the checklist asks', async () => {
    const v1 = await json(await h.call(admin, 'POST', '/apis', sample('Versioned')));
    await h.call(admin, 'POST', `/apis/change-lifecycle?apiId=${v1.id}&action=Publish`);
    const v2 = await json(await h.call(admin, 'POST', `/apis/copy-api?apiId=${v1.id}&newVersion=2.0.0&defaultVersion=true`));
    assert.equal(v2.version, '2.0.0');
    assert.equal(v2.lifeCycleStatus, 'CREATED');
    assert.equal(v2.isDefaultVersion, true);
    const checklist = encodeURIComponent('Deprecate old versions after publishing the API:true');
    assert.equal((await h.call(admin, 'POST', `/apis/change-lifecycle?apiId=${v2.id}&action=Publish&lifecycleChecklist=${checklist}`)).status, 200);
    assert.equal((await json(await h.call(admin, 'GET', `/apis/${v1.id}`))).lifeCycleStatus, 'DEPRECATED');
    assert.equal((await h.call(admin, 'POST', `/apis/copy-api?apiId=${v1.id}&newVersion=2.0.0`)).status, 409, 'the version exists');
  });
});

describe('revisions and deployments', () => {
  it('cuts at most 5 revisions, restores one, deploys, undeploys', async () => {
    const api = await json(await h.call(admin, 'POST', '/apis', sample('Revs', { description: 'first' })));
    const r1 = await json(await h.call(admin, 'POST', `/apis/${api.id}/revisions`, { description: 'one' }));
    assert.equal(r1.displayName, 'Revision 1');
    await h.call(admin, 'PUT', `/apis/${api.id}`, { ...api, description: 'second' });
    for (let i = 2; i <= 5; i++) assert.equal((await h.call(admin, 'POST', `/apis/${api.id}/revisions`, {})).status, 201);
    const sixth = await h.call(admin, 'POST', `/apis/${api.id}/revisions`, {});
    assert.equal(sixth.status, 400);
    assert.match((await json(sixth)).message, /5 revisions/);
    const restored = await h.call(admin, 'POST', `/apis/${api.id}/restore-revision?revisionId=${r1.id}`);
    assert.equal(restored.status, 201);
    assert.equal((await json(restored)).description, 'first');

    const badEnv = await h.call(admin, 'POST', `/apis/${api.id}/deploy-revision?revisionId=${r1.id}`, [{ name: 'Nowhere', vhost: 'localhost' }]);
    assert.equal(badEnv.status, 400);
    const badVhost = await h.call(admin, 'POST', `/apis/${api.id}/deploy-revision?revisionId=${r1.id}`, [{ name: 'Default', vhost: 'evil.example.com' }]);
    assert.equal(badVhost.status, 400);
    const dep = await h.call(admin, 'POST', `/apis/${api.id}/deploy-revision?revisionId=${r1.id}`, [{ name: 'Default', vhost: 'localhost', displayOnDevportal: true }]);
    assert.equal(dep.status, 200);
    const deployments = await json(await h.call(admin, 'GET', `/apis/${api.id}/deployments`));
    assert.equal(deployments.list.length, 1);
    assert.equal(deployments.list[0].status, 'CREATED');
    assert.equal(deployments.list[0].revisionUuid, r1.id);
    assert.equal((await h.call(admin, 'DELETE', `/apis/${api.id}/revisions/${r1.id}`)).status, 400, 'a deployed revision stays');
    const listed = await json(await h.call(admin, 'GET', `/apis/${api.id}/revisions?query=deployed:true`));
    assert.deepEqual(listed.list.map((r: Json) => r.id), [r1.id]);

    const undeploy = await h.call(admin, 'POST', `/apis/${api.id}/undeploy-revision?revisionId=${r1.id}`, [{ name: 'Default', vhost: 'localhost' }]);
    assert.equal(undeploy.status, 201);
    assert.deepEqual(await json(undeploy), []);
    const del = await h.call(admin, 'DELETE', `/apis/${api.id}/revisions/${r1.id}`);
    assert.equal(del.status, 200);
    assert.equal((await json(del)).count, 4);
    assert.equal((await h.call(admin, 'GET', `/apis/${api.id}/revisions/${r1.id}`)).status, 404);
  });
});

describe('documents', () => {
  it('creates, reads, updates, uploads content for and deletes documents', async () => {
    const api = await json(await h.call(admin, 'POST', '/apis', sample('Docs')));
    const inline = await h.call(admin, 'POST', `/apis/${api.id}/documents`, { name: 'Guide', type: 'HOWTO', sourceType: 'MARKDOWN', visibility: 'API_LEVEL', summary: 's' });
    assert.equal(inline.status, 201);
    const doc = await json(inline);
    const content = new FormData();
    content.append('inlineContent', '# Hello');
    assert.equal((await h.form(admin, 'POST', `/apis/${api.id}/documents/${doc.documentId}/content`, content)).status, 200);
    const text = await h.call(admin, 'GET', `/apis/${api.id}/documents/${doc.documentId}/content`);
    assert.equal(await text.text(), '# Hello');
    assert.equal((await h.call(admin, 'POST', `/apis/${api.id}/documents`, { name: 'Guide', type: 'HOWTO', sourceType: 'INLINE', visibility: 'API_LEVEL' })).status, 409);

    const fileDoc = await json(await h.call(admin, 'POST', `/apis/${api.id}/documents`, { name: 'Spec', type: 'OTHER', sourceType: 'FILE', visibility: 'API_LEVEL' }));
    const upload = new FormData();
    upload.append('file', new Blob([Buffer.from([1, 2, 3])]), '../../etc/evil name.bin');
    const up = await h.form(admin, 'POST', `/apis/${api.id}/documents/${fileDoc.documentId}/content`, upload);
    assert.equal(up.status, 200);
    assert.equal((await json(up)).fileName, 'evil name.bin');
    const bytes = await h.call(admin, 'GET', `/apis/${api.id}/documents/${fileDoc.documentId}/content`);
    assert.deepEqual([...new Uint8Array(await bytes.arrayBuffer())], [1, 2, 3]);
    assert.match(bytes.headers.get('content-disposition')!, /attachment/);

    const big = new FormData();
    big.append('file', new Blob([Buffer.alloc(11 * 1024 * 1024)]), 'big.bin');
    assert.equal((await h.form(admin, 'POST', `/apis/${api.id}/documents/${fileDoc.documentId}/content`, big)).status, 413);

    const urlDoc = await json(await h.call(admin, 'POST', `/apis/${api.id}/documents`, { name: 'Site', type: 'SUPPORT_FORUM', sourceType: 'URL', sourceUrl: 'https://example.com/forum', visibility: 'API_LEVEL' }));
    const redirect = await fetch(`${h.node.baseUrl}${BASE}/apis/${api.id}/documents/${urlDoc.documentId}/content`, { headers: { authorization: `Bearer ${admin}` }, redirect: 'manual' });
    assert.equal(redirect.status, 303);
    assert.equal(redirect.headers.get('location'), 'https://example.com/forum');

    const put = await h.call(admin, 'PUT', `/apis/${api.id}/documents/${doc.documentId}`, { name: 'Guide', type: 'HOWTO', sourceType: 'MARKDOWN', visibility: 'API_LEVEL', summary: 'new' });
    assert.equal((await json(put)).summary, 'new');
    const list = await json(await h.call(admin, 'GET', `/apis/${api.id}/documents`));
    assert.equal(list.count, 3);
    assert.equal((await h.call(admin, 'DELETE', `/apis/${api.id}/documents/${doc.documentId}`)).status, 200);
    assert.equal((await h.call(admin, 'GET', `/apis/${api.id}/documents/${doc.documentId}`)).status, 404);
  });
});

describe('shared scopes', () => {
  it('creates, lists, updates and deletes shared scopes', async () => {
    const res = await h.call(admin, 'POST', '/scopes', { name: 'read:orders', displayName: 'Read orders', description: 'd', bindings: ['Internal/subscriber'] });
    assert.equal(res.status, 201);
    const s = await json(res);
    assert.equal((await h.call(admin, 'POST', '/scopes', { name: 'read:orders' })).status, 409);
    const list = await json(await h.call(admin, 'GET', '/scopes'));
    assert.ok(list.list.some((x: Json) => x.id === s.id));
    const upd = await json(await h.call(admin, 'PUT', `/scopes/${s.id}`, { name: 'read:orders', bindings: ['admin'] }));
    assert.deepEqual(upd.bindings, ['admin']);
    assert.equal((await h.call(admin, 'DELETE', `/scopes/${s.id}`)).status, 200);
    assert.equal((await h.call(admin, 'GET', `/scopes/${s.id}`)).status, 404);
  });
});

describe('authorization', () => {
  it('answers 401 without a token and 403 without one of the operation scopes', async () => {
    const anon = await fetch(`${h.node.baseUrl}${BASE}/apis`);
    assert.equal(anon.status, 401);
    const viewer = await h.token('admin', 'apim:api_view');
    assert.equal((await h.call(viewer, 'GET', '/apis')).status, 200);
    const denied = await h.call(viewer, 'POST', '/apis', sample('Denied'));
    assert.equal(denied.status, 403);
    assert.equal((await json(denied)).code, 900910);
    assert.equal((await h.call(viewer, 'GET', '/internal/data/v1/runtime-artifacts?gatewayLabel=Default')).status, 403);
  });
});

describe('import-openapi from a url (publisher.allow_private_definition_urls = true)', () => {
  let h2: PublisherHarness;
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer((req, res) => (req.url === '/petstore.yaml' ? res.end(petstore) : res.writeHead(404).end()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    h2 = await startPublisher(['--publisher.allow_private_definition_urls', 'true']);
  });
  after(async () => {
    await h2.close();
    server.close();
  });

  it('fetches the definition, and reports a failing url as 400', async () => {
    const t = await h2.token('admin');
    const f = new FormData();
    f.append('url', `${base}/petstore.yaml`);
    f.append('additionalProperties', JSON.stringify({ context: '/from-url' }));
    const res = await h2.form(t, 'POST', '/apis/import-openapi', f);
    assert.equal(res.status, 201);
    assert.equal((await json(res)).operations.length, 3);
    const missing = new FormData();
    missing.append('url', `${base}/missing.yaml`);
    const bad = await h2.form(t, 'POST', '/apis/import-openapi', missing);
    assert.equal(bad.status, 400);
    assert.match((await json(bad)).description, /404/);
  });
});
