import { rm, mkdtemp } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@gatehouse/config';
import { startNode, type RunningNode } from './runtime/node.ts';

export interface TestNode extends RunningNode {
  /** `http://127.0.0.1:<port>` of the control plane's HTTP listener. */
  readonly baseUrl: string;
  /** `https://127.0.0.1:<port>`, with `ca` to trust its generated certificate. */
  readonly httpsUrl: string;
  readonly ca: string;
  readonly dataDir: string;
  readonly adminPassword: string;
  /** Stops the node and removes its data directory. */
  close(): Promise<void>;
}

/**
 * A real Gatehouse process in this one, for integration tests: the given profile on a fresh data
 * directory, every port chosen by the OS, logs silent, admin password known. Extra flags go
 * through the same config loader as the command line (e.g. PostgreSQL URLs).
 *
 * @example
 * ```ts
 * const node = await startTestNode(['--profile', 'control-plane']);
 * after(() => node.close());
 * const res = await fetch(`${node.baseUrl}/health/ready`);
 * ```
 */
export async function startTestNode(argv: readonly string[] = [], options: { adminPassword?: string; logLevel?: string } = {}): Promise<TestNode> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-node-'));
  const adminPassword = options.adminPassword ?? 'admin-test-password-0123456789';
  const config = loadConfig({
    argv: [
      '--data-dir', dataDir,
      '--server.https_port', '0', '--server.http_port', '0',
      '--gateway.http_port', '0', '--gateway.https_port', '0',
      '--traffic_manager.health_port', '0',
      '--log.level', options.logLevel ?? 'silent',
      '--admin.password', adminPassword,
      ...argv,
    ],
    env: {},
    cwd: dataDir,
  });
  try {
    // No start-up GC: tests start many nodes in one process, and memory is not what they measure.
    const node = await startNode(config, { cwd: dataDir, releaseMemory: false });
    const urls = node.controlPlaneUrls;
    const ca = await readFile(join(dataDir, 'tls', 'self-signed-cert.pem'), 'utf8').catch(() => '');
    return Object.assign(Object.create(null) as object, node, {
      baseUrl: urls?.http ?? '',
      httpsUrl: urls?.https ?? '',
      ca,
      dataDir,
      adminPassword,
      async close() {
        await node.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    }) as TestNode;
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}
