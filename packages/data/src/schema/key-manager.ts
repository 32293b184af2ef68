/* eslint-disable @typescript-eslint/no-empty-object-type -- filled in as the key-manager component adds tables */
/** Tables the key-manager component adds to the apim database. */
export interface KeyManagerApimTables {}

/** Tables the key-manager component adds to the shared database. */
export interface KeyManagerSharedTables {}
