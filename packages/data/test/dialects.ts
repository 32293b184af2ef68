import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, describe } from 'node:test';
import { freshPostgresDatabases, skipUnless, tempDir, uniqueName } from '@gatehouse/testing';
import { openDatabases } from '../src/index.ts';
import type { DatabaseOptions, Databases, DialectName } from '../src/index.ts';

export type DatabasePair = { apim: DatabaseOptions; shared: DatabaseOptions };

/** What a dialect's suite gets: fresh stores, cleaned up in after(). */
export interface DialectHarness {
  readonly dialect: DialectName;
  /** Options for a new pair of empty databases (two files, or two PostgreSQL databases). */
  freshPair(): Promise<DatabasePair>;
  /** Opens (and by default migrates) a new pair; closed in after(). */
  open(options?: { migrate?: boolean }): Promise<Databases>;
  /** Options that cannot be opened: a path under a regular file, or a closed port with a password. */
  unreachablePair(): DatabasePair;
}

/** Cheap scrypt for tests only; the default cost stays in production. */
export const TEST_PASSWORD_PARAMS = { N: 1024, r: 8, p: 1 } as const;

const pgSkip = await skipUnless('postgres');

function createHarness(dialect: DialectName): { harness: DialectHarness; cleanup(): Promise<void> } {
  const opened: Databases[] = [];
  const drops: (() => Promise<void>)[] = [];
  let dir: Awaited<ReturnType<typeof tempDir>> | undefined;

  const freshPair = async (): Promise<DatabasePair> => {
    if (dialect === 'sqlite') {
      dir ??= await tempDir('gatehouse-data-');
      const name = uniqueName('db');
      return {
        apim: { type: 'sqlite', path: join(dir.path, name, 'apim.db') },
        shared: { type: 'sqlite', path: join(dir.path, name, 'shared.db') },
      };
    }
    const pg = await freshPostgresDatabases('gh_data');
    drops.push(pg.drop);
    return {
      apim: { type: 'postgres', url: pg.urls.apim, poolMax: 4, connectTimeoutMs: 2000 },
      shared: { type: 'postgres', url: pg.urls.shared, poolMax: 4, connectTimeoutMs: 2000 },
    };
  };

  const harness: DialectHarness = {
    dialect,
    freshPair,
    async open(options = {}) {
      const dbs = await openDatabases(await freshPair());
      opened.push(dbs);
      if (options.migrate !== false) await dbs.migrate();
      return dbs;
    },
    unreachablePair() {
      if (dialect === 'sqlite') {
        const underFile = join(process.execPath, 'not-a-dir', 'apim.db');
        return { apim: { type: 'sqlite', path: underFile }, shared: { type: 'sqlite', path: underFile } };
      }
      const url = 'postgres://postgres:s3cret-pw@127.0.0.1:1/x';
      return { apim: { type: 'postgres', url, connectTimeoutMs: 2000 }, shared: { type: 'postgres', url, connectTimeoutMs: 2000 } };
    },
  };

  return {
    harness,
    async cleanup() {
      await Promise.all(opened.map((d) => d.close()));
      for (const drop of drops) await drop();
      await dir?.remove();
    },
  };
}

/**
 * Runs `body` once per dialect, each in its own `describe`, as kysely's test matrix does:
 * SQLite on temp files, PostgreSQL on databases created for this file and dropped after it
 * (skipped with a note when the server is unreachable).
 *
 * @example
 * ```ts
 * await forEachDialect((dialect, h) => {
 *   it('creates a user', async () => { const dbs = await h.open(); ... });
 * });
 * ```
 */
export async function forEachDialect(body: (dialect: DialectName, harness: DialectHarness) => void): Promise<void> {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    const skip = dialect === 'postgres' ? pgSkip : false;
    describe(dialect, { skip }, () => {
      const { harness, cleanup } = createHarness(dialect);
      after(cleanup);
      body(dialect, harness);
    });
  }
}

/** Both harnesses at once, for tests comparing the dialects; skipped without PostgreSQL. */
export function bothDialects(body: (sqlite: DialectHarness, postgres: DialectHarness) => void): void {
  describe('sqlite vs postgres', { skip: pgSkip }, () => {
    const a = createHarness('sqlite');
    const b = createHarness('postgres');
    after(async () => {
      await a.cleanup();
      await b.cleanup();
    });
    body(a.harness, b.harness);
  });
}

export interface ChildResult {
  code: number | null;
  output: Record<string, unknown>;
  stderr: string;
}

const CHILD = join(import.meta.dirname, 'fixtures', 'child.ts');

/**
 * Starts `count` processes running `action` against the same pair, lets them all open their
 * databases, then releases them at once so their migrations or seeds really overlap.
 */
export async function runConcurrently(count: number, pair: DatabasePair, action: 'migrate' | 'seed'): Promise<ChildResult[]> {
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, [CHILD, JSON.stringify({ pair, action, passwordParams: TEST_PASSWORD_PARAMS })], {
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
  const results = children.map(
    (child) =>
      new Promise<ChildResult>((resolve) => {
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d));
        child.stderr.on('data', (d: Buffer) => (stderr += d));
        child.on('close', (code) => {
          const last = stdout.trim().split('\n').pop() ?? '';
          let output: Record<string, unknown> = {};
          try {
            output = JSON.parse(last) as Record<string, unknown>;
          } catch {
            // reported through code and stderr
          }
          resolve({ code, output, stderr });
        });
      }),
  );
  const ready = children.map(
    (child) =>
      new Promise<void>((resolve) => {
        const onData = (d: Buffer) => {
          if (d.toString().includes('ready')) {
            child.stdout.off('data', onData);
            resolve();
          }
        };
        child.stdout.on('data', onData);
        child.on('close', () => resolve());
      }),
  );
  await Promise.all(ready);
  for (const child of children) child.stdin.end('go\n');
  return Promise.all(results);
}
