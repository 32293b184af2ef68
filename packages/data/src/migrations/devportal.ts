import type { Migration } from 'kysely';
import * as apim0400 from './apim/0400_devportal.ts';

/**
 * The devportal component's migrations, merged into the apim and shared sets by ./index.ts.
 * Names sort in order of application across all areas; see ./index.ts for the number ranges.
 */
export const devportalMigrations: { readonly apim: Readonly<Record<string, Migration>>; readonly shared: Readonly<Record<string, Migration>> } = {
  apim: { '0400_devportal': apim0400 },
  shared: {},
};
