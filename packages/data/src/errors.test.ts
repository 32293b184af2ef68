import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DataErrors, isRetryable } from './errors.ts';

describe('DataErrors', () => {
  it('every code is documented in docs/errors.md under "## data", with its status and WSO2 code', async () => {
    const doc = await readFile(join(import.meta.dirname, '..', '..', '..', 'docs', 'errors.md'), 'utf8');
    const start = doc.indexOf('\n## data');
    assert.ok(start >= 0, 'docs/errors.md has a "## data" section');
    const next = doc.indexOf('\n## ', start + 1);
    const section = doc.slice(start, next < 0 ? undefined : next);
    for (const [code, spec] of Object.entries(DataErrors.specs)) {
      const row = section.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
      assert.ok(row, `${code} is documented`);
      const cells = row.split('|').map((c) => c.trim());
      assert.equal(cells[2], String(spec.status), `${code} status`);
      assert.equal(cells[3], String(spec.wso2Code), `${code} WSO2 code`);
    }
  });

  it('client errors are exposed, server errors are not; only serialization failures are retryable', () => {
    for (const code of Object.keys(DataErrors.specs) as (keyof typeof DataErrors.specs)[]) {
      const err = DataErrors.create(code);
      assert.equal(err.expose, err.status < 500);
      assert.equal(isRetryable(err), code === 'DATA_ERR_SERIALIZATION');
    }
  });
});
