import type { Migration } from 'kysely';
import * as apim0200 from './apim/0200_apis.ts';
import * as apim0201 from './apim/0201_revisions_deployments.ts';
import * as apim0202 from './apim/0202_api_usage.ts';
import * as shared0200 from './shared/0200_api_definitions_documents.ts';

/**
 * The publisher component's migrations, merged into the apim and shared sets by ./index.ts.
 * Names sort in order of application across all areas; see ./index.ts for the number ranges.
 */
export const publisherMigrations: { readonly apim: Readonly<Record<string, Migration>>; readonly shared: Readonly<Record<string, Migration>> } = {
  apim: { '0200_apis': apim0200, '0201_revisions_deployments': apim0201, '0202_api_usage': apim0202 },
  shared: { '0200_api_definitions_documents': shared0200 },
};
