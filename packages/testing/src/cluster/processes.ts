import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, writeFileSync, type WriteStream } from 'node:fs';
import { connect } from 'node:net';

/**
 * Every process group a harness started and has not seen exit, so that an `exit` handler (or the
 * watchdog, when this process is killed outright) can kill them all. Keyed by process group id
 * (the leader's pid: children are spawned `detached`, each in a group of its own).
 */
const liveGroups = new Set<number>();
let groupsFile: string | undefined;

function recordGroups(): void {
  if (!groupsFile) return;
  try {
    writeFileSync(groupsFile, [...liveGroups].join('\n'));
  } catch {
    // The cluster directory is gone: the cluster is being torn down.
  }
}

function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILLs every live process group, synchronously (safe in an `exit` handler). */
export function killAllGroups(): void {
  for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
  liveGroups.clear();
  recordGroups();
}

let exitHookInstalled = false;

/**
 * Kills what is left when this process exits, whatever the reason: `exit` runs for a normal end
 * and for an uncaught exception; the signals are turned into an exit when nothing else handles
 * them (the test runner's child has no handler of its own).
 */
export function installExitHook(options: { signals?: boolean } = {}): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', killAllGroups);
  if (options.signals === false) return;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllGroups();
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    });
  }
}

/**
 * A detached shell that outlives a SIGKILLed parent: once `parentPid` is gone it kills every process
 * group listed in `file` and removes `removeDir`. The only cleanup that survives `kill -9` of the
 * test runner.
 */
export function startWatchdog(file: string, removeDir: string): ChildProcess {
  groupsFile = file;
  recordGroups();
  const script = [
    'while kill -0 "$0" 2>/dev/null; do sleep 1; done',
    'if [ -f "$1" ]; then for g in $(cat "$1"); do kill -9 -"$g" 2>/dev/null; done; fi',
    'rm -rf "$2"',
  ].join('\n');
  const child = spawn('/bin/sh', ['-c', script, String(process.pid), file, removeDir], { detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}

/** Stops the watchdog's bookkeeping (the cluster was torn down normally). */
export function stopWatchdog(watchdog: ChildProcess | undefined): void {
  groupsFile = undefined;
  if (watchdog?.pid !== undefined) killGroup(watchdog.pid, 'SIGKILL');
}

export interface ManagedProcessOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
  /** Output (stdout and stderr) is appended here; the last 64 KiB are kept in memory for `waitFor`. */
  readonly logFile: string;
  readonly uid?: number;
  readonly gid?: number;
}

const TAIL_BYTES = 64 * 1024;

/**
 * One child process of a throwaway cluster, started again with the same command after a stop or a
 * kill. It runs in a process group of its own, so a kill reaches what it forked (PostgreSQL
 * backends, nginx workers).
 */
export class ManagedProcess {
  readonly name: string;
  readonly #o: ManagedProcessOptions;
  #child: ChildProcess | undefined;
  #exited: Promise<number | string> | undefined;
  #tail = '';
  #log: WriteStream | undefined;
  readonly #waiters = new Set<() => void>();

  constructor(options: ManagedProcessOptions) {
    this.name = options.name;
    this.#o = options;
  }

  get pid(): number | undefined {
    return this.running ? this.#child?.pid : undefined;
  }

  get running(): boolean {
    const c = this.#child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** The output seen since the last start (its last 64 KiB). */
  get output(): string {
    return this.#tail;
  }

  /** Resolves with the exit code or signal once the current run ends. */
  get exited(): Promise<number | string> {
    return this.#exited ?? Promise.resolve(-1);
  }

  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.#tail = '';
    this.#log ??= createWriteStream(this.#o.logFile, { flags: 'a' });
    this.#log.write(`\n--- ${new Date().toISOString()} start ${this.name}\n`);
    const child = spawn(this.#o.command, [...this.#o.args], {
      cwd: this.#o.cwd,
      env: this.#o.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      uid: this.#o.uid,
      gid: this.#o.gid,
    });
    this.#child = child;
    const pgid = child.pid;
    if (pgid !== undefined) {
      liveGroups.add(pgid);
      recordGroups();
    }
    const onData = (d: Buffer) => {
      this.#log?.write(d);
      this.#tail = (this.#tail + d.toString('utf8')).slice(-TAIL_BYTES);
      for (const w of this.#waiters) w();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.#exited = new Promise((resolve) => {
      child.once('error', (err) => {
        onData(Buffer.from(`spawn failed: ${err.message}\n`));
        resolve(-1);
      });
      child.once('exit', (code, signal) => {
        if (pgid !== undefined) {
          // The leader is gone; anything it forked in its group goes with it.
          killGroup(pgid, 'SIGKILL');
          liveGroups.delete(pgid);
          recordGroups();
        }
        this.#log?.write(`--- ${new Date().toISOString()} ${this.name} exited (${code ?? signal})\n`);
        for (const w of this.#waiters) w();
        resolve(code ?? signal ?? -1);
      });
    });
  }

  /** Resolves when the output since the last start matches; rejects when the process exits first or on timeout. */
  waitFor(pattern: string | RegExp, timeoutMs = 30_000): Promise<void> {
    const matches = () => (typeof pattern === 'string' ? this.#tail.includes(pattern) : pattern.test(this.#tail));
    return new Promise((resolve, reject) => {
      const check = () => {
        if (matches()) finish(undefined);
        else if (!this.running) finish(new Error(`${this.name} exited before ${String(pattern)}; output:\n${this.#tail.slice(-4000)}`));
      };
      const timer = setTimeout(() => finish(new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${String(pattern)}; output:\n${this.#tail.slice(-4000)}`)), timeoutMs);
      const finish = (err: Error | undefined) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (err) reject(err);
        else resolve();
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Sends `signal` to the process group, waits for the exit, and SIGKILLs the group after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<number | string> {
    const child = this.#child;
    if (!child || !this.running || child.pid === undefined) return this.exited;
    const pid = child.pid;
    // Only the leader: it tells its own children (a postmaster its backends, nginx its workers).
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
    const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `signal` to the leader only (e.g. SIGHUP: reload), without waiting. */
  signal(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid !== undefined && this.running) process.kill(pid, signal);
  }

  /** `kill -9` of the whole process group: no shutdown of any kind. */
  async kill(): Promise<number | string> {
    const pid = this.#child?.pid;
    if (pid !== undefined && this.running) killGroup(pid, 'SIGKILL');
    return this.exited;
  }

  /** Closes the log file (after the last stop). */
  async close(): Promise<void> {
    const log = this.#log;
    this.#log = undefined;
    if (log) await new Promise<void>((resolve) => log.end(resolve));
  }
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export function accepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Polls `cond` every `everyMs` until it holds; throws `what` after `timeoutMs`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
