import type { GatehouseConfig } from '@gatehouse/config';
import { openDatabases } from '@gatehouse/data';
import { databaseOptions } from '../runtime/node.ts';
import type { Io } from './start.ts';

/** `gatehouse migrate`: brings the apim and shared databases to the latest schema, under a lock. */
export async function runMigrate(config: GatehouseConfig, io: Io): Promise<void> {
  const dbs = await openDatabases(databaseOptions(config, process.cwd()));
  try {
    const report = await dbs.migrate();
    for (const name of ['apim', 'shared'] as const) {
      io.out(report[name].length === 0 ? `${name}: up to date` : `${name}: applied ${report[name].join(', ')}`);
    }
  } finally {
    await dbs.close();
  }
}
