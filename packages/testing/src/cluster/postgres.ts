import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ManagedProcess, until } from './processes.ts';

const run = promisify(execFile);

/**
 * Where `initdb` and `postgres` are: `GATEHOUSE_TEST_PG_BIN_DIR`, else the newest Debian-style
 * `/usr/lib/postgresql/<version>/bin` that has them.
 */
export function postgresBinDir(): string | undefined {
  const configured = process.env.GATEHOUSE_TEST_PG_BIN_DIR;
  if (configured) return configured;
  let versions: string[];
  try {
    versions = readdirSync('/usr/lib/postgresql');
  } catch {
    return undefined;
  }
  const dirs = versions
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => `/usr/lib/postgresql/${v}/bin`);
  return dirs.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'postgres')));
}

export interface PrivatePostgresOptions {
  /** A directory of its own (created); the data directory and the log go under it. */
  readonly dir: string;
  readonly port: number;
  /** Databases created at the first start. Default `['gatehouse_apim', 'gatehouse_shared']`. */
  readonly databases?: readonly string[];
  /** Default: {@link postgresBinDir}. */
  readonly binDir?: string;
  /** The OS user the server runs as when this process is root (PostgreSQL refuses root). Default `postgres`. */
  readonly osUser?: string;
  /** The server's output is appended here. Default `<dir>.log`. */
  readonly logFile?: string;
}

async function osIds(user: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', user]), run('id', ['-g', user])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * A throwaway PostgreSQL server: `initdb` into a fresh directory owned by the `postgres` user,
 * started on its own port (TCP on 127.0.0.1 only, no Unix socket, trust authentication, no fsync:
 * nothing here is meant to survive the test). `stop()` is PostgreSQL's fast shutdown (SIGINT),
 * `kill()` a SIGKILL of the postmaster and every backend; `start()` again on the same data.
 *
 * @example
 * ```ts
 * const pg = new PrivatePostgres({ dir: join(root, 'pg'), port: await freePort() });
 * await pg.start();
 * const url = pg.url('gatehouse_apim');
 * await pg.stop();
 * ```
 */
export class PrivatePostgres {
  readonly port: number;
  readonly dataDir: string;
  readonly #o: PrivatePostgresOptions;
  #proc: ManagedProcess | undefined;
  #initialised = false;

  constructor(options: PrivatePostgresOptions) {
    this.#o = options;
    this.port = options.port;
    this.dataDir = join(options.dir, 'data');
  }

  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  get running(): boolean {
    return this.#proc?.running ?? false;
  }

  get process(): ManagedProcess | undefined {
    return this.#proc;
  }

  async start(): Promise<void> {
    const bin = this.#o.binDir ?? postgresBinDir();
    if (!bin) throw new Error('no PostgreSQL server binaries (initdb, postgres) found: install postgresql or set GATEHOUSE_TEST_PG_BIN_DIR');
    if (!this.#initialised) {
      // PostgreSQL refuses to run as root: as root, run it as the postgres user; otherwise as whoever we are.
      const ids = process.getuid?.() === 0 ? await osIds(this.#o.osUser ?? 'postgres') : undefined;
      await mkdir(this.#o.dir, { recursive: true, mode: 0o700 });
      if (ids) await chown(this.#o.dir, ids.uid, ids.gid);
      await run(join(bin, 'initdb'), ['-D', this.dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], {
        uid: ids?.uid,
        gid: ids?.gid,
        cwd: this.#o.dir,
      });
      this.#proc = new ManagedProcess({
        name: 'postgres',
        command: join(bin, 'postgres'),
        args: [
          '-D', this.dataDir,
          '-p', String(this.port),
          '-c', 'listen_addresses=127.0.0.1',
          '-c', 'unix_socket_directories=',
          '-c', 'fsync=off',
          '-c', 'synchronous_commit=off',
          '-c', 'full_page_writes=off',
          '-c', 'max_connections=200',
          '-c', 'shared_buffers=32MB',
        ],
        cwd: this.#o.dir,
        uid: ids?.uid,
        gid: ids?.gid,
        env: { PATH: '/usr/bin:/bin', LANG: 'C' },
        logFile: this.#o.logFile ?? `${this.#o.dir}.log`,
      });
    }
    const proc = this.#proc as ManagedProcess;
    proc.start();
    await proc.waitFor('database system is ready to accept connections', 30_000);
    if (!this.#initialised) {
      await this.#query(this.#o.databases ?? ['gatehouse_apim', 'gatehouse_shared'], (db) => `CREATE DATABASE "${db}"`);
      this.#initialised = true;
    }
  }

  async #query<T>(items: readonly T[], text: (item: T) => string): Promise<void> {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: this.url('postgres') });
    await client.connect();
    try {
      for (const item of items) await client.query(text(item));
    } finally {
      await client.end();
    }
  }

  /** True when the server answers a query (it may accept TCP before that). */
  async ready(): Promise<boolean> {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: this.url('postgres'), connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Fast shutdown: open transactions are rolled back, clients disconnected. */
  async stop(): Promise<void> {
    await this.#proc?.stop('SIGINT', 20_000);
  }

  /** SIGKILL of the postmaster and its backends (crash recovery at the next start). */
  async kill(): Promise<void> {
    await this.#proc?.kill();
  }

  async waitReady(timeoutMs = 30_000): Promise<void> {
    await until(() => this.ready(), `PostgreSQL on ${this.port}`, timeoutMs, 100);
  }

  async close(): Promise<void> {
    await this.stop();
    await this.#proc?.close();
  }
}
