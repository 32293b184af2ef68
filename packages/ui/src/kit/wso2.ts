// WSO2 REST shapes that more than one console reads (only the fields they share); each app's
// model.ts extends them with what its own API answers.

/** An API in a list (publisher-v4 and devportal-v3 `APIInfo`). */
export interface ApiSummary {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly context: string;
  readonly provider: string;
  readonly lifeCycleStatus: string;
}

/** An API's document (publisher-v4 and devportal-v3 `Document`). */
export interface DocumentSummary {
  readonly documentId: string;
  readonly name: string;
  readonly type: string;
  readonly summary?: string;
  readonly sourceType: string;
  readonly sourceUrl?: string;
}

/** A gateway environment's virtual host (admin-v4 and publisher-v4 `VHost`). */
export interface VirtualHost {
  readonly host: string;
  readonly httpContext?: string;
  readonly httpPort?: number;
  readonly httpsPort?: number;
  readonly wsPort?: number;
  readonly wssPort?: number;
}

