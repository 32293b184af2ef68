/* eslint-disable @typescript-eslint/no-empty-object-type -- filled in as the publisher component adds tables */
/** Tables the publisher component adds to the apim database. */
export interface PublisherApimTables {}

/** Tables the publisher component adds to the shared database. */
export interface PublisherSharedTables {}
