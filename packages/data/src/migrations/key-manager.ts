import type { Migration } from 'kysely';
import * as apim0100 from './apim/0100_oauth.ts';
import * as apim0101 from './apim/0101_used_assertions.ts';
import * as shared0100 from './shared/0100_system_scopes.ts';

/**
 * The key-manager component's migrations, merged into the apim and shared sets by ./index.ts.
 * Names sort in order of application across all areas; see ./index.ts for the number ranges.
 */
export const keyManagerMigrations: { readonly apim: Readonly<Record<string, Migration>>; readonly shared: Readonly<Record<string, Migration>> } = {
  apim: { '0100_oauth': apim0100, '0101_used_assertions': apim0101 },
  shared: { '0100_system_scopes': shared0100 },
};
