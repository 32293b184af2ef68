import { DatabaseSync } from 'node:sqlite';
import type { SQLInputValue, StatementSync } from 'node:sqlite';
import { CompiledQuery, IdentifierNode, RawNode, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, createQueryId } from 'kysely';
import type {
  DatabaseConnection,
  DatabaseIntrospector,
  Dialect,
  DialectAdapter,
  Driver,
  Kysely,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
} from 'kysely';
import { mapSqliteError } from './errors.ts';

export interface NodeSqliteDialectConfig {
  /** Database file path (`:memory:` works too, for one connection). */
  readonly path: string;
  /** How long a write waits for another process's lock before failing (ms). */
  readonly busyTimeoutMs?: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;
const STATEMENT_CACHE_SIZE = 200;

/**
 * Kysely dialect on Node's built-in `node:sqlite`. Kysely's own SqliteDialect expects
 * better-sqlite3 (`stmt.reader`), so this reuses its compiler, introspector and adapter and
 * supplies the driver. Driver errors are mapped to `DATA_ERR_*` in the connection.
 */
export class NodeSqliteDialect implements Dialect {
  #config: NodeSqliteDialectConfig;

  constructor(config: NodeSqliteDialectConfig) {
    this.#config = Object.freeze({ ...config });
  }

  createDriver(): Driver {
    return new NodeSqliteDriver(this.#config);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new NodeSqliteAdapter();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

/**
 * SQLite runs DDL inside transactions. Declaring it makes kysely's Migrator wrap each run in one
 * transaction, which this driver opens with BEGIN IMMEDIATE: a second process migrating the same
 * file waits on the write lock (busy_timeout), then sees the migrations already applied.
 */
class NodeSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class NodeSqliteDriver implements Driver {
  #config: NodeSqliteDialectConfig;
  #mutex = new ConnectionMutex();
  #db: DatabaseSync | undefined;
  #connection: NodeSqliteConnection | undefined;

  constructor(config: NodeSqliteDialectConfig) {
    this.#config = config;
  }

  async init(): Promise<void> {
    const { path } = this.#config;
    const busyTimeoutMs = this.#config.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(path, { timeout: busyTimeoutMs });
      // busy_timeout first, so switching a fresh file to WAL waits for a concurrent opener.
      db.exec(`PRAGMA busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
      db.exec('PRAGMA journal_mode = WAL');
      db.exec('PRAGMA foreign_keys = ON');
      db.exec('PRAGMA synchronous = NORMAL');
    } catch (err) {
      db?.close();
      throw mapSqliteError(err, path);
    }
    this.#db = db;
    this.#connection = new NodeSqliteConnection(db, path);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    // One connection per file, as kysely's sqlite driver: callers queue on the mutex.
    await this.#mutex.lock();
    if (!this.#connection) {
      this.#mutex.unlock();
      throw mapSqliteError(Object.assign(new Error('database is not open'), { code: 'ERR_INVALID_STATE' }), this.#config.path);
    }
    return this.#connection;
  }

  async beginTransaction(connection: DatabaseConnection, _settings: TransactionSettings): Promise<void> {
    // IMMEDIATE takes the write lock up front: two writers serialize on busy_timeout instead of
    // one failing with SQLITE_BUSY when its read lock cannot be upgraded.
    await connection.executeQuery(CompiledQuery.raw('BEGIN IMMEDIATE'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('COMMIT'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('ROLLBACK'));
  }

  async savepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    await connection.executeQuery(compileQuery(savepointNode('savepoint', name), createQueryId()));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    await connection.executeQuery(compileQuery(savepointNode('rollback to', name), createQueryId()));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    await connection.executeQuery(compileQuery(savepointNode('release', name), createQueryId()));
  }

  async releaseConnection(): Promise<void> {
    this.#mutex.unlock();
  }

  async destroy(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    this.#connection = undefined;
    if (db?.isOpen) db.close();
  }
}

class NodeSqliteConnection implements DatabaseConnection {
  #db: DatabaseSync;
  #target: string;
  #statements = new Map<string, { stmt: StatementSync; returnsRows: boolean }>();

  constructor(db: DatabaseSync, target: string) {
    this.#db = db;
    this.#target = target;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    try {
      const { stmt, returnsRows } = this.#prepare(compiledQuery.sql);
      const params = bindable(compiledQuery.parameters);
      // columns() is non-empty for SELECT, PRAGMA and INSERT/UPDATE/DELETE ... RETURNING:
      // those need all(); run() would discard the returned rows.
      if (returnsRows) {
        return { rows: stmt.all(...params) as R[] };
      }
      const { changes, lastInsertRowid } = stmt.run(...params);
      return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
    } catch (err) {
      throw mapSqliteError(err, this.#target);
    }
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery, _chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    let iterator: Iterator<unknown>;
    try {
      iterator = this.#prepare(compiledQuery.sql).stmt.iterate(...bindable(compiledQuery.parameters));
    } catch (err) {
      throw mapSqliteError(err, this.#target);
    }
    while (true) {
      let next: IteratorResult<unknown>;
      try {
        next = iterator.next();
      } catch (err) {
        throw mapSqliteError(err, this.#target);
      }
      if (next.done) return;
      yield { rows: [next.value as R] };
    }
  }

  #prepare(sql: string): { stmt: StatementSync; returnsRows: boolean } {
    let entry = this.#statements.get(sql);
    if (entry) {
      // Refresh recency: Map iteration order is insertion order, the oldest is evicted first.
      this.#statements.delete(sql);
    } else {
      const stmt = this.#db.prepare(sql);
      entry = { stmt, returnsRows: stmt.columns().length > 0 };
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) {
        const oldest = this.#statements.keys().next().value;
        if (oldest !== undefined) this.#statements.delete(oldest);
      }
    }
    this.#statements.set(sql, entry);
    return entry;
  }
}

// node:sqlite binds null, numbers, bigints, strings and bytes; booleans become 0/1 as SQLite
// stores them, so a `boolean` column reads back as an integer on both sides of a write.
function bindable(parameters: readonly unknown[]): SQLInputValue[] {
  return parameters.map((p) => {
    if (typeof p === 'boolean') return p ? 1 : 0;
    if (p === undefined) return null;
    return p as SQLInputValue;
  });
}

function savepointNode(command: 'savepoint' | 'rollback to' | 'release', name: string): RawNode {
  return RawNode.createWithChildren([RawNode.createWithSql(`${command} `), IdentifierNode.create(name)]);
}

class ConnectionMutex {
  #promise: Promise<void> | undefined;
  #resolve: (() => void) | undefined;

  async lock(): Promise<void> {
    while (this.#promise) await this.#promise;
    this.#promise = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  unlock(): void {
    const resolve = this.#resolve;
    this.#promise = undefined;
    this.#resolve = undefined;
    resolve?.();
  }
}
