import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { configKeys, renderConfigDocs } from './index.ts';
import { configDocsPath } from './generate-docs.ts';

it('docs/configuration.md is generated from the current schema (run `npm run docs:config`)', () => {
  assert.equal(readFileSync(configDocsPath, 'utf8'), renderConfigDocs(), 'docs/configuration.md is stale: run `npm run docs:config`');
});

it('the docs list every key with its variable', () => {
  const docs = renderConfigDocs();
  for (const k of configKeys) assert.ok(docs.includes(`\`${k.env}\``), k.env);
});
