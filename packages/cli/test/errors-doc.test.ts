import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { registeredErrorCodes } from '@gatehouse/core';

// Loading each package registers its error codes.
await import('@gatehouse/data');
await import('@gatehouse/events');
await import('@gatehouse/publisher');
await import('@gatehouse/admin');
await import('@gatehouse/key-manager');
await import('@gatehouse/devportal');

it('documents every registered error code in docs/errors.md with its HTTP status', () => {
  const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const codes = [...registeredErrorCodes()];
  assert.ok(codes.length >= 20, `expected the core, data and events registries, found ${codes.length} codes`);
  for (const [code, spec] of codes) {
    const row = doc.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
    assert.ok(row, `${code} is not documented in docs/errors.md`);
    assert.match(row, new RegExp(`\\| ${spec.status} \\|`), `${code}: the documented HTTP status is not ${spec.status}`);
  }
});
