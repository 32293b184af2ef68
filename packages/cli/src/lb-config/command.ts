import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { haproxyProblems, renderHaproxy } from './haproxy.ts';
import { renderNginx } from './nginx.ts';
import { loadTopology, TopologyError } from './topology.ts';
import type { Topology } from './topology.ts';

export interface LbIo {
  out(line: string): void;
  err(line: string): void;
}

export const LB_KINDS = ['nginx', 'haproxy'] as const;
export type LbKind = (typeof LB_KINDS)[number];

const USAGE = 'usage: gatehouse lb-config nginx|haproxy --topology <file> [--out <file>]';

/** Renders the config for one load balancer; throws {@link TopologyError} on a topology it cannot serve. */
export function renderLbConfig(kind: LbKind, topology: Topology): string {
  if (kind === 'haproxy') {
    const problems = haproxyProblems(topology);
    if (problems.length > 0) throw new TopologyError(problems.map((message) => ({ path: 'tls.key', source: topology.file, message })));
    return renderHaproxy(topology);
  }
  return renderNginx(topology);
}

/** `gatehouse lb-config nginx|haproxy --topology <file> [--out <file>]`. Returns the exit code. */
export function runLbConfig(argv: readonly string[], io: LbIo): number {
  let values: { topology?: string; out?: string };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: { topology: { type: 'string' }, out: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (err) {
    io.err(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const [kind, ...extra] = positionals;
  const problems: string[] = [];
  if (!LB_KINDS.includes(kind as LbKind)) problems.push(kind === undefined ? 'missing the load balancer: nginx or haproxy' : `unknown load balancer "${kind}": nginx or haproxy`);
  if (extra.length > 0) problems.push(`unexpected argument${extra.length > 1 ? 's' : ''} ${extra.map((a) => JSON.stringify(a)).join(' ')}`);
  if (values.topology === undefined || values.topology === '') problems.push('missing --topology <file>');
  if (values.out === '') problems.push('--out needs a file');
  if (problems.length > 0) {
    io.err([...problems, USAGE].join('\n'));
    return 2;
  }
  let text: string;
  try {
    text = renderLbConfig(kind as LbKind, loadTopology(values.topology as string));
  } catch (err) {
    if (!(err instanceof TopologyError)) throw err;
    io.err(err.message);
    return 2;
  }
  if (values.out === undefined) {
    io.out(text.trimEnd());
  } else {
    writeFileSync(values.out, text);
    io.err(`${kind} configuration written to ${values.out}`);
  }
  return 0;
}
