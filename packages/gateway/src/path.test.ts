import { it } from 'node:test';
import assert from 'node:assert/strict';
import { checkTarget } from './path.ts';

it('accepts ordinary paths and keeps the query apart', () => {
  assert.deepEqual(checkTarget('/pets/1.0.0/pets/7?x=1&y=%2F'), { ok: true, path: '/pets/1.0.0/pets/7', query: '?x=1&y=%2F' });
  assert.deepEqual(checkTarget('/a/b%20c/~d'), { ok: true, path: '/a/b%20c/~d', query: '' });
  assert.deepEqual(checkTarget('/'), { ok: true, path: '/', query: '' });
  assert.equal(checkTarget('/files/report.v2..final').ok, true, 'dots inside a segment are fine');
});

it('refuses every path a backend could read differently from the router', () => {
  const refused = [
    'http://evil.example/pets', // absolute-form
    '*',
    '/api/v1/../admin',
    '/api/v1/./admin',
    '/api/v1/%2e%2e/admin',
    '/api/v1/%2E%2e/admin',
    '/api/v1/.%2e/admin',
    '/api/v1/..',
    '/api/v1%2f..%2fadmin',
    '/api/v1%2Fadmin',
    '/api/v1%5cadmin',
    '/api\\v1',
    '/api//v1',
    '/api/v1/..;/admin',
    '/api/v1;jsessionid=x/orders',
    '/api/v1/%3badmin',
    '/api/v1/orders%00.json',
    '/api/v1/%0d%0aX-Injected:1',
    '/api/v1/%zz',
    '/api/v1/%4',
    '/api/v1#frag',
    '/api/v1?x#frag',
    '/api/v1/ spaced',
    '/api/v1/"quoted"',
  ];
  for (const target of refused) assert.equal(checkTarget(target).ok, false, target);
});
