import { spawn } from 'node:child_process';

export interface WrkResult {
  readonly rps: number;
  /** Latency percentiles, ms. */
  readonly p50: number;
  readonly p99: number;
}

/**
 * Runs wrk (one thread) against `url` and reads requests/s and the p50/p99 latencies from its
 * `--latency` report; a run with any non-2xx answer fails, so a broken setup never passes as fast.
 */
export async function runWrk(url: string, options: { connections: number; seconds: number; headers?: string[]; script?: string }): Promise<WrkResult> {
  const args = ['-t1', `-c${options.connections}`, `-d${options.seconds}s`, '--latency', ...(options.headers ?? []).flatMap((h) => ['-H', h])];
  if (options.script) args.push('-s', options.script);
  args.push(url);
  const text = await new Promise<string>((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk exited ${code}`))));
  });
  const ms = (label: string) => {
    const m = new RegExp(`${label}%\\s+([\\d.]+)(us|ms|s)`).exec(text);
    if (!m) return NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  if (non2xx) throw new Error(`${url}: ${non2xx[1]} non-2xx responses`);
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]), p50: ms('50'), p99: ms('99') };
}
