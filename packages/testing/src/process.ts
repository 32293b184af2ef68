import { spawn, type ChildProcess } from 'node:child_process';

export interface Spawned {
  readonly child: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout+stderr contain `text` (or the pattern matches), rejects on exit or timeout. */
  waitFor(pattern: string | RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or signal name) once the process ends. */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): void;
}

/** Runs a Node 24 script (this process's own binary) as a child, capturing its output. */
export function spawnNode(args: string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}): Spawned {
  const child = spawn(process.execPath, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const notify = () => {
    for (const w of waiters) w();
  };
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    notify();
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    notify();
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    waitFor(pattern, timeoutMs = 15_000) {
      const matches = () => {
        const all = out + err;
        return typeof pattern === 'string' ? all.includes(pattern) : pattern.test(all);
      };
      return new Promise((resolve, reject) => {
        if (matches()) return resolve(out + err);
        const check = () => {
          if (matches()) finish(() => resolve(out + err));
        };
        const finish = (fn: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          fn();
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`timed out waiting for ${String(pattern)}; output:\n${out}\n${err}`))), timeoutMs);
        waiters.add(check);
        exited.then((code) => {
          if (!matches()) finish(() => reject(new Error(`process exited (${code}) before ${String(pattern)}; output:\n${out}\n${err}`)));
        });
      });
    },
  };
}
