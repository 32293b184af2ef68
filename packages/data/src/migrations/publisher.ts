import type { Migration } from 'kysely';

/**
 * The publisher component's migrations, merged into the apim and shared sets by ./index.ts.
 * Names sort in order of application across all areas; see ./index.ts for the number ranges.
 */
export const publisherMigrations: { readonly apim: Readonly<Record<string, Migration>>; readonly shared: Readonly<Record<string, Migration>> } = {
  apim: {},
  shared: {},
};
