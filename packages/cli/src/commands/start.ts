import type { GatehouseConfig } from '@gatehouse/config';
import { startNode, type RunningNode } from '../runtime/node.ts';

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

/**
 * `gatehouse start`: runs the profile until SIGTERM or SIGINT, then drains within
 * `shutdown.timeout_ms`. A second signal exits at once.
 */
export async function runStart(config: GatehouseConfig, io: Io): Promise<RunningNode> {
  const node = await startNode(config);
  // One write, so whoever reads the console (or a test) sees the whole banner at once.
  const banner = ['', `Gatehouse is running (profile ${node.profile}, node ${node.nodeId}, started in ${node.startupMs} ms)`];
  for (const url of node.urls) banner.push(`  ${url}`);
  if (node.generatedAdminPassword) {
    banner.push(
      '',
      '  First start: created user "admin" with this generated password (shown once, not stored):',
      `    ${node.generatedAdminPassword}`,
      '  Set GATEHOUSE_ADMIN_PASSWORD before the first start to choose it instead.',
    );
  }
  io.err(`${banner.join('\n')}\n`);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      node.logger.warn({ signal }, 'second signal: exiting without draining');
      process.exit(1);
    }
    node.logger.info({ signal }, 'signal received');
    node.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        node.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return node;
}
