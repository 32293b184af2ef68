import { PostgresDialect } from 'kysely';
import type { CompiledQuery, DatabaseConnection, Driver, PostgresDialectConfig, QueryCompiler, QueryResult, TransactionSettings } from 'kysely';
import { mapPostgresError } from './errors.ts';

export interface PgDialectConfig extends PostgresDialectConfig {
  /** `host:port/database`, named in UNAVAILABLE descriptions. */
  readonly target: string;
}

/**
 * Kysely's PostgresDialect (on a `pg.Pool`) whose driver maps `pg` errors to `DATA_ERR_*` in
 * every connection call, as the SQLite driver does, so both dialects throw the same codes.
 */
export class PgDialect extends PostgresDialect {
  #target: string;

  constructor(config: PgDialectConfig) {
    const { target, ...rest } = config;
    super(rest);
    this.#target = target;
  }

  override createDriver(): Driver {
    return new ErrorMappingDriver(super.createDriver(), (err) => mapPostgresError(err, this.#target));
  }
}

type MapError = (err: unknown) => Error;

/**
 * Wraps a driver: connections handed out are wrappers, and the inner driver always gets back its
 * own connection (kysely's PostgresDriver releases them through a private symbol).
 */
class ErrorMappingDriver implements Driver {
  #inner: Driver;
  #map: MapError;
  #wrappers = new WeakMap<DatabaseConnection, MappedConnection>();

  constructor(inner: Driver, map: MapError) {
    this.#inner = inner;
    this.#map = map;
  }

  async #call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.#map(err);
    }
  }

  init(): Promise<void> {
    return this.#call(() => this.#inner.init());
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const inner = await this.#call(() => this.#inner.acquireConnection());
    let wrapper = this.#wrappers.get(inner);
    if (!wrapper) {
      wrapper = new MappedConnection(inner, this.#map);
      this.#wrappers.set(inner, wrapper);
    }
    return wrapper;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#call(() => this.#inner.beginTransaction(unwrap(connection), settings));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#call(() => this.#inner.commitTransaction(unwrap(connection)));
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#call(() => this.#inner.rollbackTransaction(unwrap(connection)));
  }

  savepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    return this.#call(() => this.#inner.savepoint!(unwrap(connection), name, compileQuery));
  }

  rollbackToSavepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    return this.#call(() => this.#inner.rollbackToSavepoint!(unwrap(connection), name, compileQuery));
  }

  releaseSavepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    return this.#call(() => this.#inner.releaseSavepoint!(unwrap(connection), name, compileQuery));
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(unwrap(connection));
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}

const innerConnections = new WeakMap<DatabaseConnection, DatabaseConnection>();

function unwrap(connection: DatabaseConnection): DatabaseConnection {
  return innerConnections.get(connection) ?? connection;
}

class MappedConnection implements DatabaseConnection {
  #inner: DatabaseConnection;
  #map: MapError;

  constructor(inner: DatabaseConnection, map: MapError) {
    this.#inner = inner;
    this.#map = map;
    innerConnections.set(this, inner);
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return await this.#inner.executeQuery<R>(compiledQuery);
    } catch (err) {
      throw this.#map(err);
    }
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    try {
      yield* this.#inner.streamQuery<R>(compiledQuery, chunkSize);
    } catch (err) {
      throw this.#map(err);
    }
  }
}
