import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { it } from 'node:test';
import { EventsErrors } from '../src/index.ts';

it('every events error code is documented in docs/errors.md with its HTTP status', async () => {
  const doc = await readFile(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const section = doc.split(/^## /m).find((s) => s.startsWith('events\n'));
  assert.ok(section, 'docs/errors.md has an "## events" section');
  for (const [code, spec] of Object.entries(EventsErrors.specs)) {
    assert.match(section, new RegExp(`\\| \`${code}\` \\| ${spec.status} \\|`), `${code} (${spec.status}) is documented`);
  }
});
