import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { byTag, exampleOf, operations, schemaOutline, serverUrls, type OpenApiDoc } from '../src/apps/devportal/openapi.ts';

// The Developer Portal's reading of an API's definition (the reference tab and the try-it console).
const doc: OpenApiDoc = {
  openapi: '3.0.1',
  servers: [{ url: 'http://gw.test/pets/1.0.0' }],
  paths: {
    '/pets/{id}': {
      parameters: [{ name: 'id', in: 'path', schema: { type: 'integer' } }],
      get: { tags: ['pets'], summary: 'One pet', parameters: [{ $ref: '#/components/parameters/Verbose' }], responses: { '200': { description: 'OK', content: { 'application/json': { schema: { $ref: '#/components/schemas/Pet' } } } } } },
      put: { tags: ['pets'], requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Pet' } } } }, responses: { '204': { description: 'Saved' } } },
    },
    '/health': { get: { responses: { '200': { description: 'up' } } } },
  },
  components: {
    parameters: { Verbose: { name: 'verbose', in: 'query', schema: { type: 'boolean' } } },
    schemas: {
      Pet: { type: 'object', required: ['name'], properties: { name: { type: 'string', example: 'Rex' }, tags: { type: 'array', items: { type: 'string' } }, owner: { $ref: '#/components/schemas/Pet' } } },
    },
  },
};

describe('devportal OpenAPI reading', () => {
  it('lists operations with shared and referenced parameters, bodies and responses, grouped by tag', () => {
    const ops = operations(doc);
    assert.deepEqual(ops.map((o) => o.key), ['GET /pets/{id}', 'PUT /pets/{id}', 'GET /health']);
    const get = ops[0]!;
    assert.deepEqual(get.parameters.map((p) => `${p.in}:${p.name}:${p.required}`), ['path:id:true', 'query:verbose:false']);
    assert.equal(get.responses[0]!.schema?.type, 'object');
    assert.equal(ops[1]!.requestBody?.contentType, 'application/json');
    assert.equal(ops[1]!.requestBody?.required, true);
    assert.deepEqual(byTag(ops).map(([t, l]) => [t, l.length]), [['pets', 2], ['default', 1]]);
    assert.deepEqual(serverUrls(doc), ['http://gw.test/pets/1.0.0']);
  });

  it('outlines a recursive schema without looping, and builds an example body', () => {
    const outline = schemaOutline(doc, { $ref: '#/components/schemas/Pet' });
    assert.match(outline, /name: string;/);
    assert.match(outline, /tags\?: string\[\];/);
    assert.equal((exampleOf(doc, { $ref: '#/components/schemas/Pet' }) as { name: string }).name, 'Rex');
  });

  it('reads Swagger 2.0: body parameters, host and schemes', () => {
    const swagger: OpenApiDoc = { swagger: '2.0', host: 'gw.test', basePath: '/v1', schemes: ['https'], paths: { '/x': { post: { parameters: [{ name: 'b', in: 'body', required: true, schema: { type: 'object' } }, { name: 'q', in: 'query', type: 'string' }], responses: {} } } } };
    const [op] = operations(swagger);
    assert.equal(op!.requestBody?.required, true);
    assert.equal(op!.parameters[0]!.schema?.type, 'string');
    assert.deepEqual(serverUrls(swagger), ['https://gw.test/v1']);
  });
});
