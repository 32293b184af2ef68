import type { Migration } from 'kysely';
import * as apim0300 from './apim/0300_admin_tables.ts';

/**
 * The admin component's migrations, merged into the apim and shared sets by ./index.ts.
 * Names sort in order of application across all areas; see ./index.ts for the number ranges.
 */
export const adminMigrations: { readonly apim: Readonly<Record<string, Migration>>; readonly shared: Readonly<Record<string, Migration>> } = {
  apim: { '0300_admin_tables': apim0300 },
  shared: {},
};
