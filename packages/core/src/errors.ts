/**
 * Error registries. Each package defines its own codes with {@link defineErrors}; callers
 * `switch (err.code)` instead of reading messages, and REST layers map a code to WSO2's
 * numeric error shape.
 *
 * @example
 * ```ts
 * const DataErrors = defineErrors({
 *   DATA_ERR_UNIQUE_VIOLATION: { status: 409, wso2Code: 900409, message: 'The resource already exists' },
 * });
 * throw DataErrors.create('DATA_ERR_UNIQUE_VIOLATION', { detail: 'users.username' });
 * ```
 */
export interface ErrorSpec {
  /** HTTP status a REST layer answers with. */
  readonly status: number;
  /** WSO2's numeric `code` in its error body (defaults to the HTTP status). */
  readonly wso2Code?: number;
  /** Default human-readable message. */
  readonly message: string;
  /** Whether the message may reach the caller; defaults to `status < 500`. */
  readonly expose?: boolean;
}

export interface ErrorDetail {
  readonly field?: string;
  readonly message: string;
}

export interface GatehouseErrorOptions {
  readonly message?: string;
  readonly description?: string;
  readonly details?: readonly ErrorDetail[];
  readonly cause?: unknown;
}

export class GatehouseError<C extends string = string> extends Error {
  readonly code: C;
  readonly status: number;
  readonly wso2Code: number;
  /** Whether the message may be shown to the caller (client errors only). */
  readonly expose: boolean;
  readonly description: string | undefined;
  readonly details: readonly ErrorDetail[];

  constructor(code: C, spec: ErrorSpec, options: GatehouseErrorOptions = {}) {
    super(options.message ?? spec.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatehouseError';
    this.code = code;
    this.status = spec.status;
    this.wso2Code = spec.wso2Code ?? spec.status;
    this.expose = spec.expose ?? spec.status < 500;
    this.description = options.description;
    this.details = options.details ?? [];
  }

  /** WSO2's REST error body: `{ code, message, description, moreInfo, error[] }`. */
  toWso2Body(): Wso2ErrorBody {
    return {
      code: this.wso2Code,
      message: this.expose ? this.message : 'Internal server error',
      description: this.expose ? (this.description ?? this.message) : 'The server could not complete the request',
      moreInfo: '',
      error: this.expose ? this.details.map((d) => ({ code: this.wso2Code, message: d.field ? `${d.field}: ${d.message}` : d.message })) : [],
    };
  }
}

export interface Wso2ErrorBody {
  code: number;
  message: string;
  description: string;
  moreInfo: string;
  error: { code: number; message: string }[];
}

export interface ErrorRegistry<C extends string> {
  readonly specs: Readonly<Record<C, ErrorSpec>>;
  create(code: C, options?: GatehouseErrorOptions): GatehouseError<C>;
  is(err: unknown, code?: C): err is GatehouseError<C>;
}

const allRegistries = new Map<string, ErrorSpec>();

export function defineErrors<C extends string>(specs: Record<C, ErrorSpec>): ErrorRegistry<C> {
  for (const [code, spec] of Object.entries(specs) as [string, ErrorSpec][]) {
    if (allRegistries.has(code) && allRegistries.get(code) !== spec) {
      throw new Error(`error code ${code} is defined twice`);
    }
    allRegistries.set(code, spec);
  }
  const frozen = Object.freeze({ ...specs });
  return {
    specs: frozen,
    create: (code, options) => new GatehouseError(code, frozen[code], options),
    is: (err, code): err is GatehouseError<C> =>
      err instanceof GatehouseError && (code === undefined ? Object.hasOwn(frozen, err.code) : err.code === code),
  };
}

/** Every code registered so far in this process (the docs test walks it). */
export function registeredErrorCodes(): ReadonlyMap<string, ErrorSpec> {
  return allRegistries;
}

export function isGatehouseError(err: unknown): err is GatehouseError {
  return err instanceof GatehouseError;
}

export const CoreErrors = defineErrors({
  CORE_ERR_VALIDATION: { status: 400, wso2Code: 900400, message: 'The request is not valid' },
  CORE_ERR_NOT_FOUND: { status: 404, wso2Code: 900404, message: 'The requested resource was not found' },
  CORE_ERR_INTERNAL: { status: 500, wso2Code: 900500, message: 'Internal server error' },
  CORE_ERR_NOT_IMPLEMENTED: { status: 501, wso2Code: 900501, message: 'This component is not implemented yet', expose: true },
  CORE_ERR_UNAVAILABLE: { status: 503, wso2Code: 900503, message: 'A dependency of this service is unavailable', expose: true },
});
