import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async'; flavor?: 'regular' | 'last-resort' }) => void;

/** Above this much heap in use, `releaseStartupMemory` does nothing (see there). */
export const RELEASE_STARTUP_MEMORY_MAX_HEAP_BYTES = 128 * 1024 * 1024;

/**
 * Gives start-up's memory back to the system, once, when a process has started: a full garbage
 * collection of the kind V8 runs under memory pressure, which also shrinks the young generation.
 *
 * Start-up allocates a lot that dies young (module sources, migrations, route tables), so V8
 * grows its young generation to its maximum (2 x 32 MB here) and, in a process that then idles,
 * never shrinks it: no allocation, no GC, so its memory reducer never runs. An ordinary full GC
 * does not shrink it either; this one does (measured on the all-in-one process: 205 MB resident
 * after start without it, about 140 MB with; it takes 30 to 80 ms, once). The young generation
 * grows again as traffic needs it.
 *
 * The pause grows with the heap (V8 marks and compacts all of it, at least twice): 0.2-0.6 s
 * with 90 MB in use (a gateway with 10,000 APIs, 57 MB live), 1.8 s with 300 MB, on the 2-core
 * development machine under load (`--trace-gc`). A process that answers as soon as it has started must not stall that long
 * for its young generation, so above `maxHeapBytes` in use (default
 * `RELEASE_STARTUP_MEMORY_MAX_HEAP_BYTES`, 128 MB) this does nothing and returns false.
 *
 * Node has no API for this: `gc` is exposed to a fresh context for the call (the flag is reset
 * straight after, so later contexts and workers do not see it). Returns false, having done
 * nothing, where that is not possible.
 *
 * @example
 * ```ts
 * await server.listen();
 * releaseStartupMemory();
 * ```
 */
export function releaseStartupMemory(options: { maxHeapBytes?: number } = {}): boolean {
  if (getHeapStatistics().used_heap_size > (options.maxHeapBytes ?? RELEASE_STARTUP_MEMORY_MAX_HEAP_BYTES)) return false;
  let gc: Gc | undefined;
  try {
    const exposed = typeof (globalThis as { gc?: unknown }).gc === 'function';
    if (!exposed) setFlagsFromString('--expose-gc');
    try {
      gc = runInNewContext('gc') as Gc;
    } finally {
      if (!exposed) setFlagsFromString('--no-expose-gc');
    }
  } catch {
    return false;
  }
  if (typeof gc !== 'function') return false;
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return true;
}
