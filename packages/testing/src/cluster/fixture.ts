import { startMockUpstream, type MockUpstream } from '../upstream.ts';
import { startLocalCluster, type LocalCluster, type LocalClusterOptions } from './cluster.ts';

export interface ClusterWithBackend {
  readonly cluster: LocalCluster;
  readonly backend: MockUpstream;
  /** Stops the cluster, then the backend. */
  close(): Promise<void>;
}

/**
 * A local cluster and a mock backend for its APIs: what every cluster test starts in `before`.
 * When the cluster does not start, the backend is closed before the error is thrown.
 *
 * @example
 * ```ts
 * let fx: ClusterWithBackend;
 * before(async () => (fx = await startClusterWithBackend('shop-backend')), { timeout: 120_000 });
 * after(() => fx?.close());
 * ```
 */
export async function startClusterWithBackend(backendName: string, options?: LocalClusterOptions): Promise<ClusterWithBackend> {
  const backend = await startMockUpstream(backendName);
  let cluster: LocalCluster;
  try {
    cluster = await startLocalCluster(options);
  } catch (err) {
    await backend.close();
    throw err;
  }
  return {
    cluster,
    backend,
    async close() {
      await cluster.close();
      await backend.close();
    },
  };
}
