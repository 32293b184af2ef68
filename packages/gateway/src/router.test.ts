import { it } from 'node:test';
import assert from 'node:assert/strict';
import { RouteTable } from './router.ts';
import type { RuntimeApi } from './runtime-api.ts';

function api(over: Partial<RuntimeApi> & Pick<RuntimeApi, 'context' | 'version'>): RuntimeApi {
  return {
    id: `${over.context}-${over.version}`,
    name: over.context,
    isDefaultVersion: false,
    hosts: [],
    status: 'PUBLISHED',
    endpoints: {},
    operations: [
      { verb: 'GET', target: '/pets', authType: 'Any', scopes: [] },
      { verb: 'POST', target: '/pets', authType: 'Any', scopes: [] },
      { verb: 'GET', target: '/pets/{petId}', authType: 'Any', scopes: [] },
      { verb: 'GET', target: '/pets/mine', authType: 'Any', scopes: [] },
      { verb: 'GET', target: '/pets/{petId}/photos/*', authType: 'Any', scopes: [] },
      { verb: 'DELETE', target: '/*', authType: 'Any', scopes: [] },
    ],
    ...over,
  };
}

const table = RouteTable.build(
  [
    api({ context: '/petstore', version: '1.0.0' }),
    api({ context: '/petstore', version: '2.0.0', isDefaultVersion: true }),
    api({ context: '/shop/{version}/v', version: '3' }),
    api({ context: '/petstore/1.0.0/deeper', version: 'x', operations: [{ verb: 'GET', target: '/*', authType: 'None', scopes: [] }] }),
    api({ context: '/internal', version: '1', hosts: ['api.example.com'] }),
  ],
  (a, op) => `${a.version} ${op.verb} ${op.target}`,
);

const m = (path: string, method = 'GET', host = 'localhost') => {
  const r = table.match(host, path, method);
  return r.kind === 'found' ? { to: r.target.compiled, params: r.params, rest: r.resourcePath } : r.kind === 'method-not-allowed' ? { allow: [...r.allow].sort() } : 'not-found';
};

it('routes /{context}/{version}/{resource} with path parameters', () => {
  assert.deepEqual(m('/petstore/1.0.0/pets/7'), { to: '1.0.0 GET /pets/{petId}', params: { petId: '7' }, rest: '/pets/7' });
  assert.deepEqual(m('/petstore/1.0.0/pets'), { to: '1.0.0 GET /pets', params: {}, rest: '/pets' });
  assert.deepEqual(m('/petstore/1.0.0/pets', 'POST'), { to: '1.0.0 POST /pets', params: {}, rest: '/pets' });
});

it('prefers a literal segment to a parameter, and a parameter to a wildcard', () => {
  assert.equal((m('/petstore/1.0.0/pets/mine') as { to: string }).to, '1.0.0 GET /pets/mine');
  assert.deepEqual(m('/petstore/1.0.0/pets/7/photos/a/b.png'), { to: '1.0.0 GET /pets/{petId}/photos/*', params: { petId: '7' }, rest: '/pets/7/photos/a/b.png' });
  assert.equal((m('/petstore/1.0.0/anything/else', 'DELETE') as { to: string }).to, '1.0.0 DELETE /*');
});

it('serves the default version without its version segment, never hiding a versioned path', () => {
  assert.equal((m('/petstore/pets/7') as { to: string }).to, '2.0.0 GET /pets/{petId}');
  assert.equal((m('/petstore/2.0.0/pets/7') as { to: string }).to, '2.0.0 GET /pets/{petId}');
  assert.equal((m('/petstore/1.0.0/pets/7') as { to: string }).to, '1.0.0 GET /pets/{petId}');
});

it('places {version} where the context says', () => {
  assert.equal((m('/shop/3/v/pets') as { to: string }).to, '3 GET /pets');
  assert.equal(m('/shop/v/3/pets'), 'not-found');
});

it('picks the longest base path', () => {
  assert.equal((m('/petstore/1.0.0/deeper/x/anything') as { to: string }).to, 'x GET /*');
});

it('answers 404 for unknown paths and 405 with the allowed methods', () => {
  assert.equal(m('/nowhere/1/pets'), 'not-found');
  assert.equal(m('/shop/9/v/pets'), 'not-found');
  // An unknown version under a default-version API is a resource of the default version.
  assert.deepEqual(m('/petstore/9.9.9/pets'), { allow: ['DELETE'] });
  assert.deepEqual(m('/petstore/1.0.0/pets', 'PATCH'), { allow: ['GET', 'POST'] });
});

it('matches HEAD on a GET resource', () => {
  assert.equal((m('/petstore/1.0.0/pets', 'HEAD') as { to: string }).to, '1.0.0 GET /pets');
});

it('routes host-bound APIs only for their host, and any-host APIs for every host', () => {
  assert.equal((m('/internal/1/pets', 'GET', 'api.example.com') as { to: string }).to, '1 GET /pets');
  assert.equal(m('/internal/1/pets', 'GET', 'localhost'), 'not-found');
  assert.equal((m('/petstore/1.0.0/pets', 'GET', 'api.example.com') as { to: string }).to, '1.0.0 GET /pets');
});

it('decodes path parameters', () => {
  assert.deepEqual((m('/petstore/1.0.0/pets/a%20b') as { params: object }).params, { petId: 'a b' });
});
