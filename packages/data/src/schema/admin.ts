/* eslint-disable @typescript-eslint/no-empty-object-type -- filled in as the admin component adds tables */
/** Tables the admin component adds to the apim database. */
export interface AdminApimTables {}

/** Tables the admin component adds to the shared database. */
export interface AdminSharedTables {}
