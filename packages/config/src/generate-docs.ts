// Writes docs/configuration.md from the schema: `npm run docs:config`.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigDocs } from './docs.ts';

export const configDocsPath = fileURLToPath(new URL('../../../docs/configuration.md', import.meta.url));

if (import.meta.main) {
  writeFileSync(configDocsPath, renderConfigDocs());
  console.log(`wrote ${configDocsPath}`);
}
