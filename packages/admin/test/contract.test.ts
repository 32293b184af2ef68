import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startAdminNode } from './helpers.ts';
import type { AdminNode } from './helpers.ts';

// WSO2's contract is read here, in the test only, never copied into the project. CI finds it at
// ../shared/reference next to the repository.
const WSO2_YAML = fileURLToPath(new URL('../../../../shared/reference/wso2-4.2.0/admin-v4.yaml', import.meta.url));
const haveWso2 = existsSync(WSO2_YAML);

/** Our operations that WSO2 4.2's admin-v4 does not have, each a documented addition. */
const EXTENSIONS = new Set([
  'GET /environments/{environmentId}', // Gatehouse: read one environment.
  'GET /environments/{environmentId}/gateways', // As WSO2 after 4.2 (GatewayInstance list).
]);
/** Response fields we add to a WSO2 schema. */
const EXTRA_FIELDS: Record<string, readonly string[]> = {
  'GET /key-managers': ['displayName', 'issuer'],
};

type Schema = { $ref?: string; allOf?: Schema[]; properties?: Record<string, Schema>; items?: Schema; type?: string | string[] };
type Op = { security?: Record<string, string[]>[]; requestBody?: { content?: Record<string, { schema?: Schema }> }; responses?: Record<string, { content?: Record<string, { schema?: Schema }> }> };
type Doc = { paths: Record<string, Record<string, Op>>; components?: { schemas?: Record<string, Schema> } };

const VERBS = ['get', 'post', 'put', 'patch', 'delete'];

function operations(doc: Doc): Map<string, Op> {
  const ops = new Map<string, Op>();
  for (const [path, item] of Object.entries(doc.paths)) for (const verb of VERBS) if (item[verb]) ops.set(`${verb.toUpperCase()} ${path}`, item[verb]);
  return ops;
}

/** The property names of a schema, through $ref and allOf. */
function fields(doc: Doc, schema: Schema | undefined): Map<string, Schema> {
  const out = new Map<string, Schema>();
  if (!schema) return out;
  if (schema.$ref) return fields(doc, doc.components?.schemas?.[schema.$ref.split('/').pop()!]);
  for (const part of schema.allOf ?? []) for (const [k, v] of fields(doc, part)) out.set(k, v);
  for (const [k, v] of Object.entries(schema.properties ?? {})) out.set(k, v);
  return out;
}

function jsonSchema(part: { content?: Record<string, { schema?: Schema }> } | undefined): Schema | undefined {
  return part?.content?.['application/json']?.schema;
}

describe('the Admin OpenAPI document', () => {
  let n: AdminNode;
  let ours: Doc;
  before(async () => {
    n = await startAdminNode();
    ours = (await n.call('GET', '/openapi.json', { token: null })).json<Doc>();
  });
  after(() => n?.close());

  it('is OpenAPI 3.1, served as JSON and YAML, with paths relative to /api/am/admin/v4', async () => {
    assert.equal((ours as unknown as { openapi: string }).openapi, '3.1.0');
    assert.deepEqual((ours as unknown as { servers: { url: string }[] }).servers, [{ url: '/api/am/admin/v4' }]);
    assert.ok(Object.keys(ours.paths).every((p) => !p.startsWith('/api/')));
    assert.ok(!Object.keys(ours.paths).some((p) => p.includes('openapi')), 'the document does not describe itself');
    const yaml = await n.call('GET', '/openapi.yaml', { token: null });
    assert.equal(yaml.status, 200);
    assert.match(yaml.text, /^openapi: 3\.1\.0/m);
  });

  it('lists the scopes of every operation', () => {
    for (const [key, op] of operations(ours)) assert.ok((op.security?.[0]?.OAuth2Security ?? []).length > 0, `${key} has no scopes`);
  });

  describe("keeps WSO2 4.2 admin-v4's paths, verbs, scopes and field names", { skip: haveWso2 ? false : `WSO2's contract is not at ${WSO2_YAML}` }, () => {
    let wso2: Doc;
    before(async () => {
      const specifier = 'js-yaml';
      const { load } = (await import(specifier)) as { load(text: string): unknown };
      wso2 = load(readFileSync(WSO2_YAML, 'utf8')) as Doc;
    });

    it('has every operation at WSO2 path and verb, or a documented addition', () => {
      const theirs = operations(wso2);
      const mine = operations(ours);
      for (const key of mine.keys()) assert.ok(theirs.has(key) || EXTENSIONS.has(key), `${key} is neither in WSO2's admin-v4 nor a documented addition`);
      const implemented = [...mine.keys()].filter((k) => theirs.has(k));
      assert.ok(implemented.length >= 38, `only ${implemented.length} WSO2 operations`);
      for (const must of ['GET /throttling/deny-policies', 'PATCH /throttling/deny-policy/{conditionId}', 'POST /workflows/update-workflow-status', 'POST /key-managers/discover', 'PUT /system-scopes']) {
        assert.ok(mine.has(must), must);
      }
    });

    it('asks for the same scopes as WSO2', () => {
      const theirs = operations(wso2);
      for (const [key, op] of operations(ours)) {
        const their = theirs.get(key);
        if (!their) continue;
        assert.deepEqual([...(op.security?.[0]?.OAuth2Security ?? [])].sort(), [...(their.security?.[0]?.OAuth2Security ?? [])].sort(), key);
      }
    });

    it("uses WSO2's field names in request bodies and responses", () => {
      const theirs = operations(wso2);
      const compare = (key: string, what: string, mineSchema: Schema | undefined, theirSchema: Schema | undefined, extra: readonly string[] = []) => {
        const mineFields = fields(ours, mineSchema);
        const theirFields = fields(wso2, theirSchema);
        if (theirFields.size === 0) return;
        for (const [name, sub] of mineFields) {
          assert.ok(theirFields.has(name) || extra.includes(name), `${key} ${what}: field ${name} is not in WSO2's schema`);
          // One level down: list items and nested objects keep WSO2's names too.
          const theirSub = theirFields.get(name);
          if (sub.items && theirSub) compare(key, `${what}.${name}[]`, sub.items, (fields(wso2, theirSub).size ? theirSub : theirSub.items) ?? theirSub.items, extra);
        }
      };
      for (const [key, op] of operations(ours)) {
        const their = theirs.get(key);
        if (!their) continue;
        compare(key, 'body', jsonSchema(op.requestBody), jsonSchema(their.requestBody));
        for (const status of ['200', '201']) compare(key, status, jsonSchema(op.responses?.[status]), jsonSchema(their.responses?.[status]), EXTRA_FIELDS[key]);
      }
    });
  });
});
