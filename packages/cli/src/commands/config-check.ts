import { describeConfig, type GatehouseConfig } from '@gatehouse/config';
import type { Io } from './start.ts';

/** `gatehouse config check`: validates the merged configuration and prints it with secrets redacted. */
export function runConfigCheck(config: GatehouseConfig, io: Io): void {
  io.out(JSON.stringify(describeConfig(config), null, 2));
  io.err('configuration is valid');
}
