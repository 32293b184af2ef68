import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { servicesRequired } from '../services.ts';
import { NATS_SERVER_BIN } from './nats.ts';
import { NGINX_BIN } from './nginx.ts';
import { postgresBinDir } from './postgres.ts';

/** What a local cluster needs on this machine that is missing (empty when it can run). */
export function missingClusterPrerequisites(): string[] {
  const missing: string[] = [];
  if (!postgresBinDir()) missing.push('PostgreSQL server binaries (apt-get install postgresql)');
  if (!existsSync(NATS_SERVER_BIN)) missing.push(`${NATS_SERVER_BIN} (apt-get install nats-server)`);
  if (!existsSync(NGINX_BIN)) missing.push(`${NGINX_BIN} (apt-get install nginx-light)`);
  const has = (cmd: string, args: string[]) => {
    try {
      execFileSync(cmd, args, { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (!has('openssl', ['version'])) missing.push('openssl');
  // As root, PostgreSQL (which refuses root) runs as the postgres user.
  if (process.getuid?.() === 0 && !has('id', ['-u', 'postgres'])) missing.push('the "postgres" OS user (created by the postgresql package)');
  return missing;
}

/**
 * `false` (run) when a local cluster can start here, or a skip message (with a visible note);
 * throws instead when `GATEHOUSE_TEST_REQUIRE_SERVICES=1`, as for the other service suites.
 *
 * @example
 * ```ts
 * describe('faults', { skip: clusterSkip() }, () => { ... });
 * ```
 */
export function clusterSkip(): false | string {
  const missing = missingClusterPrerequisites();
  if (missing.length === 0) return false;
  const message = `a local cluster needs ${missing.join(', ')}`;
  if (servicesRequired()) throw new Error(`${message}, and GATEHOUSE_TEST_REQUIRE_SERVICES=1`);
  process.stderr.write(`# NOTE: skipping the cluster tests: ${message}\n`);
  return `${message} (skipped)`;
}
