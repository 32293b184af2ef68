import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { createAjv2020 } from '../src/ajv.ts';
import { ALL_SCOPES, BASE, importForm, petstore, startPublisher } from './helpers.ts';
import type { PublisherHarness } from './helpers.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

// The WSO2 contract lives next to the repository (../shared/reference from the repo root).
const wso2Path = fileURLToPath(new URL('../../../../shared/reference/wso2-4.2.0/publisher-v4.yaml', import.meta.url));
const wso2Skip = existsSync(wso2Path) ? false : `WSO2 publisher-v4.yaml not found at ${wso2Path}`;
// Fields Gatehouse emits that WSO2 4.2.0 lacks but later WSO2 releases (4.3+) define.
const LATER_WSO2_FIELDS: Record<string, string[]> = { APIRevisionDeployment: ['status', 'liveGatewayCount', 'deployedGatewayCount', 'failedGatewayCount'] };

let h: PublisherHarness;
let doc: Json;
const calls: { method: string; path: string; status: number; body: unknown }[] = [];

async function exercise(token: string) {
  const rec = async (method: string, template: string, res: Response) => {
    const text = await res.text();
    // The definition itself (GET /swagger) is the API's own document, described by WSO2 as a plain string.
    const body = text && res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as Json) : undefined;
    calls.push({ method, path: template, status: res.status, body: template.endsWith('/swagger') ? undefined : body });
    return body ?? {};
  };
  const api = await rec('post', '/apis/import-openapi', await h.form(token, 'POST', '/apis/import-openapi', importForm(petstore, { context: '/contract', tags: ['c'] })));
  await rec('post', '/apis', await h.call(token, 'POST', '/apis', { name: 'Plain', context: '/plain', version: '1', businessInformation: { businessOwner: 'x' } }));
  await rec('post', '/apis', await h.call(token, 'POST', '/apis', { name: 'Plain', context: '/plain', version: '1' }));
  await rec('get', '/apis', await h.call(token, 'GET', '/apis?limit=1'));
  await rec('get', '/apis/{apiId}', await h.call(token, 'GET', `/apis/${api.id}`));
  await rec('get', '/apis/{apiId}', await h.call(token, 'GET', '/apis/nope'));
  await rec('put', '/apis/{apiId}', await h.call(token, 'PUT', `/apis/${api.id}`, { ...api, description: 'x' }));
  await rec('put', '/apis/{apiId}', await h.call(token, 'PUT', `/apis/${api.id}`, { ...api, description: 'x' }, { 'if-match': '"stale"' }));
  await rec('post', '/apis/validate-openapi', await h.form(token, 'POST', '/apis/validate-openapi', importForm(petstore)));
  await rec('post', '/apis/validate-openapi', await h.form(token, 'POST', '/apis/validate-openapi', importForm('openapi: 3.0.0\n')));
  await rec('get', '/apis/{apiId}/swagger', await h.call(token, 'GET', `/apis/${api.id}/swagger`));
  const definition = new FormData();
  definition.append('apiDefinition', petstore);
  await rec('put', '/apis/{apiId}/swagger', await h.form(token, 'PUT', `/apis/${api.id}/swagger`, definition));
  await rec('post', '/apis/change-lifecycle', await h.call(token, 'POST', `/apis/change-lifecycle?apiId=${api.id}&action=Publish`));
  await rec('post', '/apis/change-lifecycle', await h.call(token, 'POST', `/apis/change-lifecycle?apiId=${api.id}&action=Nope`));
  // The Publisher's subscription operations (served by the Developer Portal's package in the Publisher's scope).
  const subs = await h.token('admin', `${ALL_SCOPES} apim:subscription_view apim:subscription_block apim:subscription_manage`);
  const none = await rec('get', '/subscriptions', await h.call(subs, 'GET', `/subscriptions?apiId=${api.id}`));
  assert.equal(none.count, 0);
  await rec('get', '/subscriptions', await h.call(subs, 'GET', '/subscriptions?apiId=nope'));
  const blocked = await rec('post', '/subscriptions/block-subscription', await h.call(subs, 'POST', '/subscriptions/block-subscription?subscriptionId=nope&blockState=BLOCKED'));
  assert.equal(blocked.code, 901420);
  await rec('post', '/subscriptions/block-subscription', await h.call(subs, 'POST', '/subscriptions/block-subscription?subscriptionId=nope&blockState=NOPE'));
  const unblocked = await rec('post', '/subscriptions/unblock-subscription', await h.call(subs, 'POST', '/subscriptions/unblock-subscription?subscriptionId=nope'));
  assert.equal(unblocked.code, 901420);
  // Without a subscription scope: WSO2's 403 body.
  await rec('post', '/subscriptions/unblock-subscription', await h.call(token, 'POST', '/subscriptions/unblock-subscription?subscriptionId=nope'));
  const policyViewer = await h.token('admin', `${ALL_SCOPES} apim:common_operation_policy_view`);
  await rec('get', '/operation-policies', await h.call(policyViewer, 'GET', '/operation-policies?query=name:addHeader'));
  await rec('get', '/apis/{apiId}/lifecycle-history', await h.call(token, 'GET', `/apis/${api.id}/lifecycle-history`));
  await rec('get', '/apis/{apiId}/lifecycle-state', await h.call(token, 'GET', `/apis/${api.id}/lifecycle-state`));
  const rev = await rec('post', '/apis/{apiId}/revisions', await h.call(token, 'POST', `/apis/${api.id}/revisions`, { description: 'r' }));
  await rec('post', '/apis/{apiId}/revisions', await h.call(token, 'POST', `/apis/${api.id}/revisions`, {}));
  await rec('get', '/apis/{apiId}/revisions', await h.call(token, 'GET', `/apis/${api.id}/revisions`));
  await rec('get', '/apis/{apiId}/revisions/{revisionId}', await h.call(token, 'GET', `/apis/${api.id}/revisions/${rev.id}`));
  await rec('post', '/apis/{apiId}/deploy-revision', await h.call(token, 'POST', `/apis/${api.id}/deploy-revision?revisionId=${rev.id}`, [{ name: 'Default', vhost: 'localhost', displayOnDevportal: true }]));
  await rec('get', '/apis/{apiId}/deployments', await h.call(token, 'GET', `/apis/${api.id}/deployments`));
  await rec('get', '/apis/{apiId}/revisions', await h.call(token, 'GET', `/apis/${api.id}/revisions`));
  await rec('post', '/apis/{apiId}/undeploy-revision', await h.call(token, 'POST', `/apis/${api.id}/undeploy-revision?revisionId=${rev.id}`, [{ name: 'Default' }]));
  await rec('post', '/apis/{apiId}/restore-revision', await h.call(token, 'POST', `/apis/${api.id}/restore-revision?revisionId=${rev.id}`));
  const revs = await rec('get', '/apis/{apiId}/revisions', await h.call(token, 'GET', `/apis/${api.id}/revisions`));
  await rec('delete', '/apis/{apiId}/revisions/{revisionId}', await h.call(token, 'DELETE', `/apis/${api.id}/revisions/${(revs.list as Json[]).at(-1)!.id}`));
  const d = await rec('post', '/apis/{apiId}/documents', await h.call(token, 'POST', `/apis/${api.id}/documents`, { name: 'D', type: 'HOWTO', sourceType: 'INLINE', visibility: 'API_LEVEL' }));
  await rec('get', '/apis/{apiId}/documents', await h.call(token, 'GET', `/apis/${api.id}/documents`));
  await rec('get', '/apis/{apiId}/documents/{documentId}', await h.call(token, 'GET', `/apis/${api.id}/documents/${d.documentId}`));
  await rec('put', '/apis/{apiId}/documents/{documentId}', await h.call(token, 'PUT', `/apis/${api.id}/documents/${d.documentId}`, { name: 'D', type: 'HOWTO', sourceType: 'INLINE', visibility: 'API_LEVEL', summary: 's' }));
  const content = new FormData();
  content.append('inlineContent', 'hello');
  await rec('post', '/apis/{apiId}/documents/{documentId}/content', await h.form(token, 'POST', `/apis/${api.id}/documents/${d.documentId}/content`, content));
  await rec('get', '/apis/{apiId}/documents/{documentId}/content', await h.call(token, 'GET', `/apis/${api.id}/documents/${d.documentId}/content`));
  await rec('delete', '/apis/{apiId}/documents/{documentId}', await h.call(token, 'DELETE', `/apis/${api.id}/documents/${d.documentId}`));
  await rec('post', '/apis/copy-api', await h.call(token, 'POST', `/apis/copy-api?apiId=${api.id}&newVersion=9.9`));
  const s = await rec('post', '/scopes', await h.call(token, 'POST', '/scopes', { name: 'contract:scope', bindings: ['admin'] }));
  await rec('get', '/scopes', await h.call(token, 'GET', '/scopes'));
  await rec('get', '/scopes/{scopeId}', await h.call(token, 'GET', `/scopes/${s.id}`));
  await rec('put', '/scopes/{scopeId}', await h.call(token, 'PUT', `/scopes/${s.id}`, { name: 'contract:scope', description: 'd' }));
  await rec('delete', '/scopes/{scopeId}', await h.call(token, 'DELETE', `/scopes/${s.id}`));
  // Gatehouse extensions (x-gatehouse-extension): in the document, not in WSO2's.
  await rec('get', '/apis/{apiId}/usage', await h.call(token, 'GET', `/apis/${api.id}/usage?interval=hour`));
  await rec('get', '/apis/{apiId}/usage', await h.call(token, 'GET', `/apis/${api.id}/usage?from=yesterday`));
  await rec('delete', '/apis/{apiId}', await h.call(token, 'DELETE', `/apis/${api.id}`));
}

before(async () => {
  h = await startPublisher();
  doc = (await (await fetch(`${h.node.baseUrl}${BASE}/openapi.json`)).json()) as Json;
  await exercise(await h.token('admin'));
});
after(() => h.close());

const ours = () =>
  Object.entries(doc.paths as Record<string, Json>).flatMap(([p, item]) =>
    Object.entries(item).map(([verb, op]) => ({ path: p.slice(BASE.length), verb, op: op as Json })),
  );
/** The operations WSO2 4.2 also has (not Gatehouse's extensions). */
const wso2Ours = () => ours().filter(({ op }) => op['x-gatehouse-extension'] !== true);

describe('the Publisher OpenAPI document', () => {
  it('is OpenAPI 3.1, also served as YAML, and describes only Publisher paths', async () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(Object.keys(doc.paths).every((p) => p.startsWith(BASE)));
    const yamlRes = await fetch(`${h.node.baseUrl}${BASE}/openapi.yaml`);
    assert.equal(yamlRes.status, 200);
    assert.match(await yamlRes.text(), /^openapi: 3\.1\.0/m);
  });

  it('every operation was exercised, and every JSON answer validates against the document', () => {
    const ajv = createAjv2020();
    for (const { path, verb } of ours()) assert.ok(calls.some((c) => c.path === path && c.method === verb), `${verb} ${path} not exercised`);
    let validated = 0;
    for (const c of calls) {
      const op = doc.paths[`${BASE}${c.path}`]?.[c.method];
      assert.ok(op, `${c.method} ${c.path} is not in the document`);
      const schema = op.responses?.[String(c.status)]?.content?.['application/json']?.schema;
      if (c.body === undefined) continue;
      assert.ok(schema, `${c.method} ${c.path} answered ${c.status} with JSON the document does not describe`);
      const validate = ajv.compile(schema);
      assert.ok(validate(c.body), `${c.method} ${c.path} ${c.status}: ${JSON.stringify(validate.errors)}`);
      validated++;
    }
    assert.ok(validated >= 35, `only ${validated} answers validated`);
  });
});

describe('compatibility with WSO2 publisher v4 (4.2.0)', { skip: wso2Skip }, () => {
  let wso2: Json;
  before(() => {
    // The published file has a YAML quoting slip in a code sample; the parser recovers past it.
    wso2 = parseDocument(readFileSync(wso2Path, 'utf8')).toJS() as Json;
  });
  const deref = (s: Json | undefined): Json | undefined => {
    if (!s) return s;
    if (s.$ref) return deref(wso2.components.schemas[String(s.$ref).split('/').pop()!]);
    if (s.allOf) return (s.allOf as Json[]).map(deref).reduce((a: Json, b) => ({ ...a, ...b, properties: { ...a.properties, ...b?.properties } }), {});
    return s;
  };
  const nameOf = (s: Json | undefined) => (s?.$ref ? String(s.$ref).split('/').pop() : undefined);

  function compareFields(mine: Json, theirs: Json | undefined, where: string, schemaName: string | undefined, problems: string[]) {
    const t = deref(theirs);
    if (!mine || !t) return;
    if (mine.type === 'array' || (Array.isArray(mine.type) && mine.type.includes('array'))) {
      compareFields(mine.items, t.items, `${where}[]`, nameOf(t.items), problems);
      return;
    }
    for (const [field, sub] of Object.entries((mine.properties ?? {}) as Record<string, Json>)) {
      const theirField = t.properties?.[field];
      if (!theirField) {
        if (!(schemaName && LATER_WSO2_FIELDS[schemaName]?.includes(field))) problems.push(`${where}.${field}`);
        continue;
      }
      compareFields(sub, theirField, `${where}.${field}`, nameOf(theirField) ?? schemaName, problems);
    }
  }

  it('every path and verb served exists in WSO2 with the same parameters and response field names', () => {
    const problems: string[] = [];
    for (const { path, verb, op } of wso2Ours()) {
      const theirs = wso2.paths[path]?.[verb];
      if (!theirs) {
        problems.push(`${verb.toUpperCase()} ${path} is not a WSO2 operation`);
        continue;
      }
      const theirParams = new Set(((theirs.parameters ?? []) as Json[]).map((p) => (p.$ref ? wso2.components.parameters[String(p.$ref).split('/').pop()!]?.name : p.name)));
      for (const p of (op.parameters ?? []) as Json[]) if (!theirParams.has(p.name)) problems.push(`${verb} ${path}: parameter ${p.name}`);
      for (const [status, resp] of Object.entries((op.responses ?? {}) as Record<string, Json>)) {
        const mine = resp.content?.['application/json']?.schema;
        if (!mine || Number(status) >= 400) continue;
        const theirResp = theirs.responses?.[status] ?? theirs.responses?.['200'] ?? theirs.responses?.['201'];
        const theirSchema = theirResp?.content?.['application/json']?.schema;
        compareFields(mine, theirSchema, `${verb} ${path} ${status}`, nameOf(theirSchema) ?? nameOf(theirSchema?.items), problems);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('keeps WSO2 operation ids and scopes', () => {
    for (const { path, verb, op } of wso2Ours()) {
      const theirs = wso2.paths[path][verb];
      assert.equal(op.operationId, theirs.operationId, `${verb} ${path}`);
      const theirScopes = ((theirs.security ?? []) as Json[]).flatMap((s) => Object.values(s).flat()).sort();
      const myScopes = ((op.security ?? []) as Json[]).flatMap((s) => Object.values(s).flat()).sort();
      assert.deepEqual(myScopes, theirScopes, `${verb} ${path}`);
    }
  });
});

describe('WSO2 sample payloads', { skip: wso2Skip }, () => {
  it('accepts an API body built from every example value of WSO2\'s API schema', async () => {
    const wso2 = parseDocument(readFileSync(wso2Path, 'utf8')).toJS() as Json;
    const example = (s: Json | undefined, depth = 0): unknown => {
      if (!s || depth > 6) return undefined;
      if (s.$ref) return example(wso2.components.schemas[String(s.$ref).split('/').pop()!], depth + 1);
      if (s.allOf) return Object.assign({}, ...(s.allOf as Json[]).map((x) => example(x, depth + 1) as object));
      if (s.example !== undefined) return s.example;
      if (s.type === 'array') {
        const item = example(s.items, depth + 1);
        return item === undefined ? [] : [item];
      }
      if (s.properties) {
        const out: Json = {};
        for (const [k, v] of Object.entries(s.properties as Record<string, Json>)) {
          const x = example(v, depth + 1);
          if (x !== undefined) out[k] = x;
        }
        return out;
      }
      return s.default;
    };
    const body = example(wso2.components.schemas.API) as Json;
    body.context = '/wso2-sample';
    const token = await h.token('admin');
    const res = await h.call(token, 'POST', '/apis', body);
    assert.equal(res.status, 201, await res.clone().text());
    const api = (await res.json()) as Json;
    assert.equal(api.name, body.name);
    assert.deepEqual(api.tags, body.tags);
  });
});
